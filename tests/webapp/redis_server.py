"""A throwaway redis-server of a test's own, on a free port: tests that stop, restart or empty
Redis use one of these, never the shared service on 127.0.0.1:6379 (other tests, and other
workers of the same run, are using that one).

    with throwaway_redis(tmp_path, persistent=False) as redis:
        layer = ResilientRedisChannelLayer(hosts=[redis.url])
        redis.restart()      # terminated, started again: empty unless persistent
        redis.stop(); redis.start()
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayRedis:
    """One redis-server process. ``persistent``: an append-only file fsynced on every write, so a
    restart keeps every key (as a production Redis with AOF would); otherwise a restart empties it."""

    def __init__(self, folder: Path, *, persistent: bool):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if persistent else ["--appendonly", "no"]
        self.command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(folder),
                        "--save", "", *persistence]
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM: a normal shutdown (without persistence, everything in it is gone)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def restart(self) -> None:
        self.stop()
        self.start()

    def answers(self) -> bool:
        return subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).returncode == 0

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def throwaway_redis(folder: Path, *, persistent: bool = True) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(folder, persistent=persistent)
    server.start()
    try:
        yield server
    finally:
        server.kill()
