from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.urls import register_converter


class ApiConfig(AppConfig):
    name = "webapp.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from webapp.api.append_only import append_only_reinstall
        from webapp.api.routers import IdConverter
        from webapp.api.sessions import session_mark_renewed

        # Before any URLconf is loaded: every app's routes use <id:...>.
        register_converter(IdConverter, "id")

        # SQLite drops a table's triggers when a migration rebuilds it: put them back after every migrate.
        post_migrate.connect(append_only_reinstall, sender=self, dispatch_uid="append_only_reinstall")
        user_logged_in.connect(session_mark_renewed, dispatch_uid="api.session_mark_renewed")
