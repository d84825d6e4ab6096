"""E-mail notifications: who gets one (settings, address, active account, access at send time), at
most once per notification, what it holds (text, HTML, the absolute link), and the settings API."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import TestCase
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from tests.webapp import jobs_fixtures
from tests.webapp.factories import CommentFactory, InReviewVersionFactory, ShotFactory, ShotVersionFactory
from webapp.catalogue import services as catalogue_services
from webapp.catalogue.models import Membership
from webapp.notifications.models import Notification, NotificationSettings
from webapp.notifications.services import (
    EMAIL_RESEND_AFTER,
    EMAIL_RESEND_FOR,
    notification_create,
    notification_email_send,
)

pytestmark = pytest.mark.django_db

sent_messages = jobs_fixtures.sent_messages

SITE = "https://review.example.org"
SETTINGS_URL = "/api/me/notification-settings/"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def eager_tasks(monkeypatch):
    """Celery tasks run where they are sent, as the in-process worker would run them."""
    from webapp.config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.fixture
def shot(film):
    return ShotFactory(film=film, number=7)


def committed(write):
    """Run ``write`` and its on-commit work (pushes, the e-mail tasks), as a request's commit would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return write()


def mention(*, of, on_version, by) -> Notification:
    comment = CommentFactory(version=on_version, author=by, frame=12, text=f"@{of.username} dust here")
    return notification_create(recipient_ids=[of.pk], kind="mention", film_id=on_version.shot.film_id,
                               shot=on_version.shot, version=on_version, comment=comment,
                               text=f"{by.username} mentioned you: dust here")[0]


def settings_of(user, **switches):
    return NotificationSettings.objects.update_or_create(user=user, defaults=switches)[0]


def test_a_mention_is_emailed_once_to_the_mentioned_member_with_a_link(film, film_members, shot, client_for,
                                                                      eager_tasks):
    creator, viewer = film_members["creator"], film_members["viewer"]
    version = InReviewVersionFactory(shot=shot, number=2)
    response = committed(lambda: client_for(viewer).post(
        "/api/comments/", {"version": version.pk, "frame": 12, "text": f"@{creator.username} gate weave <b>here</b>"}))
    assert response.status_code == 201, response.content
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [creator.email]
    link = f"{SITE}/films/{film.pk}/shots/{shot.pk}/?a=original&b=v2&frame=12"
    assert "mentioned you on shot 7 v2 at frame 12" in message.body and link in message.body
    assert film.title in message.subject and "\n" not in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'href="{link.replace("&", "&amp;")}"' in html
    assert "<b>here</b>" in message.body and "&lt;b&gt;here&lt;/b&gt;" in html  # escaped in HTML only
    assert f"{SITE}/notifications/#notification-settings" in message.body
    assert '"Mentions of me and replies to my comments" is on' in message.body  # why they get it
    assert Notification.objects.get(recipient=creator).emailed_at is not None


def test_a_decision_is_emailed_to_the_versions_author(film, film_members, shot, client_for, eager_tasks):
    author = film_members["restorer"]
    version = InReviewVersionFactory(shot=shot, author=author, number=3)
    response = committed(lambda: client_for(film_members["archivist"]).post(
        "/api/decisions/", {"version": version.pk, "verdict": "changes_requested", "note": "less grain removal"}))
    assert response.status_code == 201, response.content
    assert [message.to for message in mail.outbox] == [[author.email]]
    assert "requested changes on your shot 7 v3: less grain removal" in mail.outbox[0].body
    assert f"{SITE}/films/{film.pk}/shots/{shot.pk}/?a=original&b=v3" in mail.outbox[0].body


def test_review_requests_are_not_emailed_unless_asked_for(film, film_members, shot, eager_tasks):
    creator, archivist = film_members["creator"], film_members["archivist"]
    settings_of(archivist, email_review_requests=True)
    version = ShotVersionFactory(shot=shot, author=film_members["restorer"])
    committed(lambda: catalogue_services.version_publish(version=version))
    assert Notification.objects.filter(kind="version_ready").count() == 2  # both hear of it in the app
    assert [message.to for message in mail.outbox] == [[archivist.email]]  # only the one who asked by e-mail
    assert "waiting for your review" in mail.outbox[0].body and creator.email not in mail.outbox[0].to


