"""A PostgreSQL and a Redis of the chaos suite's own, on ports of their own, that its tests stop
and start at will (the shared ones on 5432 and 6379 are never touched).

``run.py`` creates them (``PrivatePostgres.create``, ``PrivateRedis``) and hands their places
to the tests through the environment (``CHAOS_*``); the tests rebuild the same handles with
``from_env`` to stop and start them. Both run as they do in production: PostgreSQL with its
write-ahead log, Redis without persistence (a restart loses what it held).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.webapp.redis_server import free_port


def _wait(condition, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def _postgres_bin() -> Path:
    """The newest installed PostgreSQL's programs (Debian keeps them out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL's pg_ctl is not installed")
    return Path(pg_ctl).parent


@dataclass
class PrivatePostgres:
    data: Path
    port: int

    @classmethod
    def create(cls, folder: Path) -> PrivatePostgres:
        """A new cluster in ``folder`` (trust auth, user postgres), started."""
        server = cls(data=folder / "pgdata", port=free_port())
        folder.mkdir(parents=True, exist_ok=True)
        server._chown(folder)
        server._run("initdb", "-D", str(server.data), "-A", "trust", "-U", "postgres", "--no-sync")
        server.start()
        return server

    @classmethod
    def from_env(cls) -> PrivatePostgres:
        return cls(data=Path(os.environ["CHAOS_PG_DATA"]), port=int(os.environ["CHAOS_PG_PORT"]))

    def env(self) -> dict[str, str]:
        return {"CHAOS_PG_DATA": str(self.data), "CHAOS_PG_PORT": str(self.port)}

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/chaos"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.data.parent / "postgres.log"), "-w", "-o",
                  f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data.parent} -c fsync=off", "start")

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as when the server restarts."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_up(self) -> bool:
        return subprocess.run([str(_postgres_bin() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                              check=False).returncode == 0

    def _run(self, program: str, *args: str) -> None:
        command = [str(_postgres_bin() / program), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    @staticmethod
    def _chown(folder: Path) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)


@dataclass
class PrivateRedis:
    """Unlike ``tests.webapp.redis_server.ThrowawayRedis`` (one test's, a child of its process),
    a daemon that the launcher starts and any test process stops and starts by its port."""

    folder: Path
    port: int

    @classmethod
    def create(cls, folder: Path) -> PrivateRedis:
        folder.mkdir(parents=True, exist_ok=True)
        server = cls(folder=folder, port=free_port())
        server.start()
        return server

    @classmethod
    def from_env(cls) -> PrivateRedis:
        return cls(folder=Path(os.environ["CHAOS_REDIS_DIR"]), port=int(os.environ["CHAOS_REDIS_PORT"]))

    def env(self) -> dict[str, str]:
        return {"CHAOS_REDIS_DIR": str(self.folder), "CHAOS_REDIS_PORT": str(self.port)}

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                        "--save", "", "--appendonly", "no", "--daemonize", "yes",
                        "--pidfile", str(self.folder / "redis.pid"), "--logfile", str(self.folder / "redis.log")],
                       check=True, capture_output=True)
        _wait(self.is_up, "Redis to start")

    def stop(self) -> None:
        """Stopped without saving: what it held is lost, as in production (no persistence)."""
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], check=False, capture_output=True)
        _wait(lambda: not self.is_up(), "Redis to stop")

    def is_up(self) -> bool:
        return subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                              check=False).stdout.strip() == b"PONG"
