"""The ``deliver`` job kind (cpu queue): conform the plan's pictures into the masters asked for
(FFV1/MKV, ProRes 422 HQ/MOV) with the scan's sound, encode the distribution file (H.264, HEVC or
AV1, per-shot adaptive CRF, the sound as AAC), write the exports (OTIO, EDL, .ccc), take
each file's checksums, and only then, in the transaction that marks the job succeeded, rename
them to their final names and create their ``Deliverable`` rows. A failure or a cancel leaves
no file and no row; the film is delivered when a master of the whole film, every shot approved, is."""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.core.exceptions import ValidationError

from restoration.api import MASTER_CODECS, ClipSpan, clips_join, encode_adaptive, probe, sound_add
from webapp.catalogue.ingest import asset_fields_from_probe
from webapp.catalogue.models import AssetKind, FilmStatus
from webapp.catalogue.services import asset_create
from webapp.catalogue.status import film_status_advance
from webapp.colour.models import VersionGradeMode
from webapp.colour.selectors import correction_id_of, grade_applied, grade_values_of, version_grade_of
from webapp.delivery.checksums import file_checksums
from webapp.delivery.exports import CutEntry, ccc_bytes, edl_text, otio_text
from webapp.delivery.models import Deliverable, DeliverableKind
from webapp.delivery.plan import ConformPlan, ShotPicture, conform_plan
from webapp.delivery.services import delivery_dispatch
from webapp.jobs.models import JobKind, RestorationJob
from webapp.jobs.registry import CPU_QUEUE, JobRunner, register
from webapp.jobs.runtime import frames_total_set, job_succeed, output_path, progress_reporter, scratch_path
from webapp.review.models import Decision

EXPORT_EXTENSIONS = {DeliverableKind.OTIO: ".otio", DeliverableKind.EDL: ".edl", DeliverableKind.CCC: ".ccc"}


def _grade_of(picture: ShotPicture):
    """The grade to apply to the picture on the way (``colour.selectors.grade_applied``) unless a
    restore job baked one into it; and whether the baked one is older than the approved one."""
    applied, _ = grade_applied(picture.shot)
    link = version_grade_of(picture.version) if picture.version is not None else None
    if link is not None and link.mode == VersionGradeMode.BAKED:
        return None, link.grade, applied is not None and applied.pk != link.grade_id
    return applied, applied, False


def _decisions_by_version(versions) -> dict[int, list[dict]]:
    """Every reviewer decision on the versions, oldest first, in one query."""
    found: dict[int, list[dict]] = {}
    decisions = Decision.objects.filter(version__in=[v.pk for v in versions if v is not None])
    for d in decisions.select_related("reviewer").order_by("created_at", "id"):
        found.setdefault(d.version_id, []).append({"role": d.role, "verdict": d.verdict, "note": d.note,
                                                   "reviewer": d.reviewer.get_username(),
                                                   "at": d.created_at.isoformat()})
    return found


def _entries(plan: ConformPlan, grades: list) -> list[CutEntry]:
    decisions = _decisions_by_version([picture.version for picture in plan.pictures])
    entries = []
    for picture, grade in zip(plan.pictures, grades, strict=True):
        version = picture.version
        entries.append(CutEntry(
            shot_number=picture.shot.number, shot_id=picture.shot.pk, scan_start=picture.shot.start_frame,
            scan_end=picture.shot.end_frame, source=picture.source, source_name=Path(picture.path).name,
            source_in=picture.start, frames=picture.count, fps=picture.fps,
            version_number=version.number if version else None, version_status=version.status if version else None,
            decisions=decisions.get(version.pk, []) if version else [], grade_id=correction_id_of(grade) if grade is not None else None,
            grade_cdl=dict(grade.cdl) if grade is not None else None, transition_in=picture.shot.transition_in,
        ))
    return entries


def _shot_rows(plan: ConformPlan, entries: list[CutEntry]) -> list[dict]:
    rows, first = [], 0
    for picture, entry in zip(plan.pictures, entries, strict=True):
        rows.append({"number": entry.shot_number, "picture": picture.source, "version": entry.version_number,
                     "start_frame": first, "end_frame": first + picture.count - 1, "grade": entry.grade_id})
        first += picture.count
    return rows


