from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "webapp.review"
    label = "review"
    verbose_name = "Review"

    def ready(self) -> None:
        from webapp.review import receivers

        receivers.connect()
