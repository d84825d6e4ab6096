import json

import numpy as np
import pytest
import torch

from restoration.colour.cdl import Cdl, cdl_apply
from restoration.colour.cdl_files import cdl_file_write
from restoration.colour.grade import Grade, GradeLayer, grade_apply, grade_bake, grade_load, grade_save
from restoration.colour.lut import Lut3d, cube_write, identity_lut, lut_apply
from restoration.errors import SpecError

WARM = Cdl(slope=(1.2, 0.95, 0.8), offset=(0.02, -0.01, 0.03), power=(0.9, 1.1, 1.25), saturation=1.3)


def curve_lut(size: int = 9) -> Lut3d:
    rgb = identity_lut(size).table
    return Lut3d(np.clip(rgb + 0.04 * np.sin(np.pi * rgb[..., [1, 2, 0]]), 0, 1))


def frames(channels: int = 3) -> torch.Tensor:
    return torch.rand(2, channels, 6, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_cdl_then_lut_and_module_equals_function():
    grade = Grade(cdl=WARM, lut=curve_lut())
    expected = lut_apply(cdl_apply(frames(), WARM), grade.lut)
    assert torch.equal(grade_apply(frames(), grade), expected)
    assert torch.equal(GradeLayer(grade)(frames()), expected)
    assert torch.equal(grade_apply(frames(), Grade(cdl=WARM)), cdl_apply(frames(), WARM))


def test_grey_is_toned_by_a_coloured_grade_and_kept_grey_by_a_neutral_one():
    sepia = Grade(cdl=Cdl(slope=(1.0, 0.9, 0.7), offset=(0.05, 0.02, 0.0)))
    assert grade_apply(frames(1), sepia).shape == (2, 3, 6, 8)
    assert grade_apply(frames(1), Grade(cdl=Cdl(power=(0.8, 0.8, 0.8)))).shape == (2, 1, 6, 8)


def test_json_round_trip(tmp_path):
    grade = Grade(cdl=WARM, lut=curve_lut(5))
    grade_save(grade, tmp_path / "g.json")
    data = json.loads((tmp_path / "g.json").read_text())
    assert data["schema"] == "restoration.grade" and data["version"] == 1 and data["lut"]["size"] == 5
    assert data["lut"]["table"][1] == pytest.approx(grade.lut.table[1, 0, 0].tolist(), abs=1e-7)  # red fastest
    again = grade_load(tmp_path / "g.json")
    assert again.cdl == WARM and np.abs(again.lut.table - grade.lut.table).max() < 1e-7
    grade_save(Grade(cdl=WARM), tmp_path / "cdl_only.json")
    assert json.loads((tmp_path / "cdl_only.json").read_text())["lut"] is None
    assert grade_load(tmp_path / "cdl_only.json") == Grade(cdl=WARM)


def test_loads_cube_and_cdl_files(tmp_path):
    cube_write(curve_lut(5), tmp_path / "look.cube")
    assert grade_load(tmp_path / "look.cube").cdl.is_identity
    cdl_file_write(tmp_path / "reel.ccc", {"a": WARM, "b": Cdl(saturation=0.5)})
    assert grade_load(tmp_path / "reel.ccc", "a") == Grade(cdl=WARM)
    with pytest.raises(SpecError, match="choose one with an id"):
        grade_load(tmp_path / "reel.ccc")
    with pytest.raises(SpecError, match="an id picks a correction"):
        grade_load(tmp_path / "look.cube", "a")


def test_bake_gives_the_grade_at_the_lattice_points():
    grade = Grade(cdl=WARM, lut=curve_lut())
    baked = grade_bake(grade, 9)
    lattice = torch.tensor(identity_lut(9).table).permute(3, 0, 1, 2).reshape(1, 3, 9, 81)
    assert torch.allclose(lut_apply(lattice, baked), grade_apply(lattice, grade), atol=1e-9)


@pytest.mark.parametrize("text, message", [
    ("{", "line 1: malformed JSON"),
    ('{"version": 2, "cdl": null, "lut": null}', "version 2 is not supported"),
    ('{"version": 1, "cdl": {"power": [1, 0, 1]}, "lut": null}', "power must be above 0"),
    ('{"version": 1, "cdl": {"slope": [1, NaN, 1]}, "lut": null}', "finite"),
    ('{"version": 1, "cdl": null, "lut": {"size": 2, "table": [[0, 0, 0]]}}', "size\\^3 = 8 rows"),
    ('{"version": 1, "cdl": null, "lut": {"size": 70, "table": []}}', "size\\^3"),
    ('{"version": 1, "cdl": null, "lut": null, "extra": 1}', "unknown field 'extra'"),
    ('{"schema": "other", "version": 1}', "schema is 'other'"),
    ('[]', "must be a JSON object"),
])
def test_refuses_bad_json_in_one_line(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(SpecError, match=message) as caught:
        grade_load(path)
    assert "\n" not in str(caught.value) and "bad.json" in str(caught.value)


def test_refuses_unknown_extensions_and_missing_files(tmp_path):
    with pytest.raises(SpecError, match="unsupported grade file"):
        grade_load(tmp_path / "g.txt")
    with pytest.raises(SpecError, match="no such grade file"):
        grade_load(tmp_path / "g.json")
