"""Ingest: take a scan in (upload or server-side path), check it with PyAV, store it, record it.

All-or-nothing: the bytes are first staged under MEDIA_ROOT/incoming, probed there (what we
store is exactly what we probed), then renamed to a generated name and recorded in one
transaction. Any failure removes the staged and stored files and leaves no row.

The user's file name is kept as ``original_name`` only; stored paths are always generated.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from restoration.api import probe, sequence_files
from restoration.errors import MediaError
from webapp.catalogue.archives import ArchiveRefused, is_archive_name, sequence_archive_unpack
from webapp.catalogue.media_files import sequence_frames
from webapp.catalogue.models import AssetKind, Film, FilmStatus, MediaAsset
from webapp.catalogue.services import asset_create, film_create
from webapp.catalogue.status import film_status_advance

MIN_SIDE = 16
MAX_SIDE = 16384
MAX_NAME_LENGTH = 255
COPY_CHUNK_BYTES = 8 * 1024 * 1024
STALE_STAGED_SECONDS = 24 * 3600
# A sequence's frames are staged in a folder of their own (copied from INGEST_ROOTS or unpacked).
STAGED_FOLDER_SUFFIX = ".partdir"
# "f_%06d.dpx@86400": the engine's way to start a sequence at a given file number.
SEQUENCE_START = re.compile(r"@\d+$")

# Stored extension by demuxer (PyAV's container names list aliases after the first comma).
EXTENSION_BY_CONTAINER = {"matroska": ".mkv", "mov": ".mov", "mp4": ".mp4", "avi": ".avi", "mxf": ".mxf"}
# Hardware surfaces and non-picture layouts PyAV may report: not footage we can restore.
HARDWARE_PIX_FMTS = ("vaapi", "vdpau", "cuda", "qsv", "videotoolbox", "d3d11", "dxva2", "drm_prime", "mediacodec",
                     "opencl", "vulkan", "mmal")
NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f/\\]")
# FFmpeg's demuxers of one still image (tiff_pipe, dpx_pipe, png_pipe...): one frame of a
# sequence named alone, which PyAV reads as a one-frame video at a made-up 25 fps.
SINGLE_IMAGE_CONTAINERS = re.compile(r"^(image2|\w+_pipe)$")


class IngestError(Exception):
    """Bad input to ingest. The message names the problem, in one line, for the user."""

    status_code = 400


class UploadTooLarge(IngestError):
    status_code = 413


@dataclass(frozen=True)
class ValidatedScan:
    info: Any  # the engine's probe result (restoration.api.probe)
    extension: str


def asset_fields_from_probe(info: Any, *, path: Path) -> dict[str, Any]:
    """The ``MediaAsset`` fields of a stored media file or image sequence: its size on disk and
    what the engine's probe (``restoration.api.probe``) found in it, cut to the columns' lengths.
    The one copy of this mapping: ingest, restore jobs (a version's mezzanine) and deliveries all
    use it. ``path`` is a sequence's pattern when ``info`` is a sequence's."""
    sequence = getattr(info, "sequence", None)
    if sequence is None:
        size, sequence_fields = path.stat().st_size, {}
    else:
        size = sum(Path(frame).stat().st_size for frame in sequence_files(path))
        sequence_fields = {
            "sequence_pattern": Path(sequence.pattern).name[:255],
            "sequence_first": sequence.first_number,
            "sequence_last": sequence.last_number,
            "sequence_format": sequence.format[:10],
            "sequence_bits": sequence.bits,
            "sequence_transfer": (sequence.transfer or "")[:30],
            "sequence_timecode": (sequence.timecode or "")[:20],
        }
    return {
        **sequence_fields,
        "size_bytes": size,
        "container": info.container[:50],
        "codec": info.codec[:50],
        "width": info.width,
        "height": info.height,
        "fps": info.fps,
        "frame_count": info.frame_count,
        "bit_depth": info.bit_depth,
        "pix_fmt": info.pix_fmt[:30],
        "duration": info.duration,
    }


def incoming_dir() -> Path:
    """Staging folder for scans being ingested: inside MEDIA_ROOT so accepting one is a rename.

    Staged files normally vanish with their request; a process killed mid-upload leaves one
    behind, so files older than STALE_STAGED_SECONDS are swept whenever staging starts.
    """
    folder = Path(settings.MEDIA_ROOT) / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - STALE_STAGED_SECONDS
    for staged in [*folder.glob("*.part"), *folder.glob(f"*{STAGED_FOLDER_SUFFIX}")]:
        try:
            if staged.lstat().st_mtime < cutoff:
                if staged.is_dir() and not staged.is_symlink():
                    shutil.rmtree(staged)
                else:
                    staged.unlink()
        except OSError:
            pass  # another process took it first
    return folder


def clean_original_name(name: str) -> str:
    """The user's name for the file, kept for display. Refuses path parts and control characters."""
    name = (name or "").strip()
    if not name:
        raise IngestError("file name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise IngestError(f"file name is longer than {MAX_NAME_LENGTH} characters")
    if NAME_FORBIDDEN.search(name) or name in {".", ".."} or ".." in Path(name).parts:
        raise IngestError(f"file name {name!r} must be a plain name, without folders or '..'")
    return name


def pix_fmt_problem(pix_fmt: str) -> str | None:
    """Why a pixel format is not restorable footage, or None when it is fine."""
    try:
        fmt = av.VideoFormat(pix_fmt)
    except (ValueError, TypeError):
        return f"unknown pixel format {pix_fmt!r}"
    if pix_fmt.startswith(HARDWARE_PIX_FMTS):
        return f"unsupported pixel format {pix_fmt} (a hardware surface, not pictures)"
    if fmt.has_palette:
        return f"unsupported pixel format {pix_fmt} (palettised colour)"
    if fmt.is_bit_stream:
        return f"unsupported pixel format {pix_fmt} (1-bit pictures)"
    if fmt.is_bayer:
        return f"unsupported pixel format {pix_fmt} (raw Bayer sensor data; debayer it first)"
    if "f16" in pix_fmt or "f32" in pix_fmt or any(c.bits > 16 for c in fmt.components):
        return f"unsupported pixel format {pix_fmt} (more than 16 bits per component)"
    return None


def frame_pixels_problem(width: int, height: int) -> str | None:
    """Why a picture is too large for the workers (previews, restores hold whole frames), or None."""
    budget = settings.MAX_FRAME_PIXELS
    if width * height <= budget:
        return None
    return (f"picture size {width}x{height} ({width * height} pixels a frame) is over this server's budget of "
            f"{budget} pixels a frame (MAX_FRAME_PIXELS)")


def validate_scan(path: Path, *, label: str) -> ValidatedScan:
    """Probe a staged file (or a staged sequence's folder) and check it is footage we can work
    on. ``label`` names it in messages."""
    try:
        info = probe(path)
    except MediaError as exc:
        # The engine's message starts with the (staging) path: show the user's name instead.
        message = str(exc)
        prefix = f"{path}: "
        message = message[len(prefix):] if message.startswith(prefix) else message
        if path.is_dir():  # a sequence's messages name its frames: by their own names only
            message = message.replace(f"{path}{os.sep}", "")
        raise IngestError(f"{label}: {message}") from None
    if SINGLE_IMAGE_CONTAINERS.match(info.container.split(",")[0]):
        raise IngestError(f"{label}: a single {info.codec.upper()} image, not a scan: name an image sequence by its "
                          "folder or its pattern (f_%06d.dpx), or upload its frames as a .tar or .zip")
    if info.width < MIN_SIDE or info.height < MIN_SIDE:
        raise IngestError(f"{label}: picture size {info.width}x{info.height} is too small (at least {MIN_SIDE} px a side)")
    if info.width > MAX_SIDE or info.height > MAX_SIDE:
        raise IngestError(f"{label}: absurd picture size {info.width}x{info.height} (at most {MAX_SIDE} px a side)")
    problem = frame_pixels_problem(info.width, info.height)
    if problem:
        raise IngestError(f"{label}: {problem}")
    if info.frame_count < 1:
        raise IngestError(f"{label}: the video has no frames")
    problem = pix_fmt_problem(info.pix_fmt)
    if problem:
        raise IngestError(f"{label}: {problem}")
    extension = EXTENSION_BY_CONTAINER.get(info.container.split(",")[0], ".video")
    return ValidatedScan(info=info, extension=extension)


def _ingest_candidate(raw_path: str) -> tuple[Path, list[Path]]:
    """The absolute, unresolved path a register request names, and the resolved ingest roots.

    Relative paths are taken from the first root; ``..`` is refused outright."""
    if not isinstance(raw_path, str) or not raw_path.strip():
        raise IngestError("path is required")
    if "\x00" in raw_path:
        raise IngestError("path contains a NUL character")
    roots = [Path(root).resolve() for root in settings.INGEST_ROOTS]
    if not roots:
        raise IngestError("no ingest roots are configured on this server (INGEST_ROOTS)")
    candidate = Path(raw_path)
    if ".." in candidate.parts:
        raise IngestError(f"path {raw_path!r} must not contain '..'")
    if not candidate.is_absolute():
        candidate = roots[0] / candidate
    return candidate, roots


def _not_in_roots(raw_path: str) -> IngestError:
    # Missing, unresolvable and outside the roots get one answer: the API must not tell a caller
    # which paths exist elsewhere on the server.
    return IngestError(f"path {raw_path!r} is not a file in the allowed ingest folders")


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def names_sequence(raw_path: str | os.PathLike) -> bool:
    """Whether a path names an image sequence rather than a video file: a folder, or a printf
    pattern (``f_%06d.dpx``, optionally ``@N``) that is not itself a file's name."""
    path = Path(raw_path)
    if path.is_file():
        return False
    return path.is_dir() or "%" in SEQUENCE_START.sub("", path.name)


def resolve_ingest_path(raw_path: str) -> Path:
    """A server-side path the web may read: an existing file under one of INGEST_ROOTS, symlinks resolved.

    Relative paths are taken from the first root. ``..`` is refused outright; a symlink that
    leads out of the roots is refused after resolution.
    """
    candidate, roots = _ingest_candidate(raw_path)
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, symlink loops, permissions
        raise _not_in_roots(raw_path) from None
    if not _inside(resolved, roots):
        raise _not_in_roots(raw_path)
    if not resolved.is_file():
        raise IngestError(f"path {raw_path!r} is not a regular file")
    if not os.access(resolved, os.R_OK):
        raise IngestError(f"path {raw_path!r} is not readable by the server")
    return resolved


def _link_out(raw_path: str, name: str) -> IngestError:
    return IngestError(f"path {raw_path!r}: frame {name} is a link that leads outside the allowed ingest folders")


def _refuse_links_out(folder: Path, roots: list[Path], raw_path: str) -> None:
    """Refuse a folder holding a symlink that leads out of the roots (dangling ones are the
    engine's to name)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.is_symlink():
            try:
                real = Path(entry.path).resolve(strict=True)
            except (OSError, RuntimeError):
                continue  # a dangling link: the engine's own message names it
            if not _inside(real, roots):
                raise _link_out(raw_path, entry.name)


def resolve_ingest_sequence(raw_path: str) -> list[tuple[str, Path]]:
    """The frames of an image sequence under INGEST_ROOTS (a folder or a printf pattern, as the
    engine names them), each as ``(its file name, the file it resolves to)``.

    The sequence's folder must resolve inside the roots (else the same answer as a missing
    path), and so must EVERY frame once its symlinks are followed: one link out of the roots
    refuses the whole sequence, naming the frame."""
    candidate, roots = _ingest_candidate(raw_path)
    named = Path(SEQUENCE_START.sub("", str(candidate)))
    folder = named if named.is_dir() else named.parent
    try:
        if not _inside(folder.resolve(strict=True), roots):
            raise _not_in_roots(raw_path)
    except (OSError, RuntimeError):
        raise _not_in_roots(raw_path) from None
    try:
        frames = [Path(frame) for frame in sequence_files(candidate)]
    except MediaError as exc:
        # The engine read the frames' headers: a link out of the roots is all we say of such a
        # frame, never what the engine found in the file it leads to.
        _refuse_links_out(folder, roots, raw_path)
        message = str(exc)
        for root in roots:  # the user's own terms: paths inside the roots as they gave them
            message = message.replace(f"{root}{os.sep}", "")
        raise IngestError(f"path {raw_path!r}: {message}") from None
    resolved = []
    for frame in frames:
        try:
            real = frame.resolve(strict=True)
        except (OSError, RuntimeError):
            raise IngestError(f"path {raw_path!r}: frame {frame.name} cannot be read") from None
        if not _inside(real, roots):
            raise _link_out(raw_path, frame.name)
        if not real.is_file():
            raise IngestError(f"path {raw_path!r}: frame {frame.name} is not a regular file")
        if not os.access(real, os.R_OK):
            raise IngestError(f"path {raw_path!r}: frame {frame.name} is not readable by the server")
        resolved.append((frame.name, real))
    return resolved


def _stage_copy(source: Path) -> Path:
    """Copy a server-side file into the staging folder, in chunks."""
    handle, staged = tempfile.mkstemp(prefix="register-", suffix=".part", dir=incoming_dir())
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, COPY_CHUNK_BYTES)
    except OSError as exc:
        Path(staged).unlink(missing_ok=True)
        raise IngestError(f"{source.name}: could not be copied ({exc.strerror or exc})") from None
    return Path(staged)


def _stage_sequence_copy(frames: list[tuple[str, Path]]) -> Path:
    """Copy a sequence's frames (``(name, file)``) into a fresh staging folder, in chunks."""
    staged = Path(tempfile.mkdtemp(prefix="register-", suffix=STAGED_FOLDER_SUFFIX, dir=incoming_dir()))
    try:
        for name, source in frames:
            with open(source, "rb") as src, open(staged / name, "xb") as out:
                shutil.copyfileobj(src, out, COPY_CHUNK_BYTES)
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        frame = Path(exc.filename).name if exc.filename else "a frame"
        raise IngestError(f"{frame}: could not be copied ({exc.strerror or exc})") from None
    return staged


def _storage_name(film: Film, extension: str) -> str:
    return f"assets/originals/film-{film.pk}/{uuid.uuid4().hex}{extension}"


def _record(*, film: Film, kind: str, name: str, original_name: str, scan: ValidatedScan) -> MediaAsset:
    with transaction.atomic():
        asset = asset_create(film=film, kind=kind, file=name, original_name=original_name,
                             **asset_fields_from_probe(scan.info, path=Path(settings.MEDIA_ROOT) / name))
        film_status_advance(film=film, status=FilmStatus.INGESTING)
    return asset


def _store_staged(*, film: Film, staged: Path, original_name: str, scan: ValidatedScan,
                  kind: str = AssetKind.ORIGINAL) -> MediaAsset:
    """Move a staged, validated file (or sequence folder) to its generated name and record it;
    undo the move on failure. A sequence keeps its frames' own names in a folder of its own; the
    asset's file is then their pattern (``.../<uuid>/f_%06d.dpx``), which the engine reads."""
    if staged.is_dir():
        pattern = Path(scan.info.path).name
        frames = set(sequence_frames(staged, pattern))
        for entry in staged.iterdir():  # a stray README or thumbnail is not the scan's
            if entry not in frames:
                entry.unlink()
        folder = _storage_name(film, "")
        final = Path(settings.MEDIA_ROOT) / folder
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            if _same_device(staged, final.parent):
                os.rename(staged, final)
            else:
                shutil.copytree(staged, final)
            return _record(film=film, kind=kind, name=f"{folder}/{pattern}",
                           original_name=original_name, scan=scan)
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
    name = _storage_name(film, scan.extension)
    final = Path(settings.MEDIA_ROOT) / name
    final.parent.mkdir(parents=True, exist_ok=True)
    if _same_device(staged, final.parent):
        os.link(staged, final)  # no second copy of a large scan
    else:
        shutil.copyfile(staged, final)
    try:
        return _record(film=film, kind=kind, name=name, original_name=original_name, scan=scan)
    except BaseException:
        final.unlink(missing_ok=True)
        raise


def _same_device(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def asset_ingest_upload(*, film: Film, upload: UploadedFile) -> MediaAsset:
    """Ingest an uploaded scan that the upload handler streamed to the staging folder."""
    try:
        original_name = clean_original_name(upload.name)
        if upload.size is not None and upload.size > settings.MAX_UPLOAD_BYTES:
            raise UploadTooLarge(f"{original_name}: larger than the upload limit of {settings.MAX_UPLOAD_BYTES} bytes")
        ingest = _sequence_archive_ingest if is_archive_name(original_name) else _staged_file_ingest
        if hasattr(upload, "temporary_file_path"):
            return ingest(film=film, staged=Path(upload.temporary_file_path()), original_name=original_name)
        # A small in-memory upload (other handlers): write it out once to probe it.
        handle, path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=incoming_dir())
        staged = Path(path)
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            return ingest(film=film, staged=staged, original_name=original_name)
        finally:
            staged.unlink(missing_ok=True)
    finally:
        upload.close()  # deletes the staged temporary file; the stored copy is a separate link


def _staged_file_ingest(*, film: Film, staged: Path, original_name: str) -> MediaAsset:
    scan = validate_scan(staged, label=original_name)
    return _store_staged(film=film, staged=staged, original_name=original_name, scan=scan)


def _sequence_archive_ingest(*, film: Film, staged: Path, original_name: str) -> MediaAsset:
    """An uploaded tar or zip of an image sequence's frames: unpacked (every member checked) into
    a fresh staging folder, then probed and stored as a registered folder is."""
    folder = Path(tempfile.mkdtemp(prefix="upload-", suffix=STAGED_FOLDER_SUFFIX, dir=incoming_dir()))
    try:
        try:
            sequence_archive_unpack(staged, name=original_name, into=folder, max_bytes=settings.MAX_UPLOAD_BYTES)
        except ArchiveRefused as exc:
            raise IngestError(f"{original_name}: {exc}") from None
        scan = validate_scan(folder, label=original_name)
        return _store_staged(film=film, staged=folder, original_name=original_name, scan=scan)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # gone already once stored


def asset_ingest_path(
    *, film: Film, path: str | os.PathLike, restrict_to_roots: bool = True, kind: str = AssetKind.ORIGINAL
) -> MediaAsset:
    """Ingest a file or an image sequence (a folder or a printf pattern) that is already on the
    server: copied in, never moved (the archive keeps its files).

    Web requests always pass ``restrict_to_roots=True``; the command line trusts its operator's
    own file access and passes False.
    """
    with _staged_scan(str(path), restrict_to_roots=restrict_to_roots) as (staged, original_name, scan):
        return _store_staged(film=film, staged=staged, original_name=original_name, scan=scan, kind=kind)


@contextmanager
def _staged_scan(raw_path: str, *, restrict_to_roots: bool) -> Iterator[tuple[Path, str, ValidatedScan]]:
    """``(staged copy, the user's name for it, what its probe found)`` of a server-side file or
    image sequence, checked (under INGEST_ROOTS, every frame, when ``restrict_to_roots``); the
    staged copy is removed on leaving unless it was stored (moved) meanwhile."""
    sequence = names_sequence(_ingest_candidate(raw_path)[0] if restrict_to_roots else raw_path)
    if sequence:
        frames = resolve_ingest_sequence(raw_path) if restrict_to_roots else _local_sequence_frames(raw_path)
        original_name = clean_original_name(Path(SEQUENCE_START.sub("", raw_path.rstrip("/"))).name)
        staged = _stage_sequence_copy(frames)
    else:
        source = resolve_ingest_path(raw_path) if restrict_to_roots else _resolve_local_file(raw_path)
        original_name = clean_original_name(source.name)
        staged = _stage_copy(source)
    try:
        yield staged, original_name, validate_scan(staged, label=original_name)
    finally:
        if sequence:
            shutil.rmtree(staged, ignore_errors=True)  # gone already once stored
        else:
            staged.unlink(missing_ok=True)


def _resolve_local_file(path: str | os.PathLike) -> Path:
    candidate = Path(path)
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise IngestError(f"{path}: no such file") from None
    if not resolved.is_file():
        raise IngestError(f"{path}: not a regular file")
    return resolved


def _local_sequence_frames(raw_path: str) -> list[tuple[str, Path]]:
    """An operator's image sequence (the command line): its frames, resolved, wherever they are."""
    try:
        frames = [Path(frame) for frame in sequence_files(raw_path)]
    except MediaError as exc:
        raise IngestError(str(exc)) from None
    return [(frame.name, _resolve_local_file(frame)) for frame in frames]


def film_import(*, path: str | os.PathLike, title: str, year: int | None = None, directors: str = "") -> MediaAsset:
    """Create a film and ingest its scan in one go (the `import_film` command). Nothing is kept on failure."""
    title = (title or "").strip()
    if not title:
        raise IngestError("title is required")
    if year is not None and not (1870 <= year <= 2100):
        raise IngestError(f"year {year} is not plausible (1870-2100)")
    with _staged_scan(str(path), restrict_to_roots=False) as (staged, original_name, scan):
        try:
            with transaction.atomic():
                film = film_create(title=title, year=year, directors=directors.strip())
                return _store_staged(film=film, staged=staged, original_name=original_name, scan=scan)
        except ValidationError as exc:
            raise IngestError("; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())) from None
