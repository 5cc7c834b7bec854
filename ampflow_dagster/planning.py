"""Plan before apply: what a deployment would do to each table, and which of that loses data.

The same plan is made for every target by comparing the synthesized tables with the
live ones. Amplify replaces a table (and loses its items) on any key-schema change, and
in a sandbox on any secondary-index change; a table the schema no longer declares is
deleted. Those changes are only applied after a backup, and never by automation or in a
protected environment without an explicit `allow_destructive`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ampflow_dagster.environments import Environment
from ampflow_dagster.aws_errors import AwsPlace, aws_error
from ampflow_dagster.errors import AutomationRefusedDestructiveChange, DestructiveChangeRefused
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.tables.differences import TableDifferences, table_differences
from ampflow_dagster.tables.live import LiveTable

DESTRUCTIVE = ("replace", "delete", "recreate")


@dataclass(frozen=True)
class PlannedChange:
    model: str
    table: str
    action: str  # create, update, replace, recreate, delete, none
    details: str = ""
    items: int = 0  # items the table holds now (0 when it does not exist)
    differences: TableDifferences | None = None  # what an update changes in place, as planned

    @property
    def loses_items(self) -> bool:
        return self.action in DESTRUCTIVE and self.items > 0


def plan_table_changes(
    desired: DesiredBackend,
    live: dict[str, LiveTable | None],
    table_names: dict[str, str],
    undeclared: dict[str, LiveTable],
    *,
    replaces_on_index_change: bool,
    recreate_all: bool = False,
) -> list[PlannedChange]:
    """Each desired table's change, then a delete for each live table of the API the schema dropped."""
    plan = []
    for model, spec in sorted(desired.tables.items()):
        table, name = live.get(model), table_names[model]
        if table is None:
            plan.append(PlannedChange(model, name, "create", "new table"))
            continue
        if recreate_all:
            plan.append(PlannedChange(model, name, "recreate", "forced clean deployment", table.item_count))
            continue
        differences = table_differences(spec, table.spec)
        replacement = differences.replacement(replaces_on_index_change)
        if replacement:
            plan.append(PlannedChange(model, name, "replace", replacement, table.item_count))
        elif not differences.empty:
            changes = "; ".join(differences.in_place_changes())
            plan.append(PlannedChange(model, name, "update", changes, table.item_count, differences))
        else:
            plan.append(PlannedChange(model, name, "none", "", table.item_count))
    for name, table in sorted(undeclared.items()):
        plan.append(PlannedChange(table.spec.model, name, "delete", "no longer in the schema", table.item_count))
    return plan


def plan_markdown(plan: list[PlannedChange]) -> str:
    rows = [f"| {c.model} | `{c.table}` | {c.action} | {c.items} | {c.details} |" for c in plan]
    return "| model | table | action | items | details |\n|---|---|---|---|---|\n" + "\n".join(rows)


def plan_text(plan: list[PlannedChange]) -> str:
    return "\n".join(f"  {c.action:<8} {c.table} ({c.items} items){': ' + c.details if c.details else ''}" for c in plan)


def guard_destructive_changes(
    plan: list[PlannedChange], environment: Environment, *, allow_destructive: bool, automated: bool
) -> list[PlannedChange]:
    """The changes that lose items, once allowed; raises where they are not."""
    losing = [change for change in plan if change.loses_items]
    if not losing:
        return []
    if automated:
        raise AutomationRefusedDestructiveChange(environment.name, losing)
    if environment.protected and not allow_destructive:
        raise DestructiveChangeRefused(environment.name, losing)
    return losing


def back_up_tables(client: Any, changes: list[PlannedChange], environment: Environment, place: AwsPlace) -> dict[str, str]:
    """An on-demand DynamoDB backup of each table about to lose items: table -> backup ARN. Raises if one fails."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    backups = {}
    for change in changes:
        name = f"ampflow-{environment.name}-{change.model}-{stamp}"[:255]
        try:
            response = client.create_backup(TableName=change.table, BackupName=name)
        except (ClientError, BotoCoreError) as error:
            raise aws_error(
                error, place, doing=f"Backing up {change.table} before it is {change.action}d (nothing was changed)",
                command=f"ampflow deploy {environment.name}", resource=f"Table {change.table}",
            ) from error
        backups[change.table] = response["BackupDetails"]["BackupArn"]
    return backups
