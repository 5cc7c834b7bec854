"""Find seed files and read their records, each with the file and line it came from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ampflow_dagster.errors import SeedError
from ampflow_dagster.fingerprint import DigestCache, file_fingerprint
from ampflow_dagster.project import Project

SEED_SUFFIXES = (".jsonl", ".json")
NEWLINE = b"\n"
MODEL_FILE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# seed_data/<env>/users.jsonl holds the environment's users, not a model's items (Amplify's model names are PascalCase).
USERS_DATASET = "users"


@dataclass(frozen=True)
class SeedRecord:
    file: Path
    line: int
    values: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def seed_files(project: Project, environment: str, model: str) -> list[Path]:
    """The environment's seed files for `model`: <Model>.json and/or <Model>.jsonl."""
    folder = project.seed_folder(environment)
    return [folder / f"{model}{suffix}" for suffix in SEED_SUFFIXES if (folder / f"{model}{suffix}").is_file()]


def seed_fingerprint(project: Project, environment: str, model: str, cache: DigestCache | None = None) -> str:
    """What the environment's seed files for `model` hold: changes when any of them changes."""
    return fingerprint_of(seed_files(project, environment, model), cache)


def fingerprint_of(files: list[Path], cache: DigestCache | None = None) -> str:
    return ",".join(f"{path.name}:{file_fingerprint(path, cache)}" for path in files) or "none"


def seeded_models(project: Project) -> list[str]:
    """Every model with a seed file in some environment's folder."""
    models = set()
    if project.seed_dir.is_dir():
        for path in project.seed_dir.glob("*/*"):
            if path.suffix in SEED_SUFFIXES and path.is_file() and MODEL_FILE_NAME.match(path.stem) and path.stem != USERS_DATASET:
                models.add(path.stem)
    return sorted(models)


def read_records(path: Path) -> Iterator[SeedRecord]:
    """Records of a .jsonl file (one object a line) or a .json file (an array of objects)."""
    if path.suffix == ".jsonl":
        yield from _read_jsonl(path)
    else:
        yield from _read_json_array(path)


def _read_jsonl(path: Path) -> Iterator[SeedRecord]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            text = _decode(path, number, raw)
            if not text.strip():
                continue
            try:
                values = json.loads(text, parse_float=Decimal)
            except json.JSONDecodeError as error:
                raise SeedError(
                    f"{path}:{number}: not valid JSON ({error.msg} at column {error.colno}).",
                    "Each line of a .jsonl seed file must be one JSON object; fix that line.",
                ) from error
            yield SeedRecord(path, number, _object(path, number, values))


def _read_json_array(path: Path) -> Iterator[SeedRecord]:
    raw = path.read_bytes()
    text = _decode(path, None, raw)
    decoder = json.JSONDecoder(parse_float=Decimal)
    position = _skip_space(text, 0)
    if position >= len(text) or text[position] != "[":
        raise SeedError(
            f"{path}:{_line_of(text, position)}: a .json seed file must hold a JSON array of objects.",
            "Wrap the items in [ ... ], or use .jsonl with one object per line.",
        )
    position = _skip_space(text, position + 1)
    if position < len(text) and text[position] == "]":
        return
    lines = _LineCounter(text)
    while True:
        try:
            values, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise SeedError(
                f"{path}:{error.lineno}: not valid JSON ({error.msg} at column {error.colno}).",
                f"Fix the JSON at line {error.lineno} of {path}, then run again.",
            ) from error
        line = lines.at(position)
        yield SeedRecord(path, line, _object(path, line, values))
        position = _skip_space(text, end)
        if position < len(text) and text[position] == ",":
            position = _skip_space(text, position + 1)
            continue
        if position < len(text) and text[position] == "]":
            if _skip_space(text, position + 1) != len(text):
                line = _line_of(text, position + 1)
                raise SeedError(
                    f"{path}:{line}: unexpected text after the array.",
                    f"Delete what follows the closing ] at line {line} of {path}: a .json seed file holds one array of items.",
                )
            return
        raise SeedError(
            f"{path}:{_line_of(text, position)}: expected ',' or ']' after an item.",
            "Separate items with commas and close the array with ].",
        )


def _decode(path: Path, line: int | None, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        where = f"{path}:{line or raw.count(NEWLINE, 0, error.start) + 1}"
        raise SeedError(
            f"{where}: not UTF-8 (byte 0x{raw[error.start]:02x}).",
            f"Save {where.rsplit(':', 1)[0]} as UTF-8 (most editors: File → Save with encoding), then run again.",
        ) from error


def _object(path: Path, line: int, values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise SeedError(f"{path}:{line}: expected a JSON object, found {type(values).__name__}.", "Each item must be an object of field values.")
    return values


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


class _LineCounter:
    """Line numbers of increasing positions in `text`, counted once."""

    def __init__(self, text: str) -> None:
        self.text, self.position, self.line = text, 0, 1

    def at(self, position: int) -> int:
        self.line += self.text.count("\n", self.position, position)
        self.position = position
        return self.line
