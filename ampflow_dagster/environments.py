"""The one place that knows which environments exist and how each may be treated.

Environments are declared in ampflow.toml; with none declared, ampflow uses
`development` and `production`. Adding a table there adds a Dagster partition.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ampflow_dagster.errors import ConfigurationError
from ampflow_dagster.preview_config import PreviewSettings, preview_settings
from ampflow_dagster.preview_registry import Preview, registered_previews
from ampflow_dagster.project import Project

TARGETS = ("local", "sandbox", "branch")
ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,14}$")
SANDBOX_IDENTIFIER = re.compile(r"^[a-zA-Z0-9-]{1,15}$")

DEFAULT_ENVIRONMENTS: dict[str, dict[str, Any]] = {
    "development": {"prefix": "[DEV]", "target": "local", "automated_deploys": True, "protected": False},
    "production": {"prefix": "[PROD]", "target": "local", "automated_deploys": False, "protected": True},
}
ENVIRONMENT_KEYS = {
    "prefix", "target", "automated_deploys", "protected", "sandbox_identifier", "branch", "app_id", "region", "profile",
    "variables",
}
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A literal value under such a name is most likely a credential: it belongs in the process environment, not in git.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_?KEY", re.IGNORECASE)
PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{3,31}$")
MODEL_KEYS = {"label_field", "allow_external_references"}


@dataclass(frozen=True)
class SynthesisVariable:
    """A variable amplify/backend.ts reads from process.env: a literal, or taken from ampflow's own environment."""

    name: str
    value: str | None = None  # a literal from ampflow.toml
    from_env: str | None = None  # the name of a variable of ampflow's process environment

    def resolve(self) -> str | None:
        return self.value if self.from_env is None else os.environ.get(self.from_env)

    def source(self) -> str:
        return "ampflow.toml" if self.from_env is None else f"${self.from_env}"


@dataclass(frozen=True)
class Environment:
    name: str
    prefix: str
    target: str
    automated_deploys: bool
    protected: bool
    sandbox_identifier: str | None = None  # target "sandbox": `ampx sandbox --identifier`
    branch: str | None = None  # target "branch": `ampx pipeline-deploy --branch`
    app_id: str | None = None  # target "branch": `--app-id`
    region: str | None = None  # cloud targets; default: the standard AWS chain
    profile: str | None = None
    variables: tuple[SynthesisVariable, ...] = ()  # process.env of amplify/backend.ts when it is synthesized
    preview: Preview | None = None  # a branch's preview: built from that branch, never declared in ampflow.toml

    def synthesis_variables(self) -> dict[str, str]:
        """Each declared variable's value; a reference to a variable ampflow's environment lacks is an error naming it."""
        missing = [v for v in self.variables if v.resolve() is None]
        if missing:
            names = ", ".join(f"{v.name} (from ${v.from_env})" for v in missing)
            raise ConfigurationError(
                f"Environment '{self.name}' synthesizes amplify/ with {names}, but ${missing[0].from_env} is not set "
                "in ampflow's environment.",
                f"Set {', '.join(v.from_env or '' for v in missing)} in the environment of the process that runs ampflow "
                "(the shell for the CLI; `dagster dev`'s environment for the UI), then run again.",
            )
        return {variable.name: variable.resolve() or "" for variable in self.variables}

    @property
    def history_since(self) -> float | None:
        """A preview's records count from when it was added (those of an earlier preview of its branch do not)."""
        return self.preview.created if self.preview else None

    def label(self, value: str) -> str:
        """`value` as this environment's seed data shows it: `[DEV] value`."""
        return value if value.startswith(self.prefix) else f"{self.prefix} {value}"


@dataclass(frozen=True)
class ModelSettings:
    label_field: str | None = None
    allow_external_references: bool = False  # reference fields may name parents the app writes, not only seeded ones


@dataclass(frozen=True)
class ReconciliationSettings:
    """The schedule that reconciles one environment (production by default) with amplify/ and its seed data."""

    environment: str = "production"
    cron: str = "0 3 * * *"
    timezone: str = "UTC"


