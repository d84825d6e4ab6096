"""seed_catalogue at small scale: realistic rows, consistent with the constraints, deterministic."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command

from webapp.catalogue.access import Action, can
from webapp.catalogue.models import Film, Membership, Role, Shot, ShotStatus, ShotVersion, VersionStatus
from webapp.devtools.seed import BENCH_USERNAME
from webapp.review.models import Comment, Decision

pytestmark = pytest.mark.django_db


def catalogue_snapshot():
    return (
        list(Film.objects.order_by("inventory_number").values_list("title", "year", "directors", "status")),
        list(Shot.objects.order_by("film__inventory_number", "number").values_list("number", "start_frame", "end_frame",
                                                                                "status")),
        ShotVersion.objects.count(),
    )


def test_seed_small_catalogue(capsys):
    call_command("seed_catalogue", films=3, shots_per_film=20, seed=7)

    assert "Seeded 3 films" in capsys.readouterr().out
    films = list(Film.objects.all())
    assert len(films) == 3
    assert all(1895 <= f.year <= 1990 and f.title and f.directors for f in films)
    assert Shot.objects.count() == 60
    for film in films:
        shots = list(film.shots.order_by("number"))
        assert [s.number for s in shots] == list(range(1, 21))
        # Shots tile the film: each starts right after the previous one ends.
        assert all(b.start_frame == a.end_frame + 1 for a, b in itertools.pairwise(shots))
        assert Membership.objects.filter(film=film, role=Role.ARCHIVIST).exists()
    # Approved shots point at their approved version, of their own shot.
    for shot in Shot.objects.filter(status=ShotStatus.APPROVED).select_related("approved_version"):
        assert shot.approved_version.shot_id == shot.pk
        assert shot.approved_version.status == VersionStatus.APPROVED
    # Pending shots have no versions; non-draft versions are published.
    assert not ShotVersion.objects.filter(shot__status=ShotStatus.PENDING).exists()
    assert not ShotVersion.objects.exclude(status=VersionStatus.DRAFT).filter(published_at__isnull=True).exists()
    assert Comment.objects.filter(frame__lt=0).count() == 0


def test_bench_user_is_archivist_of_every_seeded_film():
    call_command("seed_catalogue", films=3, shots_per_film=5, seed=1)
    bench = Membership.objects.filter(user__username=BENCH_USERNAME)
    assert bench.count() == 3 and set(bench.values_list("role", flat=True)) == {Role.ARCHIVIST}
    user = bench.first().user
    assert not user.has_usable_password()
    assert all(can(user=user, film_id=f.pk, action=Action.DECIDE) for f in Film.objects.all())


def test_seed_is_deterministic_and_replace_starts_over():
    call_command("seed_catalogue", films=3, shots_per_film=20, seed=42)
    first = catalogue_snapshot()
    call_command("seed_catalogue", films=3, shots_per_film=20, seed=42, replace=True)
    assert catalogue_snapshot() == first
    call_command("seed_catalogue", films=3, shots_per_film=20, seed=43, replace=True)
    assert catalogue_snapshot() != first


def test_seed_gives_a_status_mix_at_moderate_scale():
    call_command("seed_catalogue", films=30, shots_per_film=10, seed=0)
    assert Film.objects.values("status").distinct().count() >= 4
    assert Shot.objects.values("status").distinct().count() >= 4
    assert Comment.objects.exists() and Decision.objects.exists()


def test_seed_refuses_nonsense_sizes():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_catalogue", films=0, shots_per_film=20)
    assert not Film.objects.exists()


def test_bench_catalogue_seeds_when_smaller_than_asked_and_prints_percentiles(capsys):
    call_command("bench_catalogue", in_bench_db=True, films=2, shots_per_film=60, repeat=3)
    out = capsys.readouterr().out
    assert "Seeding 2 films x 60 shots" in out
    assert Film.objects.count() == 2 and Shot.objects.count() == 120
    for label in ("film list (page 1 of 50)", "a film's shots, page 1", "shot search: status=in_review"):
        line = next(line for line in out.splitlines() if label in line)
        p50, p95 = (float(cell) for cell in line.split("|")[2:4])
        assert 0 < p50 <= p95
    # A second run finds the catalogue big enough and does not seed again.
    call_command("bench_catalogue", in_bench_db=True, films=2, shots_per_film=60, repeat=3)
    assert "Seeding" not in capsys.readouterr().out


@pytest.mark.embedded
def test_bench_database_is_separate_from_the_configured_one(settings):
    from webapp.devtools.management.commands.bench_catalogue import bench_database_url

    url = bench_database_url()
    assert url.endswith("/bench.sqlite3") and str(settings.DATABASES["default"]["NAME"]) not in url
