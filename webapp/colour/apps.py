from django.apps import AppConfig


class ColourConfig(AppConfig):
    name = "webapp.colour"
    label = "colour"
    verbose_name = "Colour"
