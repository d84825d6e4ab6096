"""The live-session scene shared by the guest-comment and live-decision tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from tests.webapp.factories import FilmFactory, InReviewVersionFactory, MembershipFactory, ShotFactory, UserFactory
from webapp.live import services as live_services
from webapp.live.models import GuestInvite


class Scene:
    """A film whose shot 1 has v1 (in the session's playlist) and v2 (not), shot 2 whose v1 is in
    the playlist, shot 3 outside it; another film's version; the host (archivist), a restorer, a
    creator and a viewer; a session on the two playlist versions, and a guest invited to it."""

    def __init__(self):
        self.film = FilmFactory(title="Rouge")
        shot1, shot2, shot3 = (ShotFactory(film=self.film, number=n) for n in (1, 2, 3))
        self.v1, self.v2 = (InReviewVersionFactory(shot=shot1, number=n) for n in (1, 2))
        self.s2v1 = InReviewVersionFactory(shot=shot2, number=1)
        self.outside = InReviewVersionFactory(shot=shot3, number=1)
        self.foreign = InReviewVersionFactory(shot=ShotFactory(film=FilmFactory(title="Other")), number=1)
        self.host, self.restorer, self.creator, self.viewer = (
            self.member(role) for role in ("archivist", "restorer", "creator", "viewer"))
        self.session = live_services.session_create(film=self.film, created_by=self.host, title="Colour pass",
                                                    versions=[self.v1, self.s2v1])
        self.invite, _ = live_services.guest_invite_create(session=self.session, created_by=self.host,
                                                           display_name="Ana Ruiz")
        self.guest = self.invite.user

    def shot_socket(self, shot_id: int) -> str:
        """The session's socket for one of its shots (comments and decisions on the playlist versions)."""
        return f"/ws/sessions/{self.session.pk}/shots/{shot_id}/"

    def member(self, role: str):
        user = UserFactory()
        MembershipFactory(film=self.film, user=user, role=role)
        return user

    def expire(self):
        GuestInvite.objects.filter(pk=self.invite.pk).update(created_at=timezone.now() - timedelta(hours=3),
                                                             expires_at=timezone.now() - timedelta(minutes=1))

    def end_invitation(self, how: str):
        if how == "expired":
            self.expire()
        elif how == "revoked":
            live_services.guest_invite_revoke(invite=self.invite)
        else:
            live_services.session_end(session=self.session, ended_by=self.host)


@pytest.fixture
def scene(db):
    return Scene()


@pytest.fixture
async def live_scene():
    return await sync_to_async(Scene)()


# Socket tests: in-memory channel layers, and no database connection left open by consumers.
sockets = pytest.mark.usefixtures("in_memory_channel_layers", "consumer_db_connections_closed")
