"""The embedded emulator: a moto server on loopback that plays AWS for the `local` target.

It is started on demand by whichever process needs it first (a Dagster run, the CLI,
a test) and left running for the next one; `server.json` says where it is. moto keeps
state in memory, so every request is recorded to `recording.jsonl` and replayed when a
new server starts: tables and items survive a restart of the emulator.

It is not left running forever: it exits by itself, stopping the project's GraphQL endpoints,
once its folder is gone (the project was deleted) or nothing has used it for its idle timeout
(emulator_server.py watches both); `ampflow stop` stops it at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ampflow_dagster.errors import ConfigurationError, DeploymentError
from ampflow_dagster.locks import exclusive_lock
from ampflow_dagster.project import Project
from ampflow_dagster.targets.graphql_endpoint import stop_graphql_endpoints
from ampflow_dagster.targets.servers import free_port, port_answers, process_alive, stop_process_group

STARTUP_TIMEOUT_SECONDS = 30.0
REPLAY_TIMEOUT_SECONDS = 600.0
DEFAULT_IDLE_TIMEOUT_SECONDS = 7200.0  # a lunch break keeps it; an evening does not
IDLE_TIMEOUT_VARIABLE = "AMPFLOW_EMULATOR_IDLE_TIMEOUT"  # seconds; overrides ampflow.toml's [emulator] idle_timeout
STATE_DIR_VARIABLE = "AMPFLOW_EMULATOR_STATE_DIR"  # tells the server process which folder to watch
LOCK_FILE = "emulator.lock"


@dataclass(frozen=True)
class RunningEmulator:
    pid: int
    port: int
    replayed_requests: int = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def idle_timeout_seconds(configured: float | None) -> float:
    """How long the emulator may go unused before it exits: $AMPFLOW_EMULATOR_IDLE_TIMEOUT, else `configured`
    (ampflow.toml's [emulator] idle_timeout), else two hours. 0 keeps it running until it is stopped."""
    value = os.environ.get(IDLE_TIMEOUT_VARIABLE, "").strip()
    if not value:
        return DEFAULT_IDLE_TIMEOUT_SECONDS if configured is None else float(configured)
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise ConfigurationError(
            f"{IDLE_TIMEOUT_VARIABLE}={value!r} is not a number of seconds.",
            f"Set {IDLE_TIMEOUT_VARIABLE} to the seconds the embedded emulator may go unused before it exits "
            "(e.g. 3600; 0 keeps it running), or unset it.",
        )
    return seconds


def project_emulator(project: Project) -> EmbeddedEmulator:
    """The project's embedded emulator, with the idle timeout its ampflow.toml sets."""
    from ampflow_dagster.environments import load_config

    return EmbeddedEmulator(project.state_dir / "emulator", load_config(project).emulator_idle_timeout)


class EmbeddedEmulator:
    def __init__(self, state_dir: Path, idle_timeout: float | None = None) -> None:
        self.state_dir = state_dir
        self.idle_timeout = idle_timeout  # ampflow.toml's; see idle_timeout_seconds
        self.server_file = state_dir / "server.json"
        self.recording = state_dir / "recording.jsonl"
        self.log_file = state_dir / "server.log"

    def ensure_running(self) -> RunningEmulator:
        """The running emulator, started (and its recorded state replayed) if none answers."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.state_dir / LOCK_FILE):
            known = self.running()
            if known is not None:
                return known
            return self._start()

    def running(self) -> RunningEmulator | None:
        """The emulator, if our moto server answers; the request counts as a use (the caller is about to use it)."""
        emulator = self._recorded()
        if emulator is not None and process_alive(emulator.pid) and _answers(emulator.endpoint):
            return emulator
        return None

    def listening(self) -> RunningEmulator | None:
        """The emulator, if its process lives and its port accepts connections: a look that does not count as a use."""
        emulator = self._recorded()
        if emulator is not None and process_alive(emulator.pid) and port_answers(emulator.port):
            return emulator
        return None

    def _recorded(self) -> RunningEmulator | None:
        try:
            recorded = json.loads(self.server_file.read_text(encoding="utf-8"))
            return RunningEmulator(pid=int(recorded["pid"]), port=int(recorded["port"]))
        except (FileNotFoundError, json.JSONDecodeError, KeyError, ValueError):
            return None

    def stop(self) -> bool:
        """Stop the emulator if it runs; its recording stays, so the next start restores it."""
        stop_graphql_endpoints(self.state_dir.parent)  # they serve the emulator's tables: they stop with it
        if not self.state_dir.is_dir():
            return False
        with exclusive_lock(self.state_dir / LOCK_FILE):
            emulator = self.listening()
            if emulator is None:
                return False
            stop_process_group(emulator.pid)
            self.server_file.unlink(missing_ok=True)
            return True

    def _start(self) -> RunningEmulator:
        port = free_port(self._previous_port(), "the embedded emulator")
        environment = {
            **os.environ,
            "MOTO_ENABLE_RECORDING": "true",
            "MOTO_RECORDER_FILEPATH": str(self.recording),
            STATE_DIR_VARIABLE: str(self.state_dir.resolve()),
            IDLE_TIMEOUT_VARIABLE: str(idle_timeout_seconds(self.idle_timeout)),
        }
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "ampflow_dagster.targets.emulator_server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=environment, start_new_session=True,  # outlives the run that started it
            )
        emulator = RunningEmulator(pid=process.pid, port=port)
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not _answers(emulator.endpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                raise DeploymentError(
                    f"The embedded emulator (moto server on port {port}) did not start; see {self.log_file}.",
                    f"Read the log for the cause. moto comes with ampflow: `{sys.executable} -m pip install 'moto[server]'` "
                    "repairs a broken install. Or point AWS_ENDPOINT_URL_DYNAMODB at a DynamoDB endpoint you run yourself.",
                )
            time.sleep(0.1)
        replayed = self._replay(emulator)
        self.server_file.write_text(json.dumps({"pid": process.pid, "port": port}), encoding="utf-8")
        return RunningEmulator(pid=process.pid, port=port, replayed_requests=replayed)

    def _replay(self, emulator: RunningEmulator) -> int:
        """Restore the state recorded by earlier servers; returns how many requests were replayed."""
        if not self.recording.is_file() or self.recording.stat().st_size == 0:
            return 0
        count = self._repair_recording()
        _post(f"{emulator.endpoint}/moto-api/recorder/stop-recording", timeout=10)
        try:
            _post(f"{emulator.endpoint}/moto-api/recorder/replay-recording", timeout=REPLAY_TIMEOUT_SECONDS)
        finally:
            _post(f"{emulator.endpoint}/moto-api/recorder/start-recording", timeout=10)
        return count

    def _repair_recording(self) -> int:
        """Make the recording one complete request per line, as moto's replay reads it; returns the count.

        moto's recorder writes a request, then its newline, as two writes: requests served
        at once (concurrent batch writers) can interleave, leaving two requests on one line
        and an empty line after. A server killed mid-write leaves half a request at the end:
        it never completed, so it is dropped.
        """
        count, intact = 0, True
        with self.recording.open("rb") as handle:
            for line in handle:
                try:
                    json.loads(line)
                    count += 1
                    intact = intact and line.endswith(b"\n")
                except ValueError:
                    intact = False
        if intact:
            return count
        decoder, count = json.JSONDecoder(), 0
        repaired = self.recording.with_name(f".{self.recording.name}.{os.getpid()}.tmp")
        with self.recording.open("r", encoding="utf-8", errors="replace") as source, repaired.open("w", encoding="utf-8") as target:
            for line in source:
                text, position = line.strip(), 0
                while position < len(text):
                    try:
                        request, position = decoder.raw_decode(text, position)
                    except ValueError:
                        break  # half a request: the server died writing it
                    target.write(json.dumps(request) + "\n")
                    count += 1
                    while position < len(text) and text[position].isspace():
                        position += 1
        repaired.replace(self.recording)
        return count

    def _previous_port(self) -> int | None:
        try:
            return int(json.loads(self.server_file.read_text(encoding="utf-8"))["port"])
        except (FileNotFoundError, json.JSONDecodeError, KeyError, ValueError):
            return None


def _answers(endpoint: str) -> bool:
    """Whether our moto server answers at `endpoint`; recorder calls are the only ones it does not record."""
    try:
        request = urllib.request.Request(f"{endpoint}/moto-api/recorder/start-recording", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (urllib.error.URLError, OSError):
        return False


def _post(url: str, timeout: float) -> None:
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=timeout):
        pass


def main(argv: list[str] | None = None) -> int:
    """`python -m ampflow_dagster.targets.emulator start|stop|status` for the project ampflow finds."""
    from ampflow_dagster.project import discover_project

    command = (argv if argv is not None else sys.argv[1:] or ["status"])[0]
    emulator = project_emulator(discover_project())
    if command == "start":
        running = emulator.ensure_running()
        replayed = f", {running.replayed_requests} recorded requests replayed" if running.replayed_requests else ""
        print(f"==> Embedded emulator: {running.endpoint} (pid {running.pid}{replayed})")
    elif command == "stop":
        print("==> Embedded emulator stopped" if emulator.stop() else "==> Embedded emulator was not running")
    else:
        running = emulator.listening()
        print(f"Embedded emulator: {running.endpoint} (pid {running.pid})" if running else "Embedded emulator: not running")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
