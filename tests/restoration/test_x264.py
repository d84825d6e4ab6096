"""libx264's shared settings: its instruction sets are capped at AVX2 only on a CPU with AVX-512."""

from __future__ import annotations

import pytest

from restoration import x264

FLAGS = "flags\t\t: fpu vme sse sse2 avx avx2 {extra}\n"


@pytest.fixture
def cpuinfo(tmp_path, monkeypatch):
    """Writes a fake /proc/cpuinfo with the given extra flags (None: none to read)."""

    def write(extra: str | None):
        path = tmp_path / "cpuinfo"
        if extra is not None:
            path.write_text("processor\t: 0\n" + FLAGS.format(extra=extra) + "\nprocessor\t: 1\n" + FLAGS.format(extra=extra))
        monkeypatch.setattr(x264, "CPUINFO", path)
        x264.cpu_has_avx512.cache_clear()

    yield write
    x264.cpu_has_avx512.cache_clear()


@pytest.mark.parametrize(("extra", "expected"), [
    ("avx512f avx512dq avx512bw", True),
    ("fma bmi2", False),
    ("avx512_vnni", False),  # an AVX-512 extension without the foundation is not AVX-512
    (None, False),  # not Linux, or unreadable: x264 chooses for itself
])
def test_avx512_is_read_from_the_cpus_flags(cpuinfo, extra, expected):
    cpuinfo(extra)
    assert x264.cpu_has_avx512() is expected


def test_x264_options_cap_the_instruction_sets_only_on_avx512(cpuinfo):
    cpuinfo("avx512f")
    assert x264.x264_options("stitchable=1") == {"x264-params": "stitchable=1:asm=AVX2"}
    assert x264.x264_options() == {"x264-params": "asm=AVX2"}
    cpuinfo("fma")
    assert x264.x264_options("stitchable=1") == {"x264-params": "stitchable=1"}
    assert x264.x264_options() == {}  # no empty option for FFmpeg to parse
