from fractions import Fraction

import av
import numpy as np
import PyOpenColorIO as ocio
import pytest
import torch

from restoration.colour.lut import Lut3d, LutLayer, cube_read, cube_write, identity_lut, lut_apply, lut_resample
from restoration.errors import SpecError
from tests.restoration.colour.ocio import ocio_apply


def twisted_lut(size: int = 9) -> Lut3d:
    """A LUT far from identity and not separable per channel (each output mixes the inputs)."""
    rgb = identity_lut(size).table
    table = np.clip(rgb**1.3 * np.array([1.1, 0.9, 0.95]) + 0.05 * np.sin(6 * rgb[..., [1, 2, 0]]), 0, 1)
    return Lut3d(table, title="twist")


def random_frames(seed: int = 0, shape=(2, 3, 8, 12), dtype=torch.float64) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_identity_changes_nothing_and_module_equals_function():
    frames = random_frames()
    assert torch.allclose(lut_apply(frames, identity_lut(17)), frames, atol=1e-12)
    lut = twisted_lut()
    out = LutLayer(lut)(frames)
    assert out.dtype == torch.float64 and torch.equal(out, lut_apply(frames, lut))
    assert lut_apply(frames.float(), lut).dtype == torch.float32


def test_lattice_points_give_the_table_and_between_them_trilinear():
    lut = twisted_lut(5)
    point = torch.tensor([0.25, 0.5, 1.0], dtype=torch.float64).view(1, 3, 1, 1)  # lattice (1, 2, 4)
    assert lut_apply(point, lut).flatten().numpy() == pytest.approx(lut.table[1, 2, 4], abs=1e-12)
    middle = torch.tensor([0.125, 0.5, 1.0], dtype=torch.float64).view(1, 3, 1, 1)  # halfway in r
    expected = (lut.table[0, 2, 4] + lut.table[1, 2, 4]) / 2
    assert lut_apply(middle, lut).flatten().numpy() == pytest.approx(expected, abs=1e-12)


def test_domain_is_honoured():
    lut = Lut3d(identity_lut(3).table, domain_min=(0.0, 0.0, 0.0), domain_max=(0.5, 0.5, 0.5))
    pixel = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64).view(1, 3, 1, 1)
    assert lut_apply(pixel, lut).flatten().tolist() == pytest.approx([0.5, 1.0, 1.0])


def test_grey_in_stays_grey_only_when_the_lut_keeps_grey_grey():
    grey = torch.linspace(0, 1, 12, dtype=torch.float64).view(1, 1, 3, 4)
    curve = identity_lut(9).table ** 0.8  # the same curve on every channel: grey stays grey
    out = lut_apply(grey, Lut3d(curve))
    assert out.shape == (1, 1, 3, 4) and torch.allclose(out, grey**0.8, atol=0.02)
    assert lut_apply(grey, twisted_lut()).shape == (1, 3, 3, 4)


def test_cube_round_trip(tmp_path):
    lut = twisted_lut(7)
    cube_write(lut, tmp_path / "a.cube")
    again = cube_read(tmp_path / "a.cube")
    assert again.size == 7 and again.title == "twist"
    assert np.abs(again.table - lut.table).max() < 1e-8
    text = (tmp_path / "a.cube").read_text().splitlines()
    assert text[:2] == ['TITLE "twist"', "LUT_3D_SIZE 7"]
    # Red changes fastest: row 1 is lattice (1, 0, 0).
    assert [float(v) for v in text[5].split()] == pytest.approx(lut.table[1, 0, 0], abs=1e-8)
    cube_write(lut, tmp_path / "b.cube", size=33)
    assert cube_read(tmp_path / "b.cube").size == 33
    assert not list(tmp_path.glob(".*partial"))


def test_resample_keeps_the_function():
    lut = twisted_lut(9)
    frames = random_frames(1)
    big = lut_resample(lut, 33)
    assert torch.allclose(lut_apply(frames, big), lut_apply(frames, lut), atol=0.01)


