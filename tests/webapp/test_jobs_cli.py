"""The command line: start a film's batch restore and follow it with a progress bar."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.webapp import jobs_fixtures
from webapp.catalogue.models import ShotVersion
from webapp.jobs.models import RestorationJob

pytestmark = pytest.mark.django_db

shots = jobs_fixtures.shots


@pytest.fixture
def eager(monkeypatch):
    """Tasks run where they are sent (as a worker would run them), so the command has a job to follow."""
    from webapp.config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.mark.django_db(transaction=True)  # as on a real site: the job is sent once its row is committed
def test_restore_film_starts_a_batch_and_draws_its_progress(film, member, shots, eager):
    member(film, "restorer", username="rita")
    out, err = io.StringIO(), io.StringIO()
    call_command("restore_film", film.pk, user="rita", preset="clean", stdout=out, stderr=err)
    batch = RestorationJob.objects.get(kind="restore_batch")
    assert f"Batch job {batch.pk}: 2 shots" in out.getvalue() and f"Job {batch.pk} succeeded" in out.getvalue()
    assert f"job {batch.pk} (2/2 shots) 8/8 frames 100.0%" in err.getvalue()
    assert ShotVersion.objects.count() == 2

    out = io.StringIO()
    call_command("follow_job", batch.children.first().pk, stdout=out, stderr=io.StringIO())
    assert "succeeded" in out.getvalue()


@pytest.mark.parametrize("options, words", [
    ({"user": "nobody", "preset": "clean"}, "not a restorer"),
    ({"user": "vera", "preset": "clean"}, "not a restorer"),
    ({"user": "rita", "preset": "clean", "shots": "1,x"}, "--shots"),
    ({"user": "rita", "preset": "clean", "shots": "999999"}, "No such shots"),
])
def test_restore_film_refuses_bad_requests_and_starts_nothing(film, member, shots, options, words):
    member(film, "restorer", username="rita")
    member(film, "viewer", username="vera")
    with pytest.raises(CommandError, match=words):
        call_command("restore_film", film.pk, stdout=io.StringIO(), **options)
    assert not RestorationJob.objects.exists()


def test_following_a_failed_job_exits_with_an_error(film, shots):
    job = RestorationJob.objects.create(film=film, kind="restore", shot=shots[0], status="failed", error="boom")
    with pytest.raises(CommandError, match="boom"):
        call_command("follow_job", job.pk, stdout=io.StringIO(), stderr=io.StringIO())
