"""How a live table differs from its declaration: the one comparison deployment, planning and verification use."""

from __future__ import annotations

from dataclasses import dataclass

from ampflow_dagster.synthesis.desired_state import IndexSpec, TableSpec

STREAM = "stream"
POINT_IN_TIME_RECOVERY = "point-in-time recovery"
BILLING = "billing"
DELETION_PROTECTION = "deletion protection"

# The settings DynamoDB changes in place, keeping the items, and the TableSpec field that holds each.
SETTINGS = {
    STREAM: "stream_view_type",
    POINT_IN_TIME_RECOVERY: "point_in_time_recovery",
    BILLING: "billing_mode",
    DELETION_PROTECTION: "deletion_protection",
}

Setting = str | bool | None  # a stream view type (None: off), a billing mode, or a flag


def setting_text(value: Setting) -> str:
    """A setting's value as a person reads it: on/off for flags and for a stream that is off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return value or "off"


def table_settings(spec: TableSpec) -> dict[str, str]:
    """Each setting of `spec` as text, in SETTINGS order: what a person compares in the UI."""
    return {setting: setting_text(getattr(spec, field)) for setting, field in SETTINGS.items()}


@dataclass(frozen=True)
class SettingDifference:
    """One setting that differs: its name (a key of SETTINGS), the live value and the declared one."""

    setting: str
    live: Setting
    desired: Setting

    def text(self) -> str:
        return f"{self.setting} {setting_text(self.live)} should be {setting_text(self.desired)}"


@dataclass(frozen=True)
class TableDifferences:
    """How a live table differs from the desired one, split by what fixing it costs."""

    key_schema: list[str]  # only a new table fixes these: Amplify replaces the table
    indexes_to_add: list[IndexSpec]
    indexes_to_remove: list[str]
    settings: list[SettingDifference]  # updated in place
    replace_table_upon_gsi_update: bool = False  # as amplify/ declares it for this table

    @property
    def empty(self) -> bool:
        return not (self.key_schema or self.indexes_to_add or self.indexes_to_remove or self.settings)

    def describe(self) -> list[str]:
        """What differs, one text each: what verification reports and drift counts."""
        return [
            *self.key_schema,
            *(f"index {index.name} missing" for index in self.indexes_to_add),
            *(f"index {name} not declared" for name in self.indexes_to_remove),
            *self.setting_texts(),
        ]

    def setting_texts(self) -> list[str]:
        return [difference.text() for difference in self.settings]

    def index_changes(self) -> list[str]:
        """What a deployment does to the indexes, one text each."""
        added = [f"add index {index.name}" for index in self.indexes_to_add]
        return added + [f"remove index {name}" for name in self.indexes_to_remove]

    def replacement(self, replaces_on_index_change: bool) -> str:
        """Why deploying these differences replaces the table and loses its items; "" when it is updated in place.

        Any key-schema change replaces the table; an index change does too where the target
        replaces on index changes (a sandbox) and amplify/ lets it (replaceTableUponGsiUpdate).
        """
        if self.key_schema:
            return "; ".join(self.key_schema)
        if self.index_changes() and replaces_on_index_change and self.replace_table_upon_gsi_update:
            return "; ".join(self.index_changes()) + " (Amplify replaces the table)"
        return ""

    def in_place_changes(self) -> list[str]:
        """What an in-place update does (the indexes, then the settings); empty when there is nothing to update."""
        return [*self.index_changes(), *self.setting_texts()]


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
    settings = [
        SettingDifference(setting, getattr(live, field), getattr(desired, field))
        for setting, field in SETTINGS.items()
        if getattr(live, field) != getattr(desired, field)
    ]
    return TableDifferences(
        key_schema=key_schema, indexes_to_add=to_add, indexes_to_remove=to_remove, settings=settings,
        replace_table_upon_gsi_update=desired.replace_table_upon_gsi_update,
    )
