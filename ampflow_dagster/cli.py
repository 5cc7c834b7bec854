"""`ampflow`: the npm scripts' verbs, run through the project's Dagster instance so every run shows in the UI."""

from __future__ import annotations

import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import click

from ampflow_dagster.errors import AmpflowError, ConfigurationError
from ampflow_dagster.project import PROJECT_ROOT_VARIABLE, Project, discover_project

QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # ampflow prints its own progress
SHOWN_METADATA = (
    "deployment", "reason", "other_stacks", "tables_created", "tables_updated", "tables_replaced", "tables_recreated", "table_count",
    "total_items", "items_written", "items_unchanged", "items_removed", "outputs_file",
)


class Session:
    """The project (found on first use), its Dagster instance (DAGSTER_HOME, by default the project's
    dagster_home/) and its definitions."""

    def __init__(self, project_root: Path | None) -> None:
        self.root = project_root  # --project, if given
        self._project: Project | None = None
        self._instance: Any = None
        self._definitions: Any = None

    @property
    def project(self) -> Project:
        if self._project is None:
            try:
                self._project = discover_project()  # --project is passed on as AMPFLOW_PROJECT_ROOT
                self.use_instance_of(self._project)
            except AmpflowError as error:
                fail(error)
        return self._project

    @staticmethod
    def use_instance_of(project: Project) -> None:
        """Point Dagster at the project's instance, configured as `ampflow init` writes it if it has no file yet."""
        from ampflow_dagster.instance import ensure_instance_config

        home = Path(os.environ.setdefault("DAGSTER_HOME", str(project.root / "dagster_home")))
        ensure_instance_config(home)

    def instance(self) -> Any:
        import dagster as dg

        if self._instance is None:
            self.project  # noqa: B018 -- resolves DAGSTER_HOME first
            self._instance = dg.DagsterInstance.get()
        return self._instance

    def definitions(self) -> Any:
        if self._definitions is None:
            from ampflow_dagster.definitions import build_defs

            try:
                self._definitions = build_defs(self.project)
            except AmpflowError as error:  # e.g. ampflow.toml is invalid: the partitions cannot be declared
                fail(error)
        return self._definitions

    def config(self) -> Any:
        from ampflow_dagster.environments import load_config

        try:
            return load_config(self.project)
        except AmpflowError as error:
            fail(error)

    def environment(self, name: str) -> Any:
        """The named environment from ampflow.toml (raises a ConfigurationError naming the known ones)."""
        return self.config().environment(name)


@click.group(help="ampflow: deploy, verify and seed Amplify Gen 2 backends per environment, as Dagster assets.")
@click.option("--project", "project_root", type=click.Path(file_okay=False, exists=True), help="The Amplify app (default: found from here).")
@click.pass_context
def main(context: click.Context, project_root: str | None) -> None:
    root = Path(project_root).resolve() if project_root else None
    if root:
        os.environ[PROJECT_ROOT_VARIABLE] = str(root)
    context.obj = Session(root)


@main.command(help="Make the Amplify Gen 2 app in this folder an ampflow project: ampflow.toml, example seed data, "
              "its Dagster instance and workspace, .gitignore lines. Never overwrites a file; safe to run again.")
@click.pass_obj
def init(session: Session) -> None:
    from ampflow_dagster.adoption.initialize import initialize
    from ampflow_dagster.environments import load_config
    from ampflow_dagster.targets.aws import AwsSettings
    from ampflow_dagster.workflow import EnvironmentWorkspace

    project = Project(session.root or Path.cwd().resolve())
    try:
        require_amplify_app(project)
        environments = load_config(project).environments  # the defaults while there is no ampflow.toml
        synthesized_for = "development" if "development" in environments else next(iter(environments))
        workspace = EnvironmentWorkspace.open(project, synthesized_for, AwsSettings())
        click.echo(f"==> Synthesizing {project.amplify_dir.relative_to(project.root)}/ with the app's own Amplify packages")
        report = initialize(project.root, workspace.desired())
    except AmpflowError as error:
        fail(error)
        return
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
    )


def run() -> None:
    """The `ampflow` console script: `main`, then an exit that skips finalizing every object.

    Once output is flushed and atexit handlers have run, nothing is left to clean up, but
    the interpreter would still spend over half a second tearing down Dagster's objects:
    as long as a no-op `ampflow dev` itself.
    """
    import atexit

    try:
        code = main.main(standalone_mode=False)
        code = code if isinstance(code, int) else 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        code = 1
    except click.ClickException as error:
        error.show()
        code = error.exit_code
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def fail(error: AmpflowError) -> None:
    click.secho(f"Error: {error.message}", fg="red", err=True)
    if error.resolution:
        click.echo(f"What to do: {error.resolution}", err=True)
    sys.exit(2)


