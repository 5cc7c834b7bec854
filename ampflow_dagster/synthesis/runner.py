"""Run Amplify's synthesis of amplify/ with Node, cached by the amplify/ fingerprint.

Like `ampx`, we type-check amplify/ with the app's TypeScript and execute
amplify/backend.ts with tsx, passing the backend identifier through CDK context; the
cloud assembly it writes is read into a DesiredBackend and cached as JSON, so an
unchanged tree never starts Node again.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ampflow_dagster.errors import SynthesisError
from ampflow_dagster.fingerprint import amplify_fingerprint
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.synthesis.cloud_assembly import read_cloud_assembly
from ampflow_dagster.synthesis.desired_state import DesiredBackend

STATEMENTS_SCRIPT = Path(__file__).with_name("statements.mjs")
TSC_ERROR = re.compile(r"^(?P<file>[^\s(][^(]*)\((?P<line>\d+),(?P<column>\d+)\): error (?P<code>TS\d+): (?P<text>.*)$")
ESBUILD_ERROR = re.compile(r"(?P<file>[^\s:]+\.(?:ts|mts|js|mjs)):(?P<line>\d+):(?P<column>\d+): ERROR: (?P<text>.*)")
KEEP_CACHED = 4


def synthesize(project: Project, identifier: BackendIdentifier, fingerprint: str | None = None) -> DesiredBackend:
    """The backend amplify/ declares for `identifier`; Node runs only if the fingerprint is new."""
    fingerprint = fingerprint or amplify_fingerprint(project)
    cache_dir = project.state_dir / "synth" / identifier.slug()
    cached = cache_dir / f"{fingerprint}.json"
    if cached.is_file():
        return DesiredBackend.from_json(json.loads(cached.read_text(encoding="utf-8")))
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _locked(cache_dir / ".lock"):
        if cached.is_file():  # another run synthesized it while we waited
            return DesiredBackend.from_json(json.loads(cached.read_text(encoding="utf-8")))
        desired = _synthesize_with_node(project, identifier, fingerprint)
        _write_atomically(cached, json.dumps(desired.to_json(), indent=1))
        _prune(cache_dir, keep=cached)
    return desired


def cached_synthesis(project: Project, identifier: BackendIdentifier, fingerprint: str) -> DesiredBackend | None:
    cached = project.state_dir / "synth" / identifier.slug() / f"{fingerprint}.json"
    if cached.is_file():
        return DesiredBackend.from_json(json.loads(cached.read_text(encoding="utf-8")))
    return None


def _synthesize_with_node(project: Project, identifier: BackendIdentifier, fingerprint: str) -> DesiredBackend:
    _require_node_modules(project)
    backend_file = project.amplify_dir / "backend.ts"
    if not backend_file.is_file():
        raise SynthesisError(f"{backend_file} does not exist.", "An Amplify Gen 2 app defines its backend in amplify/backend.ts.")
    with tempfile.TemporaryDirectory(prefix="synth-", dir=project.state_dir) as workdir:
        assembly_dir = Path(workdir) / "cdk.out"
        environment = {
            **os.environ,
            "CDK_OUTDIR": str(assembly_dir),
            "CDK_CONTEXT_JSON": json.dumps(identifier.cdk_context()),
            "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
        }
        # Type-check and synthesize at once: on two cores that halves the wait.
        typecheck = _start_typecheck(project)
        synth = subprocess.Popen(
            [str(project.node_bin / "tsx"), str(backend_file)],
            cwd=project.root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        synth_output, _ = synth.communicate()
        if typecheck is not None:
            typecheck_output, _ = typecheck.communicate()
            if typecheck.returncode != 0:
                raise _typecheck_error(project, typecheck_output)
        if synth.returncode != 0:
            raise _synth_error(project, synth_output)
        assembly = read_cloud_assembly(assembly_dir)
        outputs = assembly.outputs()
        introspection_file = assembly.asset_file("modelIntrospectionSchema.json")
        schema_file = assembly.transformed_schema()
        if introspection_file is None or schema_file is None:
            raise SynthesisError(
                "The synthesized backend has no data API (no model introspection schema or GraphQL schema).",
                "Add a data resource: defineBackend({ data }) with a schema from amplify/data/resource.ts.",
            )
        return DesiredBackend(
            fingerprint=fingerprint,
            stack_name=assembly.stack_name,
            tables=assembly.tables(),
            default_authorization_type=str(outputs.get("awsAppsyncAuthenticationType", "")),
            additional_authorization_types=_listed(outputs.get("awsAppsyncAdditionalAuthenticationTypes")),
            model_introspection=json.loads(introspection_file.read_text(encoding="utf-8")),
            statements=_generate_statements(project, schema_file),
        )


def _require_node_modules(project: Project) -> None:
    missing = [tool for tool in ("tsx", "tsc") if not (project.node_bin / tool).exists()]
    if missing:
        raise SynthesisError(
            f"The Amplify app's Node packages are not installed ({', '.join(missing)} missing from {project.node_bin}).",
            f"Install them: run ./scripts/bootstrap (or `npm install` in {project.root}), then run again.",
        )


def _start_typecheck(project: Project) -> subprocess.Popen[str] | None:
    """`tsc --noEmit` on amplify/, as ampx does before deploying; skipped without a tsconfig."""
    if not (project.amplify_dir / "tsconfig.json").is_file():
        return None
    return subprocess.Popen(
        [str(project.node_bin / "tsc"), "--noEmit", "--pretty", "false", "-p", str(project.amplify_dir)],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _typecheck_error(project: Project, output: str) -> SynthesisError:
    errors = [match for match in map(TSC_ERROR.match, output.splitlines()) if match]
    if not errors:
        return SynthesisError(f"TypeScript rejected amplify/:\n{output.strip()[-2000:]}", "Fix the errors above, then run again.")
    lines = [f"{_relative(project, m['file'])}:{m['line']}:{m['column']} {m['code']}: {m['text']}" for m in errors[:20]]
    first = errors[0]
    return SynthesisError(
        f"TypeScript error in {_relative(project, first['file'])} line {first['line']}: {first['text']}\n" + "\n".join(lines),
        "Fix the TypeScript errors in amplify/ (run `npx tsc --noEmit -p amplify` to see them), then run again.",
    )


def _synth_error(project: Project, output: str) -> SynthesisError:
    lines = [line for line in output.splitlines() if line.strip() and "is deprecated" not in line]
    located = next((m for m in map(ESBUILD_ERROR.search, lines) if m), None)
    tail = "\n".join(lines[-25:])
    if located:
        where = f"{_relative(project, located['file'])} line {located['line']}"
        return SynthesisError(f"Amplify synthesis failed in {where}: {located['text']}\n{tail}", "Fix amplify/ and run again.")
    return SynthesisError(f"Amplify synthesis of amplify/backend.ts failed:\n{tail}", "Fix the error above in amplify/ and run again.")


def _generate_statements(project: Project, schema_file: Path) -> dict[str, str]:
    result = subprocess.run(
        ["node", str(STATEMENTS_SCRIPT), str(project.root), str(schema_file)],
        cwd=project.root, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise SynthesisError(
            f"Generating GraphQL statements failed: {result.stderr.strip()[-1500:]}",
            "Check that @aws-amplify/graphql-generator is installed (`npm ci`).",
        )
    return json.loads(result.stdout)


def _listed(value: object) -> list[str]:
    if isinstance(value, str):
        return [part for part in value.split(",") if part]
    return [str(part) for part in value] if isinstance(value, list) else []


def _relative(project: Project, file: str) -> str:
    path = Path(file)
    if not path.is_absolute():
        path = (project.root / path).resolve()
    try:
        return path.relative_to(project.root).as_posix()
    except ValueError:
        return file


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _prune(cache_dir: Path, keep: Path) -> None:
    entries = sorted(cache_dir.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
    for stale in entries[KEEP_CACHED:]:
        if stale != keep:
            stale.unlink(missing_ok=True)
    shutil.rmtree(cache_dir / "cdk.out", ignore_errors=True)
