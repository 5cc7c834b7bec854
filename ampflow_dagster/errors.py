"""Errors a user can cause, each with a stable code, what happened and what to do now.

Every error ampflow raises for a person to act on is an `AmpflowError`: its `code` is
stable (shown by the CLI and in a failed step's metadata, safe to search for), `message`
says what happened, `resolution` what to do, and the exception that caused it is kept
as `__cause__` (raise it `from` the original error, never `from None`).
"""

from __future__ import annotations

from typing import Any


class AmpflowError(Exception):
    """An error the user can fix: `message` says what happened, `resolution` what to do."""

    code = "AmpflowError"  # each class names its own; an instance may narrow it with `code=`

    def __init__(
        self, message: str, resolution: str = "", details: dict[str, str] | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.resolution = resolution
        self.details = details or {}  # extra facts for a person, e.g. a stack's failure events as markdown
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        if self.resolution:
            return f"{self.message}\nResolution: {self.resolution}"
        return self.message

    @property
    def cause_text(self) -> str | None:
        """The error this one was raised from, in a line (`KeyError: 'id'`), if any."""
        cause = self.__cause__
        if cause is None:
            return None
        text = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


class ConfigurationError(AmpflowError):
    """ampflow.toml or the environment it describes is wrong."""

    code = "ConfigurationError"


class SynthesisError(AmpflowError):
    """Amplify's synthesis of amplify/ failed or produced something unusable."""

    code = "SynthesisError"


class DeploymentError(AmpflowError):
    """A deploy target could not reach the desired state."""

    code = "DeploymentError"


class VerificationError(AmpflowError):
    """Live tables do not match what the backend declares."""

    code = "VerificationError"


class SeedError(AmpflowError):
    """A seed file or item is invalid, or could not be written."""

    code = "SeedError"


class DestroyRefused(ConfigurationError):
    """`destroy` asked of an environment ampflow never tears down: protected, or not a sandbox."""

    code = "DestroyRefused"

    def __init__(self, environment: str, why: str) -> None:
        super().__init__(
            f"Refusing to destroy environment '{environment}': {why}.",
            "ampflow only tears down unprotected sandbox environments (ampx sandbox delete). Remove a branch backend "
            "in the Amplify console; empty a local one with `ampflow clean` or rebuild it with `ampflow force`; for a "
            "protected sandbox, set protected = false in ampflow.toml first if you really mean it.",
        )

    @classmethod
    def check(cls, environment: Any) -> None:
        """Raise unless `environment` (an ampflow.toml environment) is an unprotected sandbox."""
        if environment.protected:
            raise cls(environment.name, "it is protected")
        if environment.target != "sandbox":
            raise cls(environment.name, f"its target is {environment.target}, not sandbox")
