"""How seed items are keyed: the value of a key attribute (composite ones included) and a key's 64-bit hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ampflow_dagster.seeding.model_schema import ModelSchema, Reference
from ampflow_dagster.synthesis.desired_state import TableSpec

Key = tuple[Any, ...]


def attribute_value(attribute: str, values: dict[str, Any]) -> Any:
    """What Amplify stores under a key attribute: the field, or for a composite `a#b` the string "<a>#<b>"; None if a part is missing."""
    names = attribute.split("#")
    if any(values.get(name) is None for name in names):
        return None
    return values[attribute] if len(names) == 1 else "#".join(str(values[name]) for name in names)


def given_key(spec: TableSpec, values: dict[str, Any]) -> Key | None:
    """The table key `values` name, if they name every part of it."""
    key = tuple(attribute_value(attribute, values) for attribute in spec.key_attributes)
    return None if any(part is None for part in key) else key


def key_hash(key: Key) -> int:
    """64 bits per key: a million keys fit in a few tens of megabytes; equal hashes are confirmed on the keys."""
    text = "\x1f".join(_key_text_part(value) for value in key)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _key_text_part(value: Any) -> str:
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return "n:" + str(Decimal(value).normalize())
    return "s:" + str(value)


@dataclass(frozen=True)
class ParentKey:
    """The key of a relationship's parent model, to read off a child's reference fields."""

    schema: ModelSchema
    table: TableSpec

    def key_named_by(self, reference: Reference, values: dict[str, Any]) -> Key | None:
        """The parent's table key that the child's `values` name through `reference`; None if a reference field is unset.

        A reference lists its fields in the order of the parent's key fields, so a composite
        parent key (several targetNames) is compared on all of its parts.
        """
        if len(reference.fields) != len(self.schema.key_fields):
            return None
        parent_values = {key_field: values.get(name) for key_field, name in zip(self.schema.key_fields, reference.fields)}
        return given_key(self.table, parent_values)
