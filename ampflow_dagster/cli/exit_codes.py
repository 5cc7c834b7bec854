"""What `ampflow` exits with, named once."""

from enum import IntEnum


class ExitCode(IntEnum):
    SUCCESS = 0
    RUN_FAILED = 1  # a run started and a step, or a check of ERROR severity, failed: see the run in the Dagster UI
    REFUSED = 2  # nothing was run: bad configuration, an unknown environment, a refusal (click's usage errors too)
    FAULT = 3  # an unexpected error inside ampflow itself: its trace is printed
    INTERRUPTED = 130  # Ctrl-C