@pytest.mark.parametrize("switches", [{"email_enabled": False}, {"email_mentions": False}])
def test_nothing_is_emailed_when_the_recipient_turned_it_off(film, film_members, shot, eager_tasks, switches):
    creator = film_members["creator"]
    settings_of(creator, **switches)
    version = InReviewVersionFactory(shot=shot)
    note = committed(lambda: mention(of=creator, on_version=version, by=film_members["viewer"]))
    assert mail.outbox == []
    note.refresh_from_db()
    assert note.emailed_at is None and note.read_at is None  # still there in the app


def test_nothing_is_queued_for_users_without_an_address_or_inactive(film, member, shot, film_members,
                                                                    sent_messages):
    no_address = member(film, "creator", email="")
    inactive = member(film, "creator", is_active=False)
    reachable = film_members["creator"]
    version = InReviewVersionFactory(shot=shot)
    notes = committed(lambda: [mention(of=user, on_version=version, by=film_members["viewer"])
                               for user in (no_address, inactive, reachable)])
    by_recipient = {note.recipient_id: note.pk for note in notes}
    assert [(name, args) for name, args, _ in sent_messages] == [
        ("webapp.notifications.tasks.notification_email_send", (by_recipient[reachable.pk],))]
    assert sent_messages.queues == ["cpu"]
    # The task checks again: one queued before the address was removed sends nothing.
    assert notification_email_send(notification_id=by_recipient[no_address.pk]) is False
    assert notification_email_send(notification_id=by_recipient[inactive.pk]) is False
    assert mail.outbox == []


