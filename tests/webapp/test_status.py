"""Status in one place (webapp/catalogue/status.py): the transition tables of films, shots and
versions, the pure derivation of a shot's status from its facts (every row), and the services
that write them."""

from __future__ import annotations

import itertools

import pytest

from tests.webapp.factories import FilmFactory, InReviewVersionFactory, ShotFactory
from webapp.catalogue.models import Film, FilmStatus, Shot, ShotStatus, ShotVersion, VersionStatus
from webapp.catalogue.status import (
    FILM_TRANSITIONS,
    SHOT_TRANSITIONS,
    VERSION_TRANSITIONS,
    ShotFacts,
    StatusTransitionError,
    film_status_advance,
    shot_status_derive,
    shot_status_update,
    transition_check,
    version_status_set,
)

F, S, V = FilmStatus, ShotStatus, VersionStatus

FILM_ALLOWED = {
    (F.NEW, F.INGESTING), (F.NEW, F.IN_RESTORATION), (F.NEW, F.DELIVERED),
    (F.INGESTING, F.IN_RESTORATION), (F.INGESTING, F.DELIVERED),
    (F.IN_RESTORATION, F.DELIVERED), (F.IN_REVIEW, F.DELIVERED), (F.APPROVED, F.DELIVERED),
}
SHOT_ALLOWED = {
    (S.PENDING, S.IN_RESTORATION), (S.PENDING, S.IN_REVIEW), (S.PENDING, S.CHANGES_REQUESTED), (S.PENDING, S.APPROVED),
    (S.PENDING, S.REJECTED),
    (S.IN_RESTORATION, S.PENDING), (S.IN_RESTORATION, S.IN_REVIEW), (S.IN_RESTORATION, S.CHANGES_REQUESTED),
    (S.IN_RESTORATION, S.APPROVED), (S.IN_RESTORATION, S.REJECTED),
    (S.IN_REVIEW, S.IN_RESTORATION), (S.IN_REVIEW, S.CHANGES_REQUESTED), (S.IN_REVIEW, S.APPROVED),
    (S.IN_REVIEW, S.REJECTED),
    (S.CHANGES_REQUESTED, S.IN_RESTORATION), (S.CHANGES_REQUESTED, S.IN_REVIEW), (S.CHANGES_REQUESTED, S.APPROVED),
    (S.CHANGES_REQUESTED, S.REJECTED),
    (S.REJECTED, S.IN_RESTORATION), (S.REJECTED, S.IN_REVIEW), (S.REJECTED, S.CHANGES_REQUESTED),
    (S.REJECTED, S.APPROVED),
    (S.APPROVED, S.IN_RESTORATION), (S.APPROVED, S.IN_REVIEW),  # restored again; its approval reopened
}
VERSION_ALLOWED = {
    (V.DRAFT, V.IN_REVIEW),
    (V.IN_REVIEW, V.CHANGES_REQUESTED), (V.IN_REVIEW, V.APPROVED), (V.IN_REVIEW, V.REJECTED),
    (V.IN_REVIEW, V.SUPERSEDED),
    (V.CHANGES_REQUESTED, V.IN_REVIEW), (V.CHANGES_REQUESTED, V.APPROVED), (V.CHANGES_REQUESTED, V.REJECTED),
    (V.CHANGES_REQUESTED, V.SUPERSEDED),
    (V.APPROVED, V.IN_REVIEW), (V.REJECTED, V.IN_REVIEW),  # reopened
}


def _every_pair(choices):
    return list(itertools.product(choices.values, repeat=2))


@pytest.mark.parametrize(("table", "choices", "allowed", "what"), [
    (FILM_TRANSITIONS, F, FILM_ALLOWED, "film"),
    (SHOT_TRANSITIONS, S, SHOT_ALLOWED, "shot"),
    (VERSION_TRANSITIONS, V, VERSION_ALLOWED, "version"),
])
def test_every_pair_of_statuses_is_allowed_exactly_as_the_table_says(table, choices, allowed, what):
    assert set(table) == set(choices.values)  # every status has its row
    for current, new in _every_pair(choices):
        if current == new or (current, new) in allowed:
            transition_check(table, current, new, what=what)
        else:
            with pytest.raises(StatusTransitionError, match=f"A {what} cannot go from {current} to {new}"):
                transition_check(table, current, new, what=what)


def facts(current=S.PENDING, *, approved=False, in_review=False, rejected=False, changes_requested=False,
          restoring=None):
    return ShotFacts(current=current, approved=approved, in_review=in_review, rejected=rejected,
                     changes_requested=changes_requested, restoring=restoring)


