"""The job dashboard page: jobs of the films the user works on, filtered by the query string.

The page is server-rendered and works without JavaScript; ``frontend/static/js/catalogue/jobs.js``
adds live progress (the film websockets), expanding batches into their children, cancel and retry.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from webapp.catalogue import selectors as catalogue_selectors
from webapp.catalogue.access import Action, can
from webapp.catalogue.models import Membership
from webapp.catalogue.page_selectors import filterset_apply
from webapp.jobs.filters import RestorationJobFilter
from webapp.jobs.models import JobKind, JobStatus
from webapp.jobs.selectors import job_list

DASHBOARD_LIMIT = 200
ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING)


def duration_text(seconds: float | None) -> str:
    """"42 s", "3 m 05 s", "1 h 02 m" (as format.js's ``duration``); empty when unknown."""
    if seconds is None:
        return ""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} m {whole % 60:02d} s"
    return f"{whole // 3600} h {whole // 60 % 60:02d} m"


@login_required
@require_GET
def job_dashboard_page(request: HttpRequest) -> HttpResponse:
    errors: list[str] = []
    jobs = job_list(user=request.user).select_related("film", "parent")
    # The dashboard lists top-level jobs; ?parent=<id> lists one batch's children instead.
    parent_id = request.GET.get("parent", "")
    if parent_id:
        if parent_id.isdigit():
            jobs = jobs.filter(parent_id=int(parent_id))
        else:
            errors.append("parent: must be a job id.")
    else:
        jobs = jobs.filter(parent__isnull=True)
    params = request.GET.copy()
    params.pop("parent", None)
    jobs, problems = filterset_apply(RestorationJobFilter(params, queryset=jobs))
    errors.extend(problems)
    jobs = [] if errors else list(jobs.order_by("-created_at", "-id")[: DASHBOARD_LIMIT + 1])
    truncated = len(jobs) > DASHBOARD_LIMIT
    jobs = jobs[:DASHBOARD_LIMIT]

    roles = dict(Membership.objects.filter(user_id=request.user.pk).values_list("film_id", "role"))
    for job in jobs:
        # Cancel and retry need the PUBLISH right on the job's film (the API checks it again).
        job.can_manage = can(user=request.user, film_id=job.film_id, action=Action.PUBLISH,
                             role=roles.get(job.film_id))
        job.progress_percent = round(job.progress * 100)
        job.eta_text = duration_text(getattr(job, "eta_seconds", None))
    films = catalogue_selectors.film_list(user=request.user).order_by("title", "id").values_list("id", "title")
    context = {
        "jobs": jobs,
        "truncated": truncated,
        "limit": DASHBOARD_LIMIT,
        "errors": errors,
        "params": request.GET,
        "parent_id": parent_id if parent_id.isdigit() else "",
        "statuses": JobStatus.choices,
        "kinds": JobKind.choices,
        "films": list(films),
        "filters_active": any(request.GET.get(name) for name in ("status", "film", "kind", "parent")),
        # Films with work under way: the page listens to their websockets for live progress.
        "live_film_ids": sorted({job.film_id for job in jobs if job.status in ACTIVE_STATUSES}),
        "active_count": sum(job.status in ACTIVE_STATUSES for job in jobs),
        "failed_count": sum(job.status == JobStatus.FAILED for job in jobs),
    }
    return render(request, "jobs/dashboard.html", context, status=400 if errors else 200)
