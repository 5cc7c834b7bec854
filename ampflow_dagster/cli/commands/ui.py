"""`ampflow ui`: the embedded emulator and the Dagster UI (dagster dev) for this project."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ampflow_dagster.cli.session import Session
from ampflow_dagster.project import PROJECT_ROOT_VARIABLE


@click.command(help="Start the embedded emulator and the Dagster UI (dagster dev) for this project.")
@click.option("--port", default=3000, show_default=True)
@click.pass_obj
def ui(session: Session, port: int) -> None:
    from ampflow_dagster.targets.emulator import EmbeddedEmulator

    running = EmbeddedEmulator(session.project.state_dir / "emulator").ensure_running()
    click.echo(f"==> Embedded emulator: {running.endpoint}")
    dagster = Path(sys.executable).with_name("dagster")
    workspace = session.project.root / "workspace.yaml"
    arguments = [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port)]
    arguments += ["-w", str(workspace)] if workspace.is_file() else ["-m", "ampflow_dagster.definitions"]
    os.environ[PROJECT_ROOT_VARIABLE] = str(session.project.root)  # the code location loads this app, wherever it runs
    os.chdir(session.project.root)
    os.execv(arguments[0], arguments)


COMMANDS = [ui]
