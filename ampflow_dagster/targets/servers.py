"""Servers ampflow starts on loopback and leaves running for the next run: ports and process groups."""

from __future__ import annotations

import os
import signal
import socket
import time

from ampflow_dagster.errors import DeploymentError


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie left by a parent that never waited is not a server
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return True


def stop_process_group(pid: int, timeout: float = 10.0) -> None:
    """Stop a server started in a session of its own, and whatever it started: politely, then for sure."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if process_alive(pid):
        os.killpg(pid, signal.SIGKILL)


def port_answers(port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(preferred: int | None, server: str) -> int:
    """The port the last server used, so clients keep their endpoint, else any free one."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise DeploymentError(f"No free loopback port for {server}.", "Free a port on 127.0.0.1 and run again.")
