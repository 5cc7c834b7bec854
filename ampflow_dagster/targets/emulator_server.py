"""The embedded emulator's server: moto's, with passwords kept out of its recording, and a watchdog.

moto's recorder writes every request to a file so the emulator's state survives a restart. Cognito
requests that carry a password (setting one, signing in) are not recorded (ampflow creates users
without a temporary password, so AdminCreateUser carries none): a password never lands
in a file. After a restart, seed users therefore exist without a password until seeded_users runs
again, which gives them one (from its variable, or a new generated one).

The server outlives the run that started it, but not its project: a watchdog thread in this process
exits it when its folder is gone (the project was deleted), or when no request has come for its idle
timeout, stopping the project's GraphQL endpoints first (they serve the emulator's tables).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from moto import server
from moto.moto_api._internal.recorder.models import Recorder
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from ampflow_dagster.targets.emulator import IDLE_TIMEOUT_VARIABLE, LOCK_FILE, STATE_DIR_VARIABLE

PASSWORD_OPERATIONS = frozenset(
    f"AWSCognitoIdentityProviderService.{operation}"
    for operation in (
        "AdminSetUserPassword", "AdminInitiateAuth", "InitiateAuth", "RespondToAuthChallenge",
        "AdminRespondToAuthChallenge", "SignUp", "ChangePassword", "ConfirmForgotPassword",
    )
)
_record_request = Recorder._record_request
_dispatch = DomainDispatcherApplication.__call__


def _record_without_passwords(recorder: Recorder, request: Any, body: bytes | None = None) -> None:
    if request.headers.get("X-Amz-Target") not in PASSWORD_OPERATIONS:
        _record_request(recorder, request, body)


class Activity:
    """When the server last finished a request, and how many it is serving now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._serving = 0
        self._last = time.monotonic()

    def idle_seconds(self) -> float:
        with self._lock:
            return 0.0 if self._serving else time.monotonic() - self._last

    def serving(self, app: DomainDispatcherApplication, environ: dict, start_response: Any) -> Any:
        with self._lock:
            self._serving += 1
        try:
            return _dispatch(app, environ, start_response)
        finally:
            with self._lock:
                self._serving -= 1
                self._last = time.monotonic()


def watch(state_dir: Path, idle_timeout: float, activity: Activity) -> None:
    """Exit the process once `state_dir` is gone, or once it has served nothing for `idle_timeout` s (0: never)."""
    interval = min(5.0, max(0.2, idle_timeout / 10)) if idle_timeout else 5.0
    while True:
        time.sleep(interval)
        if not state_dir.is_dir():
            _exit(f"its folder {state_dir} is gone")
        if not idle_timeout or activity.idle_seconds() < idle_timeout:
            continue
        try:
            with _lock_of(state_dir):  # no other process is starting a run on this emulator meanwhile
                if activity.idle_seconds() < idle_timeout:
                    continue  # a run took the lock, checked that this server answers, and used it
                _stop_endpoints(state_dir)
                _forget(state_dir)
                _exit(f"nothing used it for {idle_timeout:g} s")
        except FileNotFoundError:
            _exit(f"its folder {state_dir} is gone")


def _lock_of(state_dir: Path) -> Any:
    from ampflow_dagster.locks import exclusive_lock

    return exclusive_lock(state_dir / LOCK_FILE, make_folder=False)


def _stop_endpoints(state_dir: Path) -> None:
    from ampflow_dagster.targets.graphql_endpoint import stop_graphql_endpoints

    stopped = stop_graphql_endpoints(state_dir.parent)
    if stopped:
        print(f"ampflow: stopped the GraphQL endpoint(s) of {', '.join(stopped)}", flush=True)


def _forget(state_dir: Path) -> None:
    """server.json no longer names this server (unless it names another one)."""
    server_file = state_dir / "server.json"
    try:
        if json.loads(server_file.read_text(encoding="utf-8")).get("pid") == os.getpid():
            server_file.unlink()
    except (FileNotFoundError, json.JSONDecodeError):
        pass


def _exit(reason: str) -> None:
    print(f"ampflow: the embedded emulator exits: {reason}", flush=True)
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    Recorder._record_request = _record_without_passwords  # type: ignore[method-assign]
    state_dir = os.environ.get(STATE_DIR_VARIABLE)
    if state_dir:
        activity = Activity()

        def serving(app: DomainDispatcherApplication, environ: dict, start_response: Any) -> Any:
            return activity.serving(app, environ, start_response)

        DomainDispatcherApplication.__call__ = serving  # type: ignore[method-assign]
        idle_timeout = float(os.environ.get(IDLE_TIMEOUT_VARIABLE) or 0)
        threading.Thread(target=watch, args=(Path(state_dir), idle_timeout, activity), daemon=True, name="watchdog").start()
    server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
