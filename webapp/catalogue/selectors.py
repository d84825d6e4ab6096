"""Reads of the catalogue. Every queryset starts from ``access.visible_films(user)``."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery

from webapp.catalogue.access import ALLOWED_ROLES, Action, visible_films
from webapp.catalogue.models import (
    Film,
    Invitation,
    InvitationStatus,
    MediaAsset,
    Membership,
    Shot,
    ShotStatus,
    ShotVersion,
)
from webapp.catalogue.timecode import timecode_frame

User = AbstractBaseUser | AnonymousUser


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated queryset: one number per outer row, with no join fan-out
    (two counts over joins would multiply each other)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _counted)"
    output_field = IntegerField()


def _count(queryset: QuerySet) -> SubqueryCount:
    return SubqueryCount(queryset.order_by().values("pk"))


def film_list(*, user: User) -> QuerySet[Film]:
    """Visible films with ``shot_count``, ``approved_shot_count`` and the user's ``my_role``."""
    shots = Shot.objects.filter(film=OuterRef("pk"))
    my_role = Membership.objects.filter(film=OuterRef("pk"), user_id=user.pk).values("role")[:1]
    return Film.objects.filter(pk__in=visible_films(user=user).values("pk")).annotate(
        shot_count=_count(shots),
        approved_shot_count=_count(shots.filter(status=ShotStatus.APPROVED)),
        my_role=Subquery(my_role),
    )


def membership_list(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(film__in=visible_films(user=user).values("pk")).select_related("user")


def invitation_list(*, user: User) -> QuerySet[Invitation]:
    """Invitations addressed to the user, and those of the films they manage members of (every
    film's for staff)."""
    if not user.is_authenticated:
        return Invitation.objects.none()
    invitations = Invitation.objects.select_related("film", "invited_by")
    if user.is_staff:
        return invitations.all()
    managed = Membership.objects.filter(user_id=user.pk, role__in=ALLOWED_ROLES[Action.MANAGE_MEMBERS])
    return invitations.filter(Q(user_id=user.pk) | Q(film__in=managed.values("film_id")))


def invitations_pending_for(*, user: User) -> QuerySet[Invitation]:
    """What the user is invited to and has not answered yet."""
    if not user.is_authenticated:
        return Invitation.objects.none()
    return (Invitation.objects.filter(user_id=user.pk, status=InvitationStatus.PENDING)
            .select_related("film", "invited_by").order_by("-created_at", "-id"))


def asset_list(*, user: User) -> QuerySet[MediaAsset]:
    return MediaAsset.objects.filter(film__in=visible_films(user=user).values("pk"))


def shot_list(*, user: User) -> QuerySet[Shot]:
    return Shot.objects.filter(film__in=visible_films(user=user).values("pk")).annotate(
        version_count=_count(ShotVersion.objects.filter(shot=OuterRef("pk")))
    )


def version_list(*, user: User) -> QuerySet[ShotVersion]:
    return ShotVersion.objects.filter(shot__film__in=visible_films(user=user).values("pk")).select_related(
        "shot", "author"
    )



GRADUAL_TRANSITIONS = ("dissolve", "wipe", "fade")


def shot_transitions(*, shot: Shot) -> list[dict]:
    """The dissolves, wipes and fades that overlap ``shot``, as analysis stored them: its own way
    in (``side`` "in") and the next shot's of the same scan ("out"), each clipped to the shot's
    inclusive film frames (``start_frame``, ``end_frame``) with its ``type`` and whole ``length``."""
    following = Shot.objects.filter(film_id=shot.film_id, source_id=shot.source_id,
                                    start_frame=shot.end_frame + 1).only("transition_in").first()
    found = []
    for side, transition in (("in", shot.transition_in), ("out", following.transition_in if following else None)):
        if transition and transition.get("type") in GRADUAL_TRANSITIONS:
            start, end = max(transition["start_frame"], shot.start_frame), min(transition["end_frame"], shot.end_frame)
            if start <= end:
                found.append({"side": side, "type": transition["type"], "start_frame": start, "end_frame": end,
                              "length": transition["end_frame"] - transition["start_frame"] + 1})
    return found


def shot_transition_spans(*, shot: Shot) -> list[tuple[int, int]]:
    """The inclusive film frames of ``shot_transitions``: a restore treats them frame by frame."""
    return [(t["start_frame"], t["end_frame"]) for t in shot_transitions(shot=shot)]


@dataclass(frozen=True)
class ShotNumbering:
    """How people count a shot's frames on screen; display only: frames stay keyed from the
    shot's frame 0 everywhere (comments, annotations, APIs, sockets). Shot frame f shows as
    ``start_number + f`` at the timecode of frame ``timecode_start + f`` (at the shot's fps)."""

    start_number: int
    timecode_start: int
    # The scan's own file numbers of the shot's first and last frames (an image sequence: the
    # scanner's numbering, e.g. 86400), or None for a video file, shown from the film's start number.
    source_numbers: tuple[int, int] | None
    scan_timecode: bool  # the timecode is the scan's own (its first frame's DPX timecode + frames)

    def viewer_fields(self) -> dict:
        """What the browser's viewer is given (the review page's ``numbering``, a live playlist item)."""
        return {"start_number": self.start_number, "timecode_start": self.timecode_start,
                "scan_numbers": self.source_numbers is not None, "scan_timecode": self.scan_timecode}


def shot_numbering(*, shot: Shot, film_start: int) -> ShotNumbering:
    """The numbers and timecode the viewer, the film page and live sessions show for ``shot``
    (its ``source`` loaded; ``film_start`` is its film's ``frame_number_start``).

    A shot's frame f is its scan's frame ``shot.start_frame + f`` (counted from 0); an image
    sequence's frame i is its file number ``sequence_first + i``, so a sequence's shot shows the
    scanner's file numbers, and the scan's timecode where its DPX header has one. Anything else
    shows the film's start number + f, at the film's timecode (its frame ``start_frame + f``)."""
    scan = shot.source
    if scan is None or not scan.is_sequence or scan.sequence_first is None:
        return ShotNumbering(start_number=film_start, timecode_start=shot.start_frame, source_numbers=None,
                             scan_timecode=False)
    source_number = scan.sequence_first + shot.start_frame
    scan_first_frame = timecode_frame(scan.sequence_timecode, shot.fps)
    return ShotNumbering(
        start_number=source_number, source_numbers=(source_number, source_number + shot.frame_count - 1),
        timecode_start=shot.start_frame if scan_first_frame is None else scan_first_frame + shot.start_frame,
        scan_timecode=scan_first_frame is not None)
