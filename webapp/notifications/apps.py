from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "webapp.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from webapp.notifications import receivers, tasks  # noqa: F401 - the e-mail task registers with Celery

        receivers.connect()
