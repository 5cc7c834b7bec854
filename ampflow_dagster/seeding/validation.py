"""Check a seed record against its model, the way AppSync would check a mutation's input."""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import urlparse

from ampflow_dagster.seeding.model_schema import OWNER_RULE, FieldSpec, ModelSchema
from ampflow_dagster.seeding.user_references import as_stored_shape

INT32 = (-(2**31), 2**31 - 1)
DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2}(:\d{2})?)?$")
TIME = re.compile(r"^(\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)(Z|[+-]\d{2}:\d{2}(:\d{2})?)?$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)$")
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-().]*[0-9]$")
SUB_USERNAME = re.compile(r"^[^:\s]+::[^:\s]+$")


def field_errors(schema: ModelSchema, values: dict[str, Any]) -> list[str]:
    """Every problem with one record: unknown fields, missing required fields, wrong types."""
    errors = []
    fields = schema.fields
    for name in values:
        spec = fields.get(name)
        if spec is None and name not in schema.auth_fields:
            errors.append(f"field '{name}' is not a field of {schema.name} (fields: {', '.join(schema.seedable_fields())})")
        elif spec is not None and spec.model is not None:
            errors.append(f"field '{name}' is a relationship to {spec.model}; set its foreign key field instead")
    for name, spec in fields.items():
        if spec.model is not None:
            continue
        value = _checked_shape(schema, name, values.get(name))
        if value is None:
            if _must_be_given(schema, spec):
                errors.append(f"field '{name}' is required ({spec.describe_type()}!) but {'null' if name in values else 'missing'}")
            continue
        problems = _value_errors(schema, spec, value)
        if not problems and name in schema.auth_fields:
            problems = auth_value_errors(schema, name, value)
        errors.extend(f"field '{name}': {problem}" for problem in problems)
    for name in schema.undeclared_auth_fields:
        if values.get(name) is not None:
            value = _checked_shape(schema, name, values[name])
            errors.extend(f"field '{name}': {problem}" for problem in auth_value_errors(schema, name, value))
    return errors


def _checked_shape(schema: ModelSchema, name: str, value: Any) -> Any:
    """An owner field's `{"user": ...}` references are checked as the `<sub>::<username>` they become."""
    return as_stored_shape(value) if schema.stores_sub_username(name) else value


def auth_value_errors(schema: ModelSchema, name: str, value: Any) -> list[str]:
    """An owner or group field holds a string or a list of strings, as Amplify stores them; owners in its stored shape."""
    rule = "owner" if schema.auth_fields[name] == OWNER_RULE else "group"
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(element, str) for element in values):
        reference = ' or {"user": "<username>"} naming a user of users.jsonl' if schema.stores_sub_username(name) else ""
        return [f"expected a {rule} (a string{reference}) or a list of them, got {_shown(value)}"]
    if any(not element.strip() for element in values):
        return [f"an empty {rule} matches no user; give a value or leave the field out"]
    if schema.stores_sub_username(name):
        wrong = [element for element in values if not SUB_USERNAME.match(element)]
        if wrong:
            return [
                f"{_shown(wrong[0])} is not an owner as Amplify stores it with the default identity claim: "
                "'<sub>::<username>' (e.g. \"7d8f...::alice\"), or {\"user\": \"alice\"} for a user of users.jsonl; "
                "signed-in users see only items whose owner matches them"
            ]
    return []


def _must_be_given(schema: ModelSchema, spec: FieldSpec) -> bool:
    """Required fields and key fields must be in the seed; ampflow fills the `id` key, the timestamps and field defaults itself.

    A key is never filled in otherwise: ampflow derives only a default `id` partition key, and a
    timestamp in a key would give the item another key on every run. A field with a default may be
    left out or null, as Amplify's create input allows (its transformer makes such a field optional).
    """
    if spec.name in schema.defaults:
        return False
    if spec.name in schema.key_fields:
        return not (spec.name == "id" == schema.primary_key)
    if spec.name in ("id", "createdAt", "updatedAt"):
        return False
    return not spec.is_array_nullable if spec.is_array else spec.is_required


def _value_errors(schema: ModelSchema, spec: FieldSpec, value: Any) -> list[str]:
    if spec.is_array:
        if not isinstance(value, list):
            return [f"expected a list of {spec.describe_type()[1:-1]}, got {_shown(value)}"]
        problems = []
        for position, element in enumerate(value):
            if element is None:
                if spec.is_required:  # for lists, isRequired is about the elements
                    problems.append(f"element {position} is null")
                continue
            problems.extend(f"element {position}: {p}" for p in _single_value_errors(schema, spec, element))
        return problems
    return _single_value_errors(schema, spec, value)


