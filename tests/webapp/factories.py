"""factory_boy factories for the web app's models. Shared by every web test: keep them generic.

Each factory builds a valid row with the fewest related rows it needs; pass related objects
explicitly when a test cares which film or shot they belong to.
"""

from __future__ import annotations

import functools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from webapp.catalogue.models import Film, MediaAsset, Membership, Role, Shot, ShotVersion
from webapp.jobs.models import RestorationJob
from webapp.review.models import Comment, Decision

TEST_PASSWORD = "correct-horse-battery-staple"


@functools.cache
def _test_password_hash() -> str:
    # Hashing is slow on purpose (PBKDF2); hash once per test run, not once per user.
    return make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    """A user whose password is TEST_PASSWORD."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.LazyFunction(_test_password_hash)


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class FilmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Film

    title = factory.Sequence(lambda n: f"Film {n}")
    year = factory.Sequence(lambda n: 1920 + n % 80)
    directors = "Jane Director"
    runtime_minutes = 90


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    film = factory.SubFactory(FilmFactory)
    role = Role.VIEWER


class MediaAssetFactory(factory.django.DjangoModelFactory):
    """A row only: no file is written (set ``file`` to a real path when a test reads it)."""

    class Meta:
        model = MediaAsset

    film = factory.SubFactory(FilmFactory)
    kind = MediaAsset.Kind.ORIGINAL
    file = factory.Sequence(lambda n: f"assets/test/scan{n}.mkv")
    original_name = factory.Sequence(lambda n: f"scan{n}.mkv")
    size_bytes = 1024
    container = "matroska"
    codec = "ffv1"
    width = 720
    height = 576
    fps = 24.0
    frame_count = 240
    duration = 10.0


class ShotFactory(factory.django.DjangoModelFactory):
    """A shot of 48 frames (frames 0..47 counted from the shot's first frame)."""

    class Meta:
        model = Shot

    film = factory.SubFactory(FilmFactory)
    number = factory.Sequence(lambda n: n + 1)
    start_frame = factory.LazyAttribute(lambda shot: (shot.number - 1) * 48)
    end_frame = factory.LazyAttribute(lambda shot: shot.start_frame + 47)
    fps = 24.0


class ShotVersionFactory(factory.django.DjangoModelFactory):
    """A draft version; use ``InReviewVersionFactory`` for a published one."""

    class Meta:
        model = ShotVersion

    shot = factory.SubFactory(ShotFactory)
    number = factory.Sequence(lambda n: n + 1)
    pipeline_spec = factory.LazyFunction(lambda: {"ops": []})
    author = factory.SubFactory(UserFactory)


class InReviewVersionFactory(ShotVersionFactory):
    status = ShotVersion.Status.IN_REVIEW
    published_at = factory.LazyFunction(timezone.now)


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    version = factory.SubFactory(InReviewVersionFactory)
    frame = 0
    text = factory.Sequence(lambda n: f"Comment {n}")
    author = factory.SubFactory(UserFactory)


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    version = factory.SubFactory(InReviewVersionFactory)
    reviewer = factory.SubFactory(UserFactory)
    role = Role.ARCHIVIST
    verdict = Decision.Verdict.CHANGES_REQUESTED


class RestorationJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RestorationJob

    kind = RestorationJob.Kind.ANALYSE
    film = factory.SubFactory(FilmFactory)
