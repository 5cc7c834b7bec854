"""The workflow's assets, one partition per environment.

backend_deployment -> verified_tables -> seeded_users (when some environment has users.jsonl) -> seeded_<model>
(one per seeded model), and verified_tables -> api_client.
Each asset reads its resources, calls one plain workflow function and reports what a
person wants to see in the UI.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import dagster as dg

from ampflow_dagster.errors import AmpflowError, PinnedJobRefused, VerificationError
from ampflow_dagster.fingerprint import digest_cache
from ampflow_dagster.planning import plan_markdown
from ampflow_dagster.verification.authorization import authorization_modes
from ampflow_dagster.verification.graphql_api import check_list_queries
from ampflow_dagster.verification.tables import inspect_tables, require_matching_tables
from ampflow_dagster.workflow.client import generate_client
from ampflow_dagster.workflow.deployment import deploy_backend
from ampflow_dagster.workflow.seeding import prepare_seed_set, seed_model
from ampflow_dagster.defs.checks import (
    DEFAULT_AUTHORIZATION_MODE,
    LIST_QUERIES,
    SEED_COUNT,
    authorization_results,
    authorization_spec,
    list_queries_not_asked,
    list_queries_result,
    list_queries_spec,
    seed_count_result,
    seed_count_spec,
    selected,
    table_shape_results,
    table_shape_specs,
)
from ampflow_dagster.defs.partitions import Blueprint
from ampflow_dagster.names import API_CLIENT, BACKEND_DEPLOYMENT, VERIFIED_TABLES, pinned_jobs_for, seeded_asset_name
from ampflow_dagster.defs.records import (
    FINGERPRINT_KEY,
    MODEL_VERSION_KEY,
    MODEL_VERSIONS_KEY,
    SEED_FINGERPRINT_KEY,
    SEED_TREE_KEY,
    deployed_state,
)
from ampflow_dagster.defs.resources import AmplifyAppResource, AwsResource
from ampflow_dagster.defs.seed_records import SEED_RECORDS, SeedRecordsIOManager
from ampflow_dagster.seeding.seed_files import USERS_DATASET, seed_files
from ampflow_dagster.synthesis.api_spec import GraphqlApiSpec
from ampflow_dagster.project import PreviewProject
from ampflow_dagster.workflow.users import UsersOutcome, owners_for, seed_users
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

PINNED_ENVIRONMENT_TAG = "ampflow/environment"  # on jobs named for one environment (amplify_dev, amplify_prod)


def environment_asset(blueprint: Blueprint, name: str, *, stage: str, group: str, kinds: set[str], **details: Any) -> Any:
    """`dg.asset` for one step of the workflow: partitioned by environment, owned as the project says, and tagged
    with its stage (`ampflow/stage`), to filter the asset graph and runs by it."""
    return dg.asset(name=name, partitions_def=blueprint.partitions, group_name=group, kinds=kinds, owners=blueprint.owners,
                    tags={"ampflow/stage": stage}, **details)


class DeploymentConfig(dg.Config):
    force: bool = False
    """Delete and recreate this environment's tables (a clean deployment)."""
    allow_destructive: bool = False
    """Allow replacing tables that hold items in a protected environment."""
    automated: bool = False
    """Set by the sensor and the schedule: never replace or delete a table holding items."""


@contextmanager
def reported_as_failure() -> Iterator[None]:
    """A user-fixable error becomes a Dagster Failure that shows what happened and what to do."""
    try:
        yield
    except AmpflowError as error:
        metadata = {"code": error.code, "resolution": error.resolution}
        if error.cause_text:
            metadata["cause"] = error.cause_text
        metadata.update({k: dg.MetadataValue.md(v) for k, v in error.details.items()})
        raise dg.Failure(description=str(error), metadata=metadata, allow_retries=False) from error


def preview_metadata(workspace: EnvironmentWorkspace, seeded: bool = False) -> dict[str, object]:
    """A preview's branch and the commit the step built from (and for a seeded asset, its seed folder's tree); {} otherwise."""
    project, preview = workspace.project, workspace.environment.preview
    if preview is None or not isinstance(project, PreviewProject):
        return {}
    metadata: dict[str, object] = {"branch": preview.branch, "commit": project.commit}
    if seeded:
        metadata[SEED_TREE_KEY] = project.seed_tree or "none"
    return metadata