@dataclass(frozen=True)
class AmpflowConfig:
    environments: dict[str, Environment]
    models: dict[str, ModelSettings] = field(default_factory=dict)
    reconciliation: ReconciliationSettings = field(default_factory=ReconciliationSettings)
    source: Path | None = None
    owners: tuple[str, ...] = ()  # shown on every asset in the Dagster UI: emails or team:<name>
    project_id: str | None = None  # tells this app's local tables from another app's with the same package name
    emulator_idle_timeout: float | None = None  # [emulator] idle_timeout: seconds unused before the embedded emulator exits
    previews: PreviewSettings | None = None  # [previews]: which git branches get an environment of their own
    preview_environments: dict[str, Environment] = field(default_factory=dict)  # the previews that exist now

    def environment(self, name: str) -> Environment:
        if name in self.environments:
            return self.environments[name]
        if name in self.preview_environments:
            return self.preview_environments[name]
        known = ", ".join([*self.environments, *self.preview_environments])  # a user's mistake: no Python cause to show
        raise ConfigurationError(
            f"Unknown environment '{name}'. ampflow knows: {known}.",
            f"Use one of {known}, or declare [environments.{name}] in ampflow.toml"
            + (" (a preview exists while its branch does: `ampflow status` lists them)." if self.previews else "."),
        )

    @property
    def preview_settings(self) -> PreviewSettings:
        """[previews] as read; without it, settings that match no branch (recorded previews then go as gone ones)."""
        return self.previews or PreviewSettings(branches=())

    def every_environment(self) -> dict[str, Environment]:
        """The declared environments, then the previews."""
        return {**self.environments, **self.preview_environments}

    def model(self, name: str) -> ModelSettings:
        return self.models.get(name, ModelSettings())


OWNER_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OWNER_TEAM = re.compile(r"^team:[A-Za-z0-9_.-]+$")


def _toml_position(error: tomllib.TOMLDecodeError) -> str:
    """`at line 3 ` from tomllib's "(at line 3, column 7)", or nothing."""
    found = re.search(r"at line (\d+)", str(error))
    return f"at line {found.group(1)} " if found else ""


def load_config(project: Project) -> AmpflowConfig:
    path = project.config_file
    raw: dict[str, Any] = {}
    if path.is_file():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigurationError(
                f"{path} is not valid TOML: {error}.",
                f"Fix the TOML {_toml_position(error)}of {path} (https://toml.io), then run again.",
            ) from error
    unknown = set(raw) - {"environments", "models", "reconciliation", "owners", "project_id", "emulator", "previews"}
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown section(s) {', '.join(sorted(unknown))}.",
            "ampflow.toml takes project_id, owners = [...] and [environments.<name>], [models.<Model>], "
            "[reconciliation], [emulator] and [previews] tables.",
        )
    project_id = raw.get("project_id")
    if project_id is not None and (not isinstance(project_id, str) or not PROJECT_ID.match(project_id)):
        raise ConfigurationError(
            f"{path}: project_id {project_id!r} is not 4 to 32 lowercase letters, digits or hyphens.",
            "Keep the project_id `ampflow init` wrote (changing it gives the local environments new, empty tables).",
        )
    declared = raw.get("environments") or DEFAULT_ENVIRONMENTS
    environments = {name: _environment(path, name, values) for name, values in declared.items()}
    _check_prefixes_distinct(path, environments)
    models = {name: _model(path, name, values) for name, values in raw.get("models", {}).items()}
    reconciliation = _reconciliation(path, raw.get("reconciliation", {}), environments)
    owners = _owners(path, raw.get("owners", []))
    home = Project(path.parent)  # a preview's project reads the app's ampflow.toml and seed folders, not its branch's
    previews = preview_settings(path, raw["previews"], list(environments), home.seed_dir) if "previews" in raw else None
    return AmpflowConfig(
        environments=environments, models=models, reconciliation=reconciliation, source=path, owners=owners,
        project_id=project_id, emulator_idle_timeout=_emulator_idle_timeout(path, raw.get("emulator", {})),
        previews=previews, preview_environments=_preview_environments(home, previews, environments),
    )


def _preview_environments(home: Project, settings: PreviewSettings | None, declared: dict[str, Environment]) -> dict[str, Environment]:
    """The previews the branch sensor recorded, as environments: unprotected, named and prefixed after their branch.

    Without [previews] any more, recorded previews stay environments (their backends exist) until the branch
    sensor has torn them down, as it does a preview whose branch is gone.
    """
    settings = settings or PreviewSettings(branches=())
    return {
        name: Environment(
            name=name, prefix=settings.prefix_for(preview.branch), target=settings.target, automated_deploys=True,
            protected=False, sandbox_identifier=name if settings.target == "sandbox" else None, preview=preview,
        )
        for name, preview in registered_previews(home.state_dir).items()
        if name not in declared  # a declared environment is never a preview
    }


