"""One image file of a sequence: its layout (from the header only, cheap) and its pixels.

Each format gives ``layout(path)`` (size, channels, depth; nothing decoded), ``read(path)`` (the
picture as (H, W, C) code values: uint16/uint8 for integer formats, float32 for EXR) and
``write(path, values, layout, like)``. DPX is read and written by ``dpx.py``; TIFF by tifffile;
PNG by FFmpeg's PNG codec through PyAV (Pillow cannot hold 16-bit colour); OpenEXR by the OpenEXR
package (half or float, R G B or Y channels, values kept as they are, above 1.0 included).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from restoration.errors import MediaError
from restoration.sequence import dpx

FORMAT_BY_EXTENSION = {".dpx": "dpx", ".tif": "tiff", ".tiff": "tiff", ".png": "png", ".exr": "exr"}


@dataclass(frozen=True)
class FrameLayout:
    """What one frame file holds. ``bits``: 8, 10, 12 or 16 for integer samples, 16 (half) or 32
    for float ones; ``transfer``: the DPX header's transfer characteristic (None elsewhere)."""

    format: str
    width: int
    height: int
    channels: int
    bits: int
    sample: str  # "uint" or "float"
    transfer: str | None = None
    big_endian: bool | None = None
    timecode: str | None = None
    edge_code: str | None = None
    frame_rate: float | None = None

    def same_picture(self, other: FrameLayout) -> bool:
        return (self.width, self.height, self.channels, self.bits, self.sample) == (
            other.width, other.height, other.channels, other.bits, other.sample)

    def describe(self) -> str:
        kind = "float" if self.sample == "float" else "bit"
        return f"{self.width}x{self.height} {'grey' if self.channels == 1 else 'RGB'} {self.bits}-{kind}"


def format_of(name: str | os.PathLike) -> str | None:
    """The format a file name (or a bare extension such as ``.dpx``) says, None if unsupported."""
    return FORMAT_BY_EXTENSION.get(os.path.splitext("x" + os.fspath(name))[1].lower())


def _not_a(path: Path, kind: str, detail: str = "") -> MediaError:
    return MediaError(f"{path}: not a readable {kind} file{f' ({detail})' if detail else ''}")


# ---------------------------------------------------------------------------------------------
# DPX


def _dpx_layout(path: Path) -> FrameLayout:
    header = dpx.read_header(path)
    return FrameLayout("dpx", header.width, header.height, header.channels, header.bits, "uint", header.transfer,
                       header.big_endian, header.timecode, header.edge_code, header.frame_rate)


def _dpx_read(path: Path) -> np.ndarray:
    return dpx.read(path)[0]


# ---------------------------------------------------------------------------------------------
# TIFF


_TIFF_COMPRESSIONS = (1, 8, 32946)  # none, Adobe Deflate, Deflate: what tifffile reads on its own


def _tiff_page(path: Path):
    import tifffile

    try:
        tif = tifffile.TiffFile(path)
    except (tifffile.TiffFileError, ValueError, struct.error) as exc:
        raise _not_a(path, "TIFF", str(exc).splitlines()[0] if str(exc) else "") from None
    except OSError as exc:
        raise MediaError(f"{path}: cannot read ({exc.strerror})") from None
    if not tif.pages:
        tif.close()
        raise _not_a(path, "TIFF", "no image")
    return tif, tif.pages[0]


def _tiff_layout(path: Path) -> FrameLayout:
    tif, page = _tiff_page(path)
    with tif:
        samples, dtype = int(page.samplesperpixel), np.dtype(page.dtype) if page.dtype is not None else None
        if samples not in (1, 3) or dtype not in (np.dtype(np.uint8), np.dtype(np.uint16)):
            raise MediaError(f"{path}: TIFF of {samples} samples of {dtype} not supported (grey or RGB, 8 or 16 bits)")
        if int(page.compression) not in _TIFF_COMPRESSIONS:
            # LZW, PackBits, JPEG... need the imagecodecs package, which the engine does not carry.
            raise MediaError(f"{path}: TIFF compressed with {page.compression.name} not supported "
                             "(uncompressed or Deflate)")
        return FrameLayout("tiff", int(page.imagewidth), int(page.imagelength), samples, dtype.itemsize * 8, "uint")


