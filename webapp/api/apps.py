from django.apps import AppConfig
from django.urls import register_converter


class ApiConfig(AppConfig):
    name = "webapp.api"
    label = "api"
    verbose_name = "API"

    def ready(self):
        from webapp.api.routers import IdConverter

        # Before any URLconf is loaded: every app's routes use <id:...>.
        register_converter(IdConverter, "id")