def run_environment(context: dg.AssetExecutionContext) -> str:
    """The environment this step works on; a job named for another environment refuses it.

    The UI offers every partition for every job, so `amplify_dev` could be launched for
    production: it stops before touching anything and says which job to use instead.
    """
    environment = context.partition_key
    pinned = context.job_def.tags.get(PINNED_ENVIRONMENT_TAG) if context.job_def else None
    if pinned and pinned != environment:
        with reported_as_failure():
            raise PinnedJobRefused(context.job_def.name, pinned, environment, pinned_jobs_for(environment))
    return environment


@dataclass(frozen=True)
class WorkflowAssets:
    backend_deployment: dg.AssetsDefinition
    verified_tables: dg.AssetsDefinition
    seeded: list[dg.AssetsDefinition]
    api_client: dg.AssetsDefinition
    users: dg.AssetsDefinition | None = None

    @property
    def all(self) -> list[dg.AssetsDefinition]:
        users = [self.users] if self.users else []
        return [self.backend_deployment, self.verified_tables, *users, *self.seeded, self.api_client]


def build_assets(blueprint: Blueprint) -> WorkflowAssets:
    """The workflow's assets for one project: its environments as partitions, one seeded asset per seeded model.

    With a users file in some environment, seeded_users comes before every seeded model: an item's
    `{"user": ...}` owner is stored with the id the user has in the pool, so the user must exist first.
    """
    deployment = _backend_deployment(blueprint)
    verified = _verified_tables(blueprint, deployment)
    users = _seeded_users(blueprint, verified) if blueprint.has_users else None
    upstream = [verified, *([users] if users else [])]
    seeded = [_seeded_asset(blueprint, upstream, name, model) for name, model in blueprint.seeded.items()]
    return WorkflowAssets(deployment, verified, seeded, _api_client(blueprint, verified), users)



def _backend_deployment(blueprint: Blueprint) -> dg.AssetsDefinition:
    @environment_asset(
        blueprint, BACKEND_DEPLOYMENT, stage="deploy", group="amplify", kinds={"amplify", "dynamodb", "aws"},
        description="The environment's backend, deployed to its target. Skipped when amplify/ is unchanged and the live "
        "tables still match; run config `force: true` recreates the tables.",
    )
    def backend_deployment(
        context: dg.AssetExecutionContext, config: DeploymentConfig, amplify_app: AmplifyAppResource, aws: AwsResource
    ) -> dg.MaterializeResult:
        environment = run_environment(context)
        with reported_as_failure():
            workspace = amplify_app.workspace(environment, aws)
            outcome = deploy_backend(
                workspace,
                deployed=deployed_state(context.instance, environment, workspace.environment.history_since),
                force=config.force,
                allow_destructive=config.allow_destructive and not config.automated,
                automated=config.automated,
                log=context.log.info,
            )
            target = workspace.target.describe()
            api = workspace.desired().graphql_api
        context.log.info(f"{environment}: {'skipped' if outcome.skipped else 'deployed'} ({outcome.reason})")
        metadata = {**preview_metadata(workspace), **deployment_metadata(outcome, target), **graphql_metadata(target, api)}
        return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(outcome.template_hash))

    return backend_deployment


def graphql_metadata(target: dict[str, Any], api: GraphqlApiSpec | None) -> dict[str, object]:
    """The local GraphQL endpoint a deployment left serving, and what of the API it cannot run."""
    if not target.get("graphql_url"):
        return {}
    metadata: dict[str, object] = {
        "graphql_endpoint": dg.MetadataValue.url(target["graphql_url"]),
        "graphql_api_fingerprint": target.get("graphql_api_fingerprint", ""),
    }
    if api is not None and api.unsupported:
        metadata["graphql_not_served"] = dg.MetadataValue.md(
            "\n".join(f"- {entry.subject}: {entry.reason}" for entry in api.unsupported)
        )
    return metadata


