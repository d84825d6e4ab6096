import io

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from restoration.errors import SpecError
from restoration.op_registry import get_op
from restoration.ops.deblock import Deblock, blockiness, deblock, find_grid_phase


def to_tensor(image: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(image).float() / 255.0
    return x[None, None] if x.ndim == 2 else x.permute(2, 0, 1)[None]


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return np.array(Image.open(buffer))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1.0 / ((a - b) ** 2).mean()))


@pytest.fixture(scope="module")
def camera_crop() -> np.ndarray:
    return data.camera()[:160, 96:288]  # sky, the man's head and coat: flat and textured areas


@pytest.fixture(scope="module")
def colour_crop() -> np.ndarray:
    return data.chelsea()[60:188, 100:260]


@pytest.mark.parametrize("quality", [10, 25])
def test_grey_jpeg_blockiness_drops_psnr_does_not(camera_crop, quality):
    original = to_tensor(camera_crop)
    compressed = to_tensor(jpeg(camera_crop, quality))
    restored = deblock(compressed)
    assert blockiness(compressed) > 1.4
    assert blockiness(restored) < blockiness(compressed) - 0.2
    assert psnr(restored, original) >= psnr(compressed, original)


def test_colour_jpeg_blockiness_drops_psnr_improves(colour_crop):
    original = to_tensor(colour_crop)
    compressed = to_tensor(jpeg(colour_crop, 10))
    restored = deblock(compressed)
    assert blockiness(restored) < 0.7 * blockiness(compressed)
    assert psnr(restored, original) > psnr(compressed, original) + 0.1
    stronger = deblock(compressed, strength=2.0)
    assert blockiness(stronger) < blockiness(restored)


def test_clean_image_is_almost_unchanged(camera_crop):
    original = to_tensor(camera_crop)
    assert blockiness(original) < 1.15
    assert psnr(deblock(original), original) > 50.0


def test_shifted_grid_is_found_and_filtered(camera_crop):
    compressed = jpeg(camera_crop, 15)
    shifted = to_tensor(compressed[5:, 3:])  # grid boundaries now at x = 5, y = 3 (mod 8)
    assert find_grid_phase(shifted).tolist() == [[5, 3]]
    original = to_tensor(camera_crop[5:, 3:])
    restored = deblock(shifted)
    assert blockiness(restored) < blockiness(shifted) - 0.2
    assert psnr(restored, original) >= psnr(shifted, original)


def test_strength_zero_is_identity_and_frames_are_independent(colour_crop):
    frames = torch.cat([to_tensor(jpeg(colour_crop, q)) for q in (10, 30, 60)])
    assert torch.equal(deblock(frames, strength=0.0), frames)
    whole = deblock(frames)
    for index in range(3):
        assert torch.allclose(whole[index:index + 1], deblock(frames[index:index + 1]), atol=1e-6)
    assert get_op("deblock").temporal_radius == 0


def test_module_equals_functional_and_registry(colour_crop):
    frames = to_tensor(jpeg(colour_crop, 20))
    spec = get_op("deblock")
    assert spec.module is Deblock
    params = spec.validate_params({"strength": 1.5, "block_size": 16})
    assert torch.equal(Deblock(**params)(frames), spec.function(frames, **params))
    assert torch.equal(Deblock()(frames), deblock(frames))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_and_device_follow_input(camera_crop, dtype):
    frames = to_tensor(jpeg(camera_crop, 20)).to(dtype)
    out = deblock(frames)
    assert out.dtype == dtype and out.device == frames.device and out.shape == frames.shape
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_bad_input_raises():
    frames = torch.rand(1, 1, 32, 32)
    with pytest.raises(SpecError, match="block_size"):
        deblock(frames, block_size=7)
    with pytest.raises(SpecError, match="strength"):
        deblock(frames, strength=-1.0)
    with pytest.raises(SpecError):
        deblock(torch.rand(32, 32))
    with pytest.raises(SpecError):
        blockiness(torch.rand(1, 4, 32, 32))
    with pytest.raises(SpecError, match="16x16"):
        blockiness(torch.rand(1, 1, 12, 32))
    with pytest.raises(SpecError):
        get_op("deblock").validate_params({"strength": 5.0})
