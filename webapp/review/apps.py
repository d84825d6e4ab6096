from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "webapp.review"
    label = "review"
    verbose_name = "Review"

    def ready(self) -> None:
        from webapp.review import colour_rules, receivers

        receivers.connect()
        colour_rules.register()  # grades are signed under the same approval policy
