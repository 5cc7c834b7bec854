"""Which Amplify backend a synthesis is for (the CDK context keys `ampx` passes), and its root stack's name.

!!! A NAMING RULE THAT MUST MATCH AMPLIFY'S: users' data depends on it. !!!
`stack_name` is a port of `BackendIdentifierConversions.toStackName` in Amplify's
`@aws-amplify/platform-core` (backend_identifier_conversions.ts), which names the stack
holding an environment's tables. A name that differs by one character reads a stack that
does not exist: the environment then looks never deployed. Change nothing here unless
Amplify changed its rule, and then keep tests/test_synthesis.py comparing this with
Amplify's own function. Where a synthesis exists, its root stack name (Amplify's own
computation) is used instead (`DeployTarget.stack_name`); this port is for the rest.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

STACK_NAME_LENGTH_LIMIT = 128  # CloudFormation's limit for a stack name
AMPLIFY_PREFIX = "amplify"
HASH_LENGTH = 10
NUM_DASHES = 4
NAME_LENGTH_LIMIT = 50  # Amplify keeps room for the namespace by cutting the name here


@dataclass(frozen=True)
class BackendIdentifier:
    namespace: str
    name: str
    type: str  # "sandbox" or "branch"

    def cdk_context(self) -> dict[str, str]:
        return {
            "amplify-backend-namespace": self.namespace,
            "amplify-backend-name": self.name,
            "amplify-backend-type": self.type,
        }

    def stack_name(self) -> str:
        """amplify-<namespace>-<name>-<type>-<hash>, exactly as Amplify names the root stack.

        The hash is over the namespace and name as given; the name is cut to 50 characters and the
        namespace to what is left of 128 (less one, as Amplify counts), after non-alphanumerics are removed.
        """
        digest = hashlib.sha512(f"{self.namespace}{self.name}".encode()).hexdigest()[:HASH_LENGTH]
        name = _alphanumeric(self.name)[:NAME_LENGTH_LIMIT]
        namespace_max = STACK_NAME_LENGTH_LIMIT - len(AMPLIFY_PREFIX) - len(self.type) - len(name) - NUM_DASHES - HASH_LENGTH
        namespace = _alphanumeric(self.namespace)[: namespace_max - 1]
        return "-".join([AMPLIFY_PREFIX, namespace, name, self.type, digest])

    def slug(self) -> str:
        """A folder name for this backend's cached syntheses (not a name Amplify uses)."""
        return f"{_alphanumeric(self.namespace)}-{_alphanumeric(self.name)}-{self.type}"


def _alphanumeric(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", value)