def _plan_of(job: RestorationJob) -> ConformPlan:
    params = job.params
    try:
        return conform_plan(film=job.film, reel=params.get("reel"), fallback=params.get("fallback"),
                            sound=params.get("sound", True))
    except ValidationError as exc:  # the approvals moved since the request: one line for the job
        raise ValueError(" ".join(str(m) for messages in exc.message_dict.values() for m in messages)) from None


def _stem(job: RestorationJob, plan: ConformPlan) -> str:
    title = re.sub(r"[^a-z0-9]+", "-", job.film.title.lower()).strip("-")[:40] or f"film{job.film_id}"
    return f"{title}-shots-{plan.reel['first']}-{plan.reel['last']}" if plan.reel else title


def _distribution_encode(job: RestorationJob, options: dict, lossless: Path, shot_rows: list[dict], *, sound: bool,
                         stem: str, report, offset: int, leftovers: list[Path]) -> tuple[str, Path, dict]:
    """The branch ``encode``'s adaptive encode of the lossless conform, shot by shot (each at the
    highest CRF meeting the target), then the conform's sound beside it (``sound_add``)."""
    encoded = scratch_path(job, ".mp4")
    leftovers.append(encoded)
    result = encode_adaptive(lossless, encoded, codec=options["codec"], target=options["target"],
                             shots=[(row["start_frame"], row["end_frame"]) for row in shot_rows],
                             preset=options["preset"],
                             progress=lambda done, total: report(offset + done, job.frames_total))
    output = encoded
    if sound:
        output = scratch_path(job, ".mp4")
        leftovers.append(output)
        info = sound_add(encoded, lossless, output)
        encoded.unlink()  # the picture alone: copied into the output
    else:
        info = probe(encoded)
    figures = {(shot["start_frame"], shot["end_frame"]): shot for shot in result.to_dict()["shots"]}
    # capped: at the codec's highest CRF and still above the target (the page says so)
    rows = [{**row, **{key: figures[(row["start_frame"], row["end_frame"])][key] for key in ("crf", "quality", "capped")}}
            for row in shot_rows]
    return (DeliverableKind.DISTRIBUTION, output, {
        "codec": options["codec"], "sound": bool(info.audio), "info": info, "shots": rows,
        "encoding": {"target": options["target"], "preset": options["preset"], "bytes": result.to_dict()["bytes"]},
        "name": f"{stem}-{options['codec']}.mp4"})


