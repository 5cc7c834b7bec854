"""`ampflow init`: make the Amplify Gen 2 app in this folder an ampflow project."""

from __future__ import annotations

from pathlib import Path

import click

from ampflow_dagster.cli.session import Session
from ampflow_dagster.errors import ConfigurationError
from ampflow_dagster.project import Project


@click.command(help="Make the Amplify Gen 2 app in this folder an ampflow project: ampflow.toml, example seed data, "
               "its Dagster instance and workspace, .gitignore lines. Never overwrites a file; safe to run again.")
@click.pass_obj
def init(session: Session) -> None:
    from ampflow_dagster.adoption.initialize import initialize
    from ampflow_dagster.environments import load_config
    from ampflow_dagster.targets.aws import AwsSettings
    from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

    project = Project(session.root or Path.cwd().resolve())
    require_amplify_app(project)
    environments = load_config(project).environments  # the defaults while there is no ampflow.toml
    synthesized_for = "development" if "development" in environments else next(iter(environments))
    workspace = EnvironmentWorkspace.open(project, synthesized_for, AwsSettings())
    click.echo(f"==> Synthesizing {project.amplify_dir.relative_to(project.root)}/ with the app's own Amplify packages")
    report = initialize(project.root, workspace.desired())
    for line in report.lines():
        click.echo(f"  {line}")
    click.secho("==> This app is an ampflow project." if report.changed_anything else "==> Nothing to write: already set up.",
                fg="green", bold=True)
    click.echo("    Next: `ampflow dev` deploys and seeds development on the embedded emulator; `ampflow ui` opens the Dagster UI.")


def require_amplify_app(project: Project) -> None:
    """The folder must be the root of an Amplify Gen 2 app: package.json beside amplify/backend.ts."""
    if (project.root / "package.json").is_file() and (project.amplify_dir / "backend.ts").is_file():
        return
    parent = next((folder for folder in project.root.parents if (folder / "amplify" / "backend.ts").is_file()), None)
    raise ConfigurationError(
        f"{project.root} is not the root of an Amplify Gen 2 app (no package.json beside amplify/backend.ts).",
        f"Run `ampflow init` in {parent}." if parent else
        "Run `ampflow init` in the folder that holds your app's package.json and amplify/ (or pass --project PATH).",
        code="NotAnAmplifyApp",
    )


COMMANDS = [init]
