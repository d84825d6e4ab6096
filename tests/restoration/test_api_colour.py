"""The front door's colour entry points, as the web app uses them: grades as plain values (a CDL
dict, a LUT as float32 bytes), files as bytes, references as files, fits with a report."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch
from PIL import Image

from restoration import api
from restoration.degrade import clean_sources, synthetic_clip
from restoration.errors import MediaError, RestorationError, SpecError
from restoration.io import read_frames, write_video

WARM = {"slope": [1.12, 1.0, 0.86], "offset": [0.015, -0.005, 0.02], "power": [0.92, 1.0, 1.12], "saturation": 1.25}
SAMPLES = np.random.default_rng(3).random((200, 3)).tolist()


def _with_lut(cdl=WARM) -> api.GradeValues:
    """A grade with a LUT (a smooth S-curve table) after its CDL."""
    axis = np.linspace(0.0, 1.0, 33)
    b, g, r = np.meshgrid(axis, axis, axis, indexing="ij")  # rows in .cube order: red fastest
    rows = np.stack([r, g, b], axis=-1).reshape(-1, 3)
    curved = rows + 0.04 * np.sin(2 * np.pi * rows)
    lut = api.GradeLut(size=33, table=curved.astype("<f4").tobytes())
    return api.grade_check(cdl, lut)


@pytest.mark.parametrize(("cdl", "words"), [
    ({**WARM, "slope": [-1, 1, 1]}, "slope must be 0 or more"),
    ({**WARM, "power": [1, 0, 1]}, "power must be above 0"),
    ({**WARM, "offset": [0, 0, 50]}, "offset must be within -10..10"),
    ({**WARM, "saturation": float("nan")}, "saturation"),
    ({**WARM, "gain": 2}, "unknown field 'gain'"),
    ({**WARM, "slope": [1, 1]}, "three numbers"),
    ([1, 2, 3], "CDL must be an object"),
])
def test_grade_check_names_what_is_wrong(cdl, words):
    with pytest.raises(SpecError, match=words):
        api.grade_check(cdl)


def test_grade_check_refuses_luts_the_site_does_not_store():
    with pytest.raises(SpecError, match="431244 bytes"):
        api.grade_check(WARM, api.GradeLut(size=33, table=b"\0" * 100))
    small = api.GradeLut(size=2, table=np.zeros((8, 3), "<f4").tobytes())
    with pytest.raises(SpecError, match="must have 33 points"):
        api.grade_check(WARM, small)


@pytest.mark.parametrize("extension", [".cdl", ".cc", ".ccc"])
def test_a_cdl_file_round_trips_the_cdl(extension):
    values = api.grade_check(WARM)
    again = api.grade_file_read(api.grade_file_write(values, extension=extension, correction_id="sh3"),
                                name=f"x{extension}")
    assert again.lut is None
    for key in ("slope", "offset", "power"):
        assert again.cdl[key] == pytest.approx(WARM[key], abs=1e-9)
    assert again.cdl["saturation"] == pytest.approx(WARM["saturation"])


def test_a_cube_holds_the_whole_grade_baked_and_reads_back_as_the_same_lut():
    values = _with_lut()
    cube = api.grade_file_write(values, extension=".cube")
    assert b"LUT_3D_SIZE 33" in cube
    imported = api.grade_file_read(cube, name="look.cube")
    assert imported.cdl == api.grade_check({"slope": [1] * 3, "offset": [0] * 3, "power": [1] * 3,
                                            "saturation": 1}).cdl
    # Exact at the lattice points (to the file's 8 decimals), close between them.
    axis = np.linspace(0, 1, 33)
    lattice = [[axis[i], axis[j], axis[k]] for i, j, k in [(0, 0, 0), (5, 17, 30), (32, 32, 32), (12, 3, 27)]]
    assert np.allclose(api.grade_colours(imported, lattice), api.grade_colours(values, lattice), atol=1e-6)
    assert np.abs(np.subtract(api.grade_colours(imported, SAMPLES), api.grade_colours(values, SAMPLES))).max() < 0.02
    # Exported again, the same table (to float32 precision).
    again = api.grade_file_read(api.grade_file_write(imported, extension=".cube"), name="again.cube")
    assert np.allclose(np.frombuffer(again.lut.table, "<f4"), np.frombuffer(imported.lut.table, "<f4"), atol=1e-7)


def test_json_keeps_cdl_and_lut_losslessly():
    values = _with_lut()
    again = api.grade_file_read(api.grade_file_write(values, extension=".json"), name="g.json")
    assert np.allclose(api.grade_colours(again, SAMPLES), api.grade_colours(values, SAMPLES), atol=1e-6)


def _cube(size: int) -> bytes:
    axis = np.linspace(0, 1, size)
    rows = [f"{r:.6f} {g:.6f} {b:.6f}" for b in axis for g in axis for r in axis]
    return (f"LUT_3D_SIZE {size}\n" + "\n".join(rows) + "\n").encode()


def test_a_17_point_cube_is_resampled_to_33_exactly_and_a_65_point_one_is_refused():
    axis = np.linspace(0, 1, 17)
    rows = [f"{r ** 2:.6f} {g:.6f} {np.sqrt(b):.6f}" for b in axis for g in axis for r in axis]
    seventeen = api.grade_file_read(("LUT_3D_SIZE 17\n" + "\n".join(rows)).encode(), name="s.cube")
    assert seventeen.lut.size == 33
    from restoration.colour.lut import cube_parse, lut_apply

    original = cube_parse("LUT_3D_SIZE 17\n" + "\n".join(rows))
    pixels = torch.tensor(SAMPLES).T.reshape(1, 3, 1, -1)
    expected = lut_apply(pixels, original).reshape(3, -1).T.numpy()
    assert np.allclose(api.grade_colours(seventeen, SAMPLES), expected, atol=1e-6)
    with pytest.raises(SpecError, match="a 65-point LUT is not supported"):
        api.grade_file_read(_cube(65), name="big.cube")


@pytest.mark.parametrize(("name", "data", "words"), [
    ("a.cube", b"LUT_3D_SIZE 2\n0 0 0\n1 1 1\n", "2 table rows, LUT_3D_SIZE 2 needs 8"),
    ("a.cube", b"LUT_1D_SIZE 16\n", "a 1D LUT"),
    ("a.cube", b"\xff\xfe", "not UTF-8"),
    ("a.cc", b"<ColorCorrection><SOPNode><Slope>1 x 1</Slope></SOPNode></ColorCorrection>", "must be numbers"),
    ("a.cc", b"<ColorCorrection><SOPNode><Slope>1 1 1</Slope>", "malformed XML"),
    ("a.cdl", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><ColorDecisionList/>', "DOCTYPE"),
    ("a.cc", b"<ColorCorrection><SOPNode><Slope>-1 1 1</Slope></SOPNode></ColorCorrection>", "slope must be 0"),
    ("a.png", b"x", "unsupported grade file"),
    ("a.json", b"{", "malformed JSON"),
])
def test_malformed_grade_files_are_refused_naming_the_file_and_the_place(name, data, words):
    with pytest.raises(SpecError, match=words) as caught:
        api.grade_file_read(data, name=name)
    if not name.endswith(".png"):
        assert str(caught.value).startswith(name)


def test_a_collection_holds_many_corrections_and_each_is_read_by_id():
    other = {**WARM, "saturation": 0.5}
    ccc = api.cdl_collection_write({"shot-1": WARM, "shot-2": other})
    corrections = api.grade_file_corrections(ccc, name="film.ccc")
    assert list(corrections) == ["shot-1", "shot-2"]
    assert corrections["shot-2"]["saturation"] == 0.5
    with pytest.raises(SpecError, match="holds 2 corrections; choose one"):
        api.grade_file_read(ccc, name="film.ccc")
    assert api.grade_file_read(ccc, name="film.ccc", correction_id="shot-2").cdl["saturation"] == 0.5


def test_the_preview_lut_is_the_grades_own_lut_in_cube_order_or_the_whole_grade_baked():
    values = _with_lut()
    own = api.grade_lut(values)
    assert own.size == 33 and own.table == values.lut.table
    identity = np.frombuffer(api.grade_lut(api.grade_check(WARM)).table, "<f4").reshape(-1, 3)
    axis = np.linspace(0, 1, 33)
    # Entry r + 33 g + 33^2 b is the colour (r, g, b) / 32: red changes fastest.
    assert identity[5 + 33 * 17 + 33 * 33 * 30] == pytest.approx([axis[5], axis[17], axis[30]], abs=1e-7)
    baked = np.frombuffer(api.grade_lut(values, baked=True).table, "<f4").reshape(-1, 3)
    assert baked[5 + 33 * 17 + 33 * 33 * 30] == pytest.approx(
        api.grade_colours(values, [[axis[5], axis[17], axis[30]]])[0], abs=1e-6)
    assert struct.calcsize("<f") * 3 * 33**3 == len(own.table)


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    """12 frames of a photograph under camera motion, 72x96, lossless."""
    clip = synthetic_clip(dict(clean_sources())["coffee"], frames=12, size=(72, 96), seed=1, motion="pan")
    path = tmp_path_factory.mktemp("colour") / "clip.mkv"
    write_video(path, clip, fps=24)
    return path


def test_restore_applies_a_grade_as_its_last_step(clip_file, tmp_path):
    spec = api.spec_validate({"ops": []})
    plain = api.restore_frames(clip_file, tmp_path / "plain.mkv", spec=spec, start=2, count=4, fps=24, device="cpu")
    graded = api.restore_frames(clip_file, tmp_path / "graded.mkv", spec=spec, start=2, count=4, fps=24,
                                device="cpu", grade=api.grade_check(WARM))
    assert graded.info.frame_count == plain.info.frame_count == 4
    before = read_frames(tmp_path / "plain.mkv").permute(0, 2, 3, 1).reshape(-1, 3).numpy()
    after = read_frames(tmp_path / "graded.mkv").permute(0, 2, 3, 1).reshape(-1, 3).numpy()
    expected = np.asarray(api.grade_colours(api.grade_check(WARM), before[:500].tolist()))
    assert np.abs(after[:500] - expected).max() <= 1.0 / 255 + 1e-6  # 8-bit output


def test_clips_join_grades_each_source_as_told(clip_file, tmp_path):
    info = api.clips_join([clip_file, clip_file], tmp_path / "joined.mkv", fps=24,
                          grades=[None, api.grade_check({**WARM, "saturation": 0.0})])
    assert info.frame_count == 24
    joined = read_frames(tmp_path / "joined.mkv")
    assert (joined[:12] - read_frames(clip_file)).abs().max() < 1e-6
    grey = joined[12:]
    assert (grey[:, 0] - grey[:, 1]).abs().max() < 2 / 255  # saturation 0: no colour left
    with pytest.raises(RestorationError, match="1 grades for 2 sources"):
        api.clips_join([clip_file, clip_file], tmp_path / "x.mkv", fps=24, grades=[None])


def test_still_probe_reads_size_channels_and_depth_and_refuses_what_is_not_a_still(tmp_path):
    Image.fromarray(np.zeros((40, 60), np.uint16)).save(tmp_path / "deep.png")
    info = api.still_probe(tmp_path / "deep.png")
    assert (info.width, info.height, info.channels, info.bit_depth) == (60, 40, 1, 16)
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(MediaError, match="text.png: not a readable image"):
        api.still_probe(tmp_path / "text.png")
    Image.fromarray(np.zeros((8, 60, 3), np.uint8)).save(tmp_path / "thin.png")
    with pytest.raises(MediaError, match="the still is 60x8; each side must be 16 to 16384"):
        api.still_probe(tmp_path / "thin.png")
    data = (tmp_path / "deep.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="cut.png"):
        api.still_probe(tmp_path / "cut.png")


def test_registration_refuses_another_picture_or_framing_naming_the_reference(clip_file, tmp_path):
    api.demo_graded_still_write(clip_file, 3, tmp_path / "good.png")
    assert api.grade_references_register([api.GradeReference(clip_file, 3, tmp_path / "good.png")])[0]["score"] > 0.35
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (72, 96, 3), np.uint8)).save(tmp_path / "noise.png")
    Image.fromarray(np.zeros((96, 96, 3), np.uint8)).save(tmp_path / "square.png")
    with pytest.raises(RestorationError, match="frame 3 .noise.png.: still cannot be registered"):
        api.grade_references_register([api.GradeReference(clip_file, 3, tmp_path / "noise.png",
                                                          label="frame 3 (noise.png)")])
    with pytest.raises(RestorationError, match="the aspect differs by"):
        api.grade_references_register([api.GradeReference(clip_file, 3, tmp_path / "square.png")])


def test_a_fit_through_the_front_door_finds_a_known_cdl_and_reports_held_out_errors(clip_file, tmp_path):
    look = {"slope": [1.1, 1.0, 0.9], "offset": [0.02, 0.0, -0.01], "power": [1.0, 1.1, 0.95], "saturation": 1.2}
    references = []
    for frame in (1, 10):
        api.demo_graded_still_write(clip_file, frame, tmp_path / f"f{frame}.png", cdl=look, twist=0.0)
        references.append(api.GradeReference(clip_file, frame, tmp_path / f"f{frame}.png", label=f"frame {frame}"))
    steps = []
    result = api.grade_fit(references, progress=lambda done, total: steps.append((done, total)))
    assert steps[-1][0] == steps[-1][1] and [d for d, _ in steps] == list(range(1, len(steps) + 1))
    report = result.report
    assert report["references"] == 2 and report["holdout"]["cdl"]["mean"] < 2.0
    assert report["fit"]["mean"] < report["identity"]["mean"] / 3
    assert result.values.cdl["slope"] == pytest.approx(look["slope"], abs=0.08)
    assert result.values.cdl["saturation"] == pytest.approx(look["saturation"], abs=0.15)
    assert result.values.lut is None or result.values.lut.size == 33
