"""Run a command and stream its output, line by line, to a log as it happens."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

SECRET_LIKE = re.compile(r"(?i)(aws_secret_access_key|aws_session_token|secret|password|apikey|api_key)(\s*[=:]\s*)\S+")
# AWS access key ids and AppSync API keys, wherever they appear.
SECRET_TOKENS = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\bda2-[a-z0-9]{16,}\b")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Finished:
    returncode: int
    output: str


def run_streamed(arguments: list[str], cwd: Path, environment: dict[str, str], log: Callable[[str], None]) -> Finished:
    lines = []
    with subprocess.Popen(
        arguments, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, text=True, bufsize=1,
    ) as process:
        assert process.stdout is not None
        for raw in process.stdout:
            line = redact(ANSI.sub("", raw.rstrip("\n")))
            lines.append(line)
            if line.strip():
                log(line)
    return Finished(process.returncode, "\n".join(lines))


def redact(text: str) -> str:
    """Hide anything that looks like a credential, and the values of the AWS secret variables."""
    text = SECRET_LIKE.sub(lambda m: f"{m.group(1)}{m.group(2)}****", text)
    text = SECRET_TOKENS.sub("****", text)
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        value = os.environ.get(variable)
        if value and len(value) >= 8:
            text = text.replace(value, "****")
    return text
