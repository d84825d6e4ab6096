"""The learned frame interpolator: its net, its training data and the ``learned`` method (the net
handed to ops.interpolate as its ``refine``)."""

from __future__ import annotations

import pytest
import torch

from restoration.compare import psnr
from restoration.errors import ModelError, SpecError
from restoration.models import data as model_data
from restoration.models.learned_ops import WEIGHTS, load_model, refine_interpolation
from restoration.models.nets import INTERP_INPUTS, InterpNet, count_parameters
from restoration.models.train import train_model
from restoration.op_registry import interpolation_refine
from restoration.ops.interpolate import FrameInterpolator, interpolate_frames, pair_candidates
from restoration.pipeline import load_spec

SMALL = {"pool_examples": 2, "crop": 32, "size": (64, 64)}


def _pan(frames: int, channels: int, height: int = 48, width: int = 64, step: int = 3) -> torch.Tensor:
    gen = torch.Generator().manual_seed(channels)
    base = torch.nn.functional.interpolate(torch.rand(1, channels, 10, 14, generator=gen),
                                           size=(height, width + step * frames), mode="bicubic",
                                           align_corners=False).clamp(0, 1)[0]
    return torch.stack([base[:, :, step * t:step * t + width] for t in range(frames)])


def test_an_untrained_net_returns_the_classical_estimate():
    inputs = torch.rand(2, len(INTERP_INPUTS), 37, 50)
    out = InterpNet()(inputs)
    assert out.shape == (2, 1, 37, 50)
    assert torch.equal(out, inputs[:, :1])


def test_the_net_is_small_and_rejects_wrong_inputs():
    assert count_parameters(InterpNet()) < 200_000
    with pytest.raises(ModelError, match=r"expects \(N, 6, H, W\)"):
        InterpNet()(torch.rand(1, 5, 32, 32))


def test_candidates_hold_both_warps_and_the_classical_estimate():
    clip = _pan(2, 1)
    (candidates,) = pair_candidates(clip[:1], clip[1:], torch.tensor([0.5]))
    assert candidates.fraction == 0.5
    assert candidates.warped_first.shape == candidates.estimate.shape == (1, 1, 48, 64)
    assert candidates.trust_first.shape == (1, 1, 48, 64)
    assert torch.equal(candidates.estimate, interpolate_frames(clip, [0.5]))


def test_training_examples_come_from_training_photos_with_true_middle_frames():
    inputs, target = next(model_data.interp_stream(2, batch_size=3, **SMALL))
    assert inputs.shape == (3, len(INTERP_INPUTS), 32, 32)
    assert target.shape == (3, 1, 32, 32)
    fractions = inputs[:, -1].flatten(1)
    assert torch.allclose(fractions.min(1).values, fractions.max(1).values)  # one time per example
    allowed = torch.tensor([offset / span for span, offset in model_data.INTERP_GAPS])
    assert all(bool(((allowed - value).abs() < 1e-6).any()) for value in fractions[:, 0].tolist())
    # the classical estimate is close to the true frame, not equal to it: there is something to learn
    assert 15 < float(model_data.psnr_per_item(inputs[:, :1], target).mean()) < 60


def test_interp_training_is_deterministic_by_seed():
    def run(seed):
        return train_model("interp", steps=2, seed=seed, batch_size=2, validate=False, data_options=SMALL).model.state_dict()

    first, again, other = run(3), run(3), run(4)
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert any(not torch.equal(first[name], other[name]) for name in first)


def test_committed_interp_weights_load():
    model = load_model("interp")
    assert isinstance(model, InterpNet)
    assert WEIGHTS["interp"].is_file()


@pytest.mark.parametrize("channels", [1, 3])
def test_learned_method_keeps_input_frames_and_follows_dtype(channels):
    clip = _pan(3, channels)
    out = interpolate_frames(clip, [0, 0.5, 1, 1.25, 2], refine=refine_interpolation)
    assert out.shape == (5, channels, 48, 64)
    assert torch.equal(out[0], clip[0]) and torch.equal(out[2], clip[1]) and torch.equal(out[4], clip[2])
    assert not torch.equal(out[1], interpolate_frames(clip, [0.5])[0])  # the net changed something
    half = interpolate_frames(clip.half(), [0.5], refine=refine_interpolation)
    assert half.dtype == torch.float16
    module = FrameInterpolator(refine=refine_interpolation)
    assert torch.equal(module(clip, [0.5, 1.25]), interpolate_frames(clip, [0.5, 1.25], refine=refine_interpolation))


def test_learned_method_beats_the_classical_one_on_held_out_photographs():
    """Held-out photographs (never trained on) under camera motion with a moving cut-out, at the
    positions 24 -> 48 and 16 -> 24 fps ask for: on average the net improves the estimate."""
    _, valid = model_data.split_sources()
    gains = []
    for index, (_, image) in enumerate(valid):
        cutout = valid[(index + 1) % len(valid)][1]
        for seed, gap in enumerate(model_data.INTERP_VALIDATION_GAPS):
            inputs, target = model_data.interp_example(image, cutout, 500 + 10 * index + seed, size=(96, 128),
                                                       gap=gap, noise=False)
            with torch.no_grad():
                learned = load_model("interp")(inputs)
            gains.append(psnr(learned, target) - psnr(inputs[:, :1], target))
    assert sum(gains) / len(gains) > 0.1, gains


def test_unknown_method_is_a_spec_error_and_retime_method_round_trips():
    assert interpolation_refine("classical") is None
    assert interpolation_refine("learned") is refine_interpolation
    with pytest.raises(SpecError, match="interpolate: method must be one of classical, learned"):
        interpolation_refine("sharp")
    with pytest.raises(SpecError, match="retime.method: expected one of classical, learned, got 'sharp'"):
        load_spec({"ops": [], "retime": {"fps": 24, "method": "sharp"}})
    spec = load_spec({"ops": [], "retime": {"fps": 24, "method": "learned"}})
    assert spec.retime_method == "learned"
    assert load_spec(spec.to_dict()).retime_method == "learned"
    assert load_spec({"ops": [], "retime": {"fps": 24}}).to_dict() == {"ops": [], "retime": {"fps": 24.0}}
