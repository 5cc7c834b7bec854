"""Drive the real Amplify JS client (tests/client) against an environment, and check outputs with Amplify's own types."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

CLIENT_DIR = Path(__file__).with_name("client")
REPOSITORY = Path(__file__).resolve().parents[1]


def run_client(client_dir: Path, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each step's {step, data, errors}, from client.mjs configured with the files in `client_dir`."""
    subprocess.run([str(CLIENT_DIR / "install")], check=True)
    configure = client_dir / "amplify_configure_local.js"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as written:
        json.dump(steps, written)
    try:
        result = subprocess.run(
            ["node", str(CLIENT_DIR / "client.mjs"), str(client_dir / "amplify_outputs.json"),
             str(configure) if configure.is_file() else "-", written.name],
            cwd=CLIENT_DIR, capture_output=True, text=True, timeout=300,
        )
    finally:
        Path(written.name).unlink()
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def amplify_type_errors(outputs: dict[str, Any], node_modules: Path = REPOSITORY / "node_modules") -> str:
    """TypeScript's complaints (empty if none) about `outputs` as Amplify's client config type of its version.

    @aws-amplify/client-config generates those types from its outputs JSON schema (required fields,
    enumerations, no unknown properties); `satisfies` on the literal checks every one of them.
    """
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        (folder / "node_modules").symlink_to(node_modules)
        (folder / "check.ts").write_text(
            "import type { ClientConfigVersionTemplateType } from '@aws-amplify/client-config';\n"
            f"export const outputs = {json.dumps(outputs, indent=1)} satisfies ClientConfigVersionTemplateType<{json.dumps(outputs['version'])}>;\n",
            encoding="utf-8",
        )
        result = subprocess.run(
            ["node", str(node_modules / "typescript" / "bin" / "tsc"), "--noEmit", "--strict", "--skipLibCheck",
             "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "check.ts"],
            cwd=folder, capture_output=True, text=True, timeout=300,
        )
    return "" if result.returncode == 0 else (result.stdout + result.stderr).strip()
