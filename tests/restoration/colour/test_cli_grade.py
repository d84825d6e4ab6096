"""`python -m restoration grade fit|apply`: files in, files out, one line and exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from restoration.cli import main
from restoration.colour.cdl_files import cdl_load
from restoration.colour.grade import Grade, grade_apply, grade_load, grade_save
from restoration.colour.lut import cube_read
from restoration.colour.references import known_look, reference_still
from restoration.degrade import clean_sources, synthetic_clip
from restoration.io import probe, read_frames, write_video

REFERENCES = (1, 6)


def _png(path: Path, picture: torch.Tensor) -> Path:
    array = (picture.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(array, "RGB").save(path)
    return path


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A lossless 8-frame scan and graded stills of two of its frames from "another transfer"."""
    folder = tmp_path_factory.mktemp("grade")
    clip = synthetic_clip(dict(clean_sources())["coffee"], frames=8, size=(72, 96), seed=2, motion="pan")
    scan = folder / "scan.mkv"
    write_video(scan, clip, fps=24.0)
    clip = read_frames(scan)  # what the CLI will read: 8-bit values
    target = known_look(clip)
    stills = [_png(folder / f"still{i}.png", reference_still(target[i])) for i in REFERENCES]
    return folder, scan, clip, target, stills


def _refs(stills) -> list[str]:
    return [arg for frame, still in zip(REFERENCES, stills, strict=True) for arg in ("--ref", f"{frame}={still}")]


def _refused(capsys, argv: list[str], message: str, absent: list[Path]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    for path in absent:
        assert not path.exists()


def test_fit_writes_the_grade_as_json_cube_and_cdl_and_reports_held_out_error(scene, tmp_path, capsys):
    _, scan, clip, target, stills = scene
    out, cube, cdl = tmp_path / "grade.json", tmp_path / "grade.cube", tmp_path / "grade.cdl"
    assert main(["grade", "fit", str(scan), *_refs(stills), "--out", str(out), "--cube", str(cube),
                 "--cdl", str(cdl)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["references"] == 2 and report["holdout"]["cdl"]["mean"] < report["identity"]["mean"] / 3
    grade = grade_load(out)
    assert cube_read(cube).size == 33
    written = cdl_load(cdl)
    for field in ("slope", "offset", "power"):  # the .cdl keeps 10 decimals
        assert getattr(written, field) == pytest.approx(getattr(grade.cdl, field), abs=1e-9)
    assert written.saturation == pytest.approx(grade.cdl.saturation, abs=1e-9)
    # The grade brings the frames the fit never saw close to the look.
    unseen = [i for i in range(8) if i not in REFERENCES]
    before = (clip[unseen] - target[unseen]).abs().mean()
    after = (grade_apply(clip[unseen], grade) - target[unseen]).abs().mean()
    assert after < before / 3


def test_apply_grades_every_frame_at_the_source_depth(scene, tmp_path, capsys):
    _, scan, clip, _, _ = scene
    grade = Grade.from_dict({"version": 1, "cdl": {"slope": [1.1, 1.0, 0.9], "offset": [0.01, 0, 0.02], "power": [1, 1.1, 1],
                                     "saturation": 0.8}, "lut": None})
    grade_file = tmp_path / "warm.json"
    grade_save(grade, grade_file)
    out = tmp_path / "graded.mkv"
    assert main(["grade", "apply", str(scan), str(out), "--grade", str(grade_file), "--quiet"]) == 0
    info, source = probe(out), probe(scan)
    assert (info.frame_count, info.width, info.height, info.bit_depth) == (8, 96, 72, source.bit_depth)
    expected = grade_apply(clip, grade).clamp(0, 1)
    assert (read_frames(out) - expected).abs().max() <= 0.5 / 255 + 1e-6  # lossless, rounded to 8 bits

    deep = tmp_path / "deep.mkv"
    write_video(deep, clip, fps=24.0, bit_depth=16)
    deep_out = tmp_path / "deep-graded.mkv"
    assert main(["grade", "apply", str(deep), str(deep_out), "--grade", str(grade_file), "--quiet"]) == 0
    graded = read_frames(deep_out)
    assert probe(deep_out).bit_depth == 16
    assert len(np.unique((graded * 65535).round().numpy())) > 256  # no 8-bit step on the way


def test_bad_input_is_one_line_and_leaves_nothing(scene, tmp_path, capsys):
    _, scan, _, _, stills = scene
    out = tmp_path / "grade.json"
    _refused(capsys, ["grade", "fit", str(scan), "--ref", f"8={stills[0]}", "--out", str(out)],
             "frame 8 is outside the clip", [out])
    _refused(capsys, ["grade", "fit", str(scan), "--ref", f"1={tmp_path / 'missing.png'}", "--out", str(out)],
             "no such still", [out])
    noise = tmp_path / "noise.png"
    _png(noise, torch.rand(3, 72, 96, generator=torch.Generator().manual_seed(1)))
    _refused(capsys, ["grade", "fit", str(scan), "--ref", f"1={stills[0]}", "--ref", f"6={noise}",
                      "--out", str(out)], "cannot be registered", [out])
    bad_cube = tmp_path / "bad.cube"
    bad_cube.write_text("LUT_3D_SIZE 2\n0 0 0\n")
    graded = tmp_path / "graded.mkv"
    _refused(capsys, ["grade", "apply", str(scan), str(graded), "--grade", str(bad_cube)], "bad.cube", [graded])
    _refused(capsys, ["grade", "apply", str(scan), str(graded), "--grade", str(tmp_path / "look.txt")],
             "unsupported grade file", [graded])
