"""/api/sessions/: live review sessions and their guest invitations."""

from rest_framework.routers import DefaultRouter

from webapp.live.apis import ReviewSessionViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("sessions", ReviewSessionViewSet, basename="session")

urlpatterns = router.urls