@pytest.mark.parametrize(("shot_facts", "expected"), [
    # A running restore comes first, whatever the versions say.
    (facts(restoring=True), S.IN_RESTORATION),
    (facts(S.APPROVED, approved=True, in_review=True, rejected=True, restoring=True), S.IN_RESTORATION),
    # Then the versions: approved > in review > changes requested > rejected.
    (facts(S.IN_REVIEW, approved=True, in_review=True, rejected=True), S.APPROVED),
    (facts(S.CHANGES_REQUESTED, approved=True, changes_requested=True), S.APPROVED),
    (facts(S.IN_REVIEW, changes_requested=True, rejected=True), S.CHANGES_REQUESTED),
    (facts(S.CHANGES_REQUESTED, in_review=True, changes_requested=True), S.IN_REVIEW),
    (facts(S.IN_RESTORATION, changes_requested=True, restoring=False), S.CHANGES_REQUESTED),
    (facts(S.IN_RESTORATION, approved=True, restoring=False), S.APPROVED),
    (facts(S.PENDING, in_review=True, rejected=True), S.IN_REVIEW),
    (facts(S.IN_RESTORATION, in_review=True), S.IN_REVIEW),  # a decision while restoring: the versions say
    (facts(S.IN_REVIEW, rejected=True), S.REJECTED),
    (facts(S.IN_RESTORATION, rejected=True, restoring=False), S.REJECTED),
    # None of those: pending once a restore ended, else unchanged.
    (facts(S.IN_RESTORATION, restoring=False), S.PENDING),
    (facts(S.PENDING), S.PENDING),
    (facts(S.IN_RESTORATION), S.IN_RESTORATION),
])
def test_a_shots_status_follows_from_its_facts(shot_facts, expected):
    assert shot_status_derive(shot_facts) == expected


def test_every_derived_move_from_consistent_facts_is_in_the_shot_table():
    for current, approved, in_review, rejected, changes, restoring in itertools.product(
            S.values, (False, True), (False, True), (False, True), (False, True), (None, False, True)):
        new = shot_status_derive(facts(current, approved=approved, in_review=in_review, rejected=rejected,
                                       changes_requested=changes, restoring=restoring))
        consistent = {
            # An approved shot has its approved version, unless that approval was just reopened
            # (then the version is in review again). A status stays true until a fact moves it.
            S.APPROVED: approved or in_review,
            S.IN_REVIEW: in_review or approved or changes,
            S.CHANGES_REQUESTED: changes or in_review or approved or rejected,
            S.REJECTED: rejected or in_review or approved or changes,
        }.get(current, True)
        if consistent:
            transition_check(SHOT_TRANSITIONS, current, new, what="shot")


@pytest.mark.django_db
def test_a_film_only_moves_forward_and_only_by_the_table():
    film = FilmFactory(status=F.NEW)
    assert film_status_advance(film=film, status=F.INGESTING) is True
    assert Film.objects.get(pk=film.pk).status == film.status == F.INGESTING
    assert film_status_advance(film=film, status=F.INGESTING) is False  # there already
    assert film_status_advance(film=film, status=F.IN_RESTORATION) is True
    assert film_status_advance(film=film, status=F.INGESTING) is False  # further along: unchanged
    assert Film.objects.get(pk=film.pk).status == F.IN_RESTORATION
    with pytest.raises(StatusTransitionError):
        film_status_advance(film=film, status=F.APPROVED)  # set by hand, never by the workflow
    assert film_status_advance(film=film, status=F.DELIVERED) is True
    assert Film.objects.get(pk=film.pk).status == F.DELIVERED


@pytest.mark.django_db
def test_the_shot_service_writes_the_derived_status_and_refuses_an_illegal_move(film):
    shot = ShotFactory(film=film, number=1, status=S.PENDING)
    assert shot_status_update(shot=shot, restoring=True).status == S.IN_RESTORATION
    assert shot_status_update(shot=shot, restoring=False).status == S.PENDING
    version = InReviewVersionFactory(shot=shot, number=1)
    assert Shot.objects.get(pk=shot.pk).status == S.PENDING
    assert shot_status_update(shot=shot).status == S.IN_REVIEW
    assert Shot.objects.get(pk=shot.pk).status == S.IN_REVIEW
    Shot.objects.filter(pk=shot.pk).update(approved_version=version, status=S.APPROVED)
    ShotVersion.objects.filter(pk=version.pk).update(status=V.APPROVED)
    stale = Shot.objects.get(pk=shot.pk)
    stale.approved_version = None  # facts that would take an approved shot back to pending
    with pytest.raises(StatusTransitionError, match="A shot cannot go from approved to pending"):
        shot_status_update(shot=stale, restoring=False)
    assert Shot.objects.get(pk=shot.pk).status == S.APPROVED


@pytest.mark.django_db
def test_a_superseded_version_stays_superseded(film):
    version = InReviewVersionFactory(shot=ShotFactory(film=film, number=1), number=1)
    version_status_set(version=version, status=V.SUPERSEDED)
    assert ShotVersion.objects.get(pk=version.pk).status == V.SUPERSEDED
    for status in (V.IN_REVIEW, V.APPROVED, V.CHANGES_REQUESTED):
        with pytest.raises(StatusTransitionError, match=f"A version cannot go from superseded to {status}"):
            version_status_set(version=version, status=status)
    assert ShotVersion.objects.get(pk=version.pk).status == V.SUPERSEDED
