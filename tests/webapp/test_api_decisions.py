"""Decisions: append-only verdicts with the reviewer's role, and the default approval policy."""

from __future__ import annotations

import pytest

from tests.webapp.factories import DecisionFactory, InReviewVersionFactory, ShotFactory, ShotVersionFactory
from webapp.catalogue.models import Shot, ShotVersion
from webapp.review.models import Decision
from webapp.review.policy import ApprovalRequirement
from webapp.review.services import approval_outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(film):
    return InReviewVersionFactory(shot=ShotFactory(film=film, number=1, status="in_review"), number=1)


@pytest.fixture
def deciders(film, member, client_for):
    return {role: client_for(member(film, role)) for role in ("archivist", "creator")}


def decide(client, version, verdict, note=""):
    return client.post("/api/decisions/", {"version": version.pk, "verdict": verdict, "note": note})


def state(version):
    version.refresh_from_db()
    shot = Shot.objects.get(pk=version.shot_id)
    return version.status, shot.status, shot.approved_version_id


def test_archivist_and_creator_approvals_approve_version_and_shot(version, deciders):
    response = decide(deciders["archivist"], version, "approve", "clean")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["role"], body["verdict"], body["note"], body["film"]) == (
        "archivist", "approve", "clean", version.shot.film_id
    )
    assert state(version) == ("in_review", "in_review", None)  # one side is not enough
    assert decide(deciders["creator"], version, "approve").status_code == 201
    assert state(version) == ("approved", "approved", version.pk)


def test_reject_rejects_the_version_and_the_shot_without_other_candidates(version, deciders):
    assert decide(deciders["creator"], version, "reject", "colour is wrong").status_code == 201
    assert state(version) == ("rejected", "rejected", None)
    response = decide(deciders["archivist"], version, "approve")
    assert response.status_code == 400 and "Only a version in review" in response.json()["fields"]["version"][0]


def test_a_reject_leaves_the_shot_in_review_while_another_version_waits(version, deciders):
    InReviewVersionFactory(shot=version.shot, number=2)
    decide(deciders["archivist"], version, "reject")
    assert state(version) == ("rejected", "in_review", None)


def test_changes_requested_sets_the_version_and_the_shot_to_changes_requested(version, deciders):
    assert decide(deciders["archivist"], version, "changes_requested").status_code == 201
    assert state(version) == ("changes_requested", "changes_requested", None)


def test_a_newer_decision_supersedes_the_same_reviewers_older_one(version, deciders):
    decide(deciders["archivist"], version, "approve")
    decide(deciders["archivist"], version, "changes_requested")
    decide(deciders["creator"], version, "approve")
    assert state(version)[0] == "changes_requested"  # the archivist's approval was withdrawn
    decide(deciders["archivist"], version, "approve")
    assert state(version)[0] == "approved"
    assert Decision.objects.filter(version=version).count() == 4  # nothing was edited or removed


def test_drafts_cannot_be_decided(film, deciders):
    draft = ShotVersionFactory(shot=ShotFactory(film=film, number=2))
    response = decide(deciders["archivist"], draft, "approve")
    assert response.status_code == 400 and "this one is draft" in response.json()["detail"]
    assert not Decision.objects.exists()


def test_bad_verdict_is_400(version, deciders):
    response = decide(deciders["archivist"], version, "love it")
    assert response.status_code == 400 and "verdict" in response.json()["fields"]


def test_reviewer_and_role_come_from_the_server(version, deciders):
    response = deciders["creator"].post(
        "/api/decisions/", {"version": version.pk, "verdict": "approve", "role": "archivist"}
    )
    assert response.status_code == 400 and response.json()["fields"] == {"role": ["Read-only field."]}


def test_decisions_are_append_only(version, deciders):
    decision = DecisionFactory(version=version)
    client = deciders["archivist"]
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"/api/decisions/{decision.pk}/", {"verdict": "reject"})
        assert response.status_code == 405, method
    assert Decision.objects.get(pk=decision.pk).verdict == decision.verdict
    with pytest.raises(ValueError, match="append-only"):
        decision.save()


def test_decision_filters(version, deciders):
    decide(deciders["archivist"], version, "changes_requested")
    decide(deciders["creator"], version, "approve")
    rows = deciders["archivist"].get("/api/decisions/", {"version": version.pk, "verdict": "approve"}).json()
    assert [row["role"] for row in rows["results"]] == ["creator"]


def test_the_approval_outcome_is_a_pure_function_of_decisions(version):
    def made(role, verdict, reviewer_id, order):
        decision = Decision(version=version, reviewer_id=reviewer_id, role=role, verdict=verdict, pk=order)
        decision.created_at = version.created_at
        return decision

    both = ApprovalRequirement(roles=frozenset({"archivist", "creator"}),
                               members={"archivist": frozenset({1, 3}), "creator": frozenset({2})})
    archivists_only = ApprovalRequirement(roles=frozenset({"archivist"}), members={"archivist": frozenset({1, 3})})
    no_creator = ApprovalRequirement(roles=frozenset({"archivist", "creator"}),
                                     members={"archivist": frozenset({1, 3}), "creator": frozenset()})
    creator_left = ApprovalRequirement(roles=frozenset({"archivist", "creator"}),
                                       members={"archivist": frozenset({1, 3}), "creator": frozenset({4})})

    def outcome(*decisions, required=both):
        return approval_outcome(decisions=list(decisions), requirement=required)

    assert outcome() == "in_review"
    assert outcome(made("archivist", "approve", 1, 1), made("creator", "approve", 2, 2)) == "approved"
    assert outcome(made("archivist", "approve", 1, 1), made("archivist", "approve", 3, 2)) == "in_review"
    assert outcome(made("archivist", "approve", 1, 1), made("archivist", "approve", 3, 2),
                   required=archivists_only) == "approved"
    # An unfilled required role passes nothing; an approval counts only from a member holding the role.
    assert outcome(made("archivist", "approve", 1, 1), required=no_creator) == "in_review"
    assert outcome(made("archivist", "approve", 1, 1), made("creator", "approve", 2, 2),
                   required=creator_left) == "in_review"
    assert outcome(made("archivist", "approve", 1, 1), made("archivist", "approve", 2, 2),
                   required=ApprovalRequirement(roles=both.roles, members={"archivist": frozenset({1}),
                                                                           "creator": frozenset({2})})) == "in_review"
    assert outcome(made("creator", "approve", 2, 1), made("archivist", "reject", 1, 2)) == "rejected"
    # One archivist's "changes requested" holds the version even when another archivist approved.
    assert outcome(made("archivist", "approve", 1, 1), made("creator", "approve", 2, 2),
                   made("archivist", "changes_requested", 3, 3)) == "changes_requested"
    # A reopen sets every verdict before it aside: only the decisions after it count.
    assert outcome(made("archivist", "approve", 1, 1), made("creator", "approve", 2, 2),
                   made("archivist", "reopen", 1, 3)) == "in_review"
    assert outcome(made("archivist", "reject", 1, 1), made("archivist", "reopen", 1, 2),
                   made("creator", "approve", 2, 3), made("archivist", "approve", 1, 4)) == "approved"
    assert ShotVersion.objects.get(pk=version.pk).status == "in_review"  # the policy writes nothing
