"""One lock helper: hold an exclusive advisory lock on a file, across processes."""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def exclusive_lock(path: Path, make_folder: bool = True) -> Iterator[None]:
    """Hold `path`'s lock (made, with its folder unless `make_folder` is false, if missing) until the block ends;
    waits for any other holder. Without its folder and `make_folder`, raises FileNotFoundError."""
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
