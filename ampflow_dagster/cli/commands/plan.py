"""`ampflow plan ENV`: what deploying ENV would do to each table, changing nothing."""

from __future__ import annotations

import click

from ampflow_dagster.cli.session import Session


@click.command(help="Print what deploying ENV would do to each table (create, update, replace, delete), changing nothing.")
@click.argument("environment")
@click.option("--force", is_flag=True, help="Plan a clean deployment instead.")
@click.pass_obj
def plan(session: Session, environment: str, force: bool) -> None:
    from ampflow_dagster.planning import plan_text
    from ampflow_dagster.workflow.deployment import plan_deployment

    workspace = session.workspace(session.environment(environment).name)
    changes = plan_deployment(workspace, force=force)
    click.secho(f"Plan for {workspace.environment.name} (amplify/ {workspace.fingerprint()}):", bold=True)
    click.echo(plan_text(changes))
    losing = [change for change in changes if change.loses_items]
    if losing:
        click.secho(
            f"{len(losing)} change(s) would lose items; "
            + ("refused unless --allow-destructive; " if workspace.environment.protected else "")
            + "each table is backed up first.", fg="yellow",
        )


COMMANDS = [plan]
