"""The registry ops backed by the learned networks, with temporary and with committed weights."""

from __future__ import annotations

import pytest
import torch

from restoration.compare import psnr
from restoration.errors import ModelError, SpecError
from restoration.models.learned_ops import (
    WEIGHTS,
    LearnedRestore,
    LearnedUpscale,
    learned_restore,
    learned_upscale,
    limit_unconfirmed,
    load_model,
    median_of_window,
    restore_frames,
)
from restoration.models.nets import RestoreConfig, SRConfig, SuperResNet, TemporalRestoreNet, save_checkpoint
from restoration.op_registry import get_op


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    """Small random (not zero) networks, so outputs depend on the input in a non-trivial way."""
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    restore = TemporalRestoreNet(RestoreConfig(widths=(8, 8, 8)))
    sr = SuperResNet(SRConfig(width=8, blocks=1))
    sr4 = SuperResNet(SRConfig(factor=4, width=8, blocks=1))
    for net in (restore, sr, sr4):
        for parameter in net.parameters():
            parameter.data.normal_(0, 0.02)
    save_checkpoint(folder / "restore.pt", "restore", restore)
    save_checkpoint(folder / "sr.pt", "sr", sr)
    save_checkpoint(folder / "sr4.pt", "sr", sr4)
    return {"restore": str(folder / "restore.pt"), "sr": str(folder / "sr.pt"), "sr4": str(folder / "sr4.pt")}


def _clip(frames: int, channels: int, height: int = 32, width: int = 48) -> torch.Tensor:
    gen = torch.Generator().manual_seed(frames * 10 + channels)
    base = torch.nn.functional.interpolate(torch.rand(1, channels, 8, 10, generator=gen), size=(height, width + 2 * frames),
                                           mode="bicubic", align_corners=False).clamp(0, 1)[0]
    return torch.stack([base[:, :, t:t + width] for t in range(frames)])  # a slow pan


def test_ops_are_registered_with_radius_and_scale():
    assert get_op("learned_restore").temporal_radius == 2
    upscale = get_op("learned_upscale")
    assert upscale.output_scale(upscale.validate_params({})) == 2
    assert upscale.output_scale(upscale.validate_params({"factor": 4})) == 4
    # no limit unless asked; always the committed weights (a spec cannot name a file)
    assert get_op("learned_restore").validate_params({}) == {"unconfirmed_limit": 0.0}
    with pytest.raises(SpecError):
        get_op("learned_restore").validate_params({"weights": "/etc/passwd"})
    assert get_op("learned_restore").validate_params({"unconfirmed_limit": 1}) == {"unconfirmed_limit": 1.0}
    with pytest.raises(SpecError, match="unconfirmed_limit"):
        get_op("learned_restore").validate_params({"unconfirmed_limit": -1})


def test_unconfirmed_changes_are_held_to_the_limit_in_proportion_to_the_neighbours_that_fell_back():
    centre = torch.full((2, 1, 1, 4), 0.5)
    out = centre + torch.tensor([0.1, -0.1, 0.01, 0.3]).view(1, 1, 1, 4)
    limit = torch.tensor([0.02, 0.05])
    none, all_of_them = torch.zeros(2, 4, 1, 4), torch.ones(2, 4, 1, 4)
    assert torch.equal(limit_unconfirmed(out, centre, none, limit), out)  # every neighbour confirms
    held = limit_unconfirmed(out, centre, all_of_them, limit) - centre
    assert torch.allclose(held[0, 0, 0], torch.tensor([0.02, -0.02, 0.01, 0.02]))
    assert torch.allclose(held[1, 0, 0], torch.tensor([0.05, -0.05, 0.01, 0.05]))
    half = torch.cat([none[:, :2], all_of_them[:, :2]], 1)  # two of the four fell back
    assert torch.allclose(limit_unconfirmed(out, centre, half, limit)[0, 0, 0] - 0.5, torch.tensor([0.06, -0.06, 0.01, 0.16]))


