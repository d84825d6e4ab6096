"""The learned networks: shapes, identity at initialisation, alignment, weight files."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from restoration.errors import ModelError
from restoration.models.nets import (
    RestoreConfig,
    SRConfig,
    SuperResNet,
    TemporalRestoreNet,
    align_window,
    count_parameters,
    load_checkpoint,
    save_checkpoint,
)


def _texture(height: int, width: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 1, height // 6 + 2, width // 6 + 2, generator=gen)
    return F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False).clamp(0, 1)[0, 0]


def test_restore_net_shapes_and_mask_for_sizes_not_multiple_of_eight():
    net = TemporalRestoreNet(RestoreConfig(align=False))
    window = torch.rand(2, 5, 42, 53)
    restored, logits = net(window)
    assert restored.shape == (2, 1, 42, 53)
    assert logits.shape == (2, 1, 42, 53)
    # Zero-initialised output layer: an untrained net returns the centre frame and an even mask.
    assert torch.equal(restored, window[:, 2:3])
    assert torch.allclose(torch.sigmoid(logits), torch.full_like(logits, 0.5))


def test_restore_net_size_is_for_a_cpu():
    assert 100_000 <= count_parameters(TemporalRestoreNet()) <= 300_000


def test_restore_net_rejects_a_wrong_window():
    net = TemporalRestoreNet()
    with pytest.raises(ModelError, match=r"\(N, 5, H, W\)"):
        net(torch.rand(1, 3, 32, 32))
    with pytest.raises(ModelError, match="float"):
        net(torch.zeros(1, 5, 32, 32, dtype=torch.uint8))


def test_align_window_brings_shifted_neighbours_onto_the_centre():
    big = _texture(72, 88)
    # Frame k is the picture moved by 2k px to the right: the motion of a pan.
    frames = torch.stack([big[8:-8, 8 - 2 * k:88 - 8 - 2 * k] for k in range(-2, 3)])[None]
    aligned = align_window(frames, 2)
    inner = (slice(None), slice(None), slice(8, -8), slice(8, -8))
    before = (frames - frames[:, 2:3])[inner].abs().mean()
    after = (aligned - aligned[:, 2:3])[inner].abs().mean()
    assert torch.equal(aligned[:, 2], frames[:, 2])
    assert after < 0.25 * before


def test_super_resolution_net_starts_as_bicubic():
    net = SuperResNet(SRConfig())
    low = torch.rand(2, 1, 15, 21)
    high = net(low)
    assert high.shape == (2, 1, 30, 42)
    assert torch.allclose(high, F.interpolate(low, scale_factor=2, mode="bicubic", align_corners=False))
    with pytest.raises(ModelError, match=r"\(N, 1, H, W\)"):
        net(torch.rand(1, 3, 8, 8))


def test_checkpoint_round_trip_in_float16(tmp_path):
    torch.manual_seed(0)
    net = TemporalRestoreNet(RestoreConfig(align=False))
    for parameter in net.parameters():
        parameter.data.normal_(0, 0.05)
    path = tmp_path / "restore.pt"
    save_checkpoint(path, "restore", net)
    loaded = load_checkpoint(path, "restore")
    assert not loaded.training
    window = torch.rand(1, 5, 32, 40)
    with torch.no_grad():
        a, b = net(window)[0], loaded(window)[0]
    assert (a - b).abs().max() < 2e-3  # float16 storage
    # float16 storage: about 2 bytes per parameter
    assert path.stat().st_size < 2.5 * count_parameters(net) + 50_000


def test_weight_file_errors_are_one_line(tmp_path):
    with pytest.raises(ModelError, match="weights file not found") as missing:
        load_checkpoint(tmp_path / "nope.pt", "restore")
    assert "\n" not in str(missing.value)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not torch")
    with pytest.raises(ModelError, match="not a readable weights file"):
        load_checkpoint(junk, "restore")
    sr = tmp_path / "sr.pt"
    save_checkpoint(sr, "sr", SuperResNet())
    with pytest.raises(ModelError, match="task 'sr', not 'restore'"):
        load_checkpoint(sr, "restore")
    # A file whose tensors do not match its declared architecture.
    narrow = TemporalRestoreNet(RestoreConfig(widths=(16, 32, 48)))
    wide = tmp_path / "wide.pt"
    save_checkpoint(wide, "restore", narrow)
    data = torch.load(wide, weights_only=True)
    data["config"]["widths"] = [32, 48, 64]
    torch.save(data, wide)
    with pytest.raises(ModelError, match="do not fit the restore network") as unfit:
        load_checkpoint(wide, "restore")
    assert "\n" not in str(unfit.value)


def test_a_weights_file_from_before_fallback_maps_loads_as_a_net_without_them(tmp_path):
    # Files written before fallback_maps existed (restore.pt up to run 5) have no such key: they
    # load as the 5-frame net they always were, and maps following a window do not change its output.
    torch.manual_seed(0)
    path = tmp_path / "old.pt"
    save_checkpoint(path, "restore", TemporalRestoreNet(RestoreConfig()))
    checkpoint = torch.load(path, weights_only=True)
    del checkpoint["config"]["fallback_maps"]
    torch.save(checkpoint, path)
    net = load_checkpoint(path, "restore")
    assert net.config.fallback_maps is False
    assert net.head.in_channels == 4 * 5 + 4 * 4
    window = _texture(40, 48).expand(1, 5, 40, 48).clone() + 0.05 * torch.rand(1, 5, 40, 48)
    maps = (torch.rand(1, 4, 40, 48) > 0.5).float()
    with torch.no_grad():
        plain, with_maps = net.fuse(window), net.fuse(torch.cat([window, maps], dim=1))
    assert torch.equal(plain[0], with_maps[0]) and torch.equal(plain[1], with_maps[1])
    # A file of a net with the maps records them in its config.
    path = tmp_path / "maps.pt"
    save_checkpoint(path, "restore", net.with_fallback_maps())
    assert torch.load(path, weights_only=True)["config"]["fallback_maps"] is True
    assert load_checkpoint(path, "restore").head.in_channels == 4 * 5 + 2 * 4 * 4


def test_fallback_maps_start_at_zero_weight_so_the_net_is_unchanged():
    torch.manual_seed(0)
    net = TemporalRestoreNet(RestoreConfig()).eval()
    with torch.no_grad():  # a net as if trained: its zero-initialised output layers moved too
        for parameter in net.parameters():
            parameter.add_(0.02 * torch.randn_like(parameter))
    with_maps = net.with_fallback_maps().eval()
    # 64x64: at some sizes (40x48) oneDNN sums the head's wider input in another order, 1 ulp apart.
    window = _texture(64, 64).expand(1, 5, 64, 64).clone() + 0.05 * torch.rand(1, 5, 64, 64)
    maps = torch.rand(1, 4, 64, 64)
    with torch.no_grad():
        expected = net.fuse(window)
        given = with_maps.fuse(torch.cat([window, maps], dim=1))
        without = with_maps.fuse(window)  # no maps given: nothing fell back
    for a, b, c in zip(expected, given, without, strict=True):
        assert torch.equal(a, b) and torch.equal(a, c)
    # Trained, the maps change the output.
    with torch.no_grad():
        with_maps.head.weight[:, 36:].normal_(0, 0.1)
        assert not torch.equal(with_maps.fuse(torch.cat([window, maps], dim=1))[0], expected[0])
