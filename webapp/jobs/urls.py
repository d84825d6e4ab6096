"""Job endpoints under a film (mounted at /api/)."""

from django.urls import path

from webapp.jobs.apis import FilmAnalyseView, FilmProxiesView, FilmRestoreView
from webapp.jobs.grade_fit_apis import GradeFitApi

urlpatterns = [
    path("films/<id:film_id>/restore/", FilmRestoreView.as_view(), name="film-restore"),
    path("films/<id:film_id>/analyse/", FilmAnalyseView.as_view(), name="film-analyse"),
    path("films/<id:film_id>/proxies/", FilmProxiesView.as_view(), name="film-proxies"),
    path("films/<id:film_id>/grade-fit/", GradeFitApi.as_view(), name="film-grade-fit"),
]