def _single_value_errors(schema: ModelSchema, spec: FieldSpec, value: Any) -> list[str]:
    if spec.enum is not None:
        allowed = schema.enums.get(spec.enum, ())
        return [] if value in allowed else [f"{_shown(value)} is not a {spec.enum} (allowed: {', '.join(allowed)})"]
    if spec.custom_type is not None:
        if not isinstance(value, dict):
            return [f"expected a {spec.custom_type} object, got {_shown(value)}"]
        nested = ModelSchema(spec.custom_type, schema.custom_types.get(spec.custom_type, {}), "", (), schema.enums, schema.custom_types)
        return [problem.replace("field '", f"field '{spec.name}.", 1) for problem in field_errors(nested, value)]
    check = SCALARS.get(spec.scalar or "")
    if check is None:
        return []
    problem = check(value)
    return [problem] if problem else []


def _string(kind: str, valid: Callable[[str], bool], example: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"expected {kind} (a string such as {example}), got {_shown(value)}"
        return None if valid(value) else f"{_shown(value)} is not a valid {kind} (e.g. {example})"

    return check


def _valid_date(value: str) -> bool:
    match = DATE.match(value)
    return bool(match) and _parses(lambda: date.fromisoformat(match.group(1)))


def _valid_time(value: str) -> bool:
    match = TIME.match(value)
    return bool(match) and _parses(lambda: time.fromisoformat(match.group(1)))


def _valid_datetime(value: str) -> bool:
    if not DATETIME.match(value):
        return False
    head = re.sub(r"(\.\d{6})\d+", r"\1", value)  # Python keeps microseconds; AppSync allows nanoseconds
    return _parses(lambda: datetime.fromisoformat(head.replace("Z", "+00:00")))


def _valid_json(value: str) -> bool:
    return _parses(lambda: json.loads(value))


def _valid_url(value: str) -> bool:
    parsed = urlparse(value)
    return bool(parsed.scheme) and bool(parsed.netloc or parsed.path) and " " not in value and ":" in value


def _valid_phone(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return bool(PHONE.match(value)) and 7 <= len(digits) <= 15


def _valid_ip(value: str) -> bool:
    return _parses(lambda: ipaddress.ip_interface(value))


def _parses(parse: Callable[[], Any]) -> bool:
    try:
        parse()
    except ValueError:
        return False
    return True


def _int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected Int, got {_shown(value)}"
    return None if INT32[0] <= value <= INT32[1] else f"{value} is outside Int's 32-bit range"


def _float(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return f"expected Float, got {_shown(value)}"
    return None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"expected Boolean (true or false), got {_shown(value)}"


def _timestamp(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected AWSTimestamp (seconds since the epoch), got {_shown(value)}"
    return None


def _aws_json(value: Any) -> str | None:
    if isinstance(value, str):
        return None if _valid_json(value) else f"{_shown(value)} is not valid AWSJSON (a JSON value or a string holding JSON)"
    return None


def _plain_string(kind: str) -> Callable[[Any], str | None]:
    return lambda value: None if isinstance(value, str) else f"expected {kind}, got {_shown(value)}"


SCALARS: dict[str, Callable[[Any], str | None]] = {
    "ID": _plain_string("ID (a string)"),
    "String": _plain_string("String"),
    "Int": _int,
    "Float": _float,
    "Boolean": _boolean,
    "AWSDate": _string("AWSDate", _valid_date, "2025-03-31"),
    "AWSTime": _string("AWSTime", _valid_time, "14:30:00Z"),
    "AWSDateTime": _string("AWSDateTime", _valid_datetime, "2025-03-31T14:30:00.000Z"),
    "AWSTimestamp": _timestamp,
    "AWSEmail": _string("AWSEmail", lambda v: bool(EMAIL.match(v)), "ada@example.com"),
    "AWSJSON": _aws_json,
    "AWSURL": _string("AWSURL", _valid_url, "https://example.com/path"),
    "AWSPhone": _string("AWSPhone", _valid_phone, "+1 206-555-0100"),
    "AWSIPAddress": _string("AWSIPAddress", _valid_ip, "192.0.2.1"),
}


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