@pytest.mark.parametrize("text, message", [
    ("LUT_3D_SIZE 2\n0 0 0\n1 0 0\n0 1 0\n", "3 table rows, LUT_3D_SIZE 2 needs 8"),
    ("LUT_3D_SIZE 1\n0 0 0\n", "line 1: LUT_3D_SIZE must be 2..65, got 1"),
    ("LUT_3D_SIZE 66\n", "line 1: LUT_3D_SIZE must be 2..65, got 66"),
    ("LUT_3D_SIZE 2\n0 0 0\n1 0 x\n", "line 3: a table row must be numbers"),
    ("LUT_3D_SIZE 2\n0 0 0\n1 0\n", "line 3: a table row needs 3 numbers, got 2"),
    ("# no size\n0 0 0\n", "line 2: table row before LUT_3D_SIZE"),
    ("LUT_1D_SIZE 4\n", "line 1: a 1D LUT"),
    ("TITLE \"x\"\n", "no LUT_3D_SIZE line"),
    ("LUT_3D_SIZE 2\nFOO 1\n", "line 2: unknown keyword 'FOO'"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 9, "line 10: more than the 8 rows"),
    ("LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 0 1\n" + "0 0 0\n" * 8, "domain maximum must be above"),
    ("LUT_3D_SIZE 2\n" + "0 nan 0\n" * 8, "line 2: a table row holds a non-finite number"),
])
def test_refuses_malformed_cube_files_naming_the_line(tmp_path, text, message):
    path = tmp_path / "bad.cube"
    path.write_text(text)
    with pytest.raises(SpecError, match=message):
        cube_read(path)


def test_refuses_a_missing_file(tmp_path):
    with pytest.raises(SpecError, match="no such LUT file"):
        cube_read(tmp_path / "missing.cube")


def ffmpeg_lut3d(array: np.ndarray, pix_fmt: str, cube_path) -> np.ndarray:
    """FFmpeg's lut3d filter (trilinear) on one (H, W, 3) integer picture, through PyAV."""
    height, width = array.shape[:2]
    graph = av.filter.Graph()
    source = graph.add_buffer(width=width, height=height, format=pix_fmt, time_base=Fraction(1, 24))
    lut = graph.add("lut3d", f"file={cube_path}:interp=trilinear")
    sink = graph.add("buffersink")
    source.link_to(lut)
    lut.link_to(sink)
    graph.configure()
    frame = av.VideoFrame.from_ndarray(array, format=pix_fmt)
    frame.pts, frame.time_base = 0, Fraction(1, 24)
    graph.push(frame)
    return graph.pull().to_ndarray(format=pix_fmt)


@pytest.mark.parametrize("pix_fmt, full_scale, dtype", [("rgb48le", 65535, np.uint16), ("rgb24", 255, np.uint8)])
def test_matches_ffmpeg_lut3d(tmp_path, pix_fmt, full_scale, dtype):
    lut = twisted_lut(9)
    cube_write(lut, tmp_path / "t.cube")
    array = np.random.default_rng(0).integers(0, full_scale + 1, size=(16, 24, 3)).astype(dtype)
    theirs = ffmpeg_lut3d(array, pix_fmt, tmp_path / "t.cube").astype(np.float64)
    frames = torch.from_numpy(array.astype(np.float64) / full_scale).permute(2, 0, 1)[None]
    ours = lut_apply(frames, lut)[0].permute(1, 2, 0).numpy() * full_scale
    # FFmpeg interpolates in float32 like us, then truncates to an integer (no rounding): its value
    # is ours rounded down, so it lies within one code value below ours. The 0.01 above allows for
    # float32 rounding (6e-8 relative, 0.004 of a 16-bit code value).
    difference = theirs - ours
    assert difference.max() < 0.01 and difference.min() > -1.01
    assert abs(difference.mean() + 0.5) < 0.05  # truncation, not a systematic error


def test_matches_opencolorio_file_transform(tmp_path):
    lut = twisted_lut(9)
    cube_write(lut, tmp_path / "t.cube")
    transform = ocio.FileTransform(src=str(tmp_path / "t.cube"), interpolation=ocio.INTERP_LINEAR)
    pixels = random_frames(2, shape=(1, 3, 1, 2000))
    theirs = ocio_apply(transform, pixels.view(3, -1).T.numpy())
    ours = lut_apply(pixels, lut).view(3, -1).T.numpy()
    assert np.abs(ours - theirs).max() < 1e-5  # OpenColorIO computes in float32