def test_the_limit_only_draws_the_net_towards_the_frame_where_neighbours_fall_back():
    # Neighbours that show the picture upside down fail the flow's checks: the net works there
    # from the centre alone, and the limit holds it nearer the frame; a limit too large to reach
    # changes nothing.
    gen = torch.Generator().manual_seed(3)
    frames = (_clip(5, 1) + 0.04 * torch.randn(5, 1, 32, 48, generator=gen)).clamp(0, 1)
    frames[[0, 1, 3, 4]] = frames[[0, 1, 3, 4]].flip(-1).flip(-2)
    free = learned_restore(frames)[2] - frames[2]
    held = learned_restore(frames, unconfirmed_limit=0.5)[2] - frames[2]
    assert torch.all(held.abs() <= free.abs() + 1e-6)
    assert float((free.abs() - held.abs()).max()) > 0.01
    assert torch.equal(learned_restore(frames, unconfirmed_limit=100.0), learned_restore(frames))


@pytest.mark.parametrize("channels", [1, 3])
def test_learned_restore_shapes_grey_and_colour(random_weights, channels):
    frames = _clip(6, channels)
    restored, probability = restore_frames(frames, weights=random_weights["restore"])
    assert restored.shape == frames.shape
    assert probability.shape == (6, 1, 32, 48)
    assert float(restored.min()) >= 0 and float(restored.max()) <= 1
    assert float(probability.min()) > 0 and float(probability.max()) < 1
    assert not torch.equal(restored, frames)


def test_module_equals_function_and_dtype_follows_input(random_weights):
    frames = _clip(5, 3).double()
    module_out = LearnedRestore(weights=random_weights["restore"])(frames)
    function_out = learned_restore(frames, weights=random_weights["restore"])
    assert module_out.dtype == torch.float64
    assert torch.equal(module_out, function_out)
    up = LearnedUpscale(weights=random_weights["sr"])(frames)
    assert torch.equal(up, learned_upscale(frames, weights=random_weights["sr"]))
    assert up.shape == (5, 3, 64, 96) and up.dtype == torch.float64


def test_a_frame_depends_only_on_its_window(random_weights):
    # The pipeline runs ops in windows with temporal_radius frames of context: same result.
    frames = _clip(7, 1)
    whole = learned_restore(frames, weights=random_weights["restore"])
    part = learned_restore(frames[1:6], weights=random_weights["restore"])
    assert torch.allclose(whole[3], part[2], atol=1e-5)


@pytest.mark.parametrize("batch", [1, 3])
def test_windows_per_pass_do_not_change_the_restoration(monkeypatch, batch):
    # Memory is bounded by running one window a pass: the committed net gives the same frames as in
    # passes of four (a blotch included, so the neighbours' checks matter), to float32 rounding
    # (oneDNN picks its convolution kernels by batch size: up to 7e-7 apart).
    from restoration.models import learned_ops

    frames = _clip(6, 3)
    frames[2, :, 10:16, 12:20] = 0.0
    monkeypatch.setattr(learned_ops, "_BATCH", 4)
    expected = restore_frames(frames)
    monkeypatch.setattr(learned_ops, "_BATCH", batch)
    restored, probability = restore_frames(frames)
    torch.testing.assert_close(restored, expected[0], atol=2e-6, rtol=0)
    torch.testing.assert_close(probability, expected[1], atol=2e-6, rtol=0)


def test_missing_weights_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="weights file not found"):
        learned_restore(_clip(3, 1), weights=str(tmp_path / "absent.pt"))
    with pytest.raises(ModelError, match="weights file not found"):
        learned_upscale(_clip(1, 1), weights=str(tmp_path / "absent.pt"))


def test_committed_weights_load_once_per_device():
    model = load_model("restore")
    assert model.config.radius == 2 and not model.training
    assert load_model("restore", WEIGHTS["restore"]) is model
    assert isinstance(load_model("sr"), SuperResNet)


