"""The whole API fuzzed from its own OpenAPI schema (schemathesis), in-process through WSGI.

Every operation of /api/schema/ gets generated requests, valid and invalid (random ids, numbers out
of range, wrong types, unknown keys, odd strings), from an archivist of a film that has a row in
every table. Each answer must be no server error, a status code the schema documents for that
operation, and a body that matches the schema's answer for that code (the one ``Error`` body for
4xx). The seed is fixed, so a failure reproduces; ``make fuzz`` runs the same with many more
examples (FUZZ_MAX_EXAMPLES).

Half of the generated path ids are swapped for an id that exists, so that requests reach real
objects and not only the 404 of an id nobody has.
"""

from __future__ import annotations

import os
import zlib

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.webapp.factories import (
    CommentFactory,
    DecisionFactory,
    FilmFactory,
    InReviewVersionFactory,
    MediaAssetFactory,
    MembershipFactory,
    RestorationJobFactory,
    ShotFactory,
    ShotVersionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SEED = 1121
# Per operation: 10 keeps the whole run to about 90 s of one busy core; `make fuzz` sets 100.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
LOOK = {"slope": [1.1, 1.0, 0.9], "offset": [0.0, 0.0, 0.0], "power": [1.0, 1.0, 1.0], "saturation": 1.0}


def in_test_transaction(app):
    """The WSGI app without Django's per-request close_old_connections (as Django's test client
    does): the test's transaction stays open, so nothing a request writes outlives the test."""

    def wrapped(environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = app(environ, start_response)
            body = b"".join(response)
            response.close()
            return [body]
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)

    return wrapped


@pytest.fixture
def catalogue(db, settings):
    """An archivist's film with a row in every table, and another film they cannot see."""
    # The token endpoint hashes every password it is sent: a fast hasher keeps that to microseconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from webapp.api.models import IdempotencyRecord
    from webapp.colour import services as colour
    from webapp.colour.models import GradeReference, Scene
    from webapp.live import services as live
    from webapp.notifications.services import notification_create
    from webapp.review.models import ApprovalPolicy

    archivist = UserFactory(username="fuzz-archivist")
    film = FilmFactory()
    members = {role: UserFactory() for role in ("creator", "restorer", "viewer")}
    MembershipFactory(user=archivist, film=film, role="archivist")
    for role, user in members.items():
        MembershipFactory(user=user, film=film, role=role)
    ApprovalPolicy.objects.create(film=film)
    scan = MediaAssetFactory(film=film)
    shots = [ShotFactory(film=film, number=n, start_frame=(n - 1) * 24, end_frame=n * 24 - 1, source=scan)
             for n in (1, 2)]
    draft = ShotVersionFactory(shot=shots[0], author=archivist)
    in_review = InReviewVersionFactory(shot=shots[1], author=members["restorer"])
    comment = CommentFactory(version=in_review, author=archivist, frame=3)
    decision = DecisionFactory(version=in_review, reviewer=members["creator"], role="creator")
    parent = RestorationJobFactory(film=film, kind="restore_batch")
    RestorationJobFactory(film=film, kind="restore", shot=shots[0], parent=parent)
    scene = Scene.objects.create(film=film, name="Opening", first_number=1, last_number=2, created_by=archivist)
    grade = colour.grade_create(values=colour.grade_values_check(LOOK), source="manual", author=archivist,
                                shot=shots[1])
    colour.grade_create(values=colour.grade_values_check(LOOK), source="manual", author=archivist, scene=scene)
    colour.grade_decision_record(grade=grade, reviewer=members["creator"], verdict="approve")
    colour.version_grade_record(version=in_review, grade=grade, mode="reviewed", user=archivist)
    GradeReference.objects.create(film=film, shot=shots[1], frame=0, version=in_review, grade=grade,
                                  created_by=archivist)
    session = live.session_create(film=film, created_by=archivist, title="Dailies", versions=[in_review])
    invite, _token = live.guest_invite_create(session=session, created_by=archivist, display_name="Guest")
    notification_create(recipient_ids=[archivist.pk], kind="mention", film_id=film.pk, text="A comment",
                        comment=comment, version=in_review)
    client = APIClient()
    client.force_authenticate(user=archivist)
    answer = client.post("/api/comments/", {"version": in_review.pk, "frame": 1, "text": "Kept"},
                         HTTP_IDEMPOTENCY_KEY="fuzz-1")
    assert answer.status_code == 201 and IdempotencyRecord.objects.exists()
    other_film = FilmFactory()
    ShotFactory(film=other_film, number=1)
    ids = {"film": film.pk, "shot": shots[1].pk, "version": in_review.pk, "comment": comment.pk,
           "decision": decision.pk, "job": parent.pk, "scene": scene.pk, "grade": grade.pk,
           "session": session.pk, "invite": invite.pk, "membership": archivist.memberships.get().pk,
           "policy": film.approval_policy.pk, "draft": draft.pk}
    return archivist, ids


# Which existing id replaces a generated one, by the path's resource.
RESOURCE_OF_PATH = {
    "films": "film", "memberships": "membership", "shots": "shot", "versions": "version", "comments": "comment",
    "decisions": "decision", "approval-policies": "policy", "jobs": "job", "scenes": "scene", "grades": "grade",
    "grade-decisions": "grade", "grade-references": "grade", "notifications": "comment", "sessions": "session",
}


def existing_ids(path: str, ids: dict[str, int]) -> dict[str, int]:
    resource = path.removeprefix("/api/").split("/", 1)[0]
    known = {"film_id": ids["film"], "invite_id": ids["invite"]}
    if resource in RESOURCE_OF_PATH:
        known["id"] = ids[RESOURCE_OF_PATH[resource]]
    return known


def load_schema():
    return schemathesis.openapi.from_wsgi("/api/schema/", in_test_transaction(get_wsgi_application()))


# Loaded once, at collection: the schema view reads no table.
SCHEMA = load_schema()
OPERATIONS = [operation.ok() for operation in SCHEMA.get_all_operations()]


def cases(operation):
    """Requests that fit the schema and requests that break it, in one stream."""
    return hypothesis.strategies.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                                        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_every_operation_answers_as_documented(operation, catalogue):
    archivist, ids = catalogue
    headers = {"Authorization": f"Token {Token.objects.get_or_create(user=archivist)[0].key}"}

    @hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink])
    @hypothesis.seed(SEED)
    @hypothesis.given(case=cases(operation))
    def answers_as_documented(case):
        if case.path_parameters and zlib.crc32(repr(sorted(case.path_parameters.items())).encode()) % 2 == 0:
            known = existing_ids(case.path, ids)
            case.path_parameters = {name: known.get(name, value) for name, value in case.path_parameters.items()}
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_as_documented()
