"""Restoration jobs: read-only through the API; ``job_create`` makes the row."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.webapp.factories import RestorationJobFactory, ShotFactory
from webapp.jobs.models import RestorationJob
from webapp.jobs.services import job_create

pytestmark = pytest.mark.django_db


def test_jobs_list_filters_and_is_read_only(film, member, client_for):
    viewer = member(film, "viewer")
    shot = ShotFactory(film=film)
    analyse = RestorationJobFactory(film=film, kind="analyse", status="succeeded")
    restore = RestorationJobFactory(film=film, kind="restore", shot=shot, status="running", progress=0.25)
    client = client_for(viewer)
    ids = lambda **query: [row["id"] for row in client.get("/api/jobs/", query).json()["results"]]  # noqa: E731
    assert ids() == [restore.pk, analyse.pk]  # newest first
    assert ids(kind="restore") == [restore.pk]
    assert ids(status="succeeded") == [analyse.pk]
    assert ids(film=film.pk, ordering="id") == [analyse.pk, restore.pk]
    assert client.get(f"/api/jobs/{restore.pk}/").json()["progress"] == 0.25
    assert client.post("/api/jobs/", {"film": film.pk, "kind": "analyse"}).status_code == 400  # see test_jobs_dispatch
    assert client.patch(f"/api/jobs/{restore.pk}/", {"status": "cancelled"}).status_code == 405


def test_job_create_makes_a_pending_row(film, member):
    restorer = member(film, "restorer")
    shot = ShotFactory(film=film)
    job = job_create(film=film, kind="restore", shot=shot, created_by=restorer, params={"preset": "silent"})
    assert (job.status, job.progress, job.params, job.created_by) == ("pending", 0.0, {"preset": "silent"}, restorer)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"kind": "restore"}, "shot"),
        ({"kind": "paint"}, "kind"),
        ({"kind": "analyse", "params": ["x"]}, "params"),
        ({"kind": "analyse", "other_film_shot": True}, "shot"),
    ],
)
def test_job_create_refuses_bad_rows(film, other_film, kwargs, field):
    if kwargs.pop("other_film_shot", False):
        kwargs["shot"] = ShotFactory(film=other_film)
    with pytest.raises(ValidationError) as error:
        job_create(film=film, created_by=None, **kwargs)
    assert field in error.value.message_dict
    assert not RestorationJob.objects.exists()
