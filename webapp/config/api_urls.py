"""/api/: the router of every app's ViewSets, and the token endpoint for scripts
(webapp/api/tokens.py). Here, at the top, because it names every area's ViewSets (``webapp.api`` below them holds only what they share)."""

from django.urls import path

from webapp.api.routers import ApiRouter
from webapp.api.tokens import TokenView
from webapp.catalogue.apis import (
    FilmViewSet,
    InvitationViewSet,
    MembershipViewSet,
    ShotVersionViewSet,
    ShotViewSet,
)
from webapp.colour.apis import GradeDecisionViewSet, GradeReferenceViewSet, GradeViewSet, SceneViewSet
from webapp.delivery.apis import DeliverableViewSet
from webapp.jobs.apis import RestorationJobViewSet
from webapp.notifications.apis import NotificationViewSet
from webapp.review.apis import ApprovalPolicyViewSet, CommentViewSet, DecisionViewSet

router = ApiRouter()
router.register("films", FilmViewSet, basename="film")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("shots", ShotViewSet, basename="shot")
router.register("versions", ShotVersionViewSet, basename="version")
router.register("comments", CommentViewSet, basename="comment")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("approval-policies", ApprovalPolicyViewSet, basename="approval-policy")
router.register("jobs", RestorationJobViewSet, basename="job")
router.register("scenes", SceneViewSet, basename="scene")
router.register("grades", GradeViewSet, basename="grade")
router.register("grade-decisions", GradeDecisionViewSet, basename="grade-decision")
router.register("grade-references", GradeReferenceViewSet, basename="grade-reference")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("deliverables", DeliverableViewSet, basename="deliverable")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    *router.urls,
]