def run_job(session: Session, job_name: str, partition: str | None = None, run_config: dict | None = None,
            assets: list[str] | None = None) -> None:
    """Run a job in this process on the project's instance, printing progress; exit non-zero on failure."""
    import dagster as dg

    definitions = session.definitions()
    job = definitions.resolve_job_def(job_name)
    instance = session.instance()
    run_id = str(uuid.uuid4())
    shown_partition = partition or job.tags.get("dagster/partition")
    where = f" [{shown_partition}]" if shown_partition else ""
    click.secho(f"==> {job_name}{where} (run {run_id[:8]}, visible in the Dagster UI)", bold=True)
    printer = ProgressPrinter(instance, run_id)
    printer.start()
    try:
        result = job.execute_in_process(
            instance=instance, run_id=run_id, partition_key=partition, raise_on_error=False,
            run_config={**(run_config or {}), **QUIET_CONSOLE},
            asset_selection=[dg.AssetKey(name) for name in assets] if assets else None,
        )
    finally:
        printer.stop()
    if result.success and not printer.failed_checks:
        click.secho(f"==> {job_name}{where} succeeded", fg="green", bold=True)
        return
    if result.success:
        click.secho(f"==> {job_name}{where} ran, but {len(printer.failed_checks)} check(s) failed", fg="red", bold=True, err=True)
    else:
        click.secho(f"==> {job_name}{where} failed", fg="red", bold=True, err=True)
    for message in printer.failures + printer.failed_checks or ["the run failed; see the run in the Dagster UI"]:
        click.echo(message, err=True)
    sys.exit(1)


