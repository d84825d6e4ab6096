"""DPX (SMPTE 268M) frames: the 2048-byte header and the pixels, read and written here.

Supported: one image element, descriptor luma (6) or RGB (50), 10 bits filled to 32-bit words
with method A (packing 1: three samples per word, first in the top bits, two padding bits at
the bottom), 12 bits in 16-bit words with method A (packing 1: the sample in the top 12 bits),
16 bits (packing 0 or 1, one sample per 16-bit word), big or little endian (magic ``SDPX`` or
``XPDS``), no run-length encoding, orientation left to right and top to bottom. Lines start
on a 32-bit word; end-of-line padding is skipped. Code values are kept as they are
(log or linear as the transfer field says; nothing is converted), and the header's timecode,
film edge code and the rest of the film, TV and image-source headers are kept as raw blocks so a
writer can carry them to the output frames.
"""

from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from restoration.errors import MediaError

HEADER_SIZE = 2048
MAGIC_BIG, MAGIC_LITTLE = b"SDPX", b"XPDS"
UNDEFINED_U32 = 0xFFFFFFFF

# Offsets in the header (SMPTE 268M).
_IMAGE_INFO = 768
_ELEMENT = 780  # first image element descriptor (72 bytes)
_SOURCE_HEADER = slice(1408, 1664)
_FILM_HEADER = slice(1664, 1920)
_TV_HEADER = slice(1920, 2048)
_FILM_FRAME_RATE = 1724
_TV_TIMECODE, _TV_USER_BITS, _TV_FRAME_RATE = 1920, 1924, 1940

DESCRIPTOR_CHANNELS = {6: 1, 50: 3}
TRANSFERS = {
    0: "user-defined", 1: "printing-density", 2: "linear", 3: "logarithmic", 4: "unspecified-video",
    5: "smpte-274m", 6: "bt709", 7: "bt601-625", 8: "bt601-525", 9: "ntsc-composite", 10: "pal-composite",
    11: "z-linear", 12: "z-homogeneous",
}
TRANSFER_CODES = {name: code for code, name in TRANSFERS.items()}
SUPPORTED_BITS = (10, 12, 16)


@dataclass(frozen=True)
class DpxHeader:
    width: int
    height: int
    channels: int
    bits: int
    packing: int
    big_endian: bool
    transfer: str
    data_offset: int
    line_padding: int  # bytes after each line's last word (end-of-line padding)
    timecode: str | None  # "HH:MM:SS:FF", None when the header has none
    edge_code: str | None  # film edge code: manufacturer, type, prefix, count, perf offset
    frame_rate: float | None
    # Raw blocks a writer copies to the output (endianness of the source; swapped on write if needed).
    colorimetric: int = 0
    source_block: bytes = field(default=b"", repr=False)
    film_block: bytes = field(default=b"", repr=False)
    tv_block: bytes = field(default=b"", repr=False)


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", "replace").strip()


def _bcd_timecode(value: int) -> str | None:
    if value in (UNDEFINED_U32, 0):
        return None
    digits = [(value >> shift) & 0xF for shift in range(28, -4, -4)]
    if any(d > 9 for d in digits):
        return None
    return "{}{}:{}{}:{}{}:{}{}".format(*digits)


def timecode_to_bcd(timecode: str) -> int:
    parts = timecode.replace(";", ":").split(":")
    if len(parts) != 4 or not all(len(p) == 2 and p.isdigit() for p in parts):
        raise MediaError(f"timecode must be HH:MM:SS:FF, got {timecode!r}")
    value = 0
    for digit in "".join(parts):
        value = (value << 4) | int(digit)
    return value


def _edge_code(film_block: bytes) -> str | None:
    manufacturer, film_type, perfs = _text(film_block[0:2]), _text(film_block[2:4]), _text(film_block[4:6])
    prefix, count = _text(film_block[6:12]), _text(film_block[12:16])
    if not (manufacturer or film_type or prefix or count):
        return None
    return f"{manufacturer} {film_type} {prefix} {count} +{perfs or '0'}".strip()