def _tiff_read(path: Path) -> np.ndarray:
    tif, page = _tiff_page(path)
    with tif:
        try:
            values = page.asarray()
        except Exception as exc:  # tifffile raises many kinds for damaged data
            raise _not_a(path, "TIFF", str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
        if values.ndim == 3 and page.planarconfig == 2:  # separate planes: (C, H, W)
            values = np.moveaxis(values, 0, -1)
    return values if values.ndim == 3 else values[:, :, None]


def _tiff_write(path: Path, values: np.ndarray, layout: FrameLayout) -> None:
    import tifffile

    picture = values[:, :, 0] if values.shape[2] == 1 else values
    tifffile.imwrite(path, np.ascontiguousarray(picture), photometric="minisblack" if values.shape[2] == 1 else "rgb")


# ---------------------------------------------------------------------------------------------
# PNG (FFmpeg's codec: 8 and 16 bits, grey and colour)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOUR_TYPES = {0: 1, 2: 3}  # grey, RGB (alpha and palettes are not scans)


def _png_layout(path: Path) -> FrameLayout:
    try:
        with open(path, "rb") as handle:
            head = handle.read(33)
    except OSError as exc:
        raise MediaError(f"{path}: cannot read ({exc.strerror})") from None
    if len(head) < 33 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise _not_a(path, "PNG", "no PNG signature")
    width, height, bits, colour_type = struct.unpack(">IIBB", head[16:26])
    if colour_type not in _PNG_COLOUR_TYPES or bits not in (8, 16):
        raise MediaError(f"{path}: PNG colour type {colour_type} at {bits} bits not supported (grey or RGB, 8 or 16 bits)")
    return FrameLayout("png", width, height, _PNG_COLOUR_TYPES[colour_type], bits, "uint")


def _png_format(channels: int, bits: int) -> str:
    return {(1, 8): "gray", (1, 16): "gray16le", (3, 8): "rgb24", (3, 16): "rgb48le"}[(channels, bits)]


def _png_read(path: Path) -> np.ndarray:
    import av

    layout = _png_layout(path)
    try:
        decoder = av.CodecContext.create("png", "r")
        frames = decoder.decode(av.Packet(path.read_bytes()))
    except (av.error.FFmpegError, ValueError) as exc:
        raise _not_a(path, "PNG", str(exc).splitlines()[0]) from None
    if not frames:
        raise _not_a(path, "PNG", "no picture decoded")
    values = frames[0].to_ndarray(format=_png_format(layout.channels, layout.bits))
    return values if values.ndim == 3 else values[:, :, None]


def _png_write(path: Path, values: np.ndarray, layout: FrameLayout) -> None:
    import av

    height, width, channels = values.shape
    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = {(1, 8): "gray", (1, 16): "gray16be", (3, 8): "rgb24", (3, 16): "rgb48be"}[(channels, layout.bits)]
    picture = values[:, :, 0] if channels == 1 else values
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format=_png_format(channels, layout.bits))
    packets = encoder.encode(frame) + encoder.encode(None)
    path.write_bytes(b"".join(bytes(packet) for packet in packets))


# ---------------------------------------------------------------------------------------------
# OpenEXR: the header is parsed here (cheap, exact); pixels through the OpenEXR package.

_EXR_MAGIC = 20000630
_EXR_PIXEL_BITS = {0: 32, 1: 16, 2: 32}  # uint, half, float
# Headers are a few hundred bytes; one with a large preview image or metadata is read again whole.
_EXR_HEADER_FIRST_READ = 1 << 16
_EXR_HEADER_LIMIT = 1 << 24


def _exr_attributes(head: bytes) -> dict[str, bytes]:
    """The header's attributes (name -> raw value); IndexError/ValueError when ``head`` ends first."""
    attributes, position = {}, 8
    while head[position] != 0:
        name_end = head.index(b"\0", position)
        type_end = head.index(b"\0", name_end + 1)
        size = struct.unpack_from("<i", head, type_end + 1)[0]
        value_start = type_end + 5
        if size < 0 or value_start + size > len(head):
            raise IndexError("attribute runs past the data read")
        attributes[head[position:name_end].decode("ascii", "replace")] = head[value_start:value_start + size]
        position = value_start + size
    return attributes


