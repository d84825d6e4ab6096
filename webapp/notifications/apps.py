from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "webapp.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from webapp.notifications import receivers

        receivers.connect()