def deployment_metadata(outcome: Any, target: dict[str, Any]) -> dict[str, object]:
    report = outcome.report
    metadata: dict[str, object] = {
        FINGERPRINT_KEY: outcome.fingerprint,
        "template_hash": outcome.template_hash,
        "deployment": "skipped" if outcome.skipped else "deployed",
        "reason": outcome.reason,
        "target": target["target"],
        "endpoint": target.get("dynamodb_endpoint", ""),
        "api_id": target.get("api_id", ""),
        **({"console": dg.MetadataValue.url(target["console"])} if target.get("console") else {}),
        "duration_seconds": round(outcome.seconds, 2),
        MODEL_VERSIONS_KEY: dg.MetadataValue.json(outcome.model_versions),
    }
    if outcome.other_stacks:
        metadata["other_stacks"] = outcome.other_stacks
    if outcome.drift:
        metadata["drift_found"] = dg.MetadataValue.md("\n".join(f"- {line}" for line in outcome.drift))
    if not outcome.skipped:
        for action in ("created", "updated", "replaced", "recreated", "deleted", "unchanged"):
            metadata[f"tables_{action}"] = report.count(action)
        metadata["plan"] = dg.MetadataValue.md(plan_markdown(outcome.plan))
        if outcome.backups:
            metadata["backups"] = dg.MetadataValue.md(
                "On-demand backups taken before the destructive changes:\n"
                + "\n".join(f"- `{table}`: `{arn}`" for table, arn in outcome.backups.items())
            )
    return metadata


