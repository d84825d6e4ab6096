"""The demo data: users, film built by the project itself, ingested and cut into shots; the embedded worker."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from restoration.api import DemoShot
from restoration.io import probe
from webapp.catalogue.models import AssetKind, Film, Invitation, MediaAsset, Membership, Shot, ShotVersion
from webapp.devtools.demo import DEMO_USERS, demo_build, embedded_worker

pytestmark = pytest.mark.django_db

SMALL_PLAN = (
    DemoShot("astronaut", 6, "pan", "medium"),
    DemoShot("coffee", 5, "zoom", "light"),
    DemoShot("no-such-photo", 7, "shake", "heavy"),  # falls back to another bundled photograph
)
SMALL_SIZE = (48, 64)


@pytest.fixture
def demo_dirs(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INGEST_ROOTS = [tmp_path / "ingest"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    return tmp_path


@pytest.mark.embedded
@pytest.mark.django_db(transaction=True)
def test_demo_build_makes_users_film_scan_shots_and_versions_through_real_jobs(demo_dirs):
    from restoration.io import read_frames
    from webapp.devtools.demo import DEMO_RESTORE_SPEC
    from webapp.jobs.models import RestorationJob
    from webapp.jobs.services import restore_spec_resolve

    with embedded_worker():
        result = demo_build(plans=SMALL_PLAN, size=SMALL_SIZE)

    assert result.created
    film = result.film
    for username, role in DEMO_USERS:
        # As the login page does: with the request (django-axes checks lockouts by it).
        user = authenticate(RequestFactory().post("/accounts/login/"), username=username, password="demo")
        assert user is not None, username
        assert Membership.objects.get(film=film, user=user).role == role
    # The archivist owns the film; the others joined as anyone does, by accepting an invitation.
    assert sorted(Invitation.objects.filter(film=film).values_list("invitee", "status")) == [
        ("creator", "accepted"), ("restorer", "accepted")]
    assert Film.objects.get(pk=film.pk).status == "in_review"

    scan = MediaAsset.objects.get(film=film, kind=AssetKind.ORIGINAL)
    info = probe(scan.file.path)
    assert (info.width, info.height, info.frame_count, info.codec) == (64, 48, 18, "ffv1")
    assert info.audio == ((48_000, "stereo", 16),)  # a sound track, for delivering with sound
    assert scan.frame_count == 18 and scan.original_name.endswith(".mkv")
    assert Path(scan.file.path).resolve().is_relative_to((demo_dirs / "media").resolve())
    # The scan went through server-side registration: it sits in the ingest root too.
    assert (demo_dirs / "ingest" / "demo" / scan.original_name).is_file()

    # The worker ran an analyse job (metrics of the hand-cut shots) and a batch restore job.
    jobs = {job.kind: job for job in RestorationJob.objects.filter(parent=None)}
    assert {kind: job.status for kind, job in jobs.items()} == {"analyse": "succeeded", "restore_batch": "succeeded",
                                                                "grade_fit": "succeeded"}
    shots = list(Shot.objects.filter(film=film).order_by("number"))
    assert [(s.start_frame, s.end_frame) for s in shots] == [(0, 5), (6, 10), (11, 17)]
    assert all(s.source_id == scan.pk and s.status == "in_review" and "recommended_pipeline" in s.metrics
               for s in shots)
    for shot in shots:
        version = ShotVersion.objects.get(shot=shot)
        assert version.number == 1 and version.status == "in_review" and version.published_at
        assert version.author.username == "restorer"
        assert version.pipeline_spec == restore_spec_resolve(pipeline=DEMO_RESTORE_SPEC)
        assert version.media.kind == AssetKind.MEZZANINE
        restored = read_frames(version.media.file.path)
        damaged = read_frames(scan.file.path, shot.start_frame, shot.frame_count)
        assert restored.shape == damaged.shape and (restored - damaged).abs().mean() > 0.001  # it did something
    assert version.produced_by.get().parent == jobs["restore_batch"]

    # Colour: shot 2's grade, learned by a grade_fit job from two graded stills, awaits the creator.
    from webapp.colour.models import Grade
    from webapp.notifications.models import Notification

    assert jobs["grade_fit"].status == "succeeded"
    grade = Grade.objects.get(film=film)
    assert (grade.shot.number, grade.source, grade.status, grade.author.username) == (2, "fit", "proposed", "restorer")
    assert grade.report["references"] == 2 and grade.references.count() == 2
    assert Notification.objects.filter(kind="grade_ready", grade=grade, recipient__username="creator").exists()

    # Idempotent: a second run reuses everything and starts no job.
    counts = (Film.objects.count(), Shot.objects.count(), MediaAsset.objects.count(), RestorationJob.objects.count())
    files = sorted(p for p in (demo_dirs / "media").rglob("*") if p.is_file())
    with embedded_worker():
        again = demo_build(plans=SMALL_PLAN, size=SMALL_SIZE)
    assert not again.created and again.film.pk == film.pk
    assert (Film.objects.count(), Shot.objects.count(), MediaAsset.objects.count(),
            RestorationJob.objects.count()) == counts
    assert sorted(p for p in (demo_dirs / "media").rglob("*") if p.is_file()) == files


def test_demo_command_refuses_production(settings):
    settings.ENV = dataclasses.replace(settings.ENV, production=True)
    with pytest.raises(CommandError, match="DJANGO_ENV=production"):
        call_command("demo", no_serve=True)
    assert not Film.objects.exists()


@pytest.mark.embedded
def test_embedded_worker_runs_tasks_of_the_real_celery_app():
    from celery.contrib.testing.tasks import ping

    from webapp.config.celery import app

    assert app.conf.broker_url == "memory://"
    with embedded_worker() as worker:
        assert set(worker.app.amqp.queues) >= {"cpu", "gpu"}
        assert ping.delay().get(timeout=20) == "pong"


def test_the_demo_users_are_members_of_a_seeded_archive_of_100_films():
    from webapp.devtools.demo import DEMO_CATALOGUE_FILMS, demo_catalogue_ensure, demo_users_ensure
    from webapp.devtools.seed import seeded_films

    users = demo_users_ensure()
    demo_catalogue_ensure(users)

    assert seeded_films().count() == DEMO_CATALOGUE_FILMS == 100
    assert Shot.objects.filter(film__in=seeded_films()).count() >= 2000  # a few thousand shots
    for username, role in DEMO_USERS:
        roles = set(Membership.objects.filter(user=users[username], film__in=seeded_films())
                    .values_list("role", flat=True))
        assert roles == {role}, username
        assert Membership.objects.filter(user=users[username]).count() == DEMO_CATALOGUE_FILMS
    # The films read as an archive's, not as generated markers.
    film = seeded_films().first()
    assert film.inventory_number.startswith("SEED-") and "seed" not in film.source_notes.lower()

    counts = (Film.objects.count(), Shot.objects.count(), Membership.objects.count())
    demo_catalogue_ensure(users)  # idempotent
    assert (Film.objects.count(), Shot.objects.count(), Membership.objects.count()) == counts


def test_a_catalogue_seeded_by_hand_is_joined_by_the_demo_users():
    from webapp.devtools.demo import demo_catalogue_ensure, demo_users_ensure

    call_command("seed_catalogue", films=4, shots_per_film=3, seed=9)
    users = demo_users_ensure()
    demo_catalogue_ensure(users)

    assert Film.objects.count() == 4  # reused, not seeded again
    assert Membership.objects.filter(user=users["creator"], role="creator").count() == 4
