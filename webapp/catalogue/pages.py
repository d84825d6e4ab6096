"""Plain server-rendered pages: the home page lists the films the user works on."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from webapp.catalogue import selectors


@login_required
def home_page(request: HttpRequest) -> HttpResponse:
    films = list(selectors.film_list(user=request.user).order_by("title", "id"))
    for film in films:
        film.progress_percent = round(100 * film.approved_shot_count / film.shot_count) if film.shot_count else 0
    return render(request, "catalogue/home.html", {"films": films})
