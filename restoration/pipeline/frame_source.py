"""The frames a pipeline runs over: a tensor, or a video file read in order with a rolling buffer."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from restoration.errors import MediaError, SpecError


class FrameSource:
    """Frames of a tensor or a video file, read in increasing order with a rolling buffer.

    A file's buffer holds the frames as stored (8- or 16-bit code values: a quarter or half of
    float32's memory; ``io.iter_code_chunks``), made float for each window as ``iter_chunks``
    would give them: the next window's context stays resident at its own depth."""

    def __init__(self, *, frame_count, channels, height, width, fps, bit_depth, tensor=None, path=None, chunk_size=32):
        self.frame_count = frame_count
        self.channels = channels
        self.height = height
        self.width = width
        self.fps = fps
        self.bit_depth = bit_depth
        self._tensor = tensor
        self._path = path
        self._chunk_size = chunk_size
        self._chunks: Iterator | None = None
        self._buffer: torch.Tensor | None = None  # a file's code values, or float frames (EXR)
        self._full_scale: float | None = None
        self._buffer_start = 0

    @classmethod
    def open(cls, source, *, fps: float | None, chunk_size: int, bit_depth: int = 8) -> FrameSource:
        """``bit_depth`` is a tensor's (8 or 16: the depth its frames came from); a file says its own."""
        if isinstance(source, torch.Tensor):
            if source.ndim != 4 or source.shape[1] not in (1, 3) or source.shape[0] == 0:
                raise SpecError(f"source: expected frames (T, C, H, W) with C 1 or 3 and T > 0, got {tuple(source.shape)}")
            if not source.is_floating_point():
                raise SpecError(f"source: expected float frames in [0, 1], got {source.dtype}")
            t, c, h, w = source.shape
            return cls(frame_count=t, channels=c, height=h, width=w, fps=fps, bit_depth=bit_depth, tensor=source)
        from restoration.io import probe

        info = probe(source)
        if not info.frame_count:
            raise MediaError(f"{source}: no video frames")
        return cls(
            frame_count=info.frame_count,
            channels=info.channels,
            height=info.height,
            width=info.width,
            fps=fps or info.fps,
            bit_depth=8 if (info.bit_depth or 8) <= 8 else 16,
            path=source,
            chunk_size=chunk_size,
        )

    def holds(self, frames: torch.Tensor) -> bool:
        """Whether ``frames`` shares memory with what the source keeps (a tensor source's frames,
        the buffer): such frames are not to be changed in place."""
        kept = self._tensor if self._tensor is not None else self._buffer
        return kept is not None and frames.untyped_storage().data_ptr() == kept.untyped_storage().data_ptr()

    def get(self, lo: int, hi: int) -> torch.Tensor:
        """Frames [lo, hi) as float32 (a view of a tensor source, or of an EXR buffer: not to be
        changed in place); calls must not go back before an earlier call's ``lo``."""
        if self._tensor is not None:
            return self._tensor[lo:hi]
        if self._chunks is None:
            from restoration.io import iter_code_chunks

            self._chunks = iter(iter_code_chunks(self._path, self._chunk_size))
        if self._buffer is not None and lo > self._buffer_start:
            # Drop what no later window needs, so memory stays bounded by one window and its context.
            self._buffer = self._buffer[lo - self._buffer_start :]
            self._buffer_start = lo
        while self._buffer is None or self._buffer_start + self._buffer.shape[0] < hi:
            try:
                first, chunk, self._full_scale = next(self._chunks)
            except StopIteration:
                have = 0 if self._buffer is None else self._buffer_start + self._buffer.shape[0]
                raise MediaError(
                    f"{self._path}: the video ends after {have} frames, expected {self.frame_count} (truncated?)"
                ) from None
            if self._buffer is None:
                self._buffer, self._buffer_start = chunk, first
            else:
                self._buffer = torch.cat([self._buffer, chunk])
            if self._buffer_start < lo:
                self._buffer = self._buffer[lo - self._buffer_start :]
                self._buffer_start = lo
        from restoration.io import code_values_to_float

        return code_values_to_float(self._buffer[lo - self._buffer_start : hi - self._buffer_start], self._full_scale)
