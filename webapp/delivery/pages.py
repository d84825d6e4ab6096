"""A film's delivery page (``/films/<id>/delivery/``): its deliverables with their figures and
checksums, and, for archivists, the form that starts a delivery. Server-rendered;
``frontend/static/js/delivery/delivery.js`` posts the form, shows the job's progress live (the
film's websocket), cancels it, and verifies deliverables."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from restoration.api import DELIVERY_CODECS, MASTER_CODECS
from webapp.catalogue.access import Action, can, film_role, visible_films
from webapp.delivery.plan import FALLBACKS
from webapp.delivery.selectors import deliverable_list
from webapp.delivery.services import EXPORT_KINDS
from webapp.jobs.models import JobKind, JobStatus
from webapp.jobs.selectors import job_list

MASTER_LABELS = {"ffv1": "FFV1 in Matroska (lossless)", "prores": "ProRes 422 HQ in QuickTime"}


@login_required
@require_GET
def film_delivery_page(request: HttpRequest, film_id: int) -> HttpResponse:
    film = visible_films(user=request.user).filter(pk=film_id).first()
    if film is None:
        raise Http404
    role = film_role(user=request.user, film_id=film.pk)
    deliverables = list(deliverable_list(user=request.user).filter(film=film).order_by("-created_at", "-id"))
    active = (job_list(user=request.user).filter(film=film, kind=JobKind.DELIVER,
                                                 status__in=(JobStatus.PENDING, JobStatus.RUNNING))
              .order_by("-created_at").first())
    shots = list(film.shots.order_by("number").values_list("number", "approved_version_id"))
    context = {
        "film": film,
        "deliverables": deliverables,
        "active_job": active,
        "can_deliver": can(user=request.user, film_id=film.pk, action=Action.EDIT_FILM, role=role or ""),
        "masters": [(codec, MASTER_LABELS.get(codec, codec)) for codec in MASTER_CODECS],
        "exports": list(EXPORT_KINDS),
        "distribution_codecs": DELIVERY_CODECS,
        "fallbacks": FALLBACKS,
        "shot_count": len(shots),
        "first_shot": shots[0][0] if shots else 1,
        "last_shot": shots[-1][0] if shots else 1,
        "unapproved": [number for number, approved in shots if approved is None],
    }
    return render(request, "delivery/film_delivery.html", context)
