"""Run Amplify's synthesis of amplify/ with Node, cached by the amplify/ fingerprint.

Like `ampx`, we type-check amplify/ with TypeScript and execute amplify/backend.ts with tsx (both
found where Amplify's own deployer finds them), passing the backend identifier through CDK context;
the cloud assembly it writes is read into a DesiredBackend and cached as JSON, so an unchanged tree
never starts Node again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

from ampflow_dagster.errors import SynthesisError
from ampflow_dagster.fingerprint import amplify_fingerprint, variables_digest
from ampflow_dagster.locks import exclusive_lock
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.synthesis.backend_outputs import BackendOutputs, backend_outputs
from ampflow_dagster.synthesis.cloud_assembly import CloudAssembly, read_cloud_assembly
from ampflow_dagster.synthesis.desired_state import DESIRED_FORMAT, DesiredBackend
from ampflow_dagster.synthesis.field_defaults import field_defaults
from ampflow_dagster.synthesis.graphql_api import graphql_api_spec
from ampflow_dagster.synthesis.user_pool import user_pool_spec
from ampflow_dagster.synthesis.toolchain import NodeToolchain, locate_toolchain, require_synthesis_tools

CLIENT_CODE_SCRIPT = Path(__file__).with_name("client_code.mjs")
TSC_ERROR = re.compile(r"^(?P<file>[^\s(][^(]*)\((?P<line>\d+),(?P<column>\d+)\): error (?P<code>TS\d+): (?P<text>.*)$")
ESBUILD_ERROR = re.compile(r"(?P<file>[^\s:]+\.(?:ts|mts|js|mjs)):(?P<line>\d+):(?P<column>\d+): ERROR: (?P<text>.*)")
# What Node prints for an uncaught throw: where it was thrown (first line), the error, its causes.
THROW_SITE = re.compile(r"^(?P<file>/[^:]+\.(?:ts|mts|cts|js|mjs|cjs)):(?P<line>\d+)$")
THROWN = re.compile(r"^(?:[A-Z]\w*)?(?:Error|Exception|Fault)(?: \[[^\]]+\])?: \S.*$")
CAUSE = re.compile(r"^\s+cause: (?P<text>\S.*)$")
NOISE = re.compile(r"^\s+(?:at |\.\.\.|serializedError: )")  # stack frames, Amplify's base64 copy of the error
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# ampflow sets these for synthesis itself: a variable of the same name would break it.
RESERVED_VARIABLES = ("CDK_OUTDIR", "CDK_CONTEXT_JSON")
KEEP_CACHED = 4


def synthesize(
    project: Project,
    identifier: BackendIdentifier,
    fingerprint: str | None = None,
    variables: Mapping[str, str] | None = None,
) -> DesiredBackend:
    """The backend amplify/ declares for `identifier`; Node runs only if the fingerprint is new.

    `variables` are added to Node's environment while amplify/backend.ts runs (for a backend.ts that
    reads `process.env.QUEUE_URL`, say). They are part of the cache key: the same tree synthesized
    with other values never reuses a cached synthesis. Synthesis also inherits ampflow's own
    environment, but what it inherits is not part of the key, so pass here every value backend.ts reads.
    """
    variables = _checked_variables(variables or {})
    fingerprint = fingerprint or amplify_fingerprint(project)
    cached = _cache_file(project, identifier, fingerprint, variables)
    known = _read_cache(cached)
    if known is not None:
        return known
    cached.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(cached.parent / ".lock"):
        known = _read_cache(cached)  # another run may have synthesized it while we waited
        if known is not None:
            return known
        desired = _synthesize_with_node(project, identifier, fingerprint, variables)
        _write_atomically(cached, json.dumps(desired.to_json(), indent=1))
        _prune(cached.parent, keep=cached)
    return desired


def cached_synthesis(
    project: Project, identifier: BackendIdentifier, fingerprint: str, variables: Mapping[str, str] | None = None
) -> DesiredBackend | None:
    return _read_cache(_cache_file(project, identifier, fingerprint, _checked_variables(variables or {})))


def _read_cache(cached: Path) -> DesiredBackend | None:
    """The cached synthesis, unless there is none or an older ampflow wrote it without what this one reads."""
    try:
        data = json.loads(cached.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return DesiredBackend.from_json(data) if data.get("format") == DESIRED_FORMAT else None


def _cache_file(project: Project, identifier: BackendIdentifier, fingerprint: str, variables: Mapping[str, str]) -> Path:
    digest = variables_digest(variables)
    name = f"{fingerprint}-{digest}.json" if digest else f"{fingerprint}.json"
    return project.state_dir / "synth" / identifier.slug() / name


def _checked_variables(variables: Mapping[str, str]) -> dict[str, str]:
    for name, value in variables.items():
        if not isinstance(name, str) or not VARIABLE_NAME.match(name) or name in RESERVED_VARIABLES:
            raise SynthesisError(
                f"{name!r} cannot be a synthesis variable: a name is letters, digits and underscores, and "
                f"{' and '.join(RESERVED_VARIABLES)} are set by ampflow itself.",
                "Rename the variable that backend.ts reads.",
            )
        if not isinstance(value, str):
            raise SynthesisError(
                f"Synthesis variable {name} is {type(value).__name__} {value!r}, not text.",
                f"Give {name} a string value: Node's environment holds text only.",
            )
    return dict(variables)


def _synthesize_with_node(project: Project, identifier: BackendIdentifier, fingerprint: str, variables: dict[str, str]) -> DesiredBackend:
    backend_file = project.amplify_dir / "backend.ts"
    if not backend_file.is_file():
        raise SynthesisError(f"{backend_file} does not exist.", "An Amplify Gen 2 app defines its backend in amplify/backend.ts.")
    toolchain = locate_toolchain(project)
    require_synthesis_tools(toolchain)
    project.state_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="synth-", dir=project.state_dir) as workdir, \
            tempfile.TemporaryDirectory(prefix="ampflow-node-") as node_temp:
        assembly_dir = Path(workdir) / "cdk.out"
        node_environment = _with_own_temp_dir(Path(node_temp))
        environment = {
            **node_environment,
            "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
            **variables,
            "CDK_OUTDIR": str(assembly_dir),
            "CDK_CONTEXT_JSON": json.dumps(identifier.cdk_context()),
        }
        _run_synthesis(project, toolchain, backend_file, environment, variables)
        assembly = read_cloud_assembly(assembly_dir, identifier.stack_name())
        return _desired_backend(project, toolchain, assembly, fingerprint, variables, node_environment)


def _with_own_temp_dir(folder: Path) -> dict[str, str]:
    """ampflow's environment, with `folder` as Node's os.tmpdir(): Amplify's data construct stages files in the
    temp dir (s3-deployment*, transformer-assets-*) and never removes them; this folder goes when synthesis ends.

    It is made in the system's temp dir, not under .ampflow/: tsx listens on a Unix socket in it
    (tsx-<uid>/<pid>.pipe), and a socket's path may not exceed 107 bytes, which a deep project folder would.
    """
    return {**os.environ, "TMPDIR": str(folder), "TMP": str(folder), "TEMP": str(folder)}


def _run_synthesis(project: Project, toolchain: NodeToolchain, backend_file: Path, environment: dict[str, str], variables: dict[str, str]) -> None:
    """Type-check and synthesize at once (on two cores that halves the wait), then type-check again
    if synthesis changed the files it generates (`$amplify/env/<function>`) under the parallel check."""
    generated = project.root / ".amplify" / "generated"
    generated_before = _snapshot(generated)
    typecheck_command = _typecheck_command(project, toolchain)
    typecheck = None
    if typecheck_command is not None:
        typecheck = subprocess.Popen(
            typecheck_command, cwd=project.root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
    synth = subprocess.Popen(
        [str(toolchain.node), str(toolchain.tsx), str(backend_file)],
        cwd=project.root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    synth_output, _ = synth.communicate()
    typecheck_failed, typecheck_output = False, ""
    if typecheck is not None and typecheck_command is not None:
        typecheck_output, _ = typecheck.communicate()
        typecheck_failed = typecheck.returncode != 0
        # A failed check may have missed files synthesis generated; a passed one may have read stale ones.
        # (With none before, a passing check cannot have depended on them.) ampx checks after synthesizing.
        if synth.returncode == 0 and (typecheck_failed or generated_before) and _snapshot(generated) != generated_before:
            recheck = subprocess.run(
                typecheck_command, cwd=project.root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            typecheck_output, typecheck_failed = recheck.stdout, recheck.returncode != 0
    # Prefer TypeScript's diagnosis, unless it only misses the files a failed synthesis never generated.
    if typecheck_failed and not (synth.returncode != 0 and _only_missing_generated_files(typecheck_output)):
        raise _typecheck_error(project, typecheck_output)
    if synth.returncode != 0:
        raise _synth_error(project, toolchain, synth_output, variables)


def _desired_backend(
    project: Project, toolchain: NodeToolchain, assembly: CloudAssembly, fingerprint: str, variables: dict[str, str],
    node_environment: dict[str, str],
) -> DesiredBackend:
    outputs = assembly.outputs()
    has_data_api = bool(assembly.data_stacks())
    defaults: dict[str, dict[str, str]] = {}
    request: dict[str, Any] = {"graphqlGenerator": None, "schema": None, "modelSchema": None, "modelIntrospection": None}
    if has_data_api:
        schema_file = assembly.transformed_schema()
        if schema_file is None:
            raise SynthesisError(
                f"The data API in {assembly.stack_name} has no transformed GraphQL schema in the cloud assembly.",
                "Synthesize again (ampflow force ENV); if it persists, report the app's @aws-amplify/backend version.",
            )
        introspection_file = assembly.data_api_file("modelIntrospectionSchema.json")
        model_schema = assembly.data_api_file("model-schema.graphql")
        if introspection_file is None and model_schema is None:
            raise SynthesisError(
                f"The data API in {assembly.stack_name} has neither a model introspection schema nor a model schema in the cloud assembly.",
                "Synthesize again (ampflow force ENV); if it persists, report the app's @aws-amplify/backend version.",
            )
        if model_schema is not None:
            defaults = field_defaults(model_schema.read_text(encoding="utf-8"), model_schema)
        # @aws-amplify/backend-data before 1.3 ships no model introspection: Amplify's CLI generates it
        # from the model schema, and so do we, with the same generator.
        request.update(
            graphqlGenerator=str(_required_generator(project, toolchain)), schema=str(schema_file),
            modelSchema=None if introspection_file else str(model_schema),
            modelIntrospection=json.loads(introspection_file.read_text(encoding="utf-8")) if introspection_file else None,
        )
    stack_outputs = backend_outputs(assembly)
    request = {**request, **_outputs_request(project, toolchain, stack_outputs)}
    generated = _generate_client_code(project, toolchain, request, node_environment)
    statements: dict[str, str] = generated["statements"] if has_data_api else {}
    model_introspection: dict[str, Any] = (generated["modelIntrospection"] or {}) if has_data_api else {}
    return DesiredBackend(
        fingerprint=fingerprint,
        stack_name=assembly.stack_name,
        tables=assembly.tables(),
        default_authorization_type=str(outputs.get("awsAppsyncAuthenticationType", "")) if has_data_api else "",
        additional_authorization_types=_listed(outputs.get("awsAppsyncAdditionalAuthenticationTypes")) if has_data_api else [],
        model_introspection=model_introspection,
        statements=statements,
        other_stacks=assembly.other_stacks,
        has_data_api=has_data_api,
        variables_digest=variables_digest(variables),
        field_defaults=defaults,
        auth=user_pool_spec(assembly),
        graphql_api=graphql_api_spec(assembly, project.amplify_dir) if has_data_api else None,
        client_outputs=generated["outputs"] or {},
        unresolved_outputs=stack_outputs.unresolved,
    )


def _typecheck_command(project: Project, toolchain: NodeToolchain) -> list[str] | None:
    """`tsc --noEmit` on amplify/, as ampx does before deploying; none without a tsconfig."""
    if not (project.amplify_dir / "tsconfig.json").is_file():
        return None
    return [str(toolchain.node), str(toolchain.tsc), "--noEmit", "--pretty", "false", "-p", str(project.amplify_dir)]


def _snapshot(folder: Path) -> dict[str, str]:
    """Path -> content hash of every file under `folder` (Amplify's generated files are few and small)."""
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _only_missing_generated_files(output: str) -> bool:
    errors = [match for match in map(TSC_ERROR.match, output.splitlines()) if match]
    return bool(errors) and all(m["code"] == "TS2307" and "'$amplify/" in m["text"] for m in errors)


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


def _synth_error(project: Project, toolchain: NodeToolchain, output: str, variables: dict[str, str]) -> SynthesisError:
    lines = [line for line in output.splitlines() if line.strip() and "is deprecated" not in line]
    # What was thrown and why, ahead of the tail: a long stack trace would push it out of view.
    thrown = [line.strip() for line in lines if THROWN.match(line)][:3]
    thrown += [f"cause: {m['text']}" for m in map(CAUSE.match, lines) if m][:3]
    tail = "\n".join([line for line in lines if not NOISE.match(line)][-25:])
    located = next((m for m in map(ESBUILD_ERROR.search, lines) if m), None)
    site = next((m for m in map(THROW_SITE.match, lines[:1]) if m and _in_app_sources(project, m["file"])), None)
    if located:
        headline = f"Amplify synthesis failed in {_relative(project, located['file'])} line {located['line']}: {located['text']}"
    elif site:
        headline = f"Amplify synthesis failed in {_relative(project, site['file'])} line {site['line']}"
    else:
        headline = "Amplify synthesis of amplify/backend.ts failed"
    summary = "\n".join(thrown)
    message = headline + (f":\n{summary}" if summary else "") + f"\n{tail}"
    for marker, resolution in _known_failures(project, toolchain):
        if marker in output:
            return SynthesisError(message, resolution)
    passed = f"Synthesis ran with the variables {', '.join(sorted(variables))}." if variables else "Synthesis ran with no variables."
    return SynthesisError(
        message,
        "Fix the error above in amplify/ and run again. If amplify/backend.ts reads an environment variable, "
        f"give it to synthesis for this environment. {passed}",
    )


def _known_failures(project: Project, toolchain: NodeToolchain) -> list[tuple[str, str]]:
    """Text in Amplify's output -> what to do: one row per failure a user can fix."""
    install = toolchain.package_manager.install_command()
    return [
        (
            "CannotFindPackageLockFile",
            f"Amplify bundles functions against the app's lockfile and {project.root} has none: "
            f"run `{install}` there so it writes one, then run again.",
        ),
    ]


def _required_generator(project: Project, toolchain: NodeToolchain) -> Path:
    if toolchain.graphql_generator is None:
        raise _missing_cli_package(project, toolchain, "@aws-amplify/graphql-generator", "the client's GraphQL statements")
    return toolchain.graphql_generator


def _outputs_request(project: Project, toolchain: NodeToolchain, outputs: BackendOutputs) -> dict[str, Any]:
    if not outputs.outputs:
        return {"clientConfig": None, "backendOutput": None}  # not an Amplify backend's stack: nothing to generate
    if toolchain.client_config is None:
        raise _missing_cli_package(project, toolchain, "@aws-amplify/client-config", "amplify_outputs.json")
    return {"clientConfig": str(toolchain.client_config), "backendOutput": outputs.outputs}


def _missing_cli_package(project: Project, toolchain: NodeToolchain, package: str, what: str) -> SynthesisError:
    manager = toolchain.package_manager
    return SynthesisError(
        f"{package} is not installed for the app in {project.root}: Amplify's CLI "
        f"(@aws-amplify/backend-cli) brings it, and ampflow generates {what} with it.",
        f"Add Amplify's CLI: run `{manager.add_dev_command('@aws-amplify/backend-cli')}` in {project.root}, then run again.",
    )


def _generate_client_code(project: Project, toolchain: NodeToolchain, request: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    """Amplify's generators run once for the statements, the model introspection and amplify_outputs.json."""
    arguments = [str(toolchain.node), str(CLIENT_CODE_SCRIPT)]
    result = subprocess.run(arguments, cwd=project.root, env=environment, input=json.dumps(request), capture_output=True, text=True)
    if result.returncode != 0:
        used = " and ".join(str(p) for p in (request.get("graphqlGenerator"), request.get("clientConfig")) if p)
        raise SynthesisError(
            f"Generating the client code with {used} failed: {result.stderr.strip()[-1500:]}",
            f"Reinstall the app's packages (`{toolchain.package_manager.install_command()}` in {project.root}), then run again.",
        )
    return json.loads(result.stdout)


def _listed(value: object) -> list[str]:
    if isinstance(value, str):
        return [part for part in value.split(",") if part]
    return [str(part) for part in value] if isinstance(value, list) else []


def _in_app_sources(project: Project, file: str) -> bool:
    """A file of the app itself, not of a package it installed."""
    path = Path(file).resolve()
    return path.is_relative_to(project.root.resolve()) and "node_modules" not in path.parts


def _relative(project: Project, file: str) -> str:
    path = Path(file)
    if not path.is_absolute():
        path = (project.root / path).resolve()
    try:
        return path.relative_to(project.root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(project.root.resolve()).as_posix()
        except ValueError:
            return file


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
