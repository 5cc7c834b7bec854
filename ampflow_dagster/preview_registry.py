"""Which previews exist: one `preview.json` per preview under `.ampflow/previews/<environment>/`.

The branch sensor writes it when it adds a preview and when it moves one to a new commit; every
process that opens an environment (a run's steps, the CLI, the sensor) reads it to know that a
name such as `p-add-tags-1f2e` is the preview of branch `feature/add-tags`, and at which commit its
runs build and seed. A preview's record goes when its teardown is done.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

RECORD_FILE = "preview.json"


@dataclass(frozen=True)
class Preview:
    environment: str
    branch: str
    commit: str  # what its runs build and seed: the branch tip when the sensor last requested a run
    created: float  # when this preview was added: what the instance recorded before it belongs to an earlier one
    gone_since: float | None = None  # when its branch was deleted (or stopped matching [previews]); None while it exists
    current_at: str | None = None  # the tip the sensor last found deployed and seeded: that tip needs no look at the history

    def moved_to(self, commit: str) -> Preview:
        return replace(self, commit=commit, gone_since=None, current_at=None)

    def current(self, commit: str) -> Preview:
        return replace(self, commit=commit, current_at=commit)

    def gone(self, now: float) -> Preview:
        return self if self.gone_since is not None else replace(self, gone_since=now)


def previews_dir(state_dir: Path) -> Path:
    return state_dir / "previews"


def registered_previews(state_dir: Path) -> dict[str, Preview]:
    """Every preview recorded under the project's state folder, by environment name."""
    found: dict[str, Preview] = {}
    for file in sorted(previews_dir(state_dir).glob(f"*/{RECORD_FILE}")):
        try:
            values = json.loads(file.read_text(encoding="utf-8"))
            preview = Preview(**values)
        except (OSError, ValueError, TypeError):
            continue  # half-removed or from another ampflow version: the sensor records it again if its branch is there
        found[preview.environment] = preview
    return found


def save_preview(state_dir: Path, preview: Preview) -> None:
    """Record `preview` (replacing its record): a reader sees the old record or the new one, never half of one."""
    file = previews_dir(state_dir) / preview.environment / RECORD_FILE
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(f".{RECORD_FILE}.{os.getpid()}")
    partial.write_text(json.dumps(asdict(preview), indent=1), encoding="utf-8")
    partial.replace(file)


def forget_preview(state_dir: Path, environment: str) -> None:
    """The preview's record removed: it no longer exists for any process."""
    (previews_dir(state_dir) / environment / RECORD_FILE).unlink(missing_ok=True)


def duration_text(seconds: float) -> str:
    """`2.5h`, `40.0m`, `12s`: how long, as the previews' status and the sensor say it."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{max(seconds, 0):.0f}s"
