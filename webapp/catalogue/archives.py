"""Unpacking an uploaded image sequence (a tar or zip of its frames) into a staging folder.

Nothing in an archive is trusted: a member may name an absolute path or climb out with ``..``,
be a link, a hard link or a device, claim a small size and inflate to gigabytes (a zip bomb), or
be one of millions. Each is refused, naming the member; only plain files of one folder (the
archive's top level or one folder in it, the sequence's own) are written, under their own
names, by streaming with the running total checked against the limit.
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
# A feature is about 170,000 frames at 24 fps; an archive of a reel holds far fewer.
MAX_ARCHIVE_MEMBERS = 200_000
CHUNK_BYTES = 1024 * 1024
ZIP_ENCRYPTED = 0x1
ZIP_MADE_ON_UNIX = 3


class ArchiveRefused(Exception):
    """The archive cannot be unpacked safely; the message names the problem (and the member)."""


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def sequence_archive_unpack(archive: Path, *, name: str, into: Path, max_bytes: int) -> None:
    """Unpack the frames of ``archive`` (called ``name`` by the user) into the empty folder
    ``into``. Raises ``ArchiveRefused``; the caller removes ``into`` then."""
    members = _zip_members(archive) if name.lower().endswith(".zip") else _tar_members(archive)
    unpacked, count, folder = 0, 0, None
    with members as entries:
        for member, kind, opener in entries:
            count += 1
            if count > MAX_ARCHIVE_MEMBERS:
                raise ArchiveRefused(f"more than {MAX_ARCHIVE_MEMBERS} members")
            path = _member_path(member)
            if kind == "folder":
                if len(path.parts) > 1:
                    raise ArchiveRefused(f"{member}: folders inside the sequence's folder")
                continue
            if kind != "file":
                raise ArchiveRefused(f"{member}: a {kind}, not a plain file")
            parent = path.parent.as_posix()
            if len(path.parts) > 2:
                raise ArchiveRefused(f"{member}: folders inside the sequence's folder")
            if folder is None:
                folder = parent
            elif parent != folder:
                raise ArchiveRefused(f"{member}: frames in more than one folder ({_shown(folder)} and {_shown(parent)})")
            target = into / path.name
            try:
                out = open(target, "xb")  # noqa: SIM115 - closed below
            except FileExistsError:
                raise ArchiveRefused(f"{member}: twice in the archive") from None
            with out, opener() as source:
                while chunk := source.read(CHUNK_BYTES):
                    unpacked += len(chunk)
                    if unpacked > max_bytes:
                        raise ArchiveRefused(f"unpacks to more than the limit of {max_bytes} bytes")
                    out.write(chunk)
    if count == 0:
        raise ArchiveRefused("the archive is empty")


def _shown(folder: str) -> str:
    return "the top" if folder in ("", ".") else folder


def _member_path(member: str) -> PurePosixPath:
    if not member or "\x00" in member or "\\" in member:
        raise ArchiveRefused(f"{member!r}: not a plain member name")
    path = PurePosixPath(member)
    if path.is_absolute() or (len(member) > 1 and member[1] == ":"):
        raise ArchiveRefused(f"{member}: an absolute path")
    if ".." in path.parts:
        raise ArchiveRefused(f"{member}: a path with '..'")
    if any(ord(c) < 32 or c == "\x7f" for c in member):
        raise ArchiveRefused(f"{member!r}: control characters in the name")
    return PurePosixPath(*[part for part in path.parts if part != "."])


Entry = tuple[str, str, Callable[[], BinaryIO] | None]


@contextmanager
def _zip_members(archive: Path) -> Iterator[Iterator[Entry]]:
    try:
        zipped = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise ArchiveRefused("not a zip archive") from None
    with zipped:
        def entries() -> Iterator[Entry]:
            for info in zipped.infolist():
                mode = info.external_attr >> 16
                if info.flag_bits & ZIP_ENCRYPTED:
                    yield info.filename, "encrypted member", None
                elif info.create_system == ZIP_MADE_ON_UNIX and stat.S_IFMT(mode) and not (
                        stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                    yield info.filename, "link" if stat.S_ISLNK(mode) else "special file", None
                elif info.is_dir():
                    yield info.filename.rstrip("/"), "folder", None
                else:
                    yield info.filename, "file", lambda info=info: zipped.open(info)

        try:
            yield entries()
        except (zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
            raise ArchiveRefused(f"a damaged zip archive ({exc})") from None


@contextmanager
def _tar_members(archive: Path) -> Iterator[Iterator[Entry]]:
    try:
        tarred = tarfile.open(archive, mode="r:*")  # noqa: SIM115 - closed below
    except (tarfile.TarError, OSError, EOFError):
        raise ArchiveRefused("not a tar archive") from None
    with tarred:
        def entries() -> Iterator[Entry]:
            for member in tarred:  # streams: the members are read one by one
                if member.isreg():
                    yield member.name, "file", lambda member=member: tarred.extractfile(member)
                elif member.isdir():
                    yield member.name.rstrip("/"), "folder", None
                elif member.issym():
                    yield member.name, "link", None
                elif member.islnk():
                    yield member.name, "hard link", None
                else:
                    yield member.name, "special file", None

        try:
            yield entries()
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ArchiveRefused(f"a damaged tar archive ({exc})") from None
