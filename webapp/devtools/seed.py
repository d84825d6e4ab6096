"""A realistic catalogue at scale (`manage.py seed_catalogue`, the demo's archive, the catalogue bench).

Invented titles, years 1895-1990, directors, a mix of film statuses; memberships for a pool of
users; every shot with its versions, and some comments and decisions, in proportions that
follow each film's status. Deterministic for a given --seed. Rows are written with
``bulk_create`` in batches (the per-row services would take hours at this scale); the
database constraints still check every row.

Seeded films have inventory numbers ``SEED-<seed>-<index>``; ``--replace`` deletes earlier seeded films
first. The users it creates (``seed-...``, ``bench-archivist``) have unusable passwords; ``members``
(the demo's users) join every seeded film besides them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from webapp.catalogue.models import Film, FilmStatus, Membership, Role, Shot, ShotStatus, ShotVersion, VersionStatus
from webapp.review.models import Comment, Decision, Verdict

SEED_PREFIX = "SEED-"
BENCH_USERNAME = "bench-archivist"
BATCH = 2000

ADJECTIVES = ["Silent", "Last", "Crimson", "Forgotten", "Golden", "Broken", "Distant", "Burning", "Quiet", "Hidden",
              "Northern", "Painted", "Wandering", "Iron", "Secret", "Falling", "Bright", "Lonely", "Restless", "Savage"]
NOUNS = ["Harbour", "Shadow", "Carnival", "Express", "Orchard", "Mirror", "Frontier", "Lantern", "Tide", "Empire",
         "Ballroom", "Dragon", "Garden", "Storm", "Station", "River", "Circus", "Kingdom", "Widow", "Monsoon"]
PATTERNS = ["The {adj} {noun}", "{noun} of the {adj} {noun2}", "A {noun} in {city}", "{adj} {noun}",
            "Night {noun}", "The {noun} Affair", "Return to {city}", "{city} {noun}"]
CITIES = ["Kowloon", "Lisbon", "Shanghai", "Bombay", "Marseille", "Berlin", "Cairo", "Macau", "Havana", "Odessa",
          "Tangier", "Osaka", "Manila", "Naples", "Calcutta", "Saigon"]
GIVEN = ["Lin", "Marta", "Kenji", "Amara", "Pierre", "Ines", "Wai-Ming", "Sofia", "Rahul", "Olga", "Tomas", "Mei",
         "Youssef", "Ana", "Hiroshi", "Chiara", "Desmond", "Leila", "Ivan", "Rosa"]
FAMILY = ["Chan", "Kowalska", "Mori", "Okafor", "Duval", "Ferreira", "Lau", "Rossi", "Mehta", "Petrova", "Novak",
          "Wong", "Haddad", "Lopes", "Tanaka", "Bianchi", "Ashby", "Karimi", "Sokolov", "Ortega"]
SOURCES = ["35mm nitrate print, 2K scan", "35mm safety dupe negative, 4K scan", "16mm reversal original, 2K scan",
           "35mm fine-grain master, 4K scan", "16mm release print, HD telecine", "9.5mm home-movie print, 2K scan",
           "35mm interpositive, 4K scan", "Video master of a lost print (Digital Betacam)"]
COMMENTS = ["Dust cluster top left persists", "Grain looks too smooth here, keep more texture",
            "Scratch still visible on the right", "Flicker returns after the cut", "Faces look waxy",
            "Colour drifts warm in the second half", "Good, matches the reference print", "Gate weave remains",
            "Blotch on frame edge", "Highlights clipped on the window"]
# Film statuses with their share of a catalogue, and what they imply for shots.
STATUS_WEIGHTS = [(FilmStatus.NEW, 10), (FilmStatus.INGESTING, 5), (FilmStatus.IN_RESTORATION, 25),
                  (FilmStatus.IN_REVIEW, 35), (FilmStatus.APPROVED, 15), (FilmStatus.DELIVERED, 10)]


@dataclass
class SeedReport:
    films: int = 0
    shots: int = 0
    versions: int = 0
    comments: int = 0
    decisions: int = 0
    memberships: int = 0
    seconds: float = 0.0


def _title(rng: random.Random) -> str:
    return rng.choice(PATTERNS).format(adj=rng.choice(ADJECTIVES), noun=rng.choice(NOUNS),
                                       noun2=rng.choice(NOUNS), city=rng.choice(CITIES))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"


def _shot_status(rng: random.Random, film_status: str) -> str:
    if film_status in (FilmStatus.NEW, FilmStatus.INGESTING):
        return ShotStatus.PENDING
    if film_status in (FilmStatus.APPROVED, FilmStatus.DELIVERED):
        return ShotStatus.APPROVED
    if film_status == FilmStatus.IN_RESTORATION:
        return rng.choices([ShotStatus.PENDING, ShotStatus.IN_RESTORATION, ShotStatus.IN_REVIEW],
                           weights=[40, 40, 20])[0]
    return rng.choices([ShotStatus.IN_REVIEW, ShotStatus.APPROVED, ShotStatus.REJECTED, ShotStatus.IN_RESTORATION],
                       weights=[45, 35, 10, 10])[0]


def _seed_users(count: int) -> dict[str, list]:
    """A pool of users per role (unusable passwords), plus the benchmark's archivist."""
    User = get_user_model()
    wanted = [f"seed-{role}-{i:03d}" for role in Role.values for i in range(count)] + [BENCH_USERNAME]
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    new = []
    for name in wanted:
        if name not in existing:
            user = User(username=name, email=f"{name}@seed.invalid")
            user.set_unusable_password()
            new.append(user)
    User.objects.bulk_create(new, batch_size=BATCH)
    by_name = {u.username: u for u in User.objects.filter(username__in=wanted)}
    pools = {role: [by_name[f"seed-{role}-{i:03d}"] for i in range(count)] for role in Role.values}
    pools["bench"] = [by_name[BENCH_USERNAME]]
    return pools


