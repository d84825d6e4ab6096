import numpy as np
import PyOpenColorIO as ocio
import pytest
import torch

from restoration.colour.cdl import Cdl, cdl_apply
from restoration.colour.cdl_files import cdl_file_read, cdl_file_write, cdl_load
from restoration.errors import SpecError
from tests.restoration.colour.ocio import ocio_apply

WARM = Cdl(slope=(1.2, 0.95, 0.8), offset=(0.02, -0.01, 0.03), power=(0.9, 1.1, 1.25), saturation=1.3)
COOL = Cdl(slope=(0.9, 1.0, 1.15), offset=(-0.02, 0.0, 0.04), power=(1.1, 1.0, 0.95), saturation=0.8)


@pytest.mark.parametrize("extension", [".cc", ".ccc", ".cdl"])
def test_round_trip(tmp_path, extension):
    path = tmp_path / f"grade{extension}"
    cdl_file_write(path, WARM, correction_id="shot_010")
    assert cdl_file_read(path) == {"shot_010": WARM}
    assert cdl_load(path) == WARM


@pytest.mark.parametrize("extension", [".ccc", ".cdl"])
def test_many_corrections_by_id(tmp_path, extension):
    path = tmp_path / f"reel{extension}"
    cdl_file_write(path, {"a": WARM, "b": COOL})
    assert list(cdl_file_read(path)) == ["a", "b"]
    assert cdl_load(path, "b") == COOL
    with pytest.raises(SpecError, match="holds 2 corrections; choose one with an id"):
        cdl_load(path)
    with pytest.raises(SpecError, match="no ColorCorrection with id 'c'"):
        cdl_load(path, "c")


def test_reads_files_from_other_tools(tmp_path):
    path = tmp_path / "other.cdl"
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<ColorDecisionList xmlns="urn:ASC:CDL:v1.2">
  <ColorDecision>
    <ColorCorrection id="A001">
      <SOPNode><Description>warm</Description>
        <Slope>1.2 0.95 0.8</Slope><Offset>0.02 -0.01 0.03</Offset><Power>0.9 1.1 1.25</Power>
      </SOPNode>
      <SATNode><Saturation>1.3</Saturation></SATNode>
    </ColorCorrection>
  </ColorDecision>
  <ColorDecision><ColorCorrection><SatNode><Saturation>0.5</Saturation></SatNode></ColorCorrection></ColorDecision>
</ColorDecisionList>""")
    corrections = cdl_file_read(path)
    assert corrections == {"A001": WARM, "1": Cdl(saturation=0.5)}


@pytest.mark.parametrize("text, message", [
    ("<ColorCorrection><SOPNode><Slope>1 1</Slope></SOPNode></ColorCorrection>", "Slope needs 3 numbers"),
    ("<ColorCorrection><SOPNode><Power>1 0 1</Power></SOPNode></ColorCorrection>", "power must be above 0"),
    ("<ColorCorrection><SOPNode><Slope>1 a 1</Slope></SOPNode></ColorCorrection>", "Slope must be numbers"),
    ("<ColorCorrection><SatNode><Saturation>-1</Saturation></SatNode></ColorCorrection>", "saturation must be"),
    ("<ColorCorrection>\n<SOPNode>\n</ColorCorrection>", "line 3, column 2: malformed XML"),
    ("<Foo/>", "root element is Foo"),
    ("<ColorCorrectionCollection/>", "no ColorCorrection"),
    ("<ColorCorrection id='x'/>", "neither SOPNode nor SatNode"),
    ("<ColorCorrectionCollection><ColorCorrection id='x'><SatNode><Saturation>1</Saturation></SatNode>"
     "</ColorCorrection><ColorCorrection id='x'><SatNode><Saturation>1</Saturation></SatNode></ColorCorrection>"
     "</ColorCorrectionCollection>", "two ColorCorrections have the id 'x'"),
])
def test_refuses_bad_files_in_one_line(tmp_path, text, message):
    path = tmp_path / "bad.ccc"
    path.write_text(text)
    with pytest.raises(SpecError, match=message) as caught:
        cdl_file_read(path)
    assert "\n" not in str(caught.value)


def test_refuses_bad_names_and_missing_files(tmp_path):
    with pytest.raises(SpecError, match="must end in .cc, .ccc or .cdl"):
        cdl_file_write(tmp_path / "x.xml", WARM)
    with pytest.raises(SpecError, match="holds one correction"):
        cdl_file_write(tmp_path / "x.cc", {"a": WARM, "b": COOL})
    with pytest.raises(SpecError, match="no such CDL file"):
        cdl_file_read(tmp_path / "missing.cc")


def test_opencolorio_reads_our_ccc_and_gives_the_same_pixels(tmp_path):
    path = tmp_path / "reel.ccc"
    cdl_file_write(path, {"a": COOL, "b": WARM})
    pixels = torch.rand(1, 3, 1, 2000, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    ours = cdl_apply(pixels, WARM).view(3, -1).T.numpy()
    # OpenColorIO's FileTransform applies a file's CDL without the ASC clamps (its NO_CLAMP
    # style), so its pixels agree with ours only where nothing leaves [0, 1] ...
    transform = ocio.FileTransform(src=str(path), cccId="b", interpolation=ocio.INTERP_LINEAR)
    unclamped = ocio_apply(transform, pixels.view(3, -1).T.numpy())
    inside = ((unclamped >= 0) & (unclamped <= 1)).all(axis=1)
    assert inside.mean() > 0.5 and np.abs(ours - unclamped)[inside].max() < 1e-5
    # ... and the correction it reads from our file, applied in the ASC style, agrees everywhere.
    read = ocio.CDLTransform.CreateFromFile(str(path), "b")
    assert read.getID() == "b"
    read.setStyle(ocio.CDL_ASC)
    assert np.abs(ours - ocio_apply(read, pixels.view(3, -1).T.numpy())).max() < 1e-5
