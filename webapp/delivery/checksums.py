"""MD5 and SHA-256 of a file, read once in chunks (a master may be hundreds of GB)."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_BYTES = 4 * 1024 * 1024


def file_checksums(path: Path) -> tuple[str, str]:
    """(md5, sha256) hex digests of the file's bytes."""
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def sidecar_text(digest: str, file_name: str) -> str:
    """A sidecar's content as ``md5sum`` / ``sha256sum`` write it and ``-c`` checks it."""
    return f"{digest}  {file_name}\n"
