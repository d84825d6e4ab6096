from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "webapp.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from webapp.catalogue import receivers

        receivers.connect()
