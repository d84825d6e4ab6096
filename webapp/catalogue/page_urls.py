"""Server-rendered pages. Login and logout are Django's auth views under /accounts/ (config/urls.py)."""

from django.urls import path

from webapp.catalogue.pages import (
    film_detail_page,
    film_invite_page,
    home_page,
    invitation_answer_page,
    invitations_page,
)

urlpatterns = [
    path("", home_page, name="home"),
    path("films/<id:film_id>/", film_detail_page, name="film-detail"),
    path("films/<id:film_id>/invitations/", film_invite_page, name="film-invite"),
    path("invitations/", invitations_page, name="invitations"),
    path("invitations/<id:invitation_id>/<str:answer>/", invitation_answer_page, name="invitation-answer"),
]