def _emulator_idle_timeout(path: Path, values: Any) -> float | None:
    """[emulator] idle_timeout: seconds the embedded emulator may go unused before it exits (0: never)."""
    where = f"{path} [emulator]"
    if not isinstance(values, dict) or set(values) - {"idle_timeout"}:
        extra = ", ".join(sorted(set(values) - {"idle_timeout"})) if isinstance(values, dict) else "a non-table value"
        raise ConfigurationError(f"{where}: only idle_timeout can be set.", f"Remove {extra} from {where}.")
    value = values.get("idle_timeout")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ConfigurationError(
            f"{where}: idle_timeout {value!r} is not a number of seconds.",
            "Write e.g. idle_timeout = 3600 (seconds unused before the embedded emulator exits; 0 keeps it running).",
        )
    return float(value)


def _owners(path: Path, values: Any) -> tuple[str, ...]:
    """Dagster accepts an email address or team:<name> as an asset owner."""
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ConfigurationError(f"{path}: owners must be a list of strings.", 'Write owners = ["team:platform", "you@example.com"].')
    wrong = [value for value in values if not (OWNER_EMAIL.match(value) or OWNER_TEAM.match(value))]
    if wrong:
        raise ConfigurationError(
            f"{path}: owner(s) {', '.join(repr(value) for value in wrong)} are neither an email address nor team:<name>.",
            'Write owners = ["team:platform", "you@example.com"].',
        )
    return tuple(values)


def _reconciliation(path: Path, values: Any, environments: dict[str, Environment]) -> ReconciliationSettings:
    where = f"{path} [reconciliation]"
    known = {"environment", "cron", "timezone"}
    if not isinstance(values, dict) or set(values) - known:
        extra = ", ".join(sorted(set(values) - known)) if isinstance(values, dict) else "a non-table value"
        raise ConfigurationError(f"{where}: only {', '.join(sorted(known))} can be set.", f"Remove {extra} from {where}.")
    if "environment" not in values and "production" not in environments:
        # Without a production environment, reconcile the first protected one (else the first declared).
        chosen = next((env.name for env in environments.values() if env.protected), next(iter(environments)))
        values = {**values, "environment": chosen}
    settings = ReconciliationSettings(**values)
    if settings.environment not in environments:
        raise ConfigurationError(
            f"{where}: environment '{settings.environment}' is not declared.",
            f"Use one of: {', '.join(environments)}.",
        )
    if not isinstance(settings.cron, str) or len(settings.cron.split()) != 5:
        raise ConfigurationError(f"{where}: cron {settings.cron!r} is not a five-field cron expression.", 'Use e.g. cron = "0 3 * * *".')
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(settings.timezone)
    except Exception as error:
        raise ConfigurationError(f"{where}: unknown timezone {settings.timezone!r}.", 'Use an IANA name such as "UTC" or "Europe/Berlin".') from error
    return settings


def _environment(path: Path, name: str, values: Any) -> Environment:
    where = f"{path} [environments.{name}]"
    if not ENVIRONMENT_NAME.match(name):
        raise ConfigurationError(
            f"{where}: '{name}' is not a usable environment name.",
            "Use 1 to 15 lowercase letters, digits or hyphens, starting with a letter (Amplify names stacks after it).",
        )
    if not isinstance(values, dict):
        raise ConfigurationError(f"{where} must be a table.", f"Write it as [environments.{name}] with keys {sorted(ENVIRONMENT_KEYS)}.")
    unknown = set(values) - ENVIRONMENT_KEYS
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}.",
            f"Known keys: {', '.join(sorted(ENVIRONMENT_KEYS))}.",
        )
    prefix = values.get("prefix", f"[{name.upper()}]")
    if not isinstance(prefix, str) or not prefix.strip() or prefix != prefix.strip():
        raise ConfigurationError(f"{where}: prefix must be a non-empty string without surrounding spaces.", 'Set e.g. prefix = "[STAGING]".')
    target = values.get("target", "local")
    if target not in TARGETS:
        raise ConfigurationError(
            f"{where}: target '{target}' is not a deploy target ampflow has.",
            f"Set target to one of: {', '.join(TARGETS)}.",
        )
    flags = {}
    for key, default in (("automated_deploys", False), ("protected", True)):
        flag = values.get(key, default)
        if not isinstance(flag, bool):
            raise ConfigurationError(f"{where}: {key} must be true or false, not {flag!r}.", f"Set {key} = true or {key} = false.")
        flags[key] = flag
    texts = {}
    for key in ("sandbox_identifier", "branch", "app_id", "region", "profile"):
        value = values.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigurationError(f"{where}: {key} must be a non-empty string.", f'Set e.g. {key} = "..." or remove it.')
        texts[key] = value
    if target == "sandbox":
        texts["sandbox_identifier"] = texts["sandbox_identifier"] or name
        if not SANDBOX_IDENTIFIER.match(texts["sandbox_identifier"]):
            raise ConfigurationError(
                f"{where}: sandbox_identifier '{texts['sandbox_identifier']}' is not a valid sandbox identifier.",
                "Use 1 to 15 letters, digits or hyphens (ampx sandbox --identifier).",
            )
    if target == "branch":
        missing = [key for key in ("branch", "app_id") if not texts[key]]
        if missing:
            raise ConfigurationError(
                f"{where}: target 'branch' needs {' and '.join(missing)}.",
                'Set branch = "<git branch>" and app_id = "<Amplify app id>" (as for ampx pipeline-deploy).',
            )
    variables = _variables(where, values.get("variables", {}))
    return Environment(name=name, prefix=prefix, target=target, **flags, **texts, variables=variables)


