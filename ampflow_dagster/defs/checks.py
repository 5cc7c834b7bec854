"""Asset checks that show in the UI, each evaluated per environment (partition).

- verified_tables: `table_shape_<model>`, one per table, blocking: keys, indexes and settings against amplify/.
- seeded_<model>: `seed_count`, ERROR, not blocking: read back after the pass, the table holds exactly the
  environment's seed set as written, and none of the items the pass deleted.
- verified_tables: `list_queries`, not blocking: each model's list query answers through the local
  GraphQL endpoint (local environments; AppSync serves the others).
- api_client: `default_authorization_mode`, WARN when the API's default is `iam`.

Every check runs inside its asset and reports what that asset's own pass found, so one
place decides each thing: inspect_tables' comparison, the seeding pass's own count of the table,
the synthesized authorization modes.
"""

from __future__ import annotations

import warnings

import dagster as dg

from ampflow_dagster.client.outputs import DataApi
from ampflow_dagster.defs.partitions import Blueprint
from ampflow_dagster.names import API_CLIENT, VERIFIED_TABLES, seeded_asset_name
from ampflow_dagster.verification.graphql_api import ListQueryCheck
from ampflow_dagster.verification.authorization import IAM_DEFAULT_ADVICE, AuthorizationModes
from ampflow_dagster.seeding.seed_counts import SeedCount
from ampflow_dagster.verification.tables import TableCheck, redeploy_advice

SEED_COUNT = "seed_count"
LIST_QUERIES = "list_queries"
DEFAULT_AUTHORIZATION_MODE = "default_authorization_mode"


def table_shape_check_name(model: str) -> str:
    return "table_shape_" + seeded_asset_name(model).removeprefix("seeded_")


def _partitioned_spec(
    name: str, asset: str, description: str, partitions: dg.PartitionsDefinition, blocking: bool = False
) -> dg.AssetCheckSpec:
    """A check evaluated per environment, so production's result never stands for development's.

    Partitioned checks are a preview in Dagster 1.13; without a partition, each run's result
    would replace the other environment's in the UI.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset, description=description, blocking=blocking, partitions_def=partitions)


OTHER_TABLES = "table_shape_other_tables"


def table_shape_models(blueprint: Blueprint) -> dict[str, str]:
    """Check name -> model: one shape check per model with seed data; the other tables share one.

    Declared from the seed files, as the seeded assets are, so every process that loads the
    definitions declares the same checks whatever synthesis happens to be cached.
    """
    return {table_shape_check_name(model): model for model in sorted(blueprint.seeded.values())}


def table_shape_specs(blueprint: Blueprint) -> list[dg.AssetCheckSpec]:
    return [
        _partitioned_spec(
            name, VERIFIED_TABLES, blocking=True, partitions=blueprint.partitions,
            description=f"The {model} table exists, is ACTIVE, and has the key schema, global secondary indexes and "
            "settings (stream, point-in-time recovery, billing, deletion protection) amplify/ declares. Blocking: "
            "seeding and the client wait for it.",
        )
        for name, model in table_shape_models(blueprint).items()
    ] + [
        _partitioned_spec(
            OTHER_TABLES, VERIFIED_TABLES, blocking=True, partitions=blueprint.partitions,
            description="Every table of a model without seed data exists, is ACTIVE, and has the key schema, global "
            "secondary indexes and settings amplify/ declares. Blocking: seeding and the client wait for it.",
        )
    ]


def list_queries_spec(blueprint: Blueprint) -> dg.AssetCheckSpec:
    return _partitioned_spec(
        LIST_QUERIES, VERIFIED_TABLES, partitions=blueprint.partitions,
        description="On a local environment, each model's list query answers through its GraphQL endpoint with the "
        "API key: with items where the model's rules let the key read, else refusing it as Unauthorized.",
    )


def list_queries_not_asked(environment: str, target_kind: str, has_api: bool) -> dg.AssetCheckResult | None:
    """`list_queries` where it has nothing to ask, else None.

    Dagster 1.13 expects every selected check of a non-subsettable asset to report, so it cannot be
    left out: it passes, and says in `checked: false` and its description that nothing was asked.
    """
    reason = None
    if not has_api:
        reason = "amplify/ declares no data API, so there is no list query to ask."
    elif target_kind != "local":
        reason = (f"{environment} is a {target_kind} environment: AWS AppSync serves its API, and ampflow asks list queries "
                  "of local endpoints only, so nothing was asked.")
    if reason is None:
        return None
    return dg.AssetCheckResult(check_name=LIST_QUERIES, passed=True, metadata={"checked": False}, description=reason)


def list_queries_result(environment: str, served: DataApi | None, checks: list[ListQueryCheck]) -> dg.AssetCheckResult:
    """The `list_queries` result of a local environment: what each model's list query answered."""
    if served is None:
        return dg.AssetCheckResult(
            check_name=LIST_QUERIES, passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata={"checked": False},
            description=f"{environment}'s local GraphQL endpoint is not running, so no list query could be asked. "
            f"Run `ampflow deploy {environment}` (or `ampflow outputs {environment}`) to start it.",
        )
    rows = ["| model | query | expected | answer | ms |", "|---|---|---|---|---|"]
    rows += [f"| {c.model} | `{c.query}` | {c.expected} | {c.answer} | {c.milliseconds:.0f} |" for c in checks]
    metadata = {
        "checked": True, "endpoint": served.url, "queries": len(checks),
        "answers": dg.MetadataValue.md("\n".join(rows) if checks else "The API has no model with a list query."),
    }
    failing = [c for c in checks if not c.passed]
    if not failing:
        return dg.AssetCheckResult(
            check_name=LIST_QUERIES, passed=True, metadata=metadata,
            description=f"{len(checks)} list quer{'y' if len(checks) == 1 else 'ies'} answered through {served.url} as the models' rules say.",
        )
    problems = "; ".join(f"{c.query} ({c.model}) expected {c.expected}, got {c.answer}" for c in failing)
    return dg.AssetCheckResult(
        check_name=LIST_QUERIES, passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata,
        description=f"In {environment}, {problems}. The endpoint's own log is .ampflow/graphql/{environment}/server.log. "
        "When the table checks pass, a failing query points at the model's resolvers (custom VTL or handlers in "
        f"amplify/data/); once fixed, `ampflow deploy {environment}` serves the API again.",
    )