def _verified_tables(blueprint: Blueprint, deployment: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @environment_asset(
        blueprint, VERIFIED_TABLES, stage="verify", group="amplify", kinds={"dynamodb", "aws"},
        deps=[deployment],
        description="Every table amplify/ declares exists in the environment, is ACTIVE and has the declared keys, indexes "
        "and settings (stream, point-in-time recovery, billing mode, deletion protection).",
        check_specs=[*table_shape_specs(blueprint), list_queries_spec(blueprint)],
    )
    def verified_tables(context: dg.AssetExecutionContext, amplify_app: AmplifyAppResource, aws: AwsResource) -> Iterator[Any]:
        environment = run_environment(context)
        with reported_as_failure():
            workspace = amplify_app.workspace(environment, aws)
            with workspace.aws_failures("Reading the tables", f"ampflow deploy {environment}", VerificationError):
                checks = inspect_tables(workspace)
        results = table_shape_results(context, blueprint, environment, checks)
        if any(check.problems for check in checks):
            # Each table's check shows what is wrong with it; the step fails with every table, the
            # common causes and what to do, and records no materialization of tables that do not match.
            yield from results
            with reported_as_failure():
                require_matching_tables(workspace, checks)
        rows = [
            dg.TableRecord({"model": c.model, "table": c.table, "status": c.status, "items": c.item_count or 0}) for c in checks
        ]
        schema = dg.TableSchema(
            columns=[
                dg.TableColumn("model", "string"),
                dg.TableColumn("table", "string"),
                dg.TableColumn("status", "string"),
                dg.TableColumn("items", "int"),
            ]
        )
        yield dg.MaterializeResult(
            metadata={
                "tables": dg.MetadataValue.table(rows, schema=schema),
                "table_count": len(checks),
                "total_items": sum(c.item_count or 0 for c in checks),
                **preview_metadata(workspace),
            }
        )
        yield from results
        if selected(context, VERIFIED_TABLES, LIST_QUERIES):
            with reported_as_failure():
                api = workspace.desired().graphql_api
            yield list_queries_not_asked(environment, workspace.target.kind, api is not None) or _list_queries(workspace, environment)

    return verified_tables


def _list_queries(workspace: Any, environment: str) -> dg.AssetCheckResult:
    """Each model's list query through the environment's local endpoint (nothing is asked of AWS AppSync)."""
    with reported_as_failure():
        api = workspace.desired().graphql_api
        model_introspection = workspace.desired().model_introspection
    served = workspace.target.served_graphql_api()
    checks = check_list_queries(served.url, served.api_key, api, model_introspection) if served else []
    return list_queries_result(environment, served, checks)


def _seeded_users(blueprint: Blueprint, verified: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @environment_asset(
        blueprint, seeded_asset_name(USERS_DATASET), stage="seed", group="seed_data", kinds={"cognito", "aws"},
        deps=[verified],
        description="The environment's seed users (seed_data/<environment>/users.jsonl), validated against the user pool "
        "defineAuth declares and created or updated in the environment's own pool, with their groups. Passwords come "
        "from the variables the file names, else are generated; they are never shown.",
    )
    def seeded_users(context: dg.AssetExecutionContext, amplify_app: AmplifyAppResource, aws: AwsResource) -> dg.MaterializeResult:
        environment = run_environment(context)
        with reported_as_failure():
            workspace = amplify_app.workspace(environment, aws)
            outcome = seed_users(workspace, log=context.log.info)
        return dg.MaterializeResult(metadata={
            **users_metadata(outcome, digest_cache(workspace.project)), **preview_metadata(workspace, seeded=True)})

    return seeded_users


def users_metadata(outcome: UsersOutcome, cache: Any) -> dict[str, object]:
    """Counts and names of users, their groups and where passwords came from; never a password."""
    metadata: dict[str, object] = {SEED_FINGERPRINT_KEY: outcome.users.fingerprint(cache), "seed_users": len(outcome.users.users)}
    result = outcome.result
    if result is None or outcome.pool is None:
        return {**metadata, "users_file": f"none for {outcome.users.environment.name}"}
    names = lambda users: ", ".join(users) or "none"  # noqa: E731
    return {
        **metadata,
        "user_pool_id": outcome.pool.pool_id,
        "users_created": len(result.created),
        "users_updated": len(result.updated),
        "users_unchanged": len(result.unchanged),
        "created": names(result.created),
        "updated": names(result.updated),
        "groups": dg.MetadataValue.md(
            "\n".join(f"- {group}: {', '.join(members)}" for group, members in sorted(result.groups.items())) or "No seed user is in a group."
        ),
        "passwords_generated": names(result.passwords_generated),
        "passwords_from_variables": dg.MetadataValue.md(
            "\n".join(f"- {user}: `{variable}`" for user, variable in sorted(result.passwords_from_variables.items())) or "none"
        ),
        "password_note": "A generated password is random and shown nowhere; to choose one, set AMPFLOW_SEED_PASSWORD_<USERNAME> "
        "before a user is created, or the variable the user's password_env names (which also resets an existing user's).",
    }


def _seeded_asset(blueprint: Blueprint, upstream: list[dg.AssetsDefinition], asset_name: str, model: str) -> dg.AssetsDefinition:
    @environment_asset(
        blueprint, asset_name, stage="seed", group="seed_data", kinds={"dynamodb", "aws"},
        deps=upstream,
        metadata={"model": model},
        check_specs=[seed_count_spec(blueprint, asset_name, model)],
        io_manager_key=SEED_RECORDS,
        description=f"The environment's {model} seed items (seed_data/<environment>/{model}.jsonl or .json), "
        "validated, prefixed and written where they differ from the table. Its value is ampflow's record of the "
        "items it wrote, which decides what a reseed, the reconciliation and `clean` read, rewrite and remove.",
    )
    def seeded(
        context: dg.AssetExecutionContext, amplify_app: AmplifyAppResource, aws: AwsResource,
        seed_records: dg.ResourceParam[SeedRecordsIOManager],
    ) -> Iterator[Any]:
        environment = run_environment(context)
        with reported_as_failure():
            workspace = amplify_app.workspace(environment, aws)
            absent = not seed_files(workspace.project, environment, model) and model not in workspace.desired().tables
        if absent:  # a preview whose branch removed the model, and its seed file with it
            yield from _absent_model(context, workspace, asset_name, model)
            return
        with reported_as_failure():
            seed_set = prepare_seed_set(workspace, model, models_seeded_by_run(context, blueprint), step_of=seeded_asset_name)
            seed_set.owners = owners_for(workspace, seed_set)
            previous = seed_records.read(asset_name, environment)
            outcome = seed_model(workspace, seed_set, previous)
        result, seed_set = outcome.result, outcome.seed_set
        files = [str(path.relative_to(workspace.project.root)) for path in seed_set.files]
        model_version = deployed_state(context.instance, environment, workspace.environment.history_since).model_versions.get(model, "")
        yield dg.Output(
            result.ledger,
            metadata={
                SEED_FINGERPRINT_KEY: seed_set.fingerprint(digest_cache(workspace.project)),
                MODEL_VERSION_KEY: model_version,
                "table": result.table,
                "seed_items": seed_set.count,
                "items_written": result.written,
                "items_created": result.created,
                "items_updated": result.updated,
                "items_unchanged": result.unchanged,
                "items_removed": result.removed,
                "items_read": result.items_read,
                "read_by": result.read_by,
                "drift_repaired": dg.MetadataValue.md(
                    f"{result.created} missing item(s) restored, {result.updated} modified item(s) restored, "
                    f"{result.removed} stale seed item(s) removed"
                ) if result.written or result.removed else "none: the table held exactly the seed set",
                **({"left_alone": dg.MetadataValue.md(
                    f"{result.left_alone} item(s) ampflow once wrote were changed by someone else since; they are no longer "
                    "treated as seed data and were left as they are"
                )} if result.left_alone else {}),
                "prefix": workspace.environment.prefix if seed_set.label_field else "none",
                # seed items that leave an optional label field empty: stored as given, ampflow's by its record
                **({"items_unlabeled": seed_set.unlabeled} if seed_set.unlabeled else {}),
                "label_field": seed_set.label_field or f"none: {seed_set.label_reason}",
                "seed_record": result.ledger.summary() if result.ledger else "none",
                "seed_files": ", ".join(files) or f"none for {environment}",
                **preview_metadata(workspace, seeded=True),
            },
        )
        if selected(context, asset_name, SEED_COUNT):
            yield seed_count_result(environment, outcome.count)

    return seeded


def _absent_model(context: dg.AssetExecutionContext, workspace: EnvironmentWorkspace, asset_name: str, model: str) -> Iterator[Any]:
    """The outcome of seeding a model the environment's schema does not have and no seed file names: nothing to write."""
    environment = workspace.environment.name
    why = f"{model} is not a model of {environment}'s schema, and {environment} has no seed file for it"
    yield dg.Output(None, metadata={
        SEED_FINGERPRINT_KEY: "none", "seed_items": 0, "items_written": 0, "seed_files": f"none: {why}",
        **preview_metadata(workspace, seeded=True),
    })
    if selected(context, asset_name, SEED_COUNT):
        yield dg.AssetCheckResult(check_name=SEED_COUNT, passed=True, description=f"Nothing to hold: {why}.")


def models_seeded_by_run(context: dg.AssetExecutionContext, blueprint: Blueprint) -> list[str]:
    """The models this run seeds: all of them are validated before any is written."""
    selection = context.run.asset_selection
    if not selection:
        return sorted(blueprint.seeded.values())
    return sorted(blueprint.seeded[key.path[-1]] for key in selection if key.path[-1] in blueprint.seeded)


def _api_client(blueprint: Blueprint, verified: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @environment_asset(
        blueprint, API_CLIENT, stage="client", group="amplify", kinds={"amplify", "aws"},
        deps=[verified],
        description="The environment's client: amplify_outputs.json with Amplify's model introspection schema, and "
        "GraphQL statements, in clients/<environment>/.",
        check_specs=[authorization_spec(blueprint)],
    )
    def api_client(context: dg.AssetExecutionContext, amplify_app: AmplifyAppResource, aws: AwsResource) -> dg.MaterializeResult:
        with reported_as_failure():
            workspace = amplify_app.workspace(run_environment(context), aws)
            files = generate_client(workspace, log=context.log.info)
        root = workspace.project.clients_dir.parent  # the app's folder (a preview's files are built in its worktree)
        outputs = next((path for path in files if path.name == "amplify_outputs.json"), None)
        desired = workspace.desired()
        return dg.MaterializeResult(
            metadata={
                "outputs_file": dg.MetadataValue.path(str(outputs.relative_to(root)) if outputs else "none"),
                "statements": ", ".join(str(p.relative_to(root)) for p in files if p.suffix == ".graphql"),
                "models": len(desired.model_introspection.get("models", {})),
                "target": workspace.target.kind,
                **preview_metadata(workspace),
            },
            check_results=authorization_results(authorization_modes(desired))
            if selected(context, API_CLIENT, DEFAULT_AUTHORIZATION_MODE) else [],
        )

    return api_client
