"""The catalogue's version_published signal: the catalogue imports neither review nor
notifications; they hear of a publish through their receivers, once it has committed."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction
from django.test import TestCase

from tests.webapp.factories import ShotFactory, ShotVersionFactory
from webapp.catalogue.models import ShotVersion, VersionStatus
from webapp.catalogue.services import version_publish
from webapp.catalogue.signals import version_published
from webapp.notifications.models import Notification

pytestmark = pytest.mark.django_db



def test_a_publish_once_committed_reaches_reviews_shot_event_and_the_deciders_notifications(film, film_members, sent):
    shot = ShotFactory(film=film)
    version = ShotVersionFactory(shot=shot, author=film_members["restorer"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        version_publish(version=version)
        assert not Notification.objects.exists() and sent == []  # nothing before the commit

    assert (f"shot.{shot.pk}", {"type": "version.created", "shot": shot.pk, "version": version.pk,
                                "number": version.number, "status": VersionStatus.IN_REVIEW}) in sent
    deciders = {film_members["archivist"].pk, film_members["creator"].pk}
    assert set(Notification.objects.filter(kind="version_ready", version=version)
               .values_list("recipient_id", flat=True)) == deciders
    pushed = {group for group, event in sent if event["type"] == "notification.created"}
    assert pushed == {f"user.{user_id}" for user_id in deciders}


def test_a_rolled_back_publish_sends_nothing(film, film_members, sent):
    version = ShotVersionFactory(shot=ShotFactory(film=film), author=film_members["restorer"])
    with TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(RuntimeError):  # noqa: SIM117
        with transaction.atomic():
            version_publish(version=version)
            raise RuntimeError("rolled back")
    assert sent == [] and not Notification.objects.exists()
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_a_failing_receiver_is_logged_and_neither_fails_the_publish_nor_stops_the_others(film, film_members, sent,
                                                                                           caplog):
    def broken(sender, version, **kwargs):
        raise ValueError("receiver broken")

    version_published.connect(broken, sender=ShotVersion, dispatch_uid="test.broken")
    try:
        version = ShotVersionFactory(shot=ShotFactory(film=film), author=film_members["restorer"])
        with caplog.at_level(logging.ERROR, logger="webapp.catalogue.signals"), \
                TestCase.captureOnCommitCallbacks(execute=True):
            published = version_publish(version=version)
    finally:
        version_published.disconnect(sender=ShotVersion, dispatch_uid="test.broken")

    assert published.status == VersionStatus.IN_REVIEW
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW
    assert any("receiver broken" in repr(record.exc_info) for record in caplog.records)
    # The other receivers still ran: review's event and the notifications.
    assert any(event["type"] == "version.created" for _, event in sent)
    assert Notification.objects.filter(kind="version_ready", version=version).count() == 2


def test_a_failing_notifications_receiver_leaves_the_publish_and_reviews_event(film, film_members, sent, monkeypatch,
                                                                               caplog):
    from webapp.notifications import receivers

    def broken(*, version):
        raise RuntimeError("database gone")

    monkeypatch.setattr(receivers, "notify_version_ready", broken)
    version = ShotVersionFactory(shot=ShotFactory(film=film), author=film_members["restorer"])
    with caplog.at_level(logging.ERROR, logger="webapp.catalogue.signals"), \
            TestCase.captureOnCommitCallbacks(execute=True):
        version_publish(version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW
    assert any(event["type"] == "version.created" for _, event in sent)
    assert "version_published" in caplog.text
