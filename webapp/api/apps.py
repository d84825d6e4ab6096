from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ApiConfig(AppConfig):
    name = "webapp.api"
    label = "api"
    verbose_name = "API"

    def ready(self):
        from webapp.api.append_only import append_only_reinstall

        # SQLite drops a table's triggers when a migration rebuilds it: put them back after every migrate.
        post_migrate.connect(append_only_reinstall, sender=self, dispatch_uid="append_only_reinstall")