def _float(raw: bytes, endian: str) -> float | None:
    value = struct.unpack(endian + "f", raw)[0]
    if not np.isfinite(value) or value <= 0 or struct.unpack(endian + "I", raw)[0] == UNDEFINED_U32:
        return None
    return float(value)


def parse_header(raw: bytes, path: Path) -> DpxHeader:
    if len(raw) < HEADER_SIZE:
        raise MediaError(f"{path}: not a DPX file (shorter than its 2048-byte header)")
    magic = raw[:4]
    if magic not in (MAGIC_BIG, MAGIC_LITTLE):
        raise MediaError(f"{path}: not a DPX file (no SDPX/XPDS magic)")
    endian = ">" if magic == MAGIC_BIG else "<"

    def u32(offset: int) -> int:
        return struct.unpack_from(endian + "I", raw, offset)[0]

    def u16(offset: int) -> int:
        return struct.unpack_from(endian + "H", raw, offset)[0]

    elements = u16(_IMAGE_INFO + 2)
    width, height = u32(_IMAGE_INFO + 4), u32(_IMAGE_INFO + 8)
    descriptor, transfer, colorimetric, bits = raw[_ELEMENT + 20], raw[_ELEMENT + 21], raw[_ELEMENT + 22], raw[_ELEMENT + 23]
    packing, encoding = u16(_ELEMENT + 24), u16(_ELEMENT + 26)
    line_padding = u32(_ELEMENT + 32)
    line_padding = 0 if line_padding == UNDEFINED_U32 else line_padding
    orientation = u16(_IMAGE_INFO)
    data_offset = u32(_ELEMENT + 28)
    if data_offset in (0, UNDEFINED_U32):
        data_offset = u32(4)
    if orientation != 0:
        raise MediaError(f"{path}: DPX orientation {orientation} not supported (left to right, top to bottom)")
    if line_padding % 4 or line_padding > 1 << 16:
        raise MediaError(f"{path}: DPX end-of-line padding of {line_padding} bytes not supported")
    if elements != 1:
        raise MediaError(f"{path}: DPX with {elements} image elements; only one is supported")
    if descriptor not in DESCRIPTOR_CHANNELS:
        raise MediaError(f"{path}: DPX descriptor {descriptor} not supported (luma 6 or RGB 50)")
    if bits not in SUPPORTED_BITS:
        raise MediaError(f"{path}: DPX of {bits} bits not supported (10, 12 or 16)")
    if encoding != 0:
        raise MediaError(f"{path}: run-length encoded DPX not supported")
    if (bits in (10, 12) and packing != 1) or (bits == 16 and packing not in (0, 1)):
        raise MediaError(f"{path}: DPX {bits}-bit packing {packing} not supported (10 and 12 bits: filled method A, packing 1)")
    if not (0 < width <= 16384 and 0 < height <= 16384):
        raise MediaError(f"{path}: DPX picture size {width}x{height} out of range")
    if data_offset < HEADER_SIZE:
        raise MediaError(f"{path}: DPX image data offset {data_offset} lies inside the header")
    frame_rate = _float(raw[_TV_FRAME_RATE:_TV_FRAME_RATE + 4], endian) or _float(
        raw[_FILM_FRAME_RATE:_FILM_FRAME_RATE + 4], endian
    )
    film_block = raw[_FILM_HEADER]
    return DpxHeader(
        width=width, height=height, channels=DESCRIPTOR_CHANNELS[descriptor], bits=bits, packing=packing,
        big_endian=endian == ">", transfer=TRANSFERS.get(transfer, "user-defined"), data_offset=data_offset,
        line_padding=line_padding,
        timecode=_bcd_timecode(u32(_TV_TIMECODE)), edge_code=_edge_code(film_block), frame_rate=frame_rate,
        colorimetric=colorimetric, source_block=raw[_SOURCE_HEADER], film_block=film_block, tv_block=raw[_TV_HEADER],
    )


def read_header(path: str | os.PathLike) -> DpxHeader:
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            return parse_header(handle.read(HEADER_SIZE), path)
    except OSError as exc:
        raise MediaError(f"{path}: cannot read ({exc.strerror})") from None


