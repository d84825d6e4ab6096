"""A version's life in review as reviewers expect it: changes requested (version and shot), a newer
version superseding the older one (kept, viewable, out of new session playlists), the change
request (note, frame, drawing) carried to the next version's panel, and a reopen by the policy's
deciders, with a reason, that undoes an approval."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.webapp.factories import DecisionFactory, InReviewVersionFactory, ShotFactory, ShotVersionFactory
from webapp.catalogue.models import Shot, ShotVersion
from webapp.live.selectors import versions_awaiting_review
from webapp.notifications.models import Notification
from webapp.review.models import ApprovalPolicy, Decision

pytestmark = pytest.mark.django_db

RECT = [{"type": "rect", "x": 0.1, "y": 0.2, "w": 0.3, "h": 0.25, "colour": "#ff3b30"}]


@pytest.fixture
def shot(film):
    return ShotFactory(film=film, number=1, status="in_review")


@pytest.fixture
def v1(shot):
    return InReviewVersionFactory(shot=shot, number=1)


@pytest.fixture
def people(film, member, client_for):
    users = {role: member(film, role) for role in ("archivist", "creator", "restorer")}
    return {role: (user, client_for(user)) for role, user in users.items()}


def decide(people, role, version, verdict, note="", **extra):
    return people[role][1].post("/api/decisions/", {"version": version.pk, "verdict": verdict, "note": note, **extra},
                                format="json")


def publish_next(people, shot) -> ShotVersion:
    """The restorer's next version of the shot, published through the API."""
    draft = ShotVersionFactory(shot=shot, number=shot.versions.count() + 1)
    response = people["restorer"][1].post(f"/api/versions/{draft.pk}/publish/")
    assert response.status_code == 200, response.content
    return ShotVersion.objects.get(pk=draft.pk)


def statuses(*versions):
    return [ShotVersion.objects.get(pk=v.pk).status for v in versions]


def shot_state(shot):
    shot = Shot.objects.get(pk=shot.pk)
    return shot.status, shot.approved_version_id


def summary(people, role, version):
    response = people[role][1].get("/api/decisions/summary/", {"version": version.pk})
    assert response.status_code == 200, response.content
    return response.json()


# Request changes ---------------------------------------------------------------------------


def test_request_changes_sets_version_and_shot_and_the_deciders_may_still_change_their_minds(shot, v1, people):
    response = decide(people, "creator", v1, "changes_requested", "Sky too cyan", frame=12, drawing=RECT)
    assert response.status_code == 201, response.content
    assert (response.json()["frame"], response.json()["drawing"]) == (12, RECT)
    assert statuses(v1) == ["changes_requested"] and shot_state(shot) == ("changes_requested", None)
    assert summary(people, "archivist", v1)["can_decide"] is True  # still open for decisions
    # The creator withdraws the request: both approve and the version is approved after all.
    assert decide(people, "creator", v1, "approve").status_code == 201
    assert statuses(v1) == ["in_review"] and shot_state(shot) == ("in_review", None)
    assert decide(people, "archivist", v1, "approve").status_code == 201
    assert statuses(v1) == ["approved"] and shot_state(shot) == ("approved", v1.pk)


@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"frame": 48}, "frame", "outside the shot"),
    ({"drawing": RECT}, "drawing", "needs the frame"),
    ({"frame": 3, "drawing": [{"type": "rect", "x": 2}]}, "drawing", "Invalid drawing"),
])
def test_a_change_requests_frame_and_drawing_are_checked(v1, people, extra, field, message):
    response = decide(people, "creator", v1, "changes_requested", "here", **extra)
    assert response.status_code == 400 and message in str(response.json()["fields"][field]), response.content
    assert not Decision.objects.exists() and statuses(v1) == ["in_review"]


# Superseded --------------------------------------------------------------------------------


