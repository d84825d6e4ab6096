"""Server-rendered pages. Login and logout are Django's auth views under /accounts/ (config/urls.py)."""

from django.urls import path

from webapp.catalogue.pages import home_page

urlpatterns = [
    path("", home_page, name="home"),
]
