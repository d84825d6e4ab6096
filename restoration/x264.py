"""libx264's private settings (``x264-params``) shared by every H.264 encode of the engine.

On a CPU with AVX-512, x264's AVX-512 code makes different bytes for the same frames and options
from one encode to the next (measured on the development machine's AMD EPYC: with its
macroblock tree on, threaded or not, the first encode of a process and the later ones differ,
and runs differ from each other; with ``asm=AVX2`` every encode is the same). Capping x264's
instruction sets at AVX2 there keeps every H.264 encode repeatable, so a CRF search, a seeded
damage model and a benchmark can trust one encode. Imports nothing heavy (the encode options are
checked without torch or PyAV).
"""

from __future__ import annotations

import functools
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
# x264's name for its instruction sets up to AVX2 (and every older one it implies).
REPEATABLE_ASM = "AVX2"


@functools.cache
def cpu_has_avx512() -> bool:
    """Whether this CPU has AVX-512 (its foundation, ``avx512f``), from Linux's ``/proc/cpuinfo``;
    False where that cannot be read (another system: x264 is left to choose)."""
    try:
        text = CPUINFO.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and "avx512f" in line.split() for line in text.splitlines())


def x264_options(*settings: str) -> dict[str, str]:
    """libx264's ``x264-params`` option (none when empty): ``settings`` (``name=value``) joined
    by ``:``, with x264's instruction sets capped at AVX2 on a CPU with AVX-512 so that its
    encodes are repeatable."""
    if cpu_has_avx512():
        settings = (*settings, f"asm={REPEATABLE_ASM}")
    return {"x264-params": ":".join(settings)} if settings else {}
