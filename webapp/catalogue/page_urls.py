"""Server-rendered pages. Login and logout are Django's auth views under /accounts/ (config/urls.py)."""

from django.urls import path

from webapp.catalogue.pages import film_detail_page, home_page

urlpatterns = [
    path("", home_page, name="home"),
    path("films/<id:film_id>/", film_detail_page, name="film-detail"),
]