def deliver_run(job: RestorationJob, leftovers: list[Path]) -> None:
    plan = _plan_of(job)
    masters = list(job.params.get("masters", ["ffv1"]))
    exports = list(job.params.get("exports", []))
    looks = [_grade_of(picture) for picture in plan.pictures]
    applied = [grade for grade, _, _ in looks]
    shown = [look for _, look, _ in looks]  # the grade the pictures carry, for the exports
    stale = [picture.shot.number for picture, (_, _, old) in zip(plan.pictures, looks, strict=True) if old]
    entries = _entries(plan, shown)
    scans_with_sound = {p.shot.source.file.path for p in plan.pictures if plan.sound and p.shot.source is not None
                        and probe(p.shot.source.file.path).audio}
    sound = bool(scans_with_sound)
    spans = [ClipSpan(path=picture.path, start=picture.start, count=picture.count,
                      grade=grade_values_of(grade) if grade is not None else None,
                      sound=picture.shot.source.file.path if picture.shot.source is not None
                      and picture.shot.source.file.path in scans_with_sound else None,
                      sound_start=picture.shot.start_frame)
               for picture, grade in zip(plan.pictures, applied, strict=True)]
    distribution = job.params.get("distribution")
    # A distribution encode starts from a lossless conform: the FFV1 master, or a scratch one.
    conforms = masters + (["ffv1"] if distribution and "ffv1" not in masters else [])
    frames_total_set(job, plan.frame_count * (len(conforms) + (1 if distribution else 0)))
    report = progress_reporter(job)
    stem = _stem(job, plan)
    shot_rows = _shot_rows(plan, entries)
    made: list[tuple[str, Path, dict]] = []  # (kind, scratch file, row fields)
    lossless: Path | None = None
    for number, codec in enumerate(conforms):
        temp = scratch_path(job, MASTER_CODECS[codec])
        leftovers.append(temp)
        offset = number * plan.frame_count
        info = clips_join(spans, temp, fps=plan.fps, sound=sound, codec=codec,
                          progress=lambda done, total, offset=offset: report(offset + done, job.frames_total))
        lossless = temp if codec == "ffv1" else lossless
        if codec in masters:
            made.append((DeliverableKind.MASTER, temp, {"codec": codec, "sound": bool(info.audio), "info": info,
                                                        "name": f"{stem}-master-{codec}{MASTER_CODECS[codec]}"}))
    if distribution:
        made.append(_distribution_encode(job, distribution, lossless, shot_rows, sound=sound, stem=stem,
                                         report=report, offset=len(conforms) * plan.frame_count,
                                         leftovers=leftovers))
        if "ffv1" not in masters:
            lossless.unlink()  # the encode's source only, not a deliverable
    sound_name = Path(next(iter(scans_with_sound))).name if sound else None
    master_name = made[0][2]["name"] if made else None  # the conformed picture the timeline stands for
    texts = {
        DeliverableKind.OTIO: lambda: otio_text(entries, title=job.film.title, fps=plan.fps, sound_name=sound_name,
                                                master_name=master_name).encode(),
        DeliverableKind.EDL: lambda: edl_text(entries, title=job.film.title, fps=plan.fps, sound=sound).encode(),
        DeliverableKind.CCC: lambda: ccc_bytes(entries),
    }
    for kind in exports:
        temp = scratch_path(job, EXPORT_EXTENSIONS[kind])
        leftovers.append(temp)
        temp.write_bytes(texts[kind]())
        made.append((kind, temp, {"codec": "", "sound": False, "info": None,
                                  "name": f"{stem}{EXPORT_EXTENSIONS[kind]}"}))
    checksums = [file_checksums(temp) for _, temp, _ in made]

    def record(row: RestorationJob) -> None:
        for (kind, temp, fields), (md5, sha256) in zip(made, checksums, strict=True):
            name, final_path = output_path(job, folder="deliveries", stem=stem, extension=temp.suffix)
            leftovers.append(final_path)
            os.replace(temp, final_path)  # final only with this transaction's commit (media_files)
            info = fields["info"]
            probed = asset_fields_from_probe(info, path=final_path) if info is not None else {
                "size_bytes": final_path.stat().st_size, "container": kind}
            asset = asset_create(film=job.film, kind=AssetKind.DELIVERY, file=name, original_name=fields["name"],
                                 **probed)
            Deliverable.objects.create(film=job.film, asset=asset, job=row, kind=kind, codec=fields["codec"],
                                       sound=fields["sound"], reel=plan.reel, shots=fields.get("shots", shot_rows),
                                       encoding=fields.get("encoding", {}), md5=md5, sha256=sha256)
        if masters and not plan.reel and all(picture.source == "approved" for picture in plan.pictures):
            film_status_advance(film=job.film, status=FilmStatus.DELIVERED)

    graded = sum(grade is not None for grade in applied)
    fallbacks = sum(picture.source != "approved" for picture in plan.pictures)
    message = (f"Delivered {len(made)} file{'s' if len(made) != 1 else ''} of {len(plan.pictures)} shots, "
               f"{plan.frame_count} frames{' with sound' if sound else ', picture only'}")
    message += f"; {fallbacks} shots from the fallback ({job.params.get('fallback')})" if fallbacks else ""
    message += f"; {graded} graded on the way" if graded else ""
    message += (f"; shots {', '.join(map(str, stale))} carry an older grade than their approved one (restore them "
                "again to bake it)" if stale else "")
    job_succeed(job, message=message[:490] + ".", write=record)
    leftovers.clear()


RUNNER = register(JobRunner(kind=JobKind.DELIVER, queue=CPU_QUEUE, dispatch=delivery_dispatch, run=deliver_run))
