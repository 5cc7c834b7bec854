"""`ampflow outputs ENV`: put ENV's amplify_outputs.json where the app's front end reads it, as `ampx sandbox` does.

For a local environment with a data API or a user pool, amplify_configure_local.js goes beside it: the
one call the front end makes instead of Amplify.configure(outputs) (see client/outputs.py), printed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from ampflow_dagster.cli.session import Session
from ampflow_dagster.client.outputs import CONFIGURE_FILE, OUTPUTS_FILE
from ampflow_dagster.names import pinned_verb_for
from ampflow_dagster.errors import ConfigurationError


@click.command(help="Write ENV's amplify_outputs.json at the app's root (or --out-dir), for its front end; on a local "
               "environment, first make sure its GraphQL endpoint is running.")
@click.argument("environment")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), help="Where to write it (default: the app's root).")
@click.pass_obj
def outputs(session: Session, environment: str, out_dir: Path | None) -> None:
    name = session.environment(environment).name
    generated = session.project.client_dir(name) / OUTPUTS_FILE
    if not generated.is_file():
        raise ConfigurationError(
            f"Environment '{name}' has no generated client yet ({generated.relative_to(session.project.root)} is missing).",
            f"Generate it first: "
            + (f"`ampflow {verb}`" if (verb := pinned_verb_for(name)) else f"materialize api_client for '{name}' in the UI")
            + f", then run `ampflow outputs {name}` again.",
            code="NoClientYet",
        )
    serve(session, name)
    for name_of_file in (OUTPUTS_FILE, CONFIGURE_FILE):
        source = generated.with_name(name_of_file)
        target = (out_dir or session.project.root) / name_of_file
        if not source.is_file():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{name_of_file}.partial")
        shutil.copyfile(source, partial)
        partial.replace(target)
        click.secho(f"==> Wrote {target} from environment '{name}'", fg="green", bold=True)
        if name_of_file == CONFIGURE_FILE:
            click.echo(
                "    In the front end, in place of Amplify.configure(outputs), while it runs against this environment:\n"
                f"      import {{ configureAmplify }} from './{CONFIGURE_FILE}';\n"
                "      configureAmplify(Amplify, outputs);\n"
                "    (it points sign-in at the local user pool and subscriptions at the local endpoint without TLS)"
            )


def serve(session: Session, name: str) -> None:
    """What the deployed environment serves its front end, running: on local, its GraphQL endpoint, restarted if it stopped."""
    from ampflow_dagster.defs.records import cached_desired

    workspace = session.workspace(name)
    desired = cached_desired(workspace, workspace.fingerprint())  # never starts Node
    if desired is not None:
        workspace.target.serve(desired, lambda line: click.echo(f"    {line}"))


COMMANDS = [outputs]
