"""How library code reports progress: a function that takes one line (a step's `context.log.info`, `click.echo`)."""

from __future__ import annotations

from typing import Callable

Log = Callable[[str], None]
