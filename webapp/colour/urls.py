"""Colour's routes outside the router (mounted at /api/): the grade that applies to a shot, the
grade a version was made or reviewed with. The ViewSets are in ``config/api_urls.py``'s router."""

from django.urls import path

from webapp.colour.apis import ShotGradeView, VersionGradeView

urlpatterns = [
    path("shots/<id:pk>/grade/", ShotGradeView.as_view(), name="shot-grade"),
    path("versions/<id:pk>/grade/", VersionGradeView.as_view(), name="version-grade"),
]
