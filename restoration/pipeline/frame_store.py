"""Frames a streamed chain carries, kept in nameless scratch files while the other ops run.

Each op of a streamed chain carries its own context between calls (``pipeline.runner``: its
``2 r`` input frames, float32): under the film preset about 21 frames, 3 GiB at 4K, beside the
running op's own frames and tiles. The carried frames are only read by the next call of their
own op, so when they do not fit the budget (``tiling.stream_plan`` says which ops' frames
spill) they wait on disk: written once, read back when the op runs again. Each lot is a
``tempfile.TemporaryFile`` (in ``TMPDIR``, else the system's temporary folder) that has no name
(unlinked as it is made), so no file is left behind, even by a process that is killed; its
space goes back as it is read.
"""

from __future__ import annotations

import tempfile
from typing import BinaryIO

import torch

# Linux moves at most 2 GiB - 4 KiB per read or write call.
_IO_STEP = 1 << 30


class SpilledFrames:
    """A tensor written to a nameless scratch file; :meth:`load` reads it back (once)."""

    def __init__(self, store: FrameStore, frames: torch.Tensor) -> None:
        self._store = store
        self.shape, self.dtype, self.device = frames.shape, frames.dtype, frames.device
        self._file: BinaryIO | None = tempfile.TemporaryFile(dir=store.directory, buffering=0)  # noqa: SIM115  closed by load or close
        try:
            data = memoryview(frames.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
            for start in range(0, len(data), _IO_STEP):
                part = data[start:start + _IO_STEP]
                while part:
                    part = part[self._file.write(part):]
        except BaseException:
            self.close()
            raise

    def load(self, then: torch.Tensor | None = None) -> torch.Tensor:
        """The frames, in memory again, followed by ``then`` when given (frames of the same size,
        read into one tensor: no second copy to concatenate); the file is closed (its space freed)."""
        if self._file is None:
            raise RuntimeError("spilled frames are read back once")
        try:
            length = self.shape[0]
            out = torch.empty((length + (0 if then is None else then.shape[0]), *self.shape[1:]), dtype=self.dtype)
            count = self.shape.numel() * self.dtype.itemsize
            data = memoryview(out[:length].view(-1).view(torch.uint8).numpy())
            self._file.seek(0)
            done = 0
            while done < count:
                read = self._file.readinto(data[done:done + _IO_STEP])
                if not read:
                    raise OSError(f"scratch file ended after {done} of {count} bytes")
                done += read
        finally:
            self.close()
        if then is not None:
            out[length:] = then
        return out.to(self.device)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._store._spilled.discard(self)


class FrameStore:
    """The scratch files of one run's streamed chain; on leaving (success or error) any left
    unread are closed, so their space and descriptors go back at once."""

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory  # None: tempfile's (TMPDIR, else /tmp)
        self._spilled: set[SpilledFrames] = set()

    def spill(self, frames: torch.Tensor) -> SpilledFrames:
        spilled = SpilledFrames(self, frames)
        self._spilled.add(spilled)
        return spilled

    def close(self) -> None:
        for spilled in list(self._spilled):
            spilled.close()

    def __enter__(self) -> FrameStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
