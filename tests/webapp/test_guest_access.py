"""The catalogue's access rules know guests only through the GuestAccess the live app registers."""

from __future__ import annotations

from tests.webapp import live_fixtures
from webapp.catalogue import access
from webapp.live.guest_access import LiveGuestAccess

scene = live_fixtures.scene


def test_the_live_app_registers_its_guests_with_the_access_rules():
    assert isinstance(access._guest_access, LiveGuestAccess)


def test_through_the_hook_a_guest_takes_part_in_the_sessions_playlist_and_is_named_as_a_guest(scene):
    assert set(access.guest_versions(user=scene.guest)) == {scene.v1, scene.s2v1}
    assert access.person_label(scene.guest) == "Ana Ruiz (guest)"
    assert access.guest_invite_of(scene.guest) == scene.invite
    assert access.can_comment(user=scene.guest, version=scene.v1)
    assert access.guest_invite_of(scene.restorer) is None and access.person_label(scene.restorer) == scene.restorer.username
    scene.expire()
    assert not access.guest_versions(user=scene.guest).exists()
    assert access.person_label(scene.guest) == "Ana Ruiz (guest)"  # still named as the guest they were


def test_without_a_registered_provider_nobody_is_a_guest(scene, monkeypatch):
    monkeypatch.setattr(access, "_guest_access", None)
    assert not access.guest_versions(user=scene.guest).exists()
    assert access.guest_invite_of(scene.guest) is None
    assert access.person_label(scene.guest) == scene.guest.get_username()
    assert not access.can_comment(user=scene.guest, version=scene.v1)


def test_a_registered_provider_decides_who_is_a_guest(scene, monkeypatch):
    class OnlyV2:
        def versions(self, user):
            return type(scene.v2).objects.filter(pk=scene.v2.pk) if user == scene.viewer else type(scene.v2).objects.none()

        def invite_of(self, user):
            return None

    monkeypatch.setattr(access, "_guest_access", None)
    access.guest_access_register(OnlyV2())
    assert set(access.guest_versions(user=scene.viewer)) == {scene.v2}
    assert not access.guest_versions(user=scene.guest).exists()