def test_a_notification_is_emailed_at_most_once_across_retries(film, film_members, shot, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    creator = film_members["creator"]
    note = mention(of=creator, on_version=InReviewVersionFactory(shot=shot), by=film_members["viewer"])
    real_send = EmailMultiAlternatives.send

    def server_down(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")

    monkeypatch.setattr(EmailMultiAlternatives, "send", server_down)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        notification_email_send(notification_id=note.pk)
    note.refresh_from_db()
    assert note.emailed_at is None  # the failed try recorded nothing: the retry sends it
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert notification_email_send(notification_id=note.pk) is True
    assert notification_email_send(notification_id=note.pk) is False  # a redelivered message
    assert len(mail.outbox) == 1


def test_the_task_retries_a_failing_mail_server_and_sends_once(film, film_members, shot, monkeypatch):
    from celery.exceptions import Retry
    from django.core.mail import EmailMultiAlternatives

    from webapp.notifications.tasks import notification_email_send as task

    note = mention(of=film_members["creator"], on_version=InReviewVersionFactory(shot=shot), by=film_members["viewer"])
    real_send = EmailMultiAlternatives.send
    monkeypatch.setattr(EmailMultiAlternatives, "send", lambda self, fail_silently=False: (_ for _ in ()).throw(
        ConnectionRefusedError("no mail server")))
    retries = []
    monkeypatch.setattr(task, "retry", lambda exc, countdown: retries.append((type(exc), countdown)) or Retry())
    with pytest.raises(Retry):
        task.run(note.pk)
    assert retries == [(ConnectionRefusedError, 30)]
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert task.run(note.pk) is True and task.run(note.pk) is False
    assert len(mail.outbox) == 1


def test_no_email_about_a_film_the_recipient_has_left(film, film_members, shot):
    creator = film_members["creator"]
    note = mention(of=creator, on_version=InReviewVersionFactory(shot=shot), by=film_members["viewer"])
    Membership.objects.filter(user=creator, film=film).delete()  # revoked before the worker got to it
    assert notification_email_send(notification_id=note.pk) is False
    assert mail.outbox == []


def test_an_invitation_is_emailed_while_it_waits_for_an_answer(film, film_members, outsider, eager_tasks):
    invitation = committed(lambda: catalogue_services.invitation_create(
        film=film, invited_by=film_members["archivist"], invitee=outsider.username, role="viewer"))
    assert [message.to for message in mail.outbox] == [[outsider.email]]
    assert f"{SITE}/invitations/" in mail.outbox[0].body
    # Cancelled before its e-mail went out: none is sent.
    second = notification_create(recipient_ids=[outsider.pk], kind="invitation", film_id=film.pk,
                                 invitation=invitation, text="again")[0]
    catalogue_services.invitation_cancel(invitation=invitation)
    assert notification_email_send(notification_id=second.pk) is False
    assert len(mail.outbox) == 1


# ---- the settings API ----


DEFAULTS = {"email_enabled": True, "email_mentions": True, "email_decisions": True, "email_invitations": True,
            "email_review_requests": False}


def test_settings_start_at_the_defaults_and_a_patch_changes_only_what_it_names(outsider, client_for):
    client = client_for(outsider)
    response = client.get(SETTINGS_URL)
    assert response.status_code == 200
    assert response.json() == {**DEFAULTS, "email_address": outsider.email}
    assert not NotificationSettings.objects.exists()  # reading writes nothing
    response = client.patch(SETTINGS_URL, {"email_mentions": False, "email_review_requests": True})
    assert response.status_code == 200, response.content
    expected = {**DEFAULTS, "email_mentions": False, "email_review_requests": True, "email_address": outsider.email}
    assert response.json() == expected == client.get(SETTINGS_URL).json()
    assert client.patch(SETTINGS_URL, {"email_enabled": False}).json()["email_mentions"] is False


@pytest.mark.parametrize(("body", "field"), [
    ({"email_mention": False}, "email_mention"),
    ({"email_address": "me@example.org"}, "email_address"),
    ({"user": 1}, "user"),
    ({"email_enabled": "maybe"}, "email_enabled"),
    ({"email_decisions": None}, "email_decisions"),
])
def test_a_bad_settings_body_is_a_400_naming_the_field_and_changes_nothing(outsider, client_for, body, field):
    response = client_for(outsider).patch(SETTINGS_URL, body)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not NotificationSettings.objects.exists()


def test_settings_are_each_users_own_and_need_a_login(film_members, client_for, api_client):
    creator, viewer = film_members["creator"], film_members["viewer"]
    assert client_for(creator).patch(SETTINGS_URL, {"email_enabled": False}).status_code == 200
    assert client_for(viewer).get(SETTINGS_URL).json()["email_enabled"] is True  # not the creator's
    assert client_for(viewer).get(f"{SETTINGS_URL}{creator.pk}/").status_code == 404  # no other user's address
    assert api_client.get(SETTINGS_URL).status_code == 401
    assert api_client.patch(SETTINGS_URL, {"email_enabled": False}).status_code == 401
    assert client_for(viewer).post(SETTINGS_URL, {"email_enabled": False}).status_code == 405
    assert NotificationSettings.objects.get().user == creator


def test_the_notifications_page_shows_the_settings_form(outsider, client_for):
    from django.test import Client

    settings_of(outsider, email_review_requests=True, email_invitations=False)
    browser = Client()
    browser.force_login(outsider)
    html = browser.get("/notifications/").content.decode()
    assert 'id="notification-settings"' in html
    assert 'name="email_review_requests" checked' in html
    assert 'name="email_invitations" checked' not in html and 'name="email_invitations"' in html
    assert outsider.email in html


# ---- settings from the environment ----


@pytest.mark.parametrize(("variables", "problem"), [
    ({"SITE_URL": "review.example.org"}, "SITE_URL"),
    ({"SITE_URL": "https://review.example.org/app"}, "SITE_URL"),
    ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "exclusive"),
    ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
])
def test_bad_email_settings_are_refused_at_start(monkeypatch, variables, problem):
    from webapp.config.env import read_env

    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=problem):
        read_env()


