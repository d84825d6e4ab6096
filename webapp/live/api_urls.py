"""/api/sessions/: live review sessions and their guest invitations."""


from webapp.api.routers import ApiRouter
from webapp.live.apis import ReviewSessionViewSet

router = ApiRouter()
router.include_root_view = False
router.register("sessions", ReviewSessionViewSet, basename="session")

urlpatterns = router.urls
