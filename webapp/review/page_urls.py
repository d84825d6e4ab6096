"""Server-rendered pages of review (the shot review page)."""

from django.urls import path  # noqa: F401 - the review pages add their routes here

from webapp.review.pages import shot_review_page

urlpatterns: list = [
    path("films/<id:film_id>/shots/<id:shot_id>/", shot_review_page, name="shot-review"),
]
