"""The catalogue's API routes outside the router (mounted at /api/): the review previews
(thumbnail and filmstrip JPEGs) of shots and versions."""

from django.urls import path

from webapp.catalogue.preview_apis import PreviewView

urlpatterns = [
    path("shots/<id:pk>/<str:kind>.jpg", PreviewView.as_view(model="shot"), name="shot-preview"),
    path("versions/<id:pk>/<str:kind>.jpg", PreviewView.as_view(model="version"), name="version-preview"),
]