def _variables(where: str, values: Any) -> tuple[SynthesisVariable, ...]:
    """[environments.<name>.variables]: NAME = "literal" or NAME = { from_env = "OTHER_NAME" }."""
    where = f"{where[:-1]}.variables]"
    example = 'QUEUE_URL = "https://…" or API_TOKEN = { from_env = "DEV_API_TOKEN" }'
    if not isinstance(values, dict):
        raise ConfigurationError(f"{where} must be a table.", f"Write e.g. {example}.")
    variables = []
    for name, value in values.items():
        if not VARIABLE_NAME.match(name):
            raise ConfigurationError(f"{where}: '{name}' is not a variable name.", "Use letters, digits and underscores.")
        if isinstance(value, str):
            if SECRET_NAME.search(name):
                raise ConfigurationError(
                    f"{where}: {name} looks like a secret, and its value is written in ampflow.toml.",
                    f'Keep secrets out of the file: write {name} = {{ from_env = "{name}" }} and set {name} in '
                    "ampflow's environment.",
                )
            variables.append(SynthesisVariable(name, value=value))
        elif isinstance(value, dict) and set(value) == {"from_env"} and isinstance(value["from_env"], str) \
                and VARIABLE_NAME.match(value["from_env"]):
            variables.append(SynthesisVariable(name, from_env=value["from_env"]))
        else:
            raise ConfigurationError(f"{where}: {name} = {value!r} is neither a string nor {{ from_env = \"NAME\" }}.",
                                     f"Write e.g. {example}.")
    return tuple(variables)


def _check_prefixes_distinct(path: Path, environments: dict[str, Environment]) -> None:
    for first in environments.values():
        for second in environments.values():
            if first.name != second.name and second.prefix.startswith(first.prefix):
                raise ConfigurationError(
                    f"{path}: environments '{first.name}' ({first.prefix}) and '{second.name}' ({second.prefix}) "
                    "have prefixes that cannot be told apart.",
                    "Give each environment a prefix that is not the start of another's, e.g. [DEV] and [PROD].",
                )


def _model(path: Path, name: str, values: Any) -> ModelSettings:
    where = f"{path} [models.{name}]"
    if not isinstance(values, dict) or set(values) - MODEL_KEYS:
        extra = ", ".join(sorted(set(values) - MODEL_KEYS)) if isinstance(values, dict) else "a non-table value"
        raise ConfigurationError(f"{where}: only {', '.join(sorted(MODEL_KEYS))} can be set per model.", f"Remove {extra} from {where}.")
    label_field = values.get("label_field")
    if label_field is not None and not isinstance(label_field, str):
        raise ConfigurationError(f"{where}: label_field must be a field name.", 'Set e.g. label_field = "title".')
    external = values.get("allow_external_references", False)
    if not isinstance(external, bool):
        raise ConfigurationError(
            f"{where}: allow_external_references must be true or false, not {external!r}.",
            "Set allow_external_references = true to let this model's references name parents the app writes itself.",
        )
    return ModelSettings(label_field=label_field, allow_external_references=external)
