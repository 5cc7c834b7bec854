"""A throwaway PostgreSQL cluster on loopback (Debian's `postgresql` binaries), for tests of the team instance.

initdb into a temporary directory, `pg_ctl start` listening only on 127.0.0.1 on a free
port with its unix socket in that directory, password authentication, `pg_ctl stop -m
fast` at the end. PostgreSQL refuses to run as root, so as root the cluster belongs to
Debian's `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "ampflow"
PASSWORD = "ampflow-test-password"
SYSTEM_USER = "postgres"  # Debian's postgresql package creates it
INSTALL_HINT = "Run ./scripts/system-packages (it installs Debian's postgresql), then run the tests again."


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    directory: Path

    def connect(self, database: str = "postgres"):
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password, dbname=database)

    def create_database(self, name: str) -> str:
        connection = self.connect()
        connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return name


def binaries() -> Path:
    """The newest installed PostgreSQL's bin directory; a test failure that says how to install it otherwise."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(re.findall(r"/(\d+)/bin/", path)[0]))
    if found:
        return Path(found[-1]).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
        if (bindir / "initdb").is_file():
            return bindir
    pytest.fail(f"PostgreSQL's server binaries (initdb, pg_ctl) are not installed. {INSTALL_HINT}", pytrace=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(self, bindir: Path, directory: Path) -> None:
        self.bindir, self.directory = bindir, directory
        self.data = directory / "data"
        self.as_root = os.geteuid() == 0

    def run(self, program: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / program), *arguments]
        if self.as_root:
            if shutil.which("runuser") is None:
                pytest.fail("Running the tests as root needs `runuser` (util-linux) to start PostgreSQL as 'postgres'.", pytrace=False)
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        # cwd: the postgres user cannot necessarily read the directory the tests run from
        finished = subprocess.run(command, cwd=self.directory, capture_output=True, text=True, timeout=120)
        if finished.returncode != 0:
            log = self.directory / "server.log"
            detail = log.read_text()[-3000:] if log.is_file() else ""
            raise RuntimeError(f"{program} {' '.join(arguments)} failed ({finished.returncode}):\n{finished.stdout}{finished.stderr}{detail}")
        return finished

    def initdb(self) -> None:
        password_file = self.directory / "password"
        password_file.write_text(PASSWORD + "\n")
        self.run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, f"--pwfile={password_file}",
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync",
        )
        password_file.unlink()

    def start(self, port: int) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": f"'{self.directory}'",
            # A throwaway cluster: durability buys nothing and costs the other tests time on a shared machine.
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"), "-w", "-t", "60", "start")

    def postmaster_pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        return int(pid_file.read_text().split()[0]) if pid_file.is_file() else None

    def stop(self) -> None:
        if self.postmaster_pid() is not None:
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")


def process_exists(pid: int) -> bool:
    """Whether `pid` still runs; a zombie (exited, not yet reaped by its parent) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@contextmanager
def throwaway_postgres() -> Iterator[PostgresServer]:
    """A running PostgreSQL cluster on 127.0.0.1, stopped and deleted afterwards, leaving no process behind."""
    bindir = binaries()
    # Not under pytest's tmp_path: as root that is a 0700 root directory the postgres user cannot enter.
    directory = Path(tempfile.mkdtemp(prefix="ampflow-postgres-"))
    cluster = Cluster(bindir, directory)
    postmaster = None
    try:
        if cluster.as_root:
            account = pwd.getpwnam(SYSTEM_USER)
            os.chown(directory, account.pw_uid, account.pw_gid)
        cluster.initdb()
        for attempt in range(3):  # the free port can be taken between choosing and binding it
            port = free_port()
            try:
                cluster.start(port)
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        postmaster = cluster.postmaster_pid()
        yield PostgresServer("127.0.0.1", port, SUPERUSER, PASSWORD, directory)
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        if postmaster is not None:
            assert not process_exists(postmaster), f"PostgreSQL (pid {postmaster}) outlived `pg_ctl stop -m fast`"
