"""Errors a user can cause, each with a stable code, what happened and what to do now.

Every error ampflow raises for a person to act on is an `AmpflowError`: its `code` is
stable (shown by the CLI and in a failed step's metadata, safe to search for), `message`
says what happened, `resolution` what to do, and the exception that caused it is kept
as `__cause__` (raise it `from` the original error, never `from None`).
"""

from __future__ import annotations

from typing import Any, Sequence


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


class NotDeployed(DeploymentError):
    """The environment's backend has never been deployed: its stack does not exist, or has no data API id yet.

    A fact read from AWS, never a guess: a target raises it only after AWS answered that the stack is
    missing (`DeployTarget.deployed_api_id` returned None). Any failure to read the stack is its own error.
    """

    code = "NotDeployed"


class VerificationError(AmpflowError):
    """Live tables do not match what the backend declares."""

    code = "VerificationError"


class SeedError(AmpflowError):
    """A seed file or item is invalid, or could not be written."""

    code = "SeedError"


class AwsError(AmpflowError):
    """AWS, or the endpoint playing it, could not be used: credentials, permissions, network, throttling.

    Never a DeploymentError, so no `except DeploymentError` ("not deployed yet") can mistake it for one;
    `aws_errors.FAILURES` gives each instance its own code (MissingCredentials, AccessDenied, ...).
    """

    code = "AwsError"


class TableNotSettled(DeploymentError):
    """DynamoDB had not finished deleting a table, or making one ACTIVE, in the time ampflow waits."""

    code = "TableNotSettled"

    def __init__(self, table: str, seconds: float, *, deleting: bool, environment: str | None = None) -> None:
        self.table, self.seconds, self.deleting, self.environment = table, seconds, deleting, environment
        deploy = f"ampflow deploy {environment}" if environment else "ampflow deploy <environment>"
        state, goal = ("still being deleted", f"no longer lists {table}") if deleting else ("not ACTIVE", f"reports {table} ACTIVE")
        super().__init__(
            f"Table {table}{f' of environment {environment!r}' if environment else ''} is {state} after {seconds:.0f} s; "
            "ampflow stopped before changing anything after it.",
            f"Wait until DynamoDB {goal} (`aws dynamodb describe-table --table-name {table}`, at the environment's "
            f"endpoint), then run `{deploy}` again: the plan picks up from what is there.",
        )

    def in_environment(self, environment: str) -> TableNotSettled:
        return TableNotSettled(self.table, self.seconds, deleting=self.deleting, environment=environment)


class DestructiveChangeRefused(DeploymentError):
    """A deployment would lose items in a protected environment, and `allow_destructive` was not given."""

    code = "DestructiveChangeRefused"

    def __init__(self, environment: str, losing: Sequence[Any]) -> None:
        self.environment, self.losing = environment, list(losing)
        super().__init__(
            f"Refusing to change protected environment '{environment}'; these tables hold items and would lose "
            f"them:\n{self.listed()}",
            f"Keep the key schema (and, in a sandbox, the indexes) unchanged, or, if you mean it, run `ampflow deploy "
            f"{environment} --allow-destructive` (run config `allow_destructive: true` in the Dagster UI); an on-demand "
            "backup of each table is taken first.",
        )

    def listed(self) -> str:
        return "\n".join(f"  {c.action} {c.table} ({c.items} items): {c.details}" for c in self.losing)


class AutomationRefusedDestructiveChange(DestructiveChangeRefused):
    """The sensor or the schedule would lose items: automation never does that, in any environment."""

    code = "AutomationRefusedDestructiveChange"

    def __init__(self, environment: str, losing: Sequence[Any]) -> None:
        self.environment, self.losing = environment, list(losing)
        AmpflowError.__init__(
            self,
            f"Automation refuses a destructive change to environment '{environment}'; these tables hold items and "
            f"would lose them:\n{self.listed()}",
            f"Review the plan (`ampflow plan {environment}`), then deploy by hand (`ampflow deploy {environment}`); "
            "ampflow backs the tables up first.",
        )


class PinnedJobRefused(ConfigurationError):
    """A job named for one environment (amplify_dev, amplify_prod) was launched for another partition."""

    code = "PinnedJobRefused"

    def __init__(self, job: str, pinned: str, chosen: str, jobs_for_chosen: Sequence[str] = ()) -> None:
        from ampflow_dagster.names import DEPLOY_JOB, SEED_JOB

        jobs = " or ".join([*jobs_for_chosen, DEPLOY_JOB, SEED_JOB])
        super().__init__(
            f"Job {job} runs environment '{pinned}' only, but partition '{chosen}' was chosen. Nothing was changed.",
            f"Launch {job} with partition '{pinned}', or, for '{chosen}', run `ampflow deploy {chosen}` or "
            f"`ampflow seed {chosen}` (in the Dagster UI: {jobs} with partition '{chosen}').",
        )


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
        """Raise unless `environment` is an unprotected sandbox, or a branch's preview."""
        if environment.protected:
            raise cls(environment.name, "it is protected")
        if environment.target != "sandbox" and getattr(environment, "preview", None) is None:
            raise cls(environment.name, f"its target is {environment.target}, not sandbox")
