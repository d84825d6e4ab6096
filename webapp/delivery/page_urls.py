"""Server-rendered pages of delivery."""

from django.urls import path

from webapp.delivery.pages import film_delivery_page

urlpatterns = [
    path("films/<id:film_id>/delivery/", film_delivery_page, name="film-delivery"),
]
