"""The job kinds, one module each: its kind, its queue, its ``job_<kind>_dispatch`` service and
its run function, registered with ``webapp.jobs.registry`` when the module is imported.

Importing this package registers every kind (``JobsConfig.ready`` does, in every process); the
``deliver`` kind is the delivery area's (``webapp/delivery/jobs.py``, registered by its app).
Adding a kind: a ``JobKind`` value (with its migration), one module here that registers a
``JobRunner``, its import below, and the URL of its dispatch view.
"""

from webapp.jobs.kinds import analyse, grade_fit, proxies, restore

__all__ = ["analyse", "grade_fit", "proxies", "restore"]
