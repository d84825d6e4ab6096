"""The jobs' entry points for views, commands and the other apps: starting a job of each kind,
cancelling and retrying, running one. Each lives where it belongs and is named here:

- ``lifecycle.py``: a job as a row (create, enqueue on commit, cancel, retry, batch sums);
- ``kinds/<kind>.py``: each kind's dispatch service and runner (``restore``: gpu queue;
  ``analyse``, ``proxies``, ``grade_fit``: cpu queue; ``deliver`` is
  ``webapp/delivery``'s), registered in ``registry.py``;
- ``runner.py``: running a job whatever its kind (``job_run``, called by ``tasks.job_run_task``);
- ``runtime.py``: what runners use while they work (progress, scratch files, success).
"""

from __future__ import annotations

from webapp.jobs.kinds.analyse import job_analyse_dispatch
from webapp.jobs.kinds.grade_fit import job_grade_fit_dispatch
from webapp.jobs.kinds.proxies import job_proxies_dispatch
from webapp.jobs.kinds.restore import job_batch_restore_dispatch, job_restore_dispatch, restore_spec_resolve
from webapp.jobs.lifecycle import job_cancel, job_create, job_retry, jobs_enqueue, jobs_enqueue_on_commit
from webapp.jobs.runner import JobRetryLater, is_transient, job_run

__all__ = [
    "JobRetryLater",
    "is_transient",
    "job_analyse_dispatch",
    "job_batch_restore_dispatch",
    "job_cancel",
    "job_create",
    "job_grade_fit_dispatch",
    "job_proxies_dispatch",
    "job_restore_dispatch",
    "job_retry",
    "job_run",
    "jobs_enqueue",
    "jobs_enqueue_on_commit",
    "restore_spec_resolve",
]
