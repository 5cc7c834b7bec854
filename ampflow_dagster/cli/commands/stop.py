"""`ampflow stop`: stop the project's embedded emulator and its local GraphQL endpoints."""

from __future__ import annotations

import click

from ampflow_dagster.cli.session import Session


@click.command(help="Stop this project's embedded emulator and its environments' local GraphQL endpoints. Tables, items "
               "and ports stay: the next command that needs them starts them again.")
@click.pass_obj
def stop(session: Session) -> None:
    from ampflow_dagster.targets.local_servers import stop_servers

    stopped = stop_servers(session.project.state_dir)
    for server in stopped:
        click.echo(f"==> Stopped the {server.name} ({server.url}, pid {server.pid})")
    if not stopped:
        click.echo("==> Nothing of this project was running.")


COMMANDS = [stop]
