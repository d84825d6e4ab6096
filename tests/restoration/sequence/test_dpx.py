"""DPX frames: exact round trips at 10, 12 and 16 bits in both byte orders, the header's
timecode, transfer and edge code, agreement with FFmpeg's decoder, and bad files."""

from __future__ import annotations

import struct

import av
import numpy as np
import pytest

from restoration.errors import MediaError
from restoration.sequence import dpx

from .conftest import gradient_codes


@pytest.mark.parametrize("bits", [10, 12, 16])
@pytest.mark.parametrize("big_endian", [True, False])
@pytest.mark.parametrize("channels", [1, 3])
def test_round_trip_is_exact_to_the_code_value(tmp_path, bits, big_endian, channels):
    rng = np.random.default_rng(bits)
    codes = rng.integers(0, 1 << bits, size=(48, 64, channels)).astype(np.uint16)
    codes[0, 0, 0], codes[0, 1, 0] = 0, (1 << bits) - 1  # both ends of the range
    path = tmp_path / "frame.dpx"
    dpx.write(path, codes, bits=bits, big_endian=big_endian, transfer="logarithmic", timecode="10:59:58:23")
    back, header = dpx.read(path)
    assert back.dtype == np.uint16 and np.array_equal(back, codes)
    assert path.read_bytes()[:4] == (b"SDPX" if big_endian else b"XPDS")
    assert (header.bits, header.big_endian, header.channels) == (bits, big_endian, channels)
    assert header.timecode == "10:59:58:23"
    assert header.transfer == "logarithmic"


@pytest.mark.parametrize(("bits", "big_endian", "pix_fmt"), [(10, True, "gbrp10le"), (12, False, "gbrp12le"),
                                                              (16, True, "rgb48le")])
def test_ffmpeg_decodes_what_we_write_to_the_same_code_values(tmp_path, bits, big_endian, pix_fmt):
    codes = gradient_codes(bits)
    path = tmp_path / "frame.dpx"
    dpx.write(path, codes, bits=bits, big_endian=big_endian)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    decoded = frame.to_ndarray(format=pix_fmt)  # PyAV gives planar GBR as (H, W, 3) in R, G, B order
    assert np.array_equal(decoded, codes)


def test_film_and_tv_headers_are_carried_by_like_also_across_byte_orders(tmp_path):
    source = tmp_path / "source.dpx"
    dpx.write(source, gradient_codes(10), bits=10, big_endian=True, timecode="01:00:00:05", frame_rate=24.0)
    raw = bytearray(source.read_bytes())
    raw[1664:1680] = b"KU" + b"05" + b"12" + b"123456" + b"7890"  # manufacturer, type, perfs, prefix, count
    struct.pack_into(">I", raw, 1712, 42)  # frame position in the film's sequence
    source.write_bytes(bytes(raw))
    header = dpx.read_header(source)
    assert header.edge_code == "KU 05 123456 7890 +12"

    copy = tmp_path / "copy.dpx"
    dpx.write(copy, gradient_codes(16), bits=16, big_endian=False, like=header)
    carried = dpx.read_header(copy)
    assert (carried.timecode, carried.edge_code, carried.frame_rate) == ("01:00:00:05", "KU 05 123456 7890 +12", 24.0)
    assert struct.unpack_from("<I", copy.read_bytes(), 1712)[0] == 42


def test_unsupported_packing_is_refused_by_name(tmp_path):
    path = tmp_path / "packed.dpx"
    dpx.write(path, gradient_codes(10), bits=10)
    raw = bytearray(path.read_bytes())
    struct.pack_into(">H", raw, 780 + 24, 0)  # 10 bits packed without filling: not supported
    path.write_bytes(bytes(raw))
    with pytest.raises(MediaError, match="10-bit packing 0 not supported"):
        dpx.read(path)


@pytest.mark.parametrize(("content", "message"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(3000), "not a DPX file"),
    (b"SDPX" + bytes(100), "shorter than its 2048-byte header"),
])
def test_a_file_that_is_not_a_dpx_is_refused(tmp_path, content, message):
    path = tmp_path / "frame.dpx"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=message):
        dpx.read(path)


def test_a_truncated_dpx_is_refused(tmp_path):
    path = tmp_path / "frame.dpx"
    dpx.write(path, gradient_codes(10), bits=10)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(MediaError, match="truncated DPX"):
        dpx.read(path)


def test_end_of_line_padding_is_skipped(tmp_path):
    codes = gradient_codes(10, channels=1, height=6, width=8)  # 8 samples: 3 words a line
    path = tmp_path / "frame.dpx"
    dpx.write(path, codes, bits=10)
    raw = path.read_bytes()
    lines = [raw[2048 + 12 * row:2048 + 12 * (row + 1)] + b"\xaa" * 8 for row in range(6)]
    header = bytearray(raw[:2048])
    struct.pack_into(">I", header, 780 + 32, 8)
    path.write_bytes(bytes(header) + b"".join(lines))
    assert np.array_equal(dpx.read(path)[0], codes)


def test_another_orientation_is_refused(tmp_path):
    path = tmp_path / "frame.dpx"
    dpx.write(path, gradient_codes(16), bits=16)
    raw = bytearray(path.read_bytes())
    struct.pack_into(">H", raw, 768, 2)  # bottom to top
    path.write_bytes(bytes(raw))
    with pytest.raises(MediaError, match="DPX orientation 2 not supported"):
        dpx.read(path)
