"""How a live table differs from its declaration: the one comparison deployment, planning and verification use."""

from __future__ import annotations

from dataclasses import dataclass

from ampflow_dagster.synthesis.desired_state import IndexSpec, TableSpec


@dataclass(frozen=True)
class TableDifferences:
    """How a live table differs from the desired one, split by what fixing it costs."""

    key_schema: list[str]  # only a new table fixes these: Amplify replaces the table
    indexes_to_add: list[IndexSpec]
    indexes_to_remove: list[str]
    settings: list[str]  # stream, PITR, billing, deletion protection: updated in place

    @property
    def empty(self) -> bool:
        return not (self.key_schema or self.indexes_to_add or self.indexes_to_remove or self.settings)

    def describe(self) -> list[str]:
        return [
            *self.key_schema,
            *(f"index {index.name} missing" for index in self.indexes_to_add),
            *(f"index {name} not declared" for name in self.indexes_to_remove),
            *self.settings,
        ]


def table_differences(desired: TableSpec, live: TableSpec) -> TableDifferences:
    key_schema = []
    if (desired.hash_key, desired.range_key) != (live.hash_key, live.range_key):
        key_schema.append(f"key {live.key_schema_text()} should be {desired.key_schema_text()}")
    for attribute in desired.key_attributes:
        wanted, found = desired.attribute_types.get(attribute), live.attribute_types.get(attribute)
        if found is not None and wanted != found:
            key_schema.append(f"key attribute {attribute} is type {found}, should be {wanted}")
    live_indexes = {index.name: index for index in live.indexes}
    desired_indexes = {index.name: index for index in desired.indexes}
    to_add = [index for name, index in desired_indexes.items() if live_indexes.get(name) != index]
    to_remove = [name for name, index in live_indexes.items() if desired_indexes.get(name) != index]
    settings = []
    if desired.stream_view_type != live.stream_view_type:
        settings.append(f"stream {live.stream_view_type or 'off'} should be {desired.stream_view_type or 'off'}")
    if desired.point_in_time_recovery != live.point_in_time_recovery:
        settings.append(f"point-in-time recovery {_on(live.point_in_time_recovery)} should be {_on(desired.point_in_time_recovery)}")
    if desired.billing_mode != live.billing_mode:
        settings.append(f"billing {live.billing_mode} should be {desired.billing_mode}")
    if desired.deletion_protection != live.deletion_protection:
        settings.append(f"deletion protection {_on(live.deletion_protection)} should be {_on(desired.deletion_protection)}")
    return TableDifferences(key_schema=key_schema, indexes_to_add=to_add, indexes_to_remove=to_remove, settings=settings)


def _on(flag: bool) -> str:
    return "on" if flag else "off"
