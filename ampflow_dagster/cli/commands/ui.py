"""`ampflow ui`: the embedded emulator and the Dagster UI (dagster dev) for this project, stopped together.

However `ampflow ui` was started, SIGINT (Ctrl-C) and SIGTERM stop it within seconds: a shell starts a
background job (`ampflow ui &` in a script) with SIGINT ignored, Python then installs no handler of its
own, and `dagster dev` gives SIGTERM whatever SIGINT has, so both would stay ignored. ampflow answers
both itself and asks `dagster dev` to shut down; what ampflow started (the emulator, and with it the
GraphQL endpoints) stops with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

import click

from ampflow_dagster.cli.exit_codes import ExitCode
from ampflow_dagster.cli.session import Session
from ampflow_dagster.project import PROJECT_ROOT_VARIABLE

SHUTDOWN_SECONDS = 30.0  # dagster dev stops its webserver, daemon and code servers in about 3 s


class StopRequested(Exception):
    """SIGINT or SIGTERM reached `ampflow ui`."""


@click.command(help="Start the embedded emulator and the Dagster UI (dagster dev) for this project; Ctrl-C or SIGTERM "
               "stops both (an emulator that was already running is left running).")
@click.option("--port", default=3000, show_default=True)
@click.pass_obj
def ui(session: Session, port: int) -> int:
    from ampflow_dagster.targets.aws import AwsSettings
    from ampflow_dagster.targets.emulator import project_emulator
    from ampflow_dagster.targets.local import emulated_services, split_services_note

    answer_stop_signals()
    emulator = project_emulator(session.project) if emulated_services(AwsSettings()) else None
    started_emulator = emulator is not None and emulator.listening() is None
    try:
        if emulator is None:
            click.echo("==> No embedded emulator: the AWS endpoint settings point every service elsewhere.")
        else:
            running = emulator.ensure_running()
            click.echo(f"==> Embedded emulator: {running.endpoint} (pid {running.pid})")
        note = split_services_note(AwsSettings())
        if note:
            click.echo(f"    {note}")
        return run_dagster_dev(session, port)
    except StopRequested:  # before dagster dev started
        return ExitCode.INTERRUPTED
    finally:
        ignore_stop_signals()  # what ampflow started is stopped whatever comes now
        if started_emulator and emulator is not None and emulator.stop():
            click.echo("==> Stopped the embedded emulator ampflow ui started, and its GraphQL endpoints")


def answer_stop_signals() -> None:
    """SIGINT and SIGTERM raise StopRequested here, whatever the shell left them as; children start with the defaults."""
    def stop(signum: int, _frame: FrameType | None) -> None:
        raise StopRequested(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def ignore_stop_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def run_dagster_dev(session: Session, port: int) -> int:
    """`dagster dev` for the project until it exits or a stop signal comes; then it is shut down, all of it."""
    dagster = Path(sys.executable).with_name("dagster")
    workspace = session.project.root / "workspace.yaml"
    arguments = [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port)]
    arguments += ["-w", str(workspace)] if workspace.is_file() else ["-m", "ampflow_dagster.definitions"]
    environment = {**os.environ, PROJECT_ROOT_VARIABLE: str(session.project.root)}  # the code location loads this app
    session.instance()  # its environments are partitions in the UI from the first page, before any sensor tick
    # A process group of its own: a terminal's Ctrl-C reaches ampflow, which passes it on once (a second
    # SIGINT would cut dagster dev's own shutdown short), and what dagster dev leaves is found by group.
    process = subprocess.Popen(arguments, cwd=session.project.root, env=environment, process_group=0)
    try:
        return process.wait()
    except StopRequested as stop:
        click.echo(f"==> {stop}: stopping the Dagster UI", err=True)
        return ExitCode.INTERRUPTED
    finally:
        ignore_stop_signals()  # the shutdown below is bounded and must not be cut short
        shut_down(process)


def shut_down(process: subprocess.Popen) -> None:
    """dagster dev asked to stop as Ctrl-C asks it, given SHUTDOWN_SECONDS, then its whole group killed."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=SHUTDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # code servers or a webserver it did not stop
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


COMMANDS = [ui]
