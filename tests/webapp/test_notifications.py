"""Notifications: who hears of what, the API (own only, mark read), the page and the websocket."""

from __future__ import annotations

import pytest
from django.test import TestCase

from tests.webapp.factories import CommentFactory, InReviewVersionFactory, ShotFactory, ShotVersionFactory
from webapp.catalogue import services as catalogue_services
from webapp.notifications.models import Notification
from webapp.notifications.services import mentioned_usernames

pytestmark = pytest.mark.django_db


@pytest.fixture
def shot(film):
    return ShotFactory(film=film, number=4)


def version_publish(*, version):
    """Publish and commit: the catalogue's version_published signal is sent once the publish commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return catalogue_services.version_publish(version=version)


def kinds_for(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_mentions_are_parsed_from_comment_text():
    assert mentioned_usernames("@anna look at the gate, cc @bob.smith. mail x@example.org") == {"anna", "bob.smith"}
    assert mentioned_usernames("no mentions @ all") == set()


def test_publishing_a_version_notifies_the_films_deciders_but_not_its_author(film, film_members, shot):
    author = film_members["archivist"]
    version = ShotVersionFactory(shot=shot, author=author, number=2)
    version_publish(version=version)
    assert kinds_for(film_members["creator"]) == ["version_ready"]
    assert kinds_for(author) == []  # their own version
    assert kinds_for(film_members["restorer"]) == kinds_for(film_members["viewer"]) == []
    note = Notification.objects.get(recipient=film_members["creator"])
    assert (note.film_id, note.shot_id, note.version_id) == (film.pk, shot.pk, version.pk)
    assert "shot 4 v2" in note.text and "waiting for your review" in note.text


def test_a_mention_notifies_members_only_and_never_the_author(film, film_members, shot, client_for, outsider):
    version = InReviewVersionFactory(shot=shot)
    viewer = film_members["viewer"]
    text = f"@{film_members['creator'].username} and @{outsider.username} and @{viewer.username}: dust at 12"
    response = client_for(viewer).post("/api/comments/", {"version": version.pk, "frame": 12, "text": text})
    assert response.status_code == 201, response.content
    assert kinds_for(film_members["creator"]) == ["mention"]
    assert kinds_for(outsider) == [] and kinds_for(viewer) == []
    note = Notification.objects.get(recipient=film_members["creator"])
    assert note.comment_id == response.json()["id"] and "at frame 12" in note.text


def test_a_reply_notifies_the_parent_author_once(film, film_members, shot, client_for):
    version = InReviewVersionFactory(shot=shot)
    parent = CommentFactory(version=version, author=film_members["restorer"], frame=3)
    client = client_for(film_members["creator"])
    client.post("/api/comments/", {"version": version.pk, "frame": 3, "text": "agreed", "reply_to": parent.pk})
    assert kinds_for(film_members["restorer"]) == ["comment_reply"]
    # Mentioned in a reply as well: one notification, the mention.
    client.post("/api/comments/", {"version": version.pk, "frame": 3, "reply_to": parent.pk,
                                   "text": f"@{film_members['restorer'].username} see this"})
    assert kinds_for(film_members["restorer"]) == ["comment_reply", "mention"]
    # Replying to yourself notifies nobody.
    client_for(film_members["restorer"]).post("/api/comments/", {"version": version.pk, "frame": 3, "text": "ok",
                                                                 "reply_to": parent.pk})
    assert Notification.objects.count() == 2


def test_a_decision_notifies_the_versions_author(film, film_members, shot, client_for):
    version = InReviewVersionFactory(shot=shot, author=film_members["restorer"], number=3)
    client_for(film_members["archivist"]).post(
        "/api/decisions/", {"version": version.pk, "verdict": "changes_requested", "note": "too much grain removal"}
    )
    note = Notification.objects.get(recipient=film_members["restorer"])
    assert note.kind == "decision" and note.version_id == version.pk
    assert "requested changes on your shot 4 v3: too much grain removal" in note.text


def test_the_api_lists_only_my_notifications_and_marks_them_read(film, film_members, shot, client_for):
    for number in (1, 2):
        version_publish(version=ShotVersionFactory(shot=shot, number=number, author=film_members["restorer"]))
    creator, archivist = client_for(film_members["creator"]), client_for(film_members["archivist"])

    body = creator.get("/api/notifications/", {"unread": "true"}).json()
    assert body["count"] == 2
    first = body["results"][0]
    assert first["kind"] == "version_ready" and first["url"] == f"/films/{film.pk}/shots/{shot.pk}/?a=original&b=v2"

    theirs = archivist.get("/api/notifications/").json()["results"][0]["id"]
    assert creator.post(f"/api/notifications/{theirs}/read/").status_code == 404  # another user's
    response = creator.post(f"/api/notifications/{first['id']}/read/")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert creator.get("/api/notifications/", {"unread": "true"}).json()["count"] == 1

    response = creator.post("/api/notifications/read-all/")
    assert response.json() == {"marked": 1, "unread": 0}
    assert archivist.get("/api/notifications/", {"unread": "true"}).json()["count"] == 2  # untouched


def test_notifications_of_a_film_i_left_are_hidden(film, film_members, shot, client_for):
    version_publish(version=ShotVersionFactory(shot=shot, author=film_members["restorer"]))
    film_members["creator"].memberships.all().delete()
    assert client_for(film_members["creator"]).get("/api/notifications/").json()["count"] == 0


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/notifications/").status_code == 401


def test_the_notifications_page_lists_them(film, film_members, shot, client):
    version_publish(version=ShotVersionFactory(shot=shot, author=film_members["restorer"], number=5))
    client.force_login(film_members["creator"])
    response = client.get("/notifications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "shot 4 v5 is waiting for your review" in html and f"/films/{film.pk}/shots/{shot.pk}/" in html
    client.logout()
    assert client.get("/notifications/").status_code == 302  # to the login page


def test_the_admin_lists_notifications_and_approval_policies(film, film_members, shot, client, staff_user):
    from webapp.review.models import ApprovalPolicy

    version_publish(version=ShotVersionFactory(shot=shot, author=film_members["restorer"]))
    policy = ApprovalPolicy.objects.create(film=film, creator_required=False)
    client.force_login(staff_user)
    for name, obj in (("notifications_notification", Notification.objects.first()), ("review_approvalpolicy", policy)):
        assert client.get(f"/admin/{name.replace('_', '/', 1)}/").status_code == 200
        assert client.get(f"/admin/{name.replace('_', '/', 1)}/{obj.pk}/change/").status_code == 200


def test_a_push_failing_after_the_commit_is_logged_not_raised_into_the_committing_code(film, film_members, shot,
                                                                                      monkeypatch, caplog):
    from webapp.notifications import services

    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "notification_unread_count", broken)
    with caplog.at_level("ERROR"):
        version_publish(version=ShotVersionFactory(shot=shot, author=film_members["restorer"]))
        row = Notification.objects.filter(recipient=film_members["creator"]).get()
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.notification_mark_read(notification=row, user=film_members["creator"])
    row.refresh_from_db()
    assert row.read_at is not None
    assert caplog.text.count("database gone") >= 2  # logged by on_commit(robust=True): the created push, the read one
    assert "_push_created" in caplog.text and "notification_mark_read" in caplog.text