class ProgressPrinter:
    """Prints step starts, results and failures of a run as they reach the event log."""

    def __init__(self, instance: Any, run_id: str) -> None:
        self.instance, self.run_id = instance, run_id
        self.failures: list[str] = []
        self.failed_checks: list[str] = []  # ERROR-severity checks that did not pass
        self._seen = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._print_new()

    def _loop(self) -> None:
        while not self._done.wait(0.25):
            self._print_new()

    def _print_new(self) -> None:
        try:
            records = self.instance.all_logs(self.run_id)
        except Exception:  # the run is not stored yet
            return
        for record in records[self._seen :]:
            self._print(record)
        self._seen = len(records)

    def _print(self, record: Any) -> None:
        event = record.dagster_event
        if event is None:
            if record.level >= 20 and record.step_key:  # the steps' own log lines
                click.echo(f"    {record.step_key}: {record.user_message}")
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            click.echo(f"  - {event.step_key} ...")
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            shown = {k: getattr(v, "value", v) for k, v in materialization.metadata.items() if k in SHOWN_METADATA}
            click.echo(f"  + {materialization.asset_key.to_user_string()}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
        elif kind == "ASSET_CHECK_EVALUATION":
            self._print_check(event.event_specific_data)
        elif kind == "STEP_SUCCESS":
            click.secho(f"  ✓ {event.step_key}", fg="green")
        elif kind == "STEP_FAILURE":
            data = event.step_failure_data
            text = (data.user_failure_data.description if data.user_failure_data and data.user_failure_data.description
                    else data.error.message if data.error else "failed")
            self.failures.append(f"{event.step_key}: {text.strip()}")
            click.secho(f"  ✗ {event.step_key}", fg="red")


    def _print_check(self, evaluation: Any) -> None:
        """A check that did not pass is printed with what it says; one that passed, in a line."""
        import dagster as dg

        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        if evaluation.passed:
            click.echo(f"    check {name} passed")
            return
        warning = evaluation.severity == dg.AssetCheckSeverity.WARN
        label = "warning" if warning else "failed"
        click.secho(f"  ! check {name} {label}: {evaluation.description or 'no description'}",
                    fg="yellow" if warning else "red", err=not warning)
        if not warning:
            self.failed_checks.append(f"check {name}: {evaluation.description or 'failed'}")


def environment_argument(function: Any) -> Any:
    return click.argument("environment")(function)


def checked_environment(session: Session, environment: str) -> Any:
    """The environment's settings, or exit 2 with what to do."""
    try:
        return session.environment(environment)
    except AmpflowError as error:
        fail(error)
        raise


FULL_OPTION = click.option(
    "--full", is_flag=True,
    help="Run every step even when nothing changed (also compares every seed item with its table).",
)


@main.command(help="`npm run amplify:dev`: deploy development, verify, seed [DEV] data, generate the client. "
              "Starts no run when nothing changed since the last one and the tables still match.")
@FULL_OPTION
@click.pass_obj
def dev(session: Session, full: bool) -> None:
    run_workflow(session, "amplify_dev", "development", full)


@main.command(help="`npm run amplify:prod`: the same for production with [PROD] data.")
@FULL_OPTION
@click.pass_obj
def prod(session: Session, full: bool) -> None:
    run_workflow(session, "amplify_prod", "production", full)


def run_workflow(session: Session, job_name: str, environment: str, full: bool) -> None:
    """The whole workflow of `environment`, unless what it would do is already done."""
    if not full:
        try:
            checked = up_to_date(session, checked_environment(session, environment))
        except AmpflowError:  # e.g. the endpoint does not answer: the run reports it properly
            checked = None
        if checked is not None:
            click.secho(f"==> {environment} is up to date; no run started ({checked}).", fg="green", bold=True)
            click.echo("    Seed items are compared with their tables by `ampflow seed` and by --full.")
            return
    run_job(session, job_name)


def up_to_date(session: Session, environment: Any) -> str | None:
    """What was checked, if every asset of `environment` is current and its tables match; None otherwise.

    The sensor's checks (fingerprints against the latest materializations: no Node, no
    writes), then a describe of each table against the cached synthesis.
    """
    import dagster as dg

    from ampflow_dagster.defs.records import latest_metadata

    state = environment_state(session, environment.name)
    if state.stale:
        return None
    instance = session.instance()
    if not all(latest_metadata(instance, dg.AssetKey(name), environment.name) for name in ("verified_tables", "api_client")):
        return None
    if not (session.project.client_dir(environment.name) / "amplify_outputs.json").is_file():
        return None
    tables = table_drift(session.project, environment.name, state.amplify_fingerprint)
    if tables is None:
        return None
    return f"amplify/ {state.amplify_fingerprint} deployed, {state.checked_seed_files} seed datasets unchanged, {tables} tables match"


def table_drift(project: Project, environment: str, fingerprint: str) -> int | None:
    """How many tables match the cached synthesis of `fingerprint`; None if any differs or none is cached."""
    from ampflow_dagster.targets.aws import AwsSettings
    from ampflow_dagster.workflow import EnvironmentWorkspace

    try:
        workspace = EnvironmentWorkspace.open(project, environment, AwsSettings())
        desired = cached_desired(project, workspace, fingerprint)
        if desired is None or workspace.target.drift(desired):
            return None
    except AmpflowError:
        return None
    return len(desired.tables)


def environment_state(session: Session, environment: str) -> Any:
    """What is stale in `environment`, from fingerprints and the instance: the sensor's view."""
    from ampflow_dagster.defs.records import staleness_of
    from ampflow_dagster.fingerprint import digest_cache

    cache = digest_cache(session.project)
    state = staleness_of(session.instance(), session.project, environment, cache)
    cache.save()
    return state


def cached_desired(project: Project, workspace: Any, fingerprint: str) -> Any:
    """The synthesized backend for `fingerprint` if it is cached: never starts Node."""
    from ampflow_dagster.synthesis.runner import cached_synthesis

    try:
        variables = workspace.environment.synthesis_variables()
    except AmpflowError:  # a variable is missing: nothing was synthesized with it
        return None
    return cached_synthesis(project, workspace.target.backend_identifier(project.package_name()), fingerprint, variables)


@main.command(help="`npm run amplify:optimize ENV`: deploy ENV (skipped when unchanged) and verify its tables.")
@environment_argument
@click.option("--force", is_flag=True, help="Recreate the environment's tables (a clean deployment).")
@click.option("--allow-destructive", is_flag=True, help="Allow replacing tables that hold items in a protected environment.")
@click.pass_obj
def deploy(session: Session, environment: str, force: bool, allow_destructive: bool) -> None:
    config = {"force": force, "allow_destructive": allow_destructive}
    run_job(session, "amplify_deploy", checked_environment(session, environment).name, {"ops": {"backend_deployment": {"config": config}}})


@main.command(help="`npm run amplify:seed:ENV`: reapply ENV's seed data (only what differs is written).")
@environment_argument
@click.option("--model", "models", multiple=True, help="Seed only this model (repeatable).")
@click.pass_obj
def seed(session: Session, environment: str, models: tuple[str, ...]) -> None:
    from ampflow_dagster.defs.partitions import seeded_asset_name
    from ampflow_dagster.seeding.seed_files import seeded_models

    environment = checked_environment(session, environment).name
    by_model = {model: seeded_asset_name(model) for model in seeded_models(session.project)}
    unknown = [model for model in models if model not in by_model]
    if unknown:
        fail(AmpflowError(f"No seed data for model(s) {', '.join(unknown)}.", f"Seeded models: {', '.join(sorted(by_model))}."))
    run_job(session, "amplify_seed", environment, assets=[by_model[m] for m in models] or None)


@main.command(help="`npm run amplify:gen2:force`: clean deployment of ENV (tables recreated), verify, client.")
@environment_argument
@click.option("--allow-destructive", is_flag=True, help="Allow it in a protected environment whose tables hold items.")
@click.pass_obj
def force(session: Session, environment: str, allow_destructive: bool) -> None:
    config = {"force": True, "allow_destructive": allow_destructive}
    run_job(session, "amplify_force", checked_environment(session, environment).name, {"ops": {"backend_deployment": {"config": config}}})


@main.command(help="Remove the items carrying ENV's prefix from ENV's tables; everything else stays.")
@environment_argument
@click.pass_obj
def clean(session: Session, environment: str) -> None:
    environment = checked_environment(session, environment).name
    run_job(session, "amplify_clean", run_config={"ops": {"remove_seed_items": {"config": {"environment": environment}}}})


@main.command(help="Print what deploying ENV would do to each table (create, update, replace, delete), changing nothing.")
@environment_argument
@click.option("--force", is_flag=True, help="Plan a clean deployment instead.")
@click.pass_obj
def plan(session: Session, environment: str, force: bool) -> None:
    from ampflow_dagster.planning import plan_text
    from ampflow_dagster.targets.aws import AwsSettings
    from ampflow_dagster.workflow import EnvironmentWorkspace, plan_deployment

    name = checked_environment(session, environment).name
    try:
        workspace = EnvironmentWorkspace.open(session.project, name, AwsSettings())
        changes = plan_deployment(workspace, force=force)
    except AmpflowError as error:
        fail(error)
        return
    click.secho(f"Plan for {name} (amplify/ {workspace.fingerprint()}):", bold=True)
    click.echo(plan_text(changes))
    losing = [change for change in changes if change.loses_items]
    if losing:
        protected = workspace.environment.protected
        click.secho(
            f"{len(losing)} change(s) would lose items; "
            + ("refused unless --allow-destructive; " if protected else "")
            + "each table is backed up first.", fg="yellow",
        )


@main.command(help="Tear down a sandbox environment's backend (ampx sandbox delete); refused for protected and branch ones.")
@environment_argument
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def destroy(session: Session, environment: str, yes: bool) -> None:
    settings = checked_environment(session, environment)
    environment = settings.name
    if settings.protected or settings.target != "sandbox":
        why = "it is protected" if settings.protected else f"its target is {settings.target}, not sandbox"
        fail(AmpflowError(
            f"Refusing to destroy environment '{environment}': {why}.",
            "ampflow only tears down unprotected sandbox environments.",
        ))
    if not yes and not click.confirm(f"Delete every resource of sandbox environment '{environment}', data included?"):
        click.echo("Nothing was deleted.")
        return
    run_job(session, "amplify_destroy", run_config={"ops": {"delete_sandbox": {"config": {"environment": environment}}}})


@main.command(help="Per environment: deployed and current fingerprints, stale assets, tables and item counts.")
@click.pass_obj
def status(session: Session) -> None:
    from ampflow_dagster.defs.records import stale_asset_names
    from ampflow_dagster.targets.aws import AwsSettings
    from ampflow_dagster.workflow import EnvironmentWorkspace

    config = session.config()
    for environment in config.environments.values():
        state = environment_state(session, environment.name)
        click.secho(f"{environment.name} ({environment.prefix}, target {environment.target}"
                    f"{', protected' if environment.protected else ''}"
                    f"{', automated deploys' if environment.automated_deploys else ''})", bold=True)
        click.echo(f"  amplify/ fingerprint: current {state.amplify_fingerprint}, deployed {state.deployed_fingerprint or 'never'}")
        stale = stale_asset_names(state)
        click.echo(f"  stale: {', '.join(stale) if stale else 'nothing'}" + (f"  ({'; '.join(state.reasons)})" if stale else ""))
        workspace = EnvironmentWorkspace.open(session.project, environment.name, AwsSettings(), config)
        desired = cached_desired(session.project, workspace, state.amplify_fingerprint)
        if desired is None:
            click.echo("  tables: not synthesized yet for this amplify/ (deploy it to see them)")
            continue
        try:
            for model, live in workspace.target.live_tables(desired).items():
                name = workspace.target.table_name(model)
                click.echo(f"  {name}: " + (f"{live.status}, {live.item_count} item(s)" if live else "MISSING"))
        except AmpflowError as error:
            click.echo(f"  tables: unavailable ({error.message})")


@main.command(help="Start the embedded emulator and the Dagster UI (dagster dev) for this project.")
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