def _words_per_line(width: int, channels: int, bits: int) -> int:
    samples = width * channels
    if bits == 10:
        return -(-samples // 3)
    return -(-samples // 2)  # 16-bit samples (12 and 16 bits), two per word


def read(path: str | os.PathLike) -> tuple[np.ndarray, DpxHeader]:
    """The picture as (H, W, C) uint16 code values (0 .. 2**bits - 1) and its header."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MediaError(f"{path}: cannot read ({exc.strerror})") from None
    header = parse_header(data[:HEADER_SIZE], path)
    width, height, channels, bits = header.width, header.height, header.channels, header.bits
    words = _words_per_line(width, channels, bits)
    stride = words * 4 + header.line_padding
    needed = header.data_offset + stride * height
    if len(data) < needed:
        raise MediaError(f"{path}: truncated DPX ({len(data)} bytes, the picture needs {needed})")
    endian = ">" if header.big_endian else "<"
    samples = width * channels
    lines = np.frombuffer(data, dtype=np.uint8, count=stride * height, offset=header.data_offset)
    lines = np.ascontiguousarray(lines.reshape(height, stride)[:, : words * 4])  # a view when no padding
    if bits == 10:
        packed = lines.view(endian + "u4").astype(np.uint32)  # native order for the shifts
        # Three samples per word, first in bits 31..22 (method A: bits 1..0 are padding).
        unpacked = np.empty((height, words * 3), dtype=np.uint16)
        for position, shift in enumerate((22, 12, 2)):
            unpacked[:, position::3] = (packed >> shift) & 0x3FF
        values = unpacked[:, :samples]
    else:
        values = lines.view(endian + "u2")[:, :samples].astype(np.uint16)
        if bits == 12:
            values = values >> 4  # method A: the sample in the top 12 bits
    return values.reshape(height, width, channels), header


def write(path: str | os.PathLike, values: np.ndarray, *, bits: int, big_endian: bool = True,
          transfer: str = "user-defined", timecode: str | None = None, frame_rate: float | None = None,
          like: DpxHeader | None = None) -> None:
    """Write (H, W, C) integer code values (C 1 or 3) as a DPX of ``bits`` (10, 12, 16) bits.
    ``like``'s image-source, film and TV headers are carried (its timecode unless ``timecode``)."""
    if bits not in SUPPORTED_BITS:
        raise MediaError(f"DPX output of {bits} bits not supported (10, 12 or 16)")
    if values.ndim != 3 or values.shape[2] not in (1, 3):
        raise MediaError(f"DPX output takes (H, W, C) with C 1 or 3, got {values.shape}")
    height, width, channels = values.shape
    if int(values.max(initial=0)) >= 1 << bits or int(values.min(initial=0)) < 0:
        raise MediaError(f"DPX output: code values outside 0..{(1 << bits) - 1}")
    endian = ">" if big_endian else "<"
    words = _words_per_line(width, channels, bits)
    flat = values.reshape(height, width * channels).astype(np.uint16, copy=False)  # in range: checked above
    if bits == 10:
        if flat.shape[1] != words * 3:  # the line's last word is part empty
            flat = np.pad(flat, ((0, 0), (0, words * 3 - flat.shape[1])))
        triples = flat.reshape(height, words, 3)
        pixels = np.left_shift(triples[..., 0], 22, dtype=np.uint32)
        pixels |= np.left_shift(triples[..., 1], 12, dtype=np.uint32)
        pixels |= np.left_shift(triples[..., 2], 2, dtype=np.uint32)
        if (endian == ">") != (sys.byteorder == "big"):
            pixels = pixels.byteswap().view(pixels.dtype.newbyteorder())
    else:
        padded = np.zeros((height, words * 2), dtype=endian + "u2")
        padded[:, : flat.shape[1]] = flat << 4 if bits == 12 else flat
        pixels = padded
    image = pixels.tobytes()

    header = bytearray(HEADER_SIZE)
    u32 = lambda offset, value: struct.pack_into(endian + "I", header, offset, value)  # noqa: E731
    u16 = lambda offset, value: struct.pack_into(endian + "H", header, offset, value)  # noqa: E731
    r32 = lambda offset, value: struct.pack_into(endian + "f", header, offset, value)  # noqa: E731
    if like is not None:
        # Raw blocks are in the source's byte order: swap their numeric fields when it differs.
        source, film, tv = like.source_block, like.film_block, like.tv_block
        if like.big_endian != big_endian:
            source, film, tv = _swap_source(source), _swap_film(film), _swap_tv(tv)
        header[_SOURCE_HEADER], header[_FILM_HEADER], header[_TV_HEADER] = source, film, tv
    else:
        for start, stop in ((1408, 1416), (1416, 1432)):  # offsets, centres, original size: undefined
            header[start:stop] = b"\xff" * (stop - start)
        header[1664:1712] = bytes(48)
        header[1712:1732] = b"\xff" * 20  # frame position, sequence length, held count, rates
        header[1920:1972] = b"\xff" * 52
        header[1928:1932] = bytes(4)
    header[0:4] = MAGIC_BIG if big_endian else MAGIC_LITTLE
    u32(4, HEADER_SIZE)
    header[8:16] = b"V2.0".ljust(8, b"\0")
    u32(16, HEADER_SIZE + len(image))
    u32(20, 1)  # ditto key: new frame
    u32(24, 1664)
    u32(28, 384)
    u32(32, 0)
    header[36:136] = Path(path).name.encode("ascii", "replace")[:99].ljust(100, b"\0")
    header[160:260] = b"filmreview restoration engine".ljust(100, b"\0")
    u32(660, UNDEFINED_U32)
    u16(_IMAGE_INFO, 0)  # orientation: left to right, top to bottom
    u16(_IMAGE_INFO + 2, 1)
    u32(_IMAGE_INFO + 4, width)
    u32(_IMAGE_INFO + 8, height)
    u32(_ELEMENT, 0)  # unsigned
    u32(_ELEMENT + 4, 0)
    r32(_ELEMENT + 8, 0.0)
    u32(_ELEMENT + 12, (1 << bits) - 1)
    r32(_ELEMENT + 16, 2.048)
    header[_ELEMENT + 20] = 6 if channels == 1 else 50
    header[_ELEMENT + 21] = TRANSFER_CODES.get(transfer, 0)
    header[_ELEMENT + 22] = like.colorimetric if like is not None else TRANSFER_CODES.get(transfer, 0)
    header[_ELEMENT + 23] = bits
    u16(_ELEMENT + 24, 0 if bits == 16 else 1)
    u16(_ELEMENT + 26, 0)
    u32(_ELEMENT + 28, HEADER_SIZE)
    u32(_ELEMENT + 32, 0)
    u32(_ELEMENT + 36, 0)
    for element in range(1, 8):  # unused element slots: undefined
        start = _ELEMENT + 72 * element
        header[start:start + 72] = b"\xff" * 72
    if timecode is not None:
        u32(_TV_TIMECODE, timecode_to_bcd(timecode))
    if frame_rate:
        r32(_TV_FRAME_RATE, float(frame_rate))
        r32(_FILM_FRAME_RATE, float(frame_rate))
    with open(path, "wb") as handle:
        handle.write(bytes(header))
        handle.write(image)


def _swap(block: bytes, layout: list[tuple[int, int]]) -> bytes:
    """Reverse the bytes of each (offset, size) numeric field of a raw header block."""
    out = bytearray(block)
    for offset, size in layout:
        out[offset:offset + size] = out[offset:offset + size][::-1]
    return bytes(out)


def _swap_source(block: bytes) -> bytes:
    # offsets, centres and original size; border (4 x U16); pixel aspect (2 x U32); scanned size (2 x R32)
    numeric = [(i * 4, 4) for i in range(6)] + [(212 + i * 2, 2) for i in range(4)] + [(220 + i * 4, 4) for i in range(4)]
    return _swap(block, numeric)


def _swap_film(block: bytes) -> bytes:
    return _swap(block, [(48 + i * 4, 4) for i in range(5)])


def _swap_tv(block: bytes) -> bytes:
    return _swap(block, [(0, 4), (4, 4)] + [(12 + i * 4, 4) for i in range(10)])
