import pytest
import torch
import torch.nn.functional as F
from skimage import data

from restoration.errors import SpecError
from restoration.op_registry import get_op
from restoration.ops.upscale import Upscale, upscale


def psnr(a: torch.Tensor, b: torch.Tensor, border: int = 4) -> float:
    a = a[..., border:-border, border:-border]
    b = b[..., border:-border, border:-border]
    return float(10 * torch.log10(1.0 / ((a - b) ** 2).mean()))


@pytest.fixture(scope="module")
def camera() -> torch.Tensor:
    return torch.from_numpy(data.camera()[64:256, 128:320]).float()[None, None] / 255.0  # the man and tripod


@pytest.mark.parametrize("factor", [2, 4])
def test_output_shape(factor):
    frames = torch.rand(3, 3, 12, 10)
    assert upscale(frames, factor=factor).shape == (3, 3, 12 * factor, 10 * factor)
    assert upscale(frames[:, :1], factor=factor).shape == (3, 1, 12 * factor, 10 * factor)


@pytest.mark.parametrize("factor", [2, 4])
def test_beats_nearest_and_bilinear_on_downscaled_photo(camera, factor):
    small = F.avg_pool2d(camera, factor)
    ours = psnr(upscale(small, factor=factor), camera)
    nearest = psnr(F.interpolate(small, scale_factor=factor, mode="nearest"), camera)
    bilinear = psnr(F.interpolate(small, scale_factor=factor, mode="bilinear", align_corners=False), camera)
    bicubic = psnr(F.interpolate(small, scale_factor=factor, mode="bicubic", align_corners=False).clamp(0, 1), camera)
    assert ours > nearest + 1.0
    assert ours >= bilinear + 0.5
    assert ours > bicubic  # back-projection adds to plain bicubic


def test_sharpness_zero_is_bicubic_and_output_in_range(camera):
    small = F.avg_pool2d(camera, 2)
    plain = upscale(small, factor=2, sharpness=0.0)
    assert torch.allclose(plain, F.interpolate(small, scale_factor=2, mode="bicubic", align_corners=False).clamp(0, 1))
    sharp = upscale(small, factor=2)
    assert float(sharp.min()) >= 0.0 and float(sharp.max()) <= 1.0


def test_no_halo_on_a_step_edge():
    step = torch.zeros(1, 1, 16, 16)
    step[..., 8:] = 0.8
    out = upscale(step, factor=4)
    # The anti-ringing limit keeps every pixel within the input's range near the edge.
    assert float(out.max()) <= 0.8 + 1e-6 and float(out.min()) >= 0.0


def test_frames_are_independent():
    frames = torch.rand(3, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    whole = upscale(frames, factor=2)
    for index in range(3):
        assert torch.allclose(whole[index:index + 1], upscale(frames[index:index + 1], factor=2), atol=1e-6)
    assert get_op("upscale").temporal_radius == 0


def test_module_equals_functional_and_registry():
    frames = torch.rand(2, 3, 16, 20, generator=torch.Generator().manual_seed(1))
    spec = get_op("upscale")
    assert spec.module is Upscale
    assert spec.output_scale(spec.validate_params({})) == 2
    assert spec.output_scale(spec.validate_params({"factor": 4})) == 4
    params = spec.validate_params({"factor": 4, "sharpness": 0.5, "iterations": 2})
    assert torch.equal(Upscale(**params)(frames), spec.function(frames, **params))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_and_device_follow_input(dtype):
    frames = torch.rand(2, 1, 8, 8).to(dtype)
    out = upscale(frames, factor=2)
    assert out.dtype == dtype and out.device == frames.device


def test_bad_input_raises():
    frames = torch.rand(1, 3, 8, 8)
    with pytest.raises(SpecError, match="factor"):
        upscale(frames, factor=3)
    with pytest.raises(SpecError, match="sharpness"):
        upscale(frames, sharpness=2.0)
    with pytest.raises(SpecError, match="iterations"):
        upscale(frames, iterations=-1)
    with pytest.raises(SpecError):
        upscale(torch.rand(3, 8, 8))
    with pytest.raises(SpecError, match="4x4"):
        upscale(torch.rand(1, 1, 3, 8))
    with pytest.raises(SpecError):
        get_op("upscale").validate_params({"factor": 8})