def _exr_layout(path: Path) -> FrameLayout:
    try:
        with open(path, "rb") as handle:
            head = handle.read(_EXR_HEADER_FIRST_READ)
            if len(head) < 8 or struct.unpack_from("<i", head, 0)[0] != _EXR_MAGIC:
                raise _not_a(path, "OpenEXR", "no EXR magic number")
            try:
                attributes = _exr_attributes(head)
            except (ValueError, IndexError, struct.error):
                head += handle.read(_EXR_HEADER_LIMIT - len(head))
                attributes = None
    except OSError as exc:
        raise MediaError(f"{path}: cannot read ({exc.strerror})") from None
    if struct.unpack_from("<I", head, 4)[0] & 0x1E00:  # tiled, long names, deep or multi-part
        raise MediaError(f"{path}: tiled, deep or multi-part EXR not supported (single-part scanlines)")
    try:
        attributes = attributes if attributes is not None else _exr_attributes(head)
        channels_raw, window = attributes["channels"], attributes["dataWindow"]
        channel_types, position = {}, 0
        while position < len(channels_raw) and channels_raw[position] != 0:
            name_end = channels_raw.index(b"\0", position)
            channel_types[channels_raw[position:name_end].decode("ascii", "replace")] = struct.unpack_from(
                "<i", channels_raw, name_end + 1)[0]
            position = name_end + 17  # pixel type, pLinear and 3 reserved bytes, x and y sampling
        x_min, y_min, x_max, y_max = struct.unpack("<iiii", window)
    except (ValueError, IndexError, KeyError, struct.error):
        raise _not_a(path, "OpenEXR", "damaged header") from None
    if not (0 < x_max - x_min + 1 <= 16384 and 0 < y_max - y_min + 1 <= 16384):
        raise MediaError(f"{path}: EXR picture size {x_max - x_min + 1}x{y_max - y_min + 1} out of range")
    names = set(channel_types)
    if names not in ({"R", "G", "B"}, {"Y"}):
        raise MediaError(f"{path}: EXR channels {', '.join(sorted(names))} not supported (R G B or Y)")
    types = {channel_types[name] for name in names}
    if len(types) != 1 or types.pop() not in (1, 2):
        raise MediaError(f"{path}: EXR channels of mixed or integer types not supported (all half or all float)")
    return FrameLayout("exr", x_max - x_min + 1, y_max - y_min + 1, len(names),
                       _EXR_PIXEL_BITS[channel_types[next(iter(names))]], "float")


def _exr_read(path: Path) -> np.ndarray:
    import OpenEXR

    layout = _exr_layout(path)
    try:
        with OpenEXR.File(str(path), separate_channels=True) as image:
            channels = image.channels()
            names = ["Y"] if layout.channels == 1 else ["R", "G", "B"]
            return np.stack([np.asarray(channels[name].pixels, dtype=np.float32) for name in names], axis=-1)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise _not_a(path, "OpenEXR", str(exc).splitlines()[0]) from None


def _exr_write(path: Path, values: np.ndarray, layout: FrameLayout) -> None:
    import OpenEXR

    dtype = np.float16 if layout.bits == 16 else np.float32
    names = ["Y"] if values.shape[2] == 1 else ["R", "G", "B"]
    channels = {name: np.ascontiguousarray(values[:, :, index].astype(dtype)) for index, name in enumerate(names)}
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    try:
        OpenEXR.File(header, channels).write(str(path))
    except RuntimeError as exc:
        raise MediaError(f"{path}: cannot write ({str(exc).splitlines()[0]})") from None


_LAYOUT = {"dpx": _dpx_layout, "tiff": _tiff_layout, "png": _png_layout, "exr": _exr_layout}
_READ = {"dpx": _dpx_read, "tiff": _tiff_read, "png": _png_read, "exr": _exr_read}
_WRITE = {"tiff": _tiff_write, "png": _png_write, "exr": _exr_write}


def read_layout(path: str | os.PathLike, format_name: str) -> FrameLayout:
    return _LAYOUT[format_name](Path(path))


def read_values(path: str | os.PathLike, format_name: str) -> np.ndarray:
    """(H, W, C) code values (integer formats) or float32 values (EXR)."""
    return _READ[format_name](Path(path))


def write_values(path: str | os.PathLike, values: np.ndarray, layout: FrameLayout,
                 like: dpx.DpxHeader | None = None, timecode: str | None = None) -> None:
    if layout.format == "dpx":
        dpx.write(path, values, bits=layout.bits, big_endian=layout.big_endian is not False,
                  transfer=layout.transfer or "user-defined", timecode=timecode, frame_rate=layout.frame_rate, like=like)
    else:
        _WRITE[layout.format](Path(path), values, layout)