def test_committed_weights_restore_a_held_out_damaged_clip():
    from restoration.degrade import clean_sources, degrade, sample_params, synthetic_clip

    camera = dict(clean_sources())["camera"]  # held out: never seen in training
    clean = synthetic_clip(camera, frames=5, size=(192, 256), seed=5, motion="pan")
    # The repair the net is for: no gate weave (the reference would sit elsewhere) and no fading.
    params = dict(sample_params(12, "heavy"), weave_px=0.0, fade_amount=0.0, fade_desaturation=0.0)
    damage = degrade(clean, seed=12, params=params)
    restored, probability = restore_frames(damage.damaged)
    assert psnr(restored, damage.clean) > psnr(damage.damaged, damage.clean) + 0.5
    # Where degrade drew defects the network's defect probability is higher than elsewhere.
    mask = damage.masks["all"].bool()
    if mask.any():
        assert probability[mask].mean() > probability[~mask].mean() + 0.2


def test_a_pipeline_spec_cannot_point_the_learned_ops_at_a_file():
    from restoration.errors import SpecError
    from restoration.pipeline import validate_spec

    for op in ("learned_restore", "learned_upscale"):
        with pytest.raises(SpecError, match="unknown parameter 'weights'"):
            validate_spec({"ops": [{"op": op, "params": {"weights": "/etc/passwd"}}]})


@pytest.mark.parametrize("window", [5, 4, 3])
def test_median_of_window_equals_torch_median(window):
    # 5 (the committed net) and 4 (its neighbours) take min/max networks; other sizes torch.median
    values = torch.randint(0, 4, (200, window, 3)).float()  # many ties
    assert torch.equal(median_of_window(values), values.median(dim=1).values)
    assert median_of_window(torch.tensor([[5.0, 1.0, 4.0, 2.0, 3.0]])).item() == 3.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (the development machine has no GPU)")
def test_the_film_chain_on_cuda_agrees_with_the_cpu():
    # The film preset's repairs with the committed net, on the GPU and on the CPU: the same
    # picture up to float rounding (GPU convolutions may use TF32). Skips without a GPU; it has
    # not run on this project's development machine, which has none.
    from restoration.degrade import clean_sources, degrade, synthetic_clip
    from restoration.pipeline import run_pipeline

    coffee = dict(clean_sources())["coffee"]
    clean = synthetic_clip(coffee, frames=8, size=(96, 128), seed=3, motion="pan")
    damaged = degrade(clean, seed=4, strength="heavy").damaged
    spec = {"ops": [{"op": "deflicker", "params": {"radius": 8}}, {"op": "dust"}, {"op": "learned_restore"},
                    {"op": "denoise", "params": {"strength": 0.75, "radius": 1}}]}
    cpu = run_pipeline(damaged, spec, window=4).frames
    cuda = run_pipeline(damaged, spec, window=4, device="cuda").frames
    assert cuda.device.type == "cpu" and cuda.shape == cpu.shape
    assert psnr(cuda, cpu) > 40


def test_networks_in_native_bfloat16_stay_within_half_a_code_value_of_float32(monkeypatch):
    """Where the CPU has native bfloat16 the networks run in it (learned_ops.network_precision):
    the committed nets' outputs must stay what float32 gives, to well under an 8-bit code value."""
    import contextlib

    from restoration.models import learned_ops

    clip = _clip(6, 3, 64, 96)
    # bfloat16 on every processor here (emulated where it is not native: slower, same values).
    monkeypatch.setattr(learned_ops, "_native_bfloat16_cpu", lambda: True)
    restored, probability = restore_frames(clip)
    upscaled = learned_upscale(clip[:2])
    monkeypatch.setattr(learned_ops, "network_precision", lambda device: contextlib.nullcontext())
    exact, exact_probability = restore_frames(clip)
    assert float((restored - exact).abs().max()) < 2 / 255
    assert float((restored - exact).abs().mean()) < 0.1 / 255
    assert float((probability - exact_probability).abs().max()) < 0.02
    assert float((upscaled - learned_upscale(clip[:2])).abs().max()) < 2 / 255


