"""The Dagster instance an ampflow project uses: its dagster_home/dagster.yaml, one source for every writer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

INSTANCE_CONFIG = """\
# The instance the README's commands use (DAGSTER_HOME=dagster_home): the UI, the
# daemon and the CLI share its history, which is where ampflow records deployments.
telemetry:
  enabled: false

run_queue:
  max_concurrent_runs: 4
  # One run per environment at a time; different environments run side by side.
  tag_concurrency_limits:
    - key: dagster/partition
      limit: 1
      value:
        applyLimitPerUniqueValue: true
"""


def ensure_instance_config(home: Path) -> bool:
    """Write `home`/dagster.yaml unless it exists; True if it was written.

    Without it Dagster warns on every command, shows its telemetry banner and runs two
    runs of one environment at once.
    """
    config = home / "dagster.yaml"
    if config.exists():
        return False
    home.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".dagster-", suffix=".yaml", dir=home)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(INSTANCE_CONFIG)
    try:
        os.link(temporary, config)  # never replaces a file another process wrote meanwhile
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)
    return True
