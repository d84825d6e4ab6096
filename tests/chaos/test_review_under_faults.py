"""Review writes while Redis is down: comments and decisions are stored and answered 201 (their
live events and notifications are best effort), and a client that retries with its
Idempotency-Key (its first answer lost) gets that answer again, with no second row."""

from __future__ import annotations

import time

import pytest

from tests.webapp.factories import InReviewVersionFactory, ShotFactory
from webapp.review.models import Comment, Decision

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]


def test_comments_and_decisions_posted_while_redis_is_down_are_stored_once_through_retries(
        film, film_members, client_for, redis_server, recovery):
    version = InReviewVersionFactory(shot=ShotFactory(film=film, number=1, status="in_review"), number=1)
    writes = [
        ("/api/comments/", film_members["viewer"], {"version": version.pk, "frame": 3, "text": "Dust at the top"},
         Comment),
        ("/api/decisions/", film_members["creator"],
         {"version": version.pk, "verdict": "changes_requested", "note": "Too much grain removed"}, Decision),
    ]
    redis_server.stop()
    for url, user, body, model in writes:
        client = client_for(user)
        key = f"chaos-{url.strip('/').replace('/', '-')}"
        started = time.monotonic()
        first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        answered_s = time.monotonic() - started
        assert first.status_code == 201, first.content
        again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)  # the answer was lost: sent again
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"] and model.objects.count() == 1
        recovery(f"POST {url} while Redis is down", answered_s, measured="time to answer 201", retry="replayed")
    redis_server.start()
