"""The job kinds that run, and how: each kind's module under ``webapp/jobs/kinds/`` registers a
``JobRunner`` here (its kind, its queue, its dispatch service and its run function), and
``runner.job_run`` and ``lifecycle.jobs_enqueue`` look the kind up.

The kinds register when Django starts (``JobsConfig.ready`` imports ``webapp.jobs.kinds``), in
the web process and in every worker alike. ``restore_batch`` has no runner: a batch never runs
itself, its state is summed from its restore children (``lifecycle.batch_sync``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from webapp.jobs.models import JobKind, RestorationJob

GPU_QUEUE = "gpu"
CPU_QUEUE = "cpu"
QUEUES = (GPU_QUEUE, CPU_QUEUE)


@dataclass(frozen=True)
class JobRunner:
    """What a job kind is: where its messages go and what running one does.

    ``run(job, leftovers)`` does the work of a job already marked running: it writes its output
    under temporary names listed in ``leftovers`` (removed if the job does not succeed) and
    commits its rows together with the job's success. The optional hooks: ``started(job)``,
    inside the transaction that marks the job running; ``ended(job)``, after every run however
    it ended; ``redelivered(job)``, for a message about a job that already succeeded (a crash
    came between its commit and what follows it)."""

    kind: str
    queue: str
    dispatch: Callable[..., RestorationJob]
    run: Callable[[RestorationJob, list[Path]], None]
    started: Callable[[RestorationJob], None] | None = None
    ended: Callable[[RestorationJob], None] | None = None
    redelivered: Callable[[RestorationJob], None] | None = None


_RUNNERS: dict[str, JobRunner] = {}


def register(runner: JobRunner) -> JobRunner:
    """Declare a kind's runner (once per kind; a module imported again registers the same one)."""
    if runner.kind not in JobKind.values:
        raise ValueError(f"Unknown job kind {runner.kind!r}: add it to JobKind first.")
    if runner.queue not in QUEUES:
        raise ValueError(f"Job kind {runner.kind!r}: queue must be one of {', '.join(QUEUES)}, not {runner.queue!r}.")
    known = _RUNNERS.get(runner.kind)
    if known is not None and known.run.__qualname__ != runner.run.__qualname__:
        raise ValueError(f"Job kind {runner.kind!r} already has a runner.")
    _RUNNERS[runner.kind] = runner
    return runner


def runner_for(kind: str) -> JobRunner:
    try:
        return _RUNNERS[kind]
    except KeyError:
        raise LookupError(f"No runner for job kind {kind!r}.") from None


def queue_for(kind: str) -> str:
    """The Celery queue a job of ``kind`` is sent to: ``gpu`` for restores, ``cpu`` for the rest."""
    return runner_for(kind).queue


def registered() -> dict[str, JobRunner]:
    return dict(_RUNNERS)


@contextmanager
def queue_redirected(kind: str, queue: str) -> Iterator[None]:
    """Send ``kind``'s new jobs to ``queue`` while the block runs: a benchmark's workers listen
    on a queue of their own, so no other worker on the same broker takes its jobs."""
    runner = runner_for(kind)
    _RUNNERS[kind] = replace(runner, queue=queue)
    try:
        yield
    finally:
        _RUNNERS[kind] = runner