def test_a_newer_version_in_review_supersedes_the_open_one_which_stays_viewable(shot, v1, people):
    decide(people, "creator", v1, "changes_requested", "Sky too cyan")
    v2 = publish_next(people, shot)
    assert statuses(v1, v2) == ["superseded", "in_review"] and shot_state(shot) == ("in_review", None)
    # Kept and viewable, with its decisions, but no longer decided on.
    assert people["creator"][1].get(f"/api/versions/{v1.pk}/").json()["status"] == "superseded"
    assert summary(people, "archivist", v1)["can_decide"] is False
    response = decide(people, "archivist", v1, "approve")
    assert response.status_code == 400 and "newer version" in response.json()["fields"]["version"][0]
    assert Decision.objects.filter(version=v1).count() == 1
    listed = people["creator"][1].get("/api/versions/", {"shot": shot.pk, "status": "superseded"}).json()
    assert [row["id"] for row in listed["results"]] == [v1.pk]


def test_a_decided_version_keeps_its_verdict_when_a_newer_one_arrives(shot, v1, people):
    decide(people, "creator", v1, "approve")
    decide(people, "archivist", v1, "approve")
    v2 = publish_next(people, shot)
    assert statuses(v1, v2) == ["approved", "in_review"]
    assert shot_state(shot) == ("approved", v1.pk)  # the shot keeps its approved version meanwhile


def test_superseded_versions_are_out_of_a_new_sessions_playlist_but_may_be_added(film, shot, v1, people):
    v2 = publish_next(people, shot)
    other = InReviewVersionFactory(shot=ShotFactory(film=film, number=2), number=1)
    assert versions_awaiting_review(film=film, limit=50) == [v2, other]
    response = people["archivist"][1].post("/api/sessions/", {"film": film.pk, "title": "Both", "versions": [v1.pk, v2.pk]},
                                           format="json")
    assert response.status_code == 201, response.content
    assert response.json()["playlist"] == [v1.pk, v2.pk]


# The change request carried to the next version ----------------------------------------------


def test_the_next_versions_panel_carries_the_standing_change_requests(shot, v1, people, member, client_for,
                                                                      other_film):
    decide(people, "creator", v1, "changes_requested", "Sky too cyan", frame=12, drawing=RECT)
    decide(people, "archivist", v1, "changes_requested", "Withdrawn later")
    decide(people, "archivist", v1, "approve")  # this reviewer changed their mind: not carried
    v2 = publish_next(people, shot)
    carried = summary(people, "restorer", v2)["changes_requested_on"]
    assert (carried["version"], carried["number"]) == (v1.pk, 1)
    assert [(r["note"], r["frame"], r["drawing"], r["reviewer_username"]) for r in carried["requests"]] == [
        ("Sky too cyan", 12, RECT, people["creator"][0].username)]
    assert summary(people, "restorer", v1)["changes_requested_on"] is None  # nothing before v1
    # A third version answers the second, which had no change request.
    v3 = publish_next(people, shot)
    assert summary(people, "restorer", v3)["changes_requested_on"] is None
    # Another film's member does not see the version at all.
    outsider = client_for(member(other_film, "archivist"))
    assert outsider.get("/api/decisions/summary/", {"version": v2.pk}).status_code == 404


# Reopen ------------------------------------------------------------------------------------


def approve_both(people, version):
    for role in ("creator", "archivist"):
        assert decide(people, role, version, "approve").status_code == 201


def test_reopening_an_approval_puts_the_version_back_in_review_and_clears_the_shots_approval(shot, v1, people):
    restorer = people["restorer"][0]
    ShotVersion.objects.filter(pk=v1.pk).update(author=restorer)  # who hears of the reopen
    approve_both(people, v1)
    assert summary(people, "creator", v1)["can_reopen"] is True
    response = decide(people, "creator", v1, "reopen", "The sky flickers at the cut after all")
    assert response.status_code == 201, response.content
    assert statuses(v1) == ["in_review"] and shot_state(shot) == ("in_review", None)
    panel = summary(people, "archivist", v1)
    assert panel["current"] == [] and panel["can_decide"] is True and panel["can_reopen"] is False
    # The earlier approvals are set aside: it takes both approvals again.
    assert decide(people, "archivist", v1, "approve").status_code == 201
    assert statuses(v1) == ["in_review"]
    assert decide(people, "creator", v1, "approve").status_code == 201
    assert statuses(v1) == ["approved"] and shot_state(shot) == ("approved", v1.pk)
    reopened = [(n.recipient_id, n.text) for n in Notification.objects.filter(decision__verdict="reopen")]
    assert len(reopened) == 1 and reopened[0][0] == restorer.pk and "reopened your" in reopened[0][1]


