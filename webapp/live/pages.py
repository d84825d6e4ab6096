"""Pages of live sessions: the session list, the session itself, and the guest join link.

A guest link (``/sessions/join/<token>/``) first shows who you will join as; only the POST logs
you in, so a link preview or a prefetch never uses it up or swaps the browser's identity. The
guest becomes their invitation's own user: no password, no film membership, so they see this
session (its playlist's frames) and nothing else; every other page answers 404 or an empty list.
"""

from __future__ import annotations

import math

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from webapp.api.throttling import GuestJoinThrottle
from webapp.catalogue.access import visible_films
from webapp.live import selectors, services
from webapp.live.services import MAX_PLAYLIST_LENGTH

REFUSALS = {
    "revoked": (403, "This invitation was withdrawn", "The host revoked this link. Ask them for a new one."),
    "expired": (410, "This invitation has expired", "Guest links work for a limited time. Ask the host for a new one."),
    "ended": (410, "This session has ended", "The host ended the session; the link no longer opens it."),
}


@login_required
@require_http_methods(["GET", "POST"])
def session_list_page(request: HttpRequest) -> HttpResponse:
    """Sessions of your films, and a form that opens one on a film's versions in review."""
    films = list(visible_films(user=request.user).order_by("title", "id"))
    errors: list[str] = []
    if request.method == "POST":
        film = next((f for f in films if str(f.pk) == request.POST.get("film", "")), None)
        title = request.POST.get("title", "").strip()
        if film is None:
            errors.append("Choose one of your films.")
        elif not (versions := selectors.versions_awaiting_review(film=film, limit=MAX_PLAYLIST_LENGTH)):
            errors.append(f"{film.title} has no versions in review to watch.")
        else:
            try:
                session = services.session_create(film=film, created_by=request.user, title=title, versions=versions)
            except (ValidationError, PermissionDenied) as error:
                errors.extend(error.messages if isinstance(error, ValidationError) else [str(error)])
            else:
                return redirect("review-session", session_id=session.pk)
    sessions = selectors.session_list(user=request.user).order_by("ended_at", "-created_at")[:100]
    return render(request, "live/session_list.html", {"sessions": sessions, "films": films, "errors": errors,
                                                      "posted": request.POST},
                  status=400 if errors else 200)


@login_required
def session_page(request: HttpRequest, session_id: int) -> HttpResponse:
    access = selectors.session_access(user=request.user, session_id=session_id)
    if access is None:
        refusal = selectors.guest_refusal_for(user=request.user, session_id=session_id)
        if refusal is None:
            raise Http404
        status, title, text = REFUSALS[refusal]  # a guest whose link stopped working: say why
        return render(request, "live/refused.html", {"title": title, "text": text}, status=status)
    session = access.session
    if session.ended_at is not None:
        status, title, text = REFUSALS["ended"]
        return render(request, "live/refused.html", {"title": title, "text": text, "session": session}, status=status)
    return render(request, "live/session.html", {
        "session": session, "access": access, "guest": access.capacity == selectors.Capacity.GUEST,
        # The comments panel offers "resolve" on anyone's comment to archivists and staff.
        "film_role": access.role or ("staff" if request.user.is_staff else ""),
    })


@require_http_methods(["GET", "POST"])
def session_join_page(request: HttpRequest, token: str) -> HttpResponse:
    # Links that open nothing are counted per address: after a few, the address waits (429), so
    # links cannot be found by trying many.
    throttle = GuestJoinThrottle()
    if not throttle.allow_request(request):
        minutes = math.ceil(throttle.wait() / 60)
        response = render(request, "live/refused.html", {
            "title": "Too many links tried from your address",
            "text": f"Wait {minutes} minute{pluralize(minutes)}, then open the link again. "
                    "Check that the whole link was copied, or ask the host for a new one."}, status=429)
        response["Retry-After"] = str(throttle.wait())
        return response
    invite = selectors.guest_invite_for_token(token=token)
    if invite is None:
        throttle.record_failure(request)
        return render(request, "live/refused.html", {
            "title": "This link does not open any session",
            "text": "Check that the whole link was copied, or ask the host for a new one."}, status=404)
    refusal = selectors.invite_refusal(invite=invite)
    if refusal is not None:
        status, title, text = REFUSALS[refusal]
        return render(request, "live/refused.html", {"title": title, "text": text}, status=status)
    session_url = reverse("review-session", args=[invite.session_id])
    if request.user.is_authenticated and request.user.pk == invite.user_id:
        return redirect(session_url)
    if request.method == "POST":
        login(request, invite.user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(session_url)
    return render(request, "live/join.html", {"invite": invite, "session": invite.session})
