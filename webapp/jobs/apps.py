from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "webapp.jobs"
    label = "jobs"
    verbose_name = "Restoration jobs"

    def ready(self) -> None:
        # Every job kind registers its runner, and the one job task registers with Celery, in
        # every process (web, workers, commands, tests) before a job is sent or run.
        from webapp.jobs import kinds, tasks  # noqa: F401