def seed_count_spec(blueprint: Blueprint, asset_name: str, model: str) -> dg.AssetCheckSpec:
    return _partitioned_spec(
        SEED_COUNT, asset_name, partitions=blueprint.partitions,
        description=f"The seeding pass accounts for every {model} seed item (found unchanged, restored or created) "
        "and deleted every other item carrying the environment's prefix that its consistent scan found.",
    )


def authorization_spec(blueprint: Blueprint) -> dg.AssetCheckSpec:
    return _partitioned_spec(
        DEFAULT_AUTHORIZATION_MODE, API_CLIENT, partitions=blueprint.partitions,
        description="The data API's default authorization mode, as Amplify synthesized it. Warns when it is `iam`: "
        "app clients then need an explicit authMode.",
    )


def selected(context: dg.AssetExecutionContext, asset: str, name: str) -> bool:
    return dg.AssetCheckKey(dg.AssetKey(asset), name) in context.selected_asset_check_keys


def table_shape_results(
    context: dg.AssetExecutionContext, blueprint: Blueprint, environment: str, checks: list[TableCheck]
) -> list[dg.AssetCheckResult]:
    """A result per selected table shape check, from inspect_tables' comparison of each table."""
    by_model = {check.model: check for check in checks}
    shape_models = table_shape_models(blueprint)
    results = []
    for name, model in shape_models.items():
        if not selected(context, VERIFIED_TABLES, name):
            continue
        check = by_model.get(model)
        if check is None:
            results.append(dg.AssetCheckResult(
                check_name=name, passed=False, severity=dg.AssetCheckSeverity.WARN,
                description=f"amplify/ declares no model {model} any more, so {environment} has no table to check, "
                f"but seed_data/ still has {model} seed files: remove them, or restore the model.",
            ))
            continue
        results.append(_table_shape_result(name, environment, check))
    if selected(context, VERIFIED_TABLES, OTHER_TABLES):
        others = [check for check in checks if check.model not in shape_models.values()]
        results.append(_other_tables_result(environment, others))
    return results


def _other_tables_result(environment: str, checks: list[TableCheck]) -> dg.AssetCheckResult:
    rows = ["| model | table | keys | problems |", "|---|---|---|---|"]
    rows += [f"| {c.model} | `{c.table}` | {c.found_keys} | {'; '.join(c.problems) or 'none'} |" for c in checks]
    metadata = {"tables": len(checks), "shapes": dg.MetadataValue.md("\n".join(rows) if checks else "No such tables.")}
    failing = [c for c in checks if c.problems]
    if not failing:
        return dg.AssetCheckResult(
            check_name=OTHER_TABLES, passed=True, metadata=metadata,
            description=f"{len(checks)} table(s) of models without seed data match amplify/.",
        )
    problems = "; ".join(f"{c.table} ({c.model}): {', '.join(c.problems)}" for c in failing)
    return dg.AssetCheckResult(
        check_name=OTHER_TABLES, passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata,
        description=f"In {environment}, {problems}. {redeploy_advice(environment, failing)}",
    )


