"""Server-rendered pages of review (the shot review page)."""

from django.urls import path  # noqa: F401 - the review pages add their routes here

urlpatterns: list = []