def test_email_defaults_print_on_the_console_and_link_to_localhost(monkeypatch):
    from webapp.config.env import read_env

    for name in ("EMAIL_BACKEND", "SITE_URL"):
        monkeypatch.delenv(name, raising=False)
    env = read_env()
    assert env.email_backend == "django.core.mail.backends.console.EmailBackend"
    assert env.site_url == "http://localhost:8000"
    monkeypatch.setenv("SITE_URL", "https://review.example.org/")
    assert read_env().site_url == "https://review.example.org"


@pytest.fixture
def broker_down(monkeypatch):
    """Every Celery message fails to reach the broker, as when Redis is down."""
    from webapp.config.celery import app

    def send_task(name, *args, **kwargs):
        raise BrokerOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", send_task)


def test_an_email_whose_task_never_reached_the_broker_is_sent_by_the_sweep(film, film_members, shot, broker_down,
                                                                          monkeypatch):
    from webapp.jobs.sweeper import sweep

    creator = film_members["creator"]
    note = committed(lambda: mention(of=creator, on_version=InReviewVersionFactory(shot=shot), by=film_members["viewer"]))
    note.refresh_from_db()
    assert note.email_due and note.email_queued_at is None and note.emailed_at is None  # the write stood
    monkeypatch.undo()  # the broker is back; the sweep's tasks run where they are sent
    from webapp.config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    assert sweep().emails_resent == 0  # too soon: its own task may still be on its way
    assert sweep(now=timezone.now() + EMAIL_RESEND_AFTER + timedelta(seconds=1)).emails_resent == 1
    note.refresh_from_db()
    assert note.emailed_at is not None and not note.email_due
    assert [m.to for m in mail.outbox] == [[creator.email]]
    # Nothing is due any more: later sweeps send nothing, and no second e-mail goes out.
    assert sweep(now=timezone.now() + 3 * EMAIL_RESEND_AFTER).emails_resent == 0
    assert len(mail.outbox) == 1


def test_the_sweep_sends_again_a_task_lost_in_the_broker_but_not_one_still_fresh_or_too_old(
        film, film_members, shot, sent_messages):
    from webapp.notifications.services import notification_emails_resend

    version = InReviewVersionFactory(shot=shot)
    note = committed(lambda: mention(of=film_members["creator"], on_version=version, by=film_members["viewer"]))
    assert len(sent_messages) == 1  # queued once, then lost (a Redis restart: nothing reaches a worker)
    now = timezone.now()
    assert notification_emails_resend(now=now + EMAIL_RESEND_AFTER / 2) == 0
    assert notification_emails_resend(now=now + EMAIL_RESEND_AFTER + timedelta(seconds=1)) == 1
    assert [args for _, args, _ in sent_messages] == [(note.pk,), (note.pk,)]
    # Re-queued just now: not again until EMAIL_RESEND_AFTER has passed once more.
    assert notification_emails_resend(now=now + EMAIL_RESEND_AFTER + timedelta(seconds=2)) == 0
    # A day later it is given up.
    assert notification_emails_resend(now=now + EMAIL_RESEND_FOR + timedelta(minutes=1)) == 0


def test_a_notification_no_longer_wanted_by_email_is_not_sent_again(film, film_members, shot, sent_messages):
    from webapp.notifications.services import notification_emails_resend

    creator = film_members["creator"]
    note = committed(lambda: mention(of=creator, on_version=InReviewVersionFactory(shot=shot), by=film_members["viewer"]))
    settings_of(creator, email_enabled=False)
    assert notification_email_send(notification_id=note.pk) is False  # the queued task finds it unwanted
    note.refresh_from_db()
    assert not note.email_due
    assert notification_emails_resend(now=timezone.now() + 2 * EMAIL_RESEND_AFTER) == 0
    assert len(sent_messages) == 1 and mail.outbox == []