def _table_shape_result(name: str, environment: str, check: TableCheck) -> dg.AssetCheckResult:
    metadata = {
        "table": check.table,
        "status": check.status,
        "expected_keys": check.expected_keys,
        "found_keys": check.found_keys,
        "indexes": dg.MetadataValue.md(_index_table(check)),
        "settings": dg.MetadataValue.md(_settings_table(check)),
    }
    if not check.problems:
        return dg.AssetCheckResult(
            check_name=name, passed=True, metadata=metadata,
            description=f"{check.table} matches amplify/: key {check.expected_keys}, {len(check.expected_indexes)} index(es), "
            + ", ".join(f"{setting} {value}" for setting, value in check.expected_settings.items()) + ".",
        )
    problems = "; ".join(check.problems)
    return dg.AssetCheckResult(
        check_name=name, passed=False, severity=dg.AssetCheckSeverity.ERROR,
        metadata={**metadata, "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in check.problems))},
        description=f"{check.table} ({check.model}) in {environment} does not match amplify/: {problems}. "
        + redeploy_advice(environment, [check]),
    )


def _index_table(check: TableCheck) -> str:
    expected = {text.split(":")[0]: text for text in check.expected_indexes}
    found = {text.split(":")[0]: text for text in check.found_indexes}
    if not expected and not found:
        return "No global secondary indexes declared or found."
    rows = ["| index | expected | found |", "|---|---|---|"]
    for index in sorted(expected.keys() | found.keys()):
        rows.append(f"| `{index}` | {_after_name(expected.get(index))} | {_after_name(found.get(index))} |")
    return "\n".join(rows)


def _settings_table(check: TableCheck) -> str:
    rows = ["| setting | expected | found |", "|---|---|---|"]
    for setting, expected in check.expected_settings.items():
        found = check.found_settings.get(setting, "—")
        rows.append(f"| {setting} | {expected} | {found if found == expected else f'**{found}**'} |")
    return "\n".join(rows)


def _after_name(text: str | None) -> str:
    return text.split(": ", 1)[1] if text else "—"


def seed_count_result(environment: str, count: SeedCount) -> dg.AssetCheckResult:
    metadata = {
        "table": count.table,
        "seed_items": count.expected,
        "items_held": count.held_after,
        "found_before_seeding": count.found_before,
        "missing_before_seeding": count.missing_before,
        "stale_before_seeding": count.stale_before,
        "stale_after_seeding": count.stale_after,
        "counted_by": "read back after the writes (BatchGetItem of every seed key)" if count.read_back
        else "the pass's own read of every seed key (it changed nothing)",
    }
    if count.matches:
        drift = (
            f"; before this pass {count.missing_before} were missing and {count.stale_before} stale"
            if count.missing_before or count.stale_before else ""
        )
        return dg.AssetCheckResult(
            check_name=SEED_COUNT, passed=True, metadata=metadata,
            description=f"{count.table} holds the {count.expected} seed item(s) of {environment}, no more, no fewer{drift}.",
        )
    return dg.AssetCheckResult(
        check_name=SEED_COUNT, passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata,
        description=f"{count.table} should hold {count.expected} {environment} seed item(s) as written, but read back after "
        f"the pass it holds {count.held_after}{f' and still {count.stale_after} item(s) the pass deleted' if count.stale_after else ''}: "
        "writes DynamoDB acknowledged were not kept, or something changed the table during the pass. Seed "
        f"{environment} again (reseeding reads the table and converges to the seed set); if it recurs, check what else "
        "writes to the table and the run's logs for failed writes.",
    )


def authorization_results(modes: AuthorizationModes) -> list[dg.AssetCheckResult]:
    """The `default_authorization_mode` result; for a backend without a data API it passes with `checked: false`."""
    if not modes.default:
        return [dg.AssetCheckResult(
            check_name=DEFAULT_AUTHORIZATION_MODE, passed=True, metadata={"checked": False},
            description="The backend declares no data API (no defineData in defineBackend): no authorization mode to check.",
        )]
    return [authorization_result(modes)]


def authorization_result(modes: AuthorizationModes) -> dg.AssetCheckResult:
    metadata = {
        "default_mode": modes.client_default,
        "appsync_authentication_type": modes.default,
        "additional_modes": ", ".join(modes.additional) or "none",
    }
    if modes.default_is_iam:
        return dg.AssetCheckResult(
            check_name=DEFAULT_AUTHORIZATION_MODE, passed=False, severity=dg.AssetCheckSeverity.WARN,
            metadata={**metadata, "advice": dg.MetadataValue.md(IAM_DEFAULT_ADVICE)},
            description=f"The data API's default authorization mode is `iam` ({modes.default}). {IAM_DEFAULT_ADVICE}",
        )
    return dg.AssetCheckResult(
        check_name=DEFAULT_AUTHORIZATION_MODE, passed=True, metadata=metadata,
        description=f"The data API's default authorization mode is `{modes.client_default}` ({modes.default}).",
    )