def seeded_films():
    return Film.objects.filter(inventory_number__startswith=SEED_PREFIX)


def seed_catalogue(*, films: int, shots_per_film: int, seed: int = 0, replace: bool = False,
                   members: Sequence[tuple[object, str]] = (), progress=lambda line: None) -> SeedReport:
    if films < 1 or shots_per_film < 1:
        raise CommandError("--films and --shots-per-film must be at least 1")
    started = time.monotonic()
    report = SeedReport()
    rng = random.Random(seed)
    if replace:
        # Decisions and comments protect their authors, not their versions: deleting films cascades.
        seeded_films().delete()
    pools = _seed_users(max(4, films // 5))
    now = timezone.now()

    for first in range(0, films, 10):
        with transaction.atomic():
            batch_films = []
            for index in range(first, min(first + 10, films)):
                status = rng.choices([s for s, _ in STATUS_WEIGHTS], weights=[w for _, w in STATUS_WEIGHTS])[0]
                year = rng.randint(1895, 1990)
                directors = ", ".join(_person(rng) for _ in range(rng.choices([1, 2, 3], weights=[80, 15, 5])[0]))
                batch_films.append(Film(
                    title=_title(rng), year=year, directors=directors, runtime_minutes=rng.randint(12, 190),
                    status=status, inventory_number=f"{SEED_PREFIX}{seed}-{index:04d}",
                    source_notes=rng.choice(SOURCES),
                    original_title=_title(rng) if rng.random() < 0.3 else "",
                ))
            Film.objects.bulk_create(batch_films, batch_size=BATCH)
            if batch_films[0].pk is None:  # backends that do not return ids from bulk inserts
                numbers = [f.inventory_number for f in batch_films]
                ids = dict(Film.objects.filter(inventory_number__in=numbers).values_list("inventory_number", "pk"))
                for f in batch_films:
                    f.pk = f.id = ids[f.inventory_number]
            report.films += len(batch_films)
            for film in batch_films:
                _seed_film(film, rng=rng, pools=pools, members=members, shots_per_film=shots_per_film, now=now,
                           report=report)
        progress(f"  {report.films}/{films} films, {report.shots} shots, {report.versions} versions")
    report.seconds = time.monotonic() - started
    return report


def _seed_film(film: Film, *, rng: random.Random, pools: dict, members: Sequence[tuple[object, str]],
               shots_per_film: int, now, report: SeedReport) -> None:
    team = [(pools["bench"][0], Role.ARCHIVIST), (rng.choice(pools[Role.ARCHIVIST]), Role.ARCHIVIST)]
    team += [(u, Role.CREATOR) for u in rng.sample(pools[Role.CREATOR], rng.randint(1, 2))]
    team += [(u, Role.RESTORER) for u in rng.sample(pools[Role.RESTORER], 2)]
    team += [(u, Role.VIEWER) for u in rng.sample(pools[Role.VIEWER], rng.randint(1, 3))]
    unique = {}
    for user, role in [*members, *team]:
        unique.setdefault(user.pk, Membership(film=film, user=user, role=role))
    Membership.objects.bulk_create(unique.values(), batch_size=BATCH)
    report.memberships += len(unique)
    archivists = [m.user for m in unique.values() if m.role == Role.ARCHIVIST]
    creators = [m.user for m in unique.values() if m.role == Role.CREATOR]
    restorers = [m.user for m in unique.values() if m.role == Role.RESTORER]

    fps = 18.0 if (film.year or 1950) < 1929 else 24.0
    shots, frame = [], 0
    for number in range(1, shots_per_film + 1):
        length = rng.randint(24, 400)
        shots.append(Shot(film=film, number=number, start_frame=frame, end_frame=frame + length - 1, fps=fps,
                          status=_shot_status(rng, film.status),
                          metrics={"dust": round(rng.random(), 3), "flicker": round(rng.random(), 3)}))
        frame += length
    Shot.objects.bulk_create(shots, batch_size=BATCH)
    if shots[0].pk is None:
        by_number = dict(Shot.objects.filter(film=film).values_list("number", "pk"))
        for shot in shots:
            shot.pk = shot.id = by_number[shot.number]
    report.shots += len(shots)

    versions: list[ShotVersion] = []
    for shot in shots:
        if shot.status == ShotStatus.PENDING:
            continue
        count = 1 if shot.status == ShotStatus.IN_RESTORATION else rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
        for number in range(1, count + 1):
            last = number == count
            if shot.status == ShotStatus.IN_RESTORATION:
                status = VersionStatus.DRAFT
            elif not last:
                status = VersionStatus.REJECTED
            else:
                status = {ShotStatus.IN_REVIEW: VersionStatus.IN_REVIEW, ShotStatus.APPROVED: VersionStatus.APPROVED,
                          ShotStatus.REJECTED: VersionStatus.REJECTED}[shot.status]
            versions.append(ShotVersion(
                shot=shot, number=number, status=status, author=rng.choice(restorers),
                pipeline_spec={"ops": [{"op": "dust"}, {"op": "denoise"}]},
                published_at=None if status == VersionStatus.DRAFT else now,
            ))
    ShotVersion.objects.bulk_create(versions, batch_size=BATCH)
    if versions and versions[0].pk is None:
        ids = {(s, n): pk for s, n, pk in ShotVersion.objects.filter(shot__film=film).values_list("shot_id", "number", "pk")}
        for version in versions:
            version.pk = version.id = ids[(version.shot.pk, version.number)]
    report.versions += len(versions)

    comments, decisions = [], []
    for version in versions:
        if version.status == VersionStatus.DRAFT:
            continue
        if rng.random() < 0.15:
            for _ in range(rng.randint(1, 3)):
                frame = rng.randint(0, version.shot.end_frame - version.shot.start_frame)
                comments.append(Comment(version=version, frame=frame, text=rng.choice(COMMENTS),
                                        author=rng.choice(archivists + creators + restorers)))
        if version.status in (VersionStatus.APPROVED, VersionStatus.REJECTED):
            verdict = Verdict.APPROVE if version.status == VersionStatus.APPROVED else Verdict.REJECT
            decisions.append(Decision(version=version, reviewer=rng.choice(archivists), role=Role.ARCHIVIST,
                                      verdict=verdict))
            if verdict == Verdict.APPROVE and creators:
                decisions.append(Decision(version=version, reviewer=rng.choice(creators), role=Role.CREATOR,
                                          verdict=verdict))
    Comment.objects.bulk_create(comments, batch_size=BATCH)
    Decision.objects.bulk_create(decisions, batch_size=BATCH)
    report.comments += len(comments)
    report.decisions += len(decisions)

    approved = ShotVersion.objects.filter(shot=OuterRef("pk"), status=VersionStatus.APPROVED).order_by("-number")
    Shot.objects.filter(film=film, status=ShotStatus.APPROVED).update(
        approved_version=Subquery(approved.values("pk")[:1])
    )
