"""Files under MEDIA_ROOT that no row names: never deleting a committed one, sweeping the others.

Every file the site writes belongs to a media asset (``services.py``: the file and its cached
pictures in ``proxies/<asset id>/``). Writers stage their output under a scratch name and make
it final by a rename inside the transaction that creates its asset row, so a file is committed
exactly when a row names it. Two things follow, both here:

- cleanup after a failed write removes only files no row names (``uncommitted_remove``): a
  file whose row committed is never deleted, whatever raised after the commit;
- a crash between the rename and the commit leaves a file no row names: the periodic sweep
  (``media_orphans_sweep``) removes such files once older than a grace period (a write in
  progress is younger), and the pictures of assets that no longer exist.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from webapp.catalogue.models import MediaAsset

logger = logging.getLogger(__name__)

# Folders of MEDIA_ROOT whose files are not asset files: cached pictures (swept by asset id),
# scratch outputs and staged uploads (each writer removes its own; see the jobs' sweeper).
PROXIES_FOLDER = "proxies"
SCRATCH_FOLDERS = frozenset({"tmp", "incoming"})


def media_root() -> Path:
    return Path(os.path.abspath(settings.MEDIA_ROOT))


def media_name(path: Path) -> str | None:
    """The storage name (relative to MEDIA_ROOT, as asset rows hold it) of ``path``; None outside."""
    try:
        return Path(os.path.abspath(path)).relative_to(media_root()).as_posix()
    except ValueError:
        return None


def sequence_frames(folder: Path, pattern: str) -> list[Path]:
    """The files in ``folder`` that the printf pattern ``pattern`` (``f_%06d.dpx``, ``%d``)
    names: an image sequence's frames, as the asset's ``file`` names them all at once."""
    parts = re.fullmatch(r"(.*?)%(0?\d*)d(.*)", pattern)
    if parts is None or not folder.is_dir():
        return []
    prefix, width, suffix = parts.groups()
    digits = rf"\d{{{int(width)},}}" if width else r"\d+"
    frame = re.compile(re.escape(prefix) + digits + re.escape(suffix))
    return [folder / name for name in sorted(os.listdir(folder)) if frame.fullmatch(name)]


def names_in_use(names: Iterable[str]) -> set[str]:
    """Those of ``names`` that an asset row names."""
    return set(MediaAsset.objects.filter(file__in=list(names)).values_list("file", flat=True))


def uncommitted_remove(*paths: Path | None) -> None:
    """Remove the partial outputs of a write that did not complete, except any file a row names
    (its commit went through: it is the row's now). When the database cannot say, keep them:
    a stray file is disk space the sweep takes back, a lost committed file is lost work."""
    candidates = [path for path in paths if path is not None]
    if not candidates:
        return
    try:
        committed = names_in_use(filter(None, map(media_name, candidates)))
    except Exception:  # noqa: BLE001 - the database is what failed: keep everything
        logger.warning("Kept %d partial output(s): could not check which are committed", len(candidates),
                       exc_info=True)
        return
    for path in candidates:
        if media_name(path) not in committed:
            path.unlink(missing_ok=True)


@dataclass
class SweepReport:
    """What a sweep removed (storage names) and kept back for being younger than the grace."""

    removed_files: list[str] = field(default_factory=list)
    removed_picture_folders: list[str] = field(default_factory=list)
    too_young: int = 0

    @property
    def removed(self) -> int:
        return len(self.removed_files) + len(self.removed_picture_folders)


def media_orphans_sweep(*, grace_s: float | None = None, now: float | None = None) -> SweepReport:
    """Remove the files under MEDIA_ROOT that no asset names and the picture folders of assets
    that do not exist, when last modified more than ``grace_s`` ago (default
    ``MEDIA_ORPHAN_GRACE_S``). Scratch folders are left to their writers; symlinks are removed
    as links, never followed. Returns what was removed; each removal is logged."""
    grace_s = settings.MEDIA_ORPHAN_GRACE_S if grace_s is None else grace_s
    cutoff = (time.time() if now is None else now) - grace_s
    root = media_root()
    report = SweepReport()
    if not root.is_dir():
        return report
    named = set(MediaAsset.objects.values_list("file", flat=True))
    # An image sequence's row names its frames by their pattern (``<folder>/f_%06d.dpx``).
    sequence_folders = {name.rsplit("/", 1)[0] for name in
                        MediaAsset.objects.exclude(sequence_pattern="").values_list("file", flat=True)}
    for folder, subfolders, files in os.walk(root):
        here = Path(folder)
        if here == root:
            subfolders[:] = [name for name in subfolders if name not in SCRATCH_FOLDERS | {PROXIES_FOLDER}]
        for name in files:
            path = here / name
            storage_name = path.relative_to(root).as_posix()
            if storage_name in named or storage_name.rsplit("/", 1)[0] in sequence_folders:
                continue
            if path.lstat().st_mtime > cutoff:
                report.too_young += 1
                continue
            path.unlink(missing_ok=True)
            report.removed_files.append(storage_name)
            logger.warning("Removed %s: no asset names it (left by an interrupted write)", storage_name)
    report.removed_picture_folders = _pictures_of_missing_assets_remove(root / PROXIES_FOLDER, cutoff, report)
    return report


def _pictures_of_missing_assets_remove(proxies: Path, cutoff: float, report: SweepReport) -> list[str]:
    if not proxies.is_dir():
        return []
    folders = {entry.name: entry for entry in os.scandir(proxies)}
    asset_ids = {name for name in folders if name.isdigit()}
    existing = {str(pk) for pk in MediaAsset.objects.filter(pk__in=[int(n) for n in asset_ids]).values_list("pk", flat=True)}
    removed = []
    for name in sorted(asset_ids - existing):
        entry = folders[name]
        if entry.stat(follow_symlinks=False).st_mtime > cutoff:
            report.too_young += 1
            continue
        path = Path(entry.path)
        if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)  # removes links inside, never what they lead to
        removed.append(f"{PROXIES_FOLDER}/{name}")
        logger.warning("Removed %s/%s: its asset no longer exists", PROXIES_FOLDER, name)
    return removed
