"""Which Amplify backend a synthesis is for: the CDK context keys `ampx` passes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


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
        """amplify-<namespace>-<name>-<type>-<hash>, as Amplify names the root stack."""
        digest = hashlib.sha512(f"{self.namespace}{self.name}".encode()).hexdigest()[:10]
        parts = [_alphanumeric(self.namespace), _alphanumeric(self.name), self.type, digest]
        return "-".join(["amplify", *parts])

    def slug(self) -> str:
        return f"{_alphanumeric(self.namespace)}-{_alphanumeric(self.name)}-{self.type}"


def _alphanumeric(value: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]", "", value)
