"""Plain server-rendered pages: the home page lists the films the user is a member of."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from webapp.catalogue.access import visible_films
from webapp.catalogue.models import Membership, ShotStatus


@login_required
def home_page(request: HttpRequest) -> HttpResponse:
    films = list(
        visible_films(user=request.user)
        .annotate(
            shot_count=Count("shots", distinct=True),
            approved_count=Count("shots", filter=Q(shots__status=ShotStatus.APPROVED), distinct=True),
        )
        .order_by("title", "id")
    )
    roles = dict(Membership.objects.filter(user_id=request.user.pk).values_list("film_id", "role"))
    for film in films:
        film.progress_percent = round(100 * film.approved_count / film.shot_count) if film.shot_count else 0
        film.my_role = roles.get(film.pk, "staff" if request.user.is_staff else "")
    return render(request, "catalogue/home.html", {"films": films})