def test_reopening_a_rejection(shot, v1, people):
    decide(people, "archivist", v1, "reject", "Too soft")
    assert shot_state(shot) == ("rejected", None)
    assert decide(people, "archivist", v1, "reopen", "Softness is the lens, not the restoration").status_code == 201
    assert statuses(v1) == ["in_review"] and shot_state(shot) == ("in_review", None)


def test_a_reopen_falls_back_to_the_shots_other_approved_version(shot, v1, people):
    approve_both(people, v1)
    v2 = publish_next(people, shot)
    approve_both(people, v2)
    assert shot_state(shot) == ("approved", v2.pk)
    assert decide(people, "archivist", v2, "reopen", "Wrong grade on v2").status_code == 201
    assert shot_state(shot) == ("approved", v1.pk)


@pytest.mark.parametrize(("verdict_first", "note", "field", "message"), [
    (None, "why", "verdict", "Only an approved or rejected version can be reopened"),  # still in review
    ("approve", "", "note", "needs a reason"),
    ("approve", "   ", "note", "needs a reason"),
])
def test_a_reopen_needs_a_reason_and_a_closed_version(v1, people, verdict_first, note, field, message):
    if verdict_first:
        approve_both(people, v1)
    before = Decision.objects.count()
    response = decide(people, "archivist", v1, "reopen", note)
    assert response.status_code == 400 and message in str(response.json()["fields"][field]), response.content
    assert Decision.objects.count() == before


def test_a_reopen_is_for_the_required_deciders_only(film, shot, v1, people):
    ApprovalPolicy.objects.create(film=film, archivist_required=True, creator_required=False)
    decide(people, "archivist", v1, "approve")
    assert statuses(v1) == ["approved"]
    assert summary(people, "creator", v1)["can_reopen"] is False
    response = decide(people, "creator", v1, "reopen", "I disagree")
    assert response.status_code == 403 and "archivist" in response.json()["detail"]
    assert decide(people, "restorer", v1, "reopen", "Me too").status_code == 403
    assert statuses(v1) == ["approved"] and shot_state(shot) == ("approved", v1.pk)


def test_no_reopen_while_a_newer_version_waits_and_never_of_a_frame(shot, v1, people):
    decide(people, "archivist", v1, "reject")
    v2 = publish_next(people, shot)
    assert summary(people, "archivist", v1)["can_reopen"] is False
    response = decide(people, "archivist", v1, "reopen", "Back to v1")
    assert response.status_code == 400 and "v2 of this shot is in review" in response.json()["fields"]["version"][0]
    decide(people, "archivist", v2, "reject")
    response = decide(people, "archivist", v1, "reopen", "Back to v1", frame=3)
    assert response.status_code == 400 and "whole version" in response.json()["fields"]["frame"][0]


def test_the_database_refuses_a_reopen_without_a_reason_and_a_drawing_without_a_frame(v1):
    with transaction.atomic(), pytest.raises(IntegrityError):
        DecisionFactory(version=v1, verdict="reopen", note="")
    with transaction.atomic(), pytest.raises(IntegrityError):
        DecisionFactory(version=v1, verdict="changes_requested", drawing=RECT, frame=None)


# The film page -------------------------------------------------------------------------------


def test_the_film_page_filters_shots_by_each_status(film, shot, v1, people, client):
    decide(people, "creator", v1, "changes_requested", "Sky too cyan")
    ShotFactory(film=film, number=2, status="in_review")
    client.force_login(people["creator"][0])
    page = client.get(f"/films/{film.pk}/", {"status": "changes_requested"}).content.decode()
    assert 'data-status="changes_requested"' in page and "Changes requested" in page
    assert f'data-shot-id="{shot.pk}"' in page and 'data-number="2"' not in page
