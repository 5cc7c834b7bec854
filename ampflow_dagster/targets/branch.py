"""The `branch` target: an Amplify app's branch backend, deployed with `CI=1 ampx pipeline-deploy`."""

from __future__ import annotations

from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.targets.ampx import AmpxTarget


class BranchTarget(AmpxTarget):
    kind = "branch"

    def backend_identifier(self, namespace: str) -> BackendIdentifier:
        return BackendIdentifier(namespace=str(self.environment.app_id), name=str(self.environment.branch), type="branch")

    def deploy_command(self) -> list[str]:
        out = self.project.client_dir(self.environment.name)
        out.mkdir(parents=True, exist_ok=True)
        return ["npx", "ampx", "pipeline-deploy", "--branch", str(self.environment.branch),
                "--app-id", str(self.environment.app_id), "--outputs-out-dir", str(out)]

    def command_environment(self) -> dict[str, str]:
        return {**super().command_environment(), "CI": "1"}  # pipeline-deploy refuses to run without it
