"""Errors a user can cause, each with what happened and what to do now."""

from __future__ import annotations


class AmpflowError(Exception):
    """An error the user can fix: `message` says what happened, `resolution` what to do."""

    def __init__(self, message: str, resolution: str = "", details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.resolution = resolution
        self.details = details or {}  # extra facts for a person, e.g. a stack's failure events as markdown

    def __str__(self) -> str:
        if self.resolution:
            return f"{self.message}\nResolution: {self.resolution}"
        return self.message


class ConfigurationError(AmpflowError):
    """ampflow.toml or the environment it describes is wrong."""


class SynthesisError(AmpflowError):
    """Amplify's synthesis of amplify/ failed or produced something unusable."""


class DeploymentError(AmpflowError):
    """A deploy target could not reach the desired state."""


class VerificationError(AmpflowError):
    """Live tables do not match what the backend declares."""


class SeedError(AmpflowError):
    """A seed file or item is invalid, or could not be written."""
