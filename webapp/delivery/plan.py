"""What a delivery conforms: the shots of a reel (a range of shot numbers) or of the whole film,
and for each the picture that goes in (its approved version, else the fallback the user chose:
the scan's frames or the shot's latest version), checked before any job starts. The same plan is
made again by the job when it runs (the approvals may have moved meanwhile)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from webapp.catalogue.models import Film, Shot, ShotVersion, VersionStatus

FALLBACKS = ("scan", "latest")
# How far apart two frame rates may be and still be one rate (23.976 stored as a float).
RATE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class ShotPicture:
    """The picture of one shot in a delivery: ``source`` says where it comes from (``approved``,
    ``latest`` version, or ``scan``); frames ``start .. start+count-1`` of ``path`` at ``fps``."""

    shot: Shot
    source: str
    version: ShotVersion | None
    path: str
    start: int
    count: int
    fps: float

    @property
    def retimed(self) -> bool:
        """Not frame for frame the scan's shot (another rate or another number of frames)."""
        return abs(self.fps - self.shot.fps) > RATE_TOLERANCE or self.count != self.shot.frame_count


@dataclass(frozen=True)
class ConformPlan:
    film: Film
    reel: dict
    pictures: list[ShotPicture]
    fps: float
    sound: bool

    @property
    def frame_count(self) -> int:
        return sum(picture.count for picture in self.pictures)


def reel_shots(*, film: Film, reel: dict | None) -> list[Shot]:
    """The film's shots in order, or those numbered ``reel["first"] .. reel["last"]``."""
    shots = Shot.objects.filter(film=film).order_by("number").select_related("source", "approved_version__media")
    if reel:
        shots = shots.filter(number__gte=reel["first"], number__lte=reel["last"])
    shots = list(shots)
    if not shots:
        where = f"shots {reel['first']} to {reel['last']}" if reel else "the film"
        raise ValidationError({"reel" if reel else "film": f"There are no shots to deliver in {where}."})
    return shots


def _scan_picture(shot: Shot) -> ShotPicture | None:
    if shot.source is None or not shot.source.file:
        return None
    return ShotPicture(shot=shot, source="scan", version=None, path=shot.source.file.path, start=shot.start_frame,
                       count=shot.frame_count, fps=shot.fps)


def _version_picture(shot: Shot, version: ShotVersion, source: str) -> ShotPicture:
    media = version.media
    return ShotPicture(shot=shot, source=source, version=version, path=media.file.path, start=0,
                       count=media.frame_count or shot.frame_count, fps=media.fps or shot.fps)


def _latest_version(shot: Shot) -> ShotVersion | None:
    return (ShotVersion.objects.filter(shot=shot, media__isnull=False).exclude(status=VersionStatus.DRAFT)
            .select_related("media").order_by("-number").first())


def conform_plan(*, film: Film, reel: dict | None, fallback: str | None, sound: bool) -> ConformPlan:
    """The pictures to conform, or a ValidationError naming what stops the delivery: no shots, no
    approved shot, shots without an approved version and no fallback chosen (listed in
    ``unapproved_shots``), a fallback that finds nothing, a retimed picture with sound, mixed rates."""
    if fallback is not None and fallback not in FALLBACKS:
        raise ValidationError({"fallback": f"Must be one of {', '.join(FALLBACKS)}."})
    shots = reel_shots(film=film, reel=reel)
    approved = {shot.pk for shot in shots if shot.approved_version is not None and shot.approved_version.media_id}
    if not approved:
        raise ValidationError({"film": "No shot to deliver has an approved version: approve shots first."})
    unapproved = [shot.number for shot in shots if shot.pk not in approved]
    if unapproved and fallback is None:
        raise ValidationError({
            "film": f"Shots without an approved version: {', '.join(map(str, unapproved))}. Choose a fallback "
                    "(\"scan\" or \"latest\") or approve them.",
            "unapproved_shots": [str(number) for number in unapproved],
        })
    pictures, missing = [], []
    for shot in shots:
        if shot.pk in approved:
            pictures.append(_version_picture(shot, shot.approved_version, "approved"))
            continue
        latest = _latest_version(shot) if fallback == "latest" else None
        picture = _version_picture(shot, latest, "latest") if latest is not None else _scan_picture(shot)
        if picture is None:
            missing.append(shot.number)
        else:
            pictures.append(picture)
    if missing:
        raise ValidationError({"fallback": f"Shots {', '.join(map(str, missing))} have neither a version nor a scan."})
    retimed = [picture for picture in pictures if picture.retimed]
    if sound and retimed:
        listed = ", ".join(f"{p.shot.number} ({p.count} frames at {p.fps:g} fps)" for p in retimed)
        raise ValidationError({"sound": f"Retimed pictures cannot carry the scan's sound: shots {listed}. "
                                        "Deliver picture only (\"sound\": false)."})
    rates = sorted({round(picture.fps, 3) for picture in pictures})
    if len(rates) > 1:
        raise ValidationError({"film": f"The pictures run at several rates ({', '.join(f'{r:g}' for r in rates)} "
                                       "fps); one master needs one rate."})
    return ConformPlan(film=film, reel=dict(reel or {}), pictures=pictures, fps=pictures[0].fps, sound=sound)