@pytest.mark.parametrize(("cpuinfo", "native"), [
    # An AVX-512 Xeon without BF16 (oneDNN emulates bfloat16 there, slower than float32).
    ("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512bw avx512_vnni avx512vl\n", False),
    ("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512vl\n", True),  # AMD EPYC (Zen 4)
    ("processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16 amx_tile\n", True),  # Sapphire Rapids
    ("processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n", True),  # Arm Neoverse V1
    ("processor\t: 0\nFeatures\t: fp asimd crc32\n", False),
    ("model name\t: a bf16 in the name is no flag\nflags\t\t: fpu avx2\n", False),
    ("", False),
])
def test_bfloat16_is_used_only_where_the_processor_has_it(cpuinfo, native):
    from restoration.models.learned_ops import cpu_has_native_bfloat16

    assert cpu_has_native_bfloat16(cpuinfo) is native


def test_channels_last_weights_on_the_cpu_give_the_same_restoration(random_weights):
    """load_model keeps CPU weights channels-last (faster oneDNN convolutions): same values."""
    model = load_model("restore", random_weights["restore"])
    assert model.head.weight.is_contiguous(memory_format=torch.channels_last)
    clip = _clip(5, 1)
    fast, _ = restore_frames(clip, weights=random_weights["restore"])
    model.to(memory_format=torch.contiguous_format)
    try:
        plain, _ = restore_frames(clip, weights=random_weights["restore"])
    finally:
        model.to(memory_format=torch.channels_last)
    assert not torch.equal(fast, clip)
    # oneDNN sums a channels-last convolution in another order (and on some CPUs, e.g. AMD EPYC, with
    # other kernels): float32 rounding through random weights, far below one 8-bit step (0.004).
    assert torch.allclose(fast, plain, atol=1e-3)


def test_x4_runs_the_x4_network_and_refuses_weights_of_another_factor(random_weights):
    frames = _clip(2, 3)
    x4 = learned_upscale(frames, factor=4, weights=random_weights["sr4"])
    assert x4.shape == (2, 3, 128, 192)
    assert torch.equal(x4, LearnedUpscale(factor=4, weights=random_weights["sr4"])(frames))
    with pytest.raises(ModelError, match="weights are for x2, the op was asked for x4"):
        learned_upscale(frames, factor=4, weights=random_weights["sr"])
    with pytest.raises(ModelError, match="weights are for x4, the op was asked for x2"):
        learned_upscale(frames, weights=random_weights["sr4"])
    for bad in (3, 8, True, "4"):
        with pytest.raises(SpecError, match="factor must be 2 or 4"):
            learned_upscale(frames, factor=bad, weights=random_weights["sr"])


def test_the_committed_x4_network_beats_bicubic_on_a_held_out_photograph():
    from restoration.degrade import clean_sources

    photo = dict(clean_sources())["astronaut"][:, :256, :256]
    high = torch.nn.functional.interpolate(photo[None], size=(128, 128), mode="bicubic", antialias=True,
                                           align_corners=False).clamp(0, 1)
    low = torch.nn.functional.interpolate(high, size=(32, 32), mode="bicubic", antialias=True,
                                          align_corners=False).clamp(0, 1)
    bicubic = torch.nn.functional.interpolate(low, scale_factor=4, mode="bicubic", align_corners=False).clamp(0, 1)
    assert psnr(learned_upscale(low, factor=4), high) > psnr(bicubic, high) + 0.3


def test_x4_in_a_pipeline_scales_the_output(random_weights):
    from restoration.pipeline import run_pipeline

    frames = _clip(3, 1)
    out = run_pipeline(frames, {"ops": [{"op": "learned_upscale", "params": {"factor": 4}}]}).frames
    assert out.shape == (3, 1, 128, 192)
