"""Field defaults (`a.string().default('draft')`) as the synthesized model schema declares them.

The model introspection schema leaves them out. Amplify writes each one into the data API's
model schema asset (`model-schema.graphql`) as `@default(value: "<text>")`, and its data
transformer makes the create resolver fill the field from that text. The text is kept as it
is here; seeding types it by the field's type (`ampflow_dagster.seeding.model_schema`).
"""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLError, parse
from graphql.language import ObjectTypeDefinitionNode, StringValueNode

from ampflow_dagster.errors import SynthesisError


def field_defaults(model_schema: str, where: Path | str = "model-schema.graphql") -> dict[str, dict[str, str]]:
    """Model -> field -> the text of its `@default(value: ...)`, for every field of a `@model` type that has one.

    A `@default` without a value (a generated SQL column) fills nothing in DynamoDB and is left out.
    """
    try:
        document = parse(model_schema, no_location=True)
    except GraphQLError as error:
        raise SynthesisError(
            f"The synthesized model schema {where} does not parse as GraphQL: {error.message}",
            "Synthesize again (ampflow force ENV); if it persists, report the app's @aws-amplify/backend version.",
        ) from error
    defaults: dict[str, dict[str, str]] = {}
    for definition in document.definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode):
            continue
        if not any(directive.name.value == "model" for directive in definition.directives or ()):
            continue
        for field_node in definition.fields or ():
            for directive in field_node.directives or ():
                if directive.name.value != "default":
                    continue
                for argument in directive.arguments or ():
                    if argument.name.value == "value" and isinstance(argument.value, StringValueNode):
                        defaults.setdefault(definition.name.value, {})[field_node.name.value] = argument.value.value
    return defaults
