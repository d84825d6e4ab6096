"""Writes of restoration jobs. A job is a row first; sending it to Celery is a separate step
(``job_dispatch``, with the tasks) that is not written yet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from webapp.catalogue.models import Film, Shot
from webapp.jobs.models import JobKind, RestorationJob


@transaction.atomic
def job_create(
    *,
    film: Film,
    kind: str,
    created_by: AbstractBaseUser | None,
    shot: Shot | None = None,
    parent: RestorationJob | None = None,
    params: Mapping[str, Any] | None = None,
) -> RestorationJob:
    """A pending job row; nothing runs until it is dispatched."""
    if kind not in JobKind.values:
        raise ValidationError({"kind": f"Must be one of {', '.join(JobKind.values)}."})
    if shot is not None and shot.film_id != film.pk:
        raise ValidationError({"shot": "The shot belongs to another film."})
    if kind == JobKind.RESTORE and shot is None:
        raise ValidationError({"shot": "A restore job needs a shot."})
    if parent is not None and parent.film_id != film.pk:
        raise ValidationError({"parent": "The parent job belongs to another film."})
    if params is not None and not isinstance(params, Mapping):
        raise ValidationError({"params": "Must be a JSON object."})
    return RestorationJob.objects.create(
        film=film, kind=kind, shot=shot, parent=parent, params=dict(params or {}), created_by=created_by
    )
