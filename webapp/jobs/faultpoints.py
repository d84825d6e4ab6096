"""Named points in a job's life where the chaos tests (tests/chaos) kill the worker, to prove
that a crash at any step loses nothing and leaves nothing behind.

A no-op unless the worker was started with ``JOB_FAULTPOINT=<name>[@<flag file>]``: at that
point the process kills itself with SIGKILL (no cleanup, no ack, like the kernel's OOM killer
or a lost machine). With a flag file it fires once: the first process to create the file dies,
the ones after it run on, as a restarted worker would.
"""

from __future__ import annotations

import os
import signal

FAULTPOINT_ENV = "JOB_FAULTPOINT"

# The steps of a restore's end, in order (kinds/restore.py).
BEFORE_RENAME = "restore.before_rename"  # the output written under its scratch name
BEFORE_COMMIT = "restore.before_commit"  # renamed to its final name, its rows not yet committed
AFTER_COMMIT = "restore.after_commit"  # committed, nothing after it done (previews, events, ack)
POINTS = (BEFORE_RENAME, BEFORE_COMMIT, AFTER_COMMIT)


def faultpoint(name: str) -> None:
    spec = os.environ.get(FAULTPOINT_ENV)
    if not spec:
        return
    point, _, flag = spec.partition("@")
    if point != name:
        return
    if flag:
        try:
            os.close(os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    os.kill(os.getpid(), signal.SIGKILL)
