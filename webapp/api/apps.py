from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "webapp.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from webapp.api.sessions import session_mark_renewed

        user_logged_in.connect(session_mark_renewed, dispatch_uid="api.session_mark_renewed")
