"""Template context for every page."""

from __future__ import annotations

from webapp.catalogue.access import guest_invite_of, person_label


def person(request) -> dict:
    """How the top bar names the signed-in person, and whether they are a guest (a guest sees
    only their session: no catalogue, jobs or notifications to link to)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"person_name": person_label(user), "person_is_guest": guest_invite_of(user) is not None}
