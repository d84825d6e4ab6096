"""The embedded default's SQLite database, shared by the server and the in-process worker (the demo).

A transaction there reads before it writes (``select_for_update`` is a no-op on SQLite). Begun
DEFERRED, it takes its write lock only at its first write; if another connection committed a
write since its first read, SQLite refuses at once with "database is locked" (no busy wait helps).
In the demo this left a restore batch "running" for ever: a child's ``batch_sync`` lost that race
with a register request, after the child had committed."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import OperationalError, transaction
from django.db.utils import ConnectionHandler

pytestmark = pytest.mark.embedded  # the PostgreSQL/Redis layer leaves it out


@pytest.fixture
def two_connections(tmp_path, django_db_blocker, monkeypatch):
    """Two connections, as the server and the worker open them, to one SQLite file of their own;
    ``transaction.atomic(using="worker")`` opens its transactions on the worker's."""
    config = {**settings.DATABASES["default"], "NAME": str(tmp_path / "db.sqlite3")}
    assert config["ENGINE"] == "django.db.backends.sqlite3", "the embedded defaults' database is SQLite"
    handler = ConnectionHandler({"default": dict(config), "worker": dict(config)})
    with django_db_blocker.unblock():
        server, worker = handler["default"], handler["worker"]
        monkeypatch.setattr(transaction, "get_connection", lambda using=None: handler[using or "default"])
        with server.cursor() as cursor:
            cursor.execute("CREATE TABLE batch (id integer PRIMARY KEY, children_done integer)")
            cursor.execute("INSERT INTO batch VALUES (1, 0)")
        yield server, worker
        handler.close_all()


def test_a_transaction_that_read_first_writes_after_another_connection_committed(two_connections):
    server, worker = two_connections
    server_may_write, server_wrote = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def server_writes() -> None:  # a request (a register, a comment) writing while the worker's transaction is open
        server_may_write.wait()
        try:
            with server.cursor() as cursor:
                cursor.execute("UPDATE batch SET children_done = children_done + 10 WHERE id = 1")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            server_wrote.set()

    # ConnectionHandler's connections are per thread: the server's is used from its own thread
    # only after the main thread made it (inc_thread_sharing lets it cross).
    server.inc_thread_sharing()
    thread = threading.Thread(target=server_writes)
    thread.start()
    try:
        with transaction.atomic(using="worker"), worker.cursor() as cursor:
            cursor.execute("SELECT children_done FROM batch WHERE id = 1")
            seen = cursor.fetchone()[0]
            server_may_write.set()
            # The server's write waits for this transaction (a busy wait, up to the timeout) when
            # the transaction holds the write lock from its start; else it commits meanwhile.
            server_wrote.wait(timeout=1.0)
            try:
                cursor.execute("UPDATE batch SET children_done = %s WHERE id = 1", [seen + 1])
            except OperationalError as exc:
                pytest.fail(f"the worker's transaction could not write after reading: {exc}")
    finally:
        server_may_write.set()
        thread.join(timeout=30)
        server.dec_thread_sharing()
    assert not failures, failures
    with server.cursor() as cursor:
        cursor.execute("SELECT children_done FROM batch WHERE id = 1")
        # Both writes counted, one after the other: the worker's, then the server's.
        assert cursor.fetchone()[0] == 11
