"""The one gate every write and delete passes: a run only touches its own environment.

A table belongs to an environment when its name carries that environment's API id;
an item belongs to it when its label field carries the environment's prefix (a model with
no field safe to carry a prefix has none: ampflow's record of what it wrote decides). A
development run therefore cannot write to, or delete from, a production table, even
when both live in one account or one emulator.
"""

from __future__ import annotations

from typing import Any

from ampflow_dagster.environments import Environment
from ampflow_dagster.errors import AmpflowError
from ampflow_dagster.tables.names import belongs_to_api, belongs_to_api_as_app_table, local_user_pool_name


def carries_prefix(item: dict[str, Any], label_field: str, prefix: str) -> bool:
    """Whether `item`'s label field carries `prefix`: the one test of "this item is labeled as the environment's"."""
    label = item.get(label_field)
    return isinstance(label, str) and label.startswith(prefix)


def unlabeled(item: dict[str, Any], label_field: str) -> bool:
    """Whether `item` leaves its (optional) label field empty: stored as given, ampflow's only by its record."""
    return item.get(label_field) is None


class IsolationError(AmpflowError):
    """A write or delete aimed outside the run's environment."""


class EnvironmentGate:
    def __init__(self, environment: Environment, api_id: str) -> None:
        self.environment = environment
        self.api_id = api_id

    def table(self, table: str) -> str:
        """`table`, if it is one of this environment's tables; raises otherwise."""
        return self._own(table, belongs_to_api(table, self.api_id), "change")

    def app_table(self, table: str) -> str:
        """`table`, if it is this environment's copy of a table of the app's own stack; raises otherwise."""
        return self._own(table, belongs_to_api_as_app_table(table, self.api_id), "create")

    def _own(self, table: str, owned: bool, verb: str) -> str:
        if not owned:
            raise IsolationError(
                f"Refusing to {verb} {table}: it is not a table of environment '{self.environment.name}' "
                f"(API id {self.api_id}).",
                "Each environment only changes its own tables; check the environment and target in ampflow.toml.",
            )
        return table

    def item(self, table: str, item: dict[str, Any], label_field: str | None, prefix: str | None = None) -> dict[str, Any]:
        """`item`, if it carries this environment's prefix on its label field (if the model has one); raises otherwise.

        `prefix` is the one the environment's own record says its items were written with, when that has changed since.
        An item that leaves its optional label field empty carries no label at all: seeded as given, it is
        ampflow's only where its record names it, which the caller has checked. A label without the prefix is
        never this environment's.
        """
        self.table(table)
        if label_field is None or unlabeled(item, label_field):
            return item
        prefix = prefix or self.environment.prefix
        label = item.get(label_field)
        if not carries_prefix(item, label_field, prefix):
            raise IsolationError(
                f"Refusing to write or delete an item in {table} whose {label_field} ({label!r}) does not carry "
                f"environment '{self.environment.name}''s prefix {prefix}.",
                "Only this environment's seed items are ever written or deleted by ampflow.",
            )
        return item

    def user_pool(self, pool: Any) -> Any:
        """`pool` (a UserPoolRef), if this environment's target found or built it; raises otherwise."""
        if pool.environment != self.environment.name or pool.name not in ("", local_user_pool_name(self.api_id)):
            raise IsolationError(
                f"Refusing to change users in user pool {pool.pool_id}: it is environment '{pool.environment}''s pool, "
                f"not '{self.environment.name}''s.",
                "Each environment only changes its own users; check the environment and target in ampflow.toml.",
            )
        return pool
