"""Rate limits: writes of comments, decisions and jobs per user (reads never), and guest links that
open nothing per address. Clocks are fixed by the tests: no timing."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.throttling import SimpleRateThrottle

from tests.webapp import live_fixtures
from tests.webapp.factories import InReviewVersionFactory, ShotFactory
from webapp.api.throttling import GuestJoinThrottle, WriteRateThrottle
from webapp.live import services as live_services
from webapp.review.models import Comment

pytestmark = pytest.mark.django_db
scene = live_fixtures.scene


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self, _throttle=None) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(SimpleRateThrottle, "timer", clock)
    return clock


@pytest.fixture
def small_rates(monkeypatch, clock):
    monkeypatch.setattr(WriteRateThrottle, "THROTTLE_RATES", {"comments": "3/min", "decisions": "3/min", "jobs": "3/min"})


def test_the_configured_rates_leave_room_for_normal_use(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    for scope in ("comments", "decisions", "jobs"):
        number, duration = SimpleRateThrottle.parse_rate(None, rates[scope])
        assert number / duration * 60 >= 60, scope  # at least one a second, sustained for a minute


def test_comments_past_the_rate_are_429_and_write_nothing(film, member, client_for, small_rates, clock):
    version = InReviewVersionFactory(shot=ShotFactory(film=film))
    viewer, other = member(film, "viewer"), member(film, "viewer")
    client = client_for(viewer)
    answers = [client.post("/api/comments/", {"version": version.pk, "frame": 0, "text": f"note {n}"}).status_code
               for n in range(4)]
    assert answers == [201, 201, 201, 429]
    response = client.post("/api/comments/", {"version": version.pk, "frame": 0, "text": "one more"})
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    assert Comment.objects.count() == 3
    assert client.get("/api/comments/").status_code == 200  # reading is never throttled
    assert client_for(other).post("/api/comments/", {"version": version.pk, "frame": 0, "text": "mine"}).status_code == 201
    clock.now += 61  # a minute later the user writes again
    assert client.post("/api/comments/", {"version": version.pk, "frame": 0, "text": "later"}).status_code == 201


@pytest.mark.parametrize("role, path", [
    ("archivist", "/api/decisions/"),
    ("restorer", "/api/jobs/"),
    ("restorer", "/api/films/{film}/analyse/"),
])
def test_decision_and_job_writes_are_throttled_per_user(film, member, client_for, small_rates, role, path):
    client = client_for(member(film, role))
    url = path.format(film=film.pk)
    answers = [client.post(url, {}).status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]  # counted before the body is read
    assert client.get("/api/jobs/").status_code == 200


def test_scopes_are_counted_apart(film, member, client_for, small_rates):
    client = client_for(member(film, "archivist"))
    for _ in range(3):
        client.post("/api/decisions/", {})
    assert client.post("/api/decisions/", {}).status_code == 429
    assert client.post("/api/jobs/", {}).status_code == 400


class UnreachableCache:
    """What Django's Redis cache does while Redis is down."""

    def get(self, *args, **kwargs):
        raise RedisConnectionError("Connection refused")

    set = get


def test_writes_go_through_while_the_limits_cache_is_unreachable(film, member, client_for, small_rates,
                                                                 monkeypatch, scene, client):
    monkeypatch.setattr(SimpleRateThrottle, "cache", UnreachableCache())
    version = InReviewVersionFactory(shot=ShotFactory(film=film))
    writer = client_for(member(film, "viewer"))
    answers = [writer.post("/api/comments/", {"version": version.pk, "frame": 0, "text": f"n{n}"}).status_code
               for n in range(4)]
    assert answers == [201] * 4  # unlimited while Redis is down, rather than refused
    assert _join(client, "guess", "10.6.0.1").status_code == 404
    _invite, token = live_services.guest_invite_create(session=scene.session, created_by=scene.host, display_name="Cy")
    assert _join(client, token, "10.6.0.1").status_code == 200


# ---- guest links ----


def _join(client, token: str, address: str):
    return client.get(f"/sessions/join/{token}/", REMOTE_ADDR=address)


def test_links_that_open_nothing_lock_the_address_out_for_a_while(scene, client, clock):
    assert GuestJoinThrottle().rate == "20/hour"
    for n in range(20):
        assert _join(client, f"guess-{n}", "10.7.0.1").status_code == 404
    response = client.post("/sessions/join/guess-x/", REMOTE_ADDR="10.7.0.1")
    assert response.status_code == 429
    assert b"Too many links tried from your address" in response.content
    assert 0 < int(response["Retry-After"]) <= 3600
    assert not client.session.get("_auth_user_id")
    clock.now += 3601  # the oldest failures have left the hour
    assert _join(client, "guess-y", "10.7.0.1").status_code == 404


def test_a_locked_address_is_refused_even_a_real_link_and_other_addresses_are_not(scene, client, clock):
    _invite, token = live_services.guest_invite_create(session=scene.session, created_by=scene.host,
                                                       display_name="Bo")
    for n in range(20):
        _join(client, f"guess-{n}", "10.8.0.1")
    assert _join(client, token, "10.8.0.1").status_code == 429
    assert _join(client, token, "10.8.0.2").status_code == 200
    for _ in range(25):  # opening a real link is no failure
        assert _join(client, token, "10.8.0.3").status_code == 200
    assert client.post(f"/sessions/join/{token}/", REMOTE_ADDR="10.8.0.3").status_code == 302
