from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "webapp.delivery"
    label = "delivery"
    verbose_name = "Delivery"

    def ready(self) -> None:
        # The deliver job kind's runner registers with the jobs' registry in every process.
        from webapp.delivery import jobs, receivers  # noqa: F401

        receivers.connect()
