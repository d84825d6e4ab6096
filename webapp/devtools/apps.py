from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    name = "webapp.devtools"
    label = "devtools"
    verbose_name = "Developer tools"
