"""`ampflow status`: what of the project runs on this machine; per environment, what is deployed and current, what is
stale, and its tables. It starts nothing: a local environment's tables are read only while the emulator holding them runs."""

from __future__ import annotations

from typing import Any

import click

from ampflow_dagster.cli.session import Session
from ampflow_dagster.errors import AmpflowError


@click.command(help="The project's local servers (emulator, GraphQL endpoints) with ports and pids; per environment: "
               "deployed and current fingerprints, stale assets, tables and item counts; then each branch preview with its branch, "
               "commit and age.")
@click.pass_obj
def status(session: Session) -> None:
    from ampflow_dagster.defs.records import cached_desired, current_staleness, stale_asset_names
    from ampflow_dagster.targets.local import LocalTarget, emulated_services, split_services_note
    from ampflow_dagster.targets.aws import AwsSettings
    from ampflow_dagster.targets.local_servers import running_servers

    servers = running_servers(session.project.state_dir)
    emulator_runs = any(server.name == "embedded emulator" for server in servers)
    show_servers(servers, split_services_note(AwsSettings()))
    config = session.config()
    for environment in config.environments.values():  # the previews follow, from their branches
        state = current_staleness(session.instance(), session.project, environment.name, config)
        click.secho(f"{environment.name} ({environment.prefix}, target {environment.target}"
                    f"{', protected' if environment.protected else ''}"
                    f"{', automated deploys' if environment.automated_deploys else ''})", bold=True)
        click.echo(f"  amplify/ fingerprint: current {state.amplify_fingerprint}, deployed {state.deployed_fingerprint or 'never'}")
        stale = stale_asset_names(state)
        click.echo(f"  stale: {', '.join(stale) if stale else 'nothing'}" + (f"  ({'; '.join(state.reasons)})" if stale else ""))
        workspace = session.workspace(environment.name)
        desired = cached_desired(workspace, state.amplify_fingerprint)
        if desired is None:
            click.echo("  tables: not synthesized yet for this amplify/ (deploy it to see them)")
            continue
        if isinstance(workspace.target, LocalTarget) and "DynamoDB" in emulated_services(workspace.target.aws) and not emulator_runs:
            click.echo("  tables: not read, the embedded emulator is not running (`ampflow dev` or `ampflow ui` starts it)")
            continue
        try:
            with workspace.aws_failures("Reading the tables", "ampflow status"):
                live_tables = workspace.target.live_tables(desired)
            for model, live in live_tables.items():
                name = workspace.target.table_name(model)
                click.echo(f"  {name}: " + (f"{live.status}, {live.item_count} item(s)" if live else "MISSING"))
        except AmpflowError as error:
            click.echo(f"  tables: unavailable ([{error.code}] {error.message})")
    show_previews(session, config)


def show_previews(session: Session, config: Any) -> None:
    """Each preview with its branch, the commit its runs build, its age, what it deployed, and when a gone one goes."""
    import time

    import dagster as dg

    from ampflow_dagster.defs.records import latest_metadata
    from ampflow_dagster.names import BACKEND_DEPLOYMENT
    from ampflow_dagster.preview_registry import duration_text

    if config.previews is None and not config.preview_environments:
        return
    settings = config.preview_settings
    now = time.time()
    click.secho(f"Previews ([previews] branches {', '.join(settings.branches)})" if config.previews
                else "Previews (no [previews] any more: each is torn down as if its branch were gone)", bold=True)
    for name, environment in sorted(config.preview_environments.items()):
        preview = environment.preview
        deployed = latest_metadata(session.instance(), dg.AssetKey(BACKEND_DEPLOYMENT), name, environment.history_since)
        commit = deployed.get("commit")
        shown = f"deployed {str(commit)[:12]}" if commit else "not deployed yet"
        click.echo(f"  {name}: branch {preview.branch} at {preview.commit[:12]}, added {duration_text(now - preview.created)} ago, {shown}")
        if preview.gone_since is not None:
            left = preview.gone_since + settings.keep_after_delete_seconds - now
            click.echo(f"    its branch is gone ({duration_text(now - preview.gone_since)} ago): "
                       + (f"torn down in {duration_text(left)}" if left > 0 else "torn down at the branch sensor's next tick"))
    if not config.preview_environments:
        click.echo("  none yet: the branch sensor adds one per matching branch (`ampflow ui` runs it)")


def show_servers(servers: list, split_note: str | None) -> None:
    click.secho("Local servers", bold=True)
    for server in servers:
        click.echo(f"  {server.name}: {server.url} (port {server.port}, pid {server.pid})")
    if not servers:
        click.echo("  none running (`ampflow stop` stops them; an unused emulator exits by itself)")
    if split_note:
        click.echo(f"  {split_note}")


COMMANDS = [status]
