"""The `sandbox` target: a developer's cloud stack, deployed with `ampx sandbox --once` and torn down with `ampx sandbox delete`."""

from __future__ import annotations

from ampflow_dagster.aws_errors import AMPX_FALLBACK, ampx_error
from ampflow_dagster.errors import DestroyRefused
from ampflow_dagster.processes import run_streamed
from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.targets.ampx import AmpxTarget
from ampflow_dagster.targets.base import Log


class SandboxTarget(AmpxTarget):
    kind = "sandbox"
    replaces_on_index_change = True

    @property
    def identifier(self) -> str:
        return self.environment.sandbox_identifier or self.environment.name

    def backend_identifier(self, namespace: str) -> BackendIdentifier:
        return BackendIdentifier(namespace=namespace, name=self.identifier, type="sandbox")

    def deploy_command(self) -> list[str]:
        out = self.project.client_dir(self.environment.name)
        out.mkdir(parents=True, exist_ok=True)
        return ["npx", "ampx", "sandbox", "--once", "--identifier", self.identifier, "--outputs-out-dir", str(out)]

    def destroy(self, log: Log) -> None:
        DestroyRefused.check(self.environment)
        command = ["npx", "ampx", "sandbox", "delete", "--yes", "--identifier", self.identifier]
        log(f"Running {' '.join(command)}")
        finished = run_streamed(command, self.project.root, self.command_environment(), log)
        if finished.returncode != 0:
            said = ampx_error(finished.output)
            raise self._ampx_failure(
                said.row if said else AMPX_FALLBACK, f"Deleting sandbox '{self.identifier}'",
                f"`ampx sandbox delete` failed for environment '{self.environment.name}' (exit {finished.returncode}); "
                f"stack {self.stack_name()} may still exist"
                + (f": ampx reported {said.describe()}" if said else "; ampx printed no error of its own") + ".",
                command=f"ampflow destroy {self.environment.name} --yes",
            )
