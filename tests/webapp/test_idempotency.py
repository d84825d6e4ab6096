"""Idempotency-Key on the writes clients retry (comments, decisions, jobs): a repeat gets the first
answer and creates nothing; a key reused for another request is a 422; one still running a 409;
a failure keeps nothing; keys are per user and expire after a day (webapp/api/idempotency.py)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.webapp import jobs_fixtures
from tests.webapp.factories import InReviewVersionFactory, ShotFactory
from webapp.api.idempotency import request_body_hash
from webapp.api.models import IdempotencyRecord, IdempotencyState
from webapp.api.services import idempotency_expired_delete
from webapp.jobs.models import RestorationJob
from webapp.jobs.sweeper import sweep
from webapp.review.models import Comment, Decision

pytestmark = pytest.mark.django_db

sent_messages = jobs_fixtures.sent_messages
shots = jobs_fixtures.shots

KEY = "5f0c6bb2-0d5e-4c55-9a43-2a3c1b8f7e10"


@pytest.fixture
def version(film):
    """A version in review of a 48-frame shot: frames 0..47."""
    return InReviewVersionFactory(shot=ShotFactory(film=film, number=1, status="in_review"), number=1)


@pytest.fixture
def viewer(film, member):
    return member(film, "viewer")


def post(client, url, body, key=KEY):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(url, body, format="json", **headers)


def comment_body(version, **fields):
    return {"version": version.pk, "frame": 3, "text": "Dust on the lens", **fields}


def record_for(body, *, user, key=KEY, path="/api/comments/", **fields):
    """A record as the first request with ``body`` left it (in progress unless fields say otherwise)."""
    now = timezone.now()
    values = {"method": "POST", "path": path, "request_hash": request_body_hash(body),
              "state": IdempotencyState.IN_PROGRESS, "locked_at": now, "created_at": now, **fields}
    return IdempotencyRecord.objects.create(user=user, key=key, **values)


# A repeat gets the first answer and creates nothing --------------------------------------------


def test_a_repeated_comment_gets_the_first_answer_and_creates_nothing(version, viewer, client_for):
    client = client_for(viewer)
    first = post(client, "/api/comments/", comment_body(version))
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first.headers
    again = post(client, "/api/comments/", comment_body(version))
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Comment.objects.count() == 1 and Comment.objects.get().pk == first.json()["id"]
    record = IdempotencyRecord.objects.get()
    assert (record.user, record.state, record.response_status) == (viewer, "completed", 201)


def test_a_repeat_is_recognised_whatever_the_keys_order_and_spacing_of_its_json(version, viewer, client_for):
    client = client_for(viewer)
    body = comment_body(version)
    first = client.post("/api/comments/", json.dumps(body), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=KEY)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = client.post("/api/comments/", reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    assert Comment.objects.count() == 1


def test_a_repeated_decision_gets_the_first_answer_and_records_one(version, film, member, client_for):
    client = client_for(member(film, "archivist"))
    body = {"version": version.pk, "verdict": "changes_requested", "note": "Too much grain removed"}
    first = post(client, "/api/decisions/", body)
    again = post(client, "/api/decisions/", body)
    assert (first.status_code, again.status_code) == (201, 201), first.content
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Decision.objects.count() == 1


def test_a_repeated_restore_job_gets_the_first_job_and_sends_one_message(
        film, member, client_for, shots, sent_messages, django_capture_on_commit_callbacks):
    client = client_for(member(film, "restorer"))
    body = {"shot": shots[0].pk, "preset": "clean"}
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, "/api/jobs/", body)
    with django_capture_on_commit_callbacks(execute=True):
        again = post(client, "/api/jobs/", body)
    assert (first.status_code, again.status_code) == (201, 201), first.content
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    job = RestorationJob.objects.get()
    assert first.json()["id"] == job.pk
    assert len(sent_messages) == 1


def test_a_repeated_film_restore_gets_the_first_batch(film, member, client_for, shots, sent_messages):
    client = client_for(member(film, "archivist"))
    body = {"shots": "all", "preset": "clean"}
    first = post(client, f"/api/films/{film.pk}/restore/", body)
    again = post(client, f"/api/films/{film.pk}/restore/", body)
    assert (first.status_code, again.status_code) == (202, 202), first.content
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert RestorationJob.objects.filter(kind="restore_batch").count() == 1
    assert RestorationJob.objects.filter(kind="restore").count() == len(shots)


def test_without_the_header_every_post_creates_as_before(version, viewer, client_for):
    client = client_for(viewer)
    responses = [post(client, "/api/comments/", comment_body(version), key=None) for _ in range(2)]
    assert [response.status_code for response in responses] == [201, 201]
    assert not any("Idempotent-Replayed" in response.headers for response in responses)
    assert Comment.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


# A key is one request: another body or path is a 422 --------------------------------------------


def test_the_same_key_with_another_body_is_a_422_and_creates_nothing(version, viewer, client_for):
    client = client_for(viewer)
    assert post(client, "/api/comments/", comment_body(version)).status_code == 201
    response = post(client, "/api/comments/", comment_body(version, text="Another note"))
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "different request body" in response.json()["detail"]
    assert list(Comment.objects.values_list("text", flat=True)) == ["Dust on the lens"]


def test_the_same_key_on_another_path_is_a_422_naming_both(version, film, member, client_for):
    client = client_for(member(film, "archivist"))
    assert post(client, "/api/comments/", comment_body(version)).status_code == 201
    response = post(client, "/api/decisions/", {"version": version.pk, "verdict": "approve"})
    assert response.status_code == 422
    assert "POST /api/comments/" in response.json()["detail"] and "/api/decisions/" in response.json()["detail"]
    assert not Decision.objects.exists()


# Keys are checked, and per user ------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, words",
    [
        ("", "the key is empty"),
        ("   ", "the key is empty"),
        ("k" * 256, "256 characters; at most 255"),
        ("clé-1", "character 3 ('é') is not printable ASCII"),
        ("tab\there", "character 4 ('\\t') is not printable ASCII"),
    ],
)
def test_a_malformed_key_is_a_400_naming_the_problem(version, viewer, client_for, key, words):
    response = post(client_for(viewer), "/api/comments/", comment_body(version), key=key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"].startswith("Idempotency-Key: ") and words in response.json()["detail"]
    assert not Comment.objects.exists() and not IdempotencyRecord.objects.exists()


def test_the_longest_key_and_the_drafts_quoted_form_are_accepted(version, viewer, client_for):
    client = client_for(viewer)
    longest = "k" * 255
    assert post(client, "/api/comments/", comment_body(version), key=longest).status_code == 201
    assert post(client, "/api/comments/", comment_body(version), key=f'"{KEY}"').status_code == 201
    quoted_again = post(client, "/api/comments/", comment_body(version), key=KEY)
    assert quoted_again.headers.get("Idempotent-Replayed") == "true"  # "abc" and abc are one key
    assert Comment.objects.count() == 2
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {longest, KEY}


def test_another_users_same_key_is_independent(version, film, viewer, member, client_for):
    other = member(film, "creator")
    first = post(client_for(viewer), "/api/comments/", comment_body(version))
    theirs = post(client_for(other), "/api/comments/", comment_body(version))
    assert (first.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"]
    assert sorted(Comment.objects.values_list("author__username", flat=True)) == sorted(
        [viewer.username, other.username])
    # And another body under the same key is no 422 for them: their key is theirs.
    assert post(client_for(other), "/api/comments/", comment_body(version, text="x")).status_code == 422
    assert post(client_for(member(film, "restorer")), "/api/comments/",
                comment_body(version, text="x")).status_code == 201


# A failure keeps nothing, so a (corrected) retry with the same key runs -----------------------


def test_a_refused_request_keeps_no_key_and_the_corrected_retry_with_it_runs(version, viewer, client_for):
    client = client_for(viewer)
    refused = post(client, "/api/comments/", comment_body(version, frame=48))
    assert refused.status_code == 400 and "frame" in refused.json()["fields"]
    assert not IdempotencyRecord.objects.exists() and not Comment.objects.exists()
    corrected = post(client, "/api/comments/", comment_body(version, frame=47))
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers
    again = post(client, "/api/comments/", comment_body(version, frame=47))
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == corrected.json()
    assert Comment.objects.count() == 1


def test_a_forbidden_decision_keeps_no_key_and_runs_once_the_role_allows_it(version, film, member, client_for):
    from webapp.catalogue.models import Membership

    user = member(film, "viewer")
    client = client_for(user)
    body = {"version": version.pk, "verdict": "approve"}
    assert post(client, "/api/decisions/", body).status_code == 403
    assert not IdempotencyRecord.objects.exists()
    Membership.objects.filter(user=user, film=film).update(role="archivist")
    response = post(client, "/api/decisions/", body)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert Decision.objects.get().reviewer == user


def test_a_crash_rolls_back_the_rows_and_the_key_and_a_retry_runs(version, viewer, client_for, monkeypatch):
    from webapp.review import services

    client = client_for(viewer)

    def broken(*, comment):
        raise RuntimeError("notifications are down")

    monkeypatch.setattr(services, "notify_comment", broken)
    with pytest.raises(RuntimeError):
        post(client, "/api/comments/", comment_body(version))
    assert not Comment.objects.exists() and not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    retry = post(client, "/api/comments/", comment_body(version))
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert Comment.objects.count() == 1


# In flight: 409; a silent holder is taken over ------------------------------------------------------


def test_a_repeat_while_the_first_is_in_flight_is_a_409(version, viewer, client_for):
    body = comment_body(version)
    record_for(body, user=viewer)
    response = post(client_for(viewer), "/api/comments/", body)
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"
    assert "still being processed" in response.json()["detail"]
    assert not Comment.objects.exists()
    assert IdempotencyRecord.objects.get().state == "in_progress"  # still the first request's


def test_a_key_whose_request_went_silent_is_taken_over(version, viewer, client_for, settings):
    body = comment_body(version)
    silent = record_for(body, user=viewer,
                        locked_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT_S + 1))
    response = post(client_for(viewer), "/api/comments/", body)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    silent.refresh_from_db()
    assert (silent.state, silent.response_body["id"]) == ("completed", Comment.objects.get().pk)


# Expiry ------------------------------------------------------------------------------------------


def test_expired_keys_are_deleted_by_the_sweep(version, viewer, client_for, settings):
    now = timezone.now()
    day = timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_S)
    body = comment_body(version)
    done = {"state": "completed", "locked_at": None, "response_status": 201, "response_body": {}}
    old = record_for(body, user=viewer, key="old", created_at=now - day - timedelta(minutes=1), **done)
    recent = record_for(body, user=viewer, key="recent", created_at=now - day + timedelta(seconds=10), **done)
    held = record_for(body, user=viewer, key="held", created_at=now - day - timedelta(hours=1))  # running now
    abandoned = record_for(body, user=viewer, key="abandoned", created_at=now - day - timedelta(hours=1),
                           locked_at=now - day)
    assert idempotency_expired_delete(now=now) == 2
    assert set(IdempotencyRecord.objects.values_list("pk", flat=True)) == {recent.pk, held.pk}
    assert not IdempotencyRecord.objects.filter(pk__in=[old.pk, abandoned.pk]).exists()
    assert sweep(now=now + timedelta(seconds=20)).idempotency_keys_expired == 1  # recent's day is over
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [held.pk]


def test_an_expired_key_not_yet_swept_is_a_new_request(version, viewer, client_for, settings):
    body = comment_body(version)
    record_for(body, user=viewer, state="completed", locked_at=None, response_status=201,
               response_body={"id": -1}, created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_S + 1))
    response = post(client_for(viewer), "/api/comments/", body)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert response.json()["id"] == Comment.objects.get().pk
    assert IdempotencyRecord.objects.get().response_body["id"] == response.json()["id"]


# Real concurrency (PostgreSQL: SQLite serialises every writer anyway) ----------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_on_postgresql_create_one_comment(version, viewer, client_for, settings, monkeypatch):
    """A repeat while the first runs is a 409; one whose lease ran out waits on the first's row
    lock and then gets its answer: never a second comment."""
    from webapp.review import services

    assert connection.vendor == "postgresql"
    inside, release = threading.Event(), threading.Event()
    create = services.comment_create

    def slow_create(**kwargs):
        inside.set()
        release.wait(timeout=10)
        return create(**kwargs)

    monkeypatch.setattr(services, "comment_create", slow_create)
    body = comment_body(version)
    answers = {}

    def send(name):
        try:
            answers[name] = post(client_for(viewer), "/api/comments/", body)
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert inside.wait(timeout=10)
    send("in_flight")
    settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT_S = 0  # the first now looks silent: the next one tries to take over
    takeover = threading.Thread(target=send, args=("takeover",))
    takeover.start()
    takeover.join(timeout=1)
    assert takeover.is_alive()  # waiting for the first request's lock on the key
    release.set()
    for thread in (first, takeover):
        thread.join(timeout=10)
    assert answers["first"].status_code == 201, answers["first"].content
    assert answers["in_flight"].status_code == 409
    assert answers["takeover"].status_code == 201
    assert answers["takeover"].headers.get("Idempotent-Replayed") == "true"
    assert answers["takeover"].json() == answers["first"].json()
    assert Comment.objects.count() == 1
