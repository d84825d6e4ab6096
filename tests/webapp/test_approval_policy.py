"""The film's approval policy: which roles must approve, evaluated against the film's members at
decision time and recorded with each decision; a required role nobody holds passes nothing."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from tests.webapp.factories import InReviewVersionFactory, ShotFactory
from webapp.catalogue.models import Membership, Shot
from webapp.review.models import ApprovalPolicy, ApprovalPolicyChange, Decision
from webapp.review.policy import approval_requirement

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(film):
    return InReviewVersionFactory(shot=ShotFactory(film=film, number=1, status="in_review"), number=1)


def decide(client, version, verdict="approve"):
    response = client.post("/api/decisions/", {"version": version.pk, "verdict": verdict})
    assert response.status_code == 201, response.content
    return response


def shot_state(version):
    shot = Shot.objects.get(pk=version.shot_id)
    return shot.status, shot.approved_version_id


def test_by_default_archivist_and_creator_are_required(film, member):
    archivist, creator = member(film, "archivist"), member(film, "creator")
    member(film, "restorer")
    requirement = approval_requirement(film_id=film.pk)
    assert requirement.roles == {"archivist", "creator"} and requirement.unfilled_roles == set()
    assert requirement.members_record() == {"archivist": [archivist.pk], "creator": [creator.pk]}


def test_a_film_without_a_creator_member_passes_nothing_until_one_joins(film, member, client_for, version):
    archivist = member(film, "archivist")
    member(film, "viewer")
    decide(client_for(archivist), version)
    assert shot_state(version) == ("in_review", None)  # the creator role is unfilled: not skipped
    body = client_for(archivist).get("/api/decisions/summary/", {"version": version.pk}).json()
    assert (body["required_roles"], body["unfilled_roles"]) == (["archivist", "creator"], ["creator"])
    creator = member(film, "creator")
    assert shot_state(version) == ("in_review", None)  # joining decides nothing by itself
    decide(client_for(creator), version)
    assert shot_state(version) == ("approved", version.pk)


def test_once_a_creator_joins_their_approval_is_needed_too(film, member, client_for, version):
    archivist = member(film, "archivist")
    creator = member(film, "creator")
    decide(client_for(archivist), version)
    assert shot_state(version) == ("in_review", None)
    decide(client_for(creator), version)
    assert shot_state(version) == ("approved", version.pk)


def test_a_policy_can_require_only_the_creator(film, member, client_for, version):
    ApprovalPolicy.objects.create(film=film, archivist_required=False, creator_required=True)
    archivist, creator = member(film, "archivist"), member(film, "creator")
    decide(client_for(archivist), version)
    assert shot_state(version) == ("in_review", None)  # the archivist's approval is not the one needed
    decide(client_for(creator), version)
    assert shot_state(version) == ("approved", version.pk)


def test_a_policy_requiring_only_an_absent_role_passes_nothing(film, member, client_for, version):
    ApprovalPolicy.objects.create(film=film, archivist_required=False, creator_required=True)
    archivist = member(film, "archivist")
    assert approval_requirement(film_id=film.pk).unfilled_roles == {"creator"}
    decide(client_for(archivist), version)
    assert shot_state(version) == ("in_review", None)


def test_a_policy_must_require_some_role(film):
    with pytest.raises(IntegrityError):
        ApprovalPolicy.objects.create(film=film, archivist_required=False, creator_required=False)


def test_summary_shows_current_verdicts_and_who_may_decide(film, member, client_for, version, other_film):
    archivist, creator, viewer = member(film, "archivist"), member(film, "creator"), member(film, "viewer")
    decide(client_for(archivist), version, "changes_requested")
    decide(client_for(archivist), version, "approve")

    body = client_for(creator).get("/api/decisions/summary/", {"version": version.pk}).json()
    assert body["required_roles"] == ["archivist", "creator"]
    assert [(d["reviewer_username"], d["verdict"]) for d in body["current"]] == [(archivist.username, "approve")]
    assert (body["my_role"], body["can_decide"], body["reason"]) == ("creator", True, "")

    body = client_for(viewer).get("/api/decisions/summary/", {"version": version.pk}).json()
    assert body["can_decide"] is False and "your role on this film is viewer" in body["reason"]

    decide(client_for(creator), version)
    body = client_for(creator).get("/api/decisions/summary/", {"version": version.pk}).json()
    assert body["status"] == "approved" and "this one is approved" in body["reason"]

    stranger = member(other_film, "archivist")
    assert client_for(stranger).get("/api/decisions/summary/", {"version": version.pk}).status_code == 404
    response = client_for(creator).get("/api/decisions/summary/", {"version": "seven"})
    assert response.status_code == 400 and "version" in response.json()["fields"]


def test_archivists_set_the_policy_through_the_api_and_waiting_versions_follow(film, member, client_for, version):
    archivist, creator, viewer = member(film, "archivist"), member(film, "creator"), member(film, "viewer")
    decide(client_for(archivist), version)
    assert shot_state(version) == ("in_review", None)  # the creator has not approved

    response = client_for(creator).post("/api/approval-policies/", {"film": film.pk, "creator_required": False})
    assert response.status_code == 403  # deciding is not configuring
    response = client_for(archivist).post("/api/approval-policies/", {"film": film.pk, "creator_required": False})
    assert response.status_code == 201, response.content
    assert response.json()["required_roles"] == ["archivist"]
    # The archivist's recorded approval is now enough: the waiting version is approved at once,
    # and the change is recorded with who made it, who held the roles and what it decided.
    assert shot_state(version) == ("approved", version.pk)
    change = ApprovalPolicyChange.objects.get(film=film)
    assert (change.changed_by_id, change.archivist_required, change.creator_required) == (archivist.pk, True, False)
    assert change.required_members == {"archivist": [archivist.pk]}
    assert change.decided == [{"version": version.pk, "status": "approved"}]
    rows = client_for(viewer).get("/api/approval-policies/changes/", {"film": film.pk}).json()["results"]
    assert [(row["changed_by_username"], row["decided"]) for row in rows] == [
        (archivist.username, [{"version": version.pk, "status": "approved"}])
    ]

    policy_id = response.json()["id"]
    listed = client_for(viewer).get("/api/approval-policies/", {"film": film.pk}).json()["results"]
    assert [row["id"] for row in listed] == [policy_id]
    response = client_for(archivist).patch(f"/api/approval-policies/{policy_id}/", {"archivist_required": False})
    assert response.status_code == 400 and "At least one role" in response.json()["detail"]
    response = client_for(archivist).post("/api/approval-policies/", {"film": film.pk})
    assert response.status_code == 400 and "already has a policy" in response.json()["detail"]
    response = client_for(viewer).get("/api/approval-policies/changes/", {"film": 10**30})
    assert response.status_code == 400 and "film" in response.json()["detail"]


def test_another_films_policy_is_not_found(film, member, client_for, other_film):
    ApprovalPolicy.objects.create(film=film, creator_required=False)
    stranger = client_for(member(other_film, "archivist"))
    policy = ApprovalPolicy.objects.get(film=film)
    assert stranger.get(f"/api/approval-policies/{policy.pk}/").status_code == 404
    assert stranger.patch(f"/api/approval-policies/{policy.pk}/", {"creator_required": True}).status_code == 404
    response = stranger.post("/api/approval-policies/", {"film": film.pk, "creator_required": False})
    assert response.status_code == 400 and "does not exist" in response.json()["detail"]


# Dodging the policy through memberships ----------------------------------------------------------


def test_removing_the_creator_does_not_let_the_archivist_approve_alone(film, member, client_for, version):
    archivist, creator = member(film, "archivist"), member(film, "creator")
    archivist_client = client_for(archivist)
    membership = Membership.objects.get(film=film, user=creator)
    assert archivist_client.delete(f"/api/memberships/{membership.pk}/").status_code == 204
    decide(archivist_client, version)
    assert shot_state(version) == ("in_review", None)
    decision = Decision.objects.get(version=version)
    assert decision.required_roles == ["archivist", "creator"]
    assert decision.required_members == {"archivist": [archivist.pk], "creator": []}
    assert decision.outcome == "in_review"
    # The creator comes back: still pending until they decide.
    Membership.objects.create(film=film, user=creator, role="creator")
    assert shot_state(version) == ("in_review", None)
    decide(client_for(creator), version)
    assert shot_state(version) == ("approved", version.pk)
    last = Decision.objects.filter(version=version).latest("id")
    assert (last.outcome, last.required_members["creator"]) == ("approved", [creator.pk])


def test_demoting_the_creator_does_not_let_the_archivist_approve_alone(film, member, client_for, version):
    archivist, creator = member(film, "archivist"), member(film, "creator")
    membership = Membership.objects.get(film=film, user=creator)
    response = client_for(archivist).patch(f"/api/memberships/{membership.pk}/", {"role": "viewer"})
    assert response.status_code == 200
    decide(client_for(archivist), version)
    assert shot_state(version) == ("in_review", None)


def test_a_removed_creators_approval_no_longer_counts(film, member, client_for, version):
    archivist, creator, other_creator = member(film, "archivist"), member(film, "creator"), member(film, "creator")
    decide(client_for(creator), version)
    Membership.objects.filter(film=film, user=creator).delete()
    decide(client_for(archivist), version)
    # A creator (the other one) holds the role, but no creator member approved.
    assert shot_state(version) == ("in_review", None)
    decide(client_for(other_creator), version)
    assert shot_state(version) == ("approved", version.pk)


def test_an_approval_reached_stays_as_recorded_when_members_change(film, member, client_for, version):
    archivist, creator = member(film, "archivist"), member(film, "creator")
    decide(client_for(archivist), version)
    decide(client_for(creator), version)
    assert shot_state(version) == ("approved", version.pk)
    Membership.objects.filter(film=film, user=creator).delete()
    Membership.objects.create(film=film, user=creator, role="creator")
    assert shot_state(version) == ("approved", version.pk)
    assert list(Decision.objects.filter(version=version).values_list("outcome", flat=True)) == [
        "in_review", "approved"
    ]
