from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "webapp.live"
    label = "live"
    verbose_name = "Live review sessions"

    def ready(self) -> None:
        from webapp.catalogue.access import guest_access_register
        from webapp.live.guest_access import LiveGuestAccess

        guest_access_register(LiveGuestAccess())
