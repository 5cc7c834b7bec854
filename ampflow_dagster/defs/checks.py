"""Asset checks that show in the UI, each evaluated per environment (partition).

- verified_tables: `table_shape_<model>`, one per table, blocking: keys and indexes against amplify/.
- seeded_<model>: `seed_count`, ERROR, not blocking: the table holds exactly the environment's seed set.
- api_client: `default_authorization_mode`, WARN when the API's default is `iam`.

Every check runs inside its asset and reports what that asset's own pass found, so one
place decides each thing: verify_tables' comparison, the seeding pass's own count of the table,
the synthesized authorization modes.
"""

from __future__ import annotations

import warnings

import dagster as dg

from ampflow_dagster.defs.partitions import PROJECT, environment_partitions
from ampflow_dagster.defs.records import SEEDED_MODELS, seeded_asset_name
from ampflow_dagster.fingerprint import amplify_fingerprint, digest_cache
from ampflow_dagster.synthesis.runner import cached_models
from ampflow_dagster.verification.authorization import IAM_DEFAULT_ADVICE, AuthorizationModes
from ampflow_dagster.verification.seed_counts import SeedCount
from ampflow_dagster.workflow import TableCheck

SEED_COUNT = "seed_count"
DEFAULT_AUTHORIZATION_MODE = "default_authorization_mode"


def declared_models() -> list[str]:
    """The models whose tables get a shape check, known without starting Node.

    Every model of a cached synthesis (the current tree's, else the newest), and every
    seeded model. On a fresh checkout only the seeded models are known until the first
    synthesis; reloading the definitions then adds the rest. verified_tables fails for any
    table that does not match whether or not it has a check of its own.
    """
    try:
        fingerprint = amplify_fingerprint(PROJECT, digest_cache(PROJECT))  # a cache we do not save: import writes nothing
    except OSError:
        fingerprint = ""
    return sorted(set(cached_models(PROJECT, fingerprint)) | set(SEEDED_MODELS.values()))


def table_shape_check_name(model: str) -> str:
    return "table_shape_" + seeded_asset_name(model).removeprefix("seeded_")


def _partitioned_spec(name: str, asset: str, description: str, blocking: bool = False) -> dg.AssetCheckSpec:
    """A check evaluated per environment, so production's result never stands for development's.

    Partitioned checks are a preview in Dagster 1.13; without a partition, each run's result
    would replace the other environment's in the UI.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name, asset=asset, description=description, blocking=blocking, partitions_def=environment_partitions
        )


TABLE_SHAPE_MODELS = {table_shape_check_name(model): model for model in declared_models()}

table_shape_specs = [
    _partitioned_spec(
        name, "verified_tables", blocking=True,
        description=f"The {model} table exists, is ACTIVE, and has the key schema and global secondary indexes "
        "amplify/ declares. Blocking: seeding and the client wait for it.",
    )
    for name, model in TABLE_SHAPE_MODELS.items()
]


def seed_count_spec(asset_name: str, model: str) -> dg.AssetCheckSpec:
    return _partitioned_spec(
        SEED_COUNT, asset_name,
        description=f"The {model} table holds exactly the environment's seed items: the seeding pass's consistent "
        "scan of the table, plus the writes and deletes DynamoDB acknowledged, account for every seed item and "
        "leave no other item carrying the prefix.",
    )


authorization_spec = _partitioned_spec(
    DEFAULT_AUTHORIZATION_MODE, "api_client",
    description="The data API's default authorization mode, as Amplify synthesized it. Warns when it is `iam`: "
    "app clients then need an explicit authMode.",
)


def selected(context: dg.AssetExecutionContext, asset: str, name: str) -> bool:
    return dg.AssetCheckKey(dg.AssetKey(asset), name) in context.selected_asset_check_keys


def table_shape_results(context: dg.AssetExecutionContext, environment: str, checks: list[TableCheck]) -> list[dg.AssetCheckResult]:
    """A result per selected table shape check, from verify_tables' comparison of each table."""
    by_model = {check.model: check for check in checks}
    results = []
    for name, model in TABLE_SHAPE_MODELS.items():
        if not selected(context, "verified_tables", name):
            continue
        check = by_model.get(model)
        if check is None:
            results.append(dg.AssetCheckResult(
                check_name=name, passed=False, severity=dg.AssetCheckSeverity.WARN,
                description=f"amplify/ declares no model {model} any more, so {environment} has no table to check. "
                "Reload the definitions (they were loaded from an earlier synthesis) to drop this check.",
            ))
            continue
        results.append(_table_shape_result(name, environment, check))
    return results


def _table_shape_result(name: str, environment: str, check: TableCheck) -> dg.AssetCheckResult:
    metadata = {
        "table": check.table,
        "status": check.status,
        "expected_keys": check.expected_keys,
        "found_keys": check.found_keys,
        "indexes": dg.MetadataValue.md(_index_table(check)),
    }
    if not check.problems:
        return dg.AssetCheckResult(
            check_name=name, passed=True, metadata=metadata,
            description=f"{check.table} matches amplify/: key {check.expected_keys}, {len(check.expected_indexes)} index(es).",
        )
    problems = "; ".join(check.problems)
    return dg.AssetCheckResult(
        check_name=name, passed=False, severity=dg.AssetCheckSeverity.ERROR,
        metadata={**metadata, "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in check.problems))},
        description=f"{check.table} ({check.model}) in {environment} does not match amplify/: {problems}. "
        f"Materialize backend_deployment for {environment} (ampflow deploy {environment}), then verify again.",
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
        description=f"{count.table} should hold {count.expected} {environment} seed item(s) but the seeding pass accounts "
        f"for {count.held_after}: some items were neither found unchanged nor written. Seed {environment} again "
        "(reseeding reads the table and converges to the seed set); if it recurs, the run's logs show which writes failed.",
    )


def authorization_result(modes: AuthorizationModes) -> dg.AssetCheckResult:
    metadata = {
        "default_mode": modes.client_default,
        "appsync_authentication_type": modes.default or "none",
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
