"""Pipeline specs, windowed running (exactly equal to whole-clip runs), presets, retime, progress."""

from __future__ import annotations

import collections
import contextlib
import functools
import json
import os

import pytest
import torch
import torch.nn.functional as F

from restoration.errors import RestorationError, SpecError
from restoration.op_registry import register_op
from restoration.ops import stabilise as stabilise_op
from restoration.ops.opspec import OpSpec, Param
from restoration.ops.stabilise import stabilisation_shifts
from restoration.pipeline import (
    PRESETS,
    ProgressBar,
    load_spec,
    preset_spec,
    run_pipeline,
    runner,
    temporal_radius,
)
from restoration.pipeline.frame_store import FrameStore
from restoration.pipeline.runner import release_freed_memory
from restoration.pipeline.tiling import streamed_frames


# Stand-in ops, registered under names no real op uses. They are small but have the properties
# the pipeline must respect: temporal context, edge handling, a spatial scale.
def pipeline_test_invert(frames: torch.Tensor, amount: float = 1.0) -> torch.Tensor:
    return (1.0 - frames) * amount + frames * (1.0 - amount)


def pipeline_test_temporal_mean(frames: torch.Tensor, radius: int = 1) -> torch.Tensor:
    # Replicate-padded moving average over time: frame t depends on [t - radius, t + radius].
    padded = torch.cat([frames[:1].expand(radius, -1, -1, -1), frames, frames[-1:].expand(radius, -1, -1, -1)])
    return torch.stack([padded[t : t + 2 * radius + 1].mean(0) for t in range(frames.shape[0])])


def pipeline_test_forward_diff(frames: torch.Tensor) -> torch.Tensor:
    # Asymmetric context: frame t uses t + 1 (the last frame uses itself).
    following = torch.cat([frames[1:], frames[-1:]])
    return (0.5 + following - frames).clamp(0, 1)


def pipeline_test_upscale(frames: torch.Tensor) -> torch.Tensor:
    return F.interpolate(frames, scale_factor=2, mode="nearest")


class _Module(torch.nn.Module):
    def __init__(self, fn, **params):
        super().__init__()
        self.fn, self.params = fn, params

    def forward(self, frames):
        return self.fn(frames, **self.params)


def _register(name, fn, *, radius=0, scale=1, params=None):
    with contextlib.suppress(ValueError):  # already registered by an earlier import of this module
        register_op(OpSpec(name=name, function=fn, module=_Module, params=params or {}, temporal_radius=radius, scale=scale))


_register("pipeline_test_invert", pipeline_test_invert, params={"amount": Param(float, 1.0, 0.0, 1.0)})
_register("pipeline_test_mean2", lambda f: pipeline_test_temporal_mean(f, 2), radius=2)
_register("pipeline_test_mean1", lambda f: pipeline_test_temporal_mean(f, 1), radius=1)
_register("pipeline_test_forward_diff", pipeline_test_forward_diff, radius=1)
_register("pipeline_test_upscale", pipeline_test_upscale, scale=2)
with contextlib.suppress(ValueError):
    register_op(
        OpSpec(
            name="pipeline_test_upscale_by",
            function=lambda frames, factor=2: F.interpolate(frames, scale_factor=factor, mode="nearest"),
            module=_Module,
            params={"factor": Param(int, 2, choices=(2, 3))},
            scale_param="factor",
        )
    )

TEMPORAL_SPEC = {
    "ops": [
        {"op": "pipeline_test_mean2"},
        {"op": "pipeline_test_invert", "params": {"amount": 0.75}},
        {"op": "pipeline_test_forward_diff"},
        {"op": "pipeline_test_mean1"},
    ]
}


def _whole_clip(frames):
    out = pipeline_test_temporal_mean(frames, 2)
    out = pipeline_test_invert(out, 0.75)
    out = pipeline_test_forward_diff(out)
    return pipeline_test_temporal_mean(out, 1).clamp(0, 1)


def _clip(t=13, c=1, h=6, w=5, seed=0):
    return torch.rand(t, c, h, w, generator=torch.Generator().manual_seed(seed))


# ---- spec validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, message",
    [
        ([], "spec: expected a JSON object"),
        ({}, "ops: missing"),
        ({"ops": [], "extra": 1}, "extra: unknown key"),
        ({"ops": {"op": "x"}}, "ops: expected a list"),
        ({"ops": ["pipeline_test_invert"]}, "ops[0]: expected an object"),
        ({"ops": [{"op": "pipeline_test_invert"}, {"op": "pipeline_test_invert"}, {"op": "x"}]}, "ops[2].op: unknown op 'x'"),
        ({"ops": [{"op": 3}]}, "ops[0].op: expected a string"),
        ({"ops": [{"params": {}}]}, "ops[0].op: missing"),
        ({"ops": [{"op": "pipeline_test_invert", "parms": {}}]}, "ops[0]: unknown key 'parms'"),
        ({"ops": [{"op": "pipeline_test_invert", "params": [1]}]}, "ops[0].params: expected an object"),
        ({"ops": [{"op": "pipeline_test_invert", "params": {"amount": 2}}]}, "ops[0].params.amount: 2.0 is above"),
        ({"ops": [{"op": "pipeline_test_invert", "params": {"amount": "x"}}]}, "ops[0].params.amount: expected a number"),
        ({"ops": [{"op": "pipeline_test_invert", "params": {"radius": 1}}]}, "ops[0].params: unknown parameter 'radius'"),
        ({"ops": [{"op": "pipeline_test_invert"}] * 33}, "ops: 33 steps (at most 32)"),
        ({"ops": [], "retime": 24}, "retime: expected an object"),
        ({"ops": [], "retime": {}}, "retime.fps: missing"),
        ({"ops": [], "retime": {"fps": 0}}, "retime.fps: 0 is outside"),
        ({"ops": [], "retime": {"fps": "24"}}, "retime.fps: expected a number"),
        ({"ops": [], "retime": {"fps": 24, "mode": "blend"}}, "retime.mode: unknown key"),
    ],
)
def test_bad_specs_name_the_field(spec, message):
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)


def test_valid_spec_fills_defaults_and_round_trips():
    spec = load_spec({"ops": [{"op": "pipeline_test_invert"}, {"op": "pipeline_test_mean2"}], "retime": {"fps": 24}})
    assert spec.steps[0].params == {"amount": 1.0}
    assert spec.retime_fps == 24.0
    assert temporal_radius(spec.steps) == 2
    assert load_spec(spec.to_dict()).to_dict() == spec.to_dict()


def test_empty_op_list_is_the_identity():
    frames = _clip()
    result = run_pipeline(frames, {"ops": []}, window=4)
    assert torch.equal(result.frames, frames)


def test_load_spec_from_file_and_bad_json(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(TEMPORAL_SPEC))
    assert len(load_spec(good).steps) == 4
    bad = tmp_path / "bad.json"
    bad.write_text('{"ops": [}')
    with pytest.raises(SpecError, match=r"bad.json: invalid JSON at line 1 column 10"):
        load_spec(bad)
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(tmp_path / "missing.json")


def test_presets():
    assert preset_spec("film").analysis_driven
    assert set(PRESETS) >= {"film", "clean"}
    assert [step["op"] for step in PRESETS["clean"]["ops"]] == ["denoise", "dust", "scratch", "deflicker"]
    with pytest.raises(SpecError, match="preset: unknown preset 'nope'"):
        preset_spec("nope")


# ---- windowed running -----------------------------------------------------------------------


@pytest.mark.parametrize("window", [1, 2, 3, 5, 13, 64])
def test_windows_equal_the_whole_clip_run(window):
    frames = _clip()
    result = run_pipeline(frames, TEMPORAL_SPEC, window=window)
    assert result.frames.shape == frames.shape
    torch.testing.assert_close(result.frames, _whole_clip(frames), rtol=0, atol=1e-6)


def test_a_context_too_small_would_show_seams():
    # Guards the test above: with the windows cut without context, the result differs.
    frames = _clip()
    seamed = torch.cat([_whole_clip(frames[i : i + 3]) for i in range(0, 13, 3)])
    assert not torch.allclose(seamed, _whole_clip(frames), atol=1e-3)


# A chain of stand-in ops with different radii that record how many frames each call got.
FRAMES_SEEN: dict[str, list[int]] = {}


def _counting(name, fn):
    def counted(frames, **params):
        FRAMES_SEEN.setdefault(name, []).append(frames.shape[0])
        return fn(frames, **params)

    return counted


_register("pipeline_test_count_mean3", _counting("mean3", lambda f: pipeline_test_temporal_mean(f, 3)), radius=3)
_register("pipeline_test_count_diff", _counting("diff", pipeline_test_forward_diff), radius=1)
_register("pipeline_test_count_mean2", _counting("mean2", lambda f: pipeline_test_temporal_mean(f, 2)), radius=2)
CHAIN_SPEC = {"ops": [{"op": "pipeline_test_count_mean3"}, {"op": "pipeline_test_count_diff"}, {"op": "pipeline_test_count_mean2"}]}


def _whole_chain(frames):
    out = pipeline_test_temporal_mean(frames, 3)
    out = pipeline_test_forward_diff(out)
    return pipeline_test_temporal_mean(out, 2).clamp(0, 1)


@pytest.mark.parametrize("window", [1, 2, 4, 5])
def test_a_chain_with_windows_smaller_than_its_radius_equals_the_whole_clip(window):
    # Total radius 6 > window: every window leans on context trimmed op by op.
    frames = _clip(t=17)
    assert torch.equal(run_pipeline(frames, CHAIN_SPEC, window=window).frames, _whole_chain(frames))


def test_a_chain_within_shots_equals_each_shot_run_whole():
    frames = _clip(t=15)
    shots = [
        {"start_frame": 0, "end_frame": 5, "recommended_pipeline": CHAIN_SPEC["ops"]},
        {"start_frame": 6, "end_frame": 14, "recommended_pipeline": CHAIN_SPEC["ops"]},
    ]
    result = run_pipeline(frames, "film", shots=shots, window=4)
    assert torch.equal(result.frames, torch.cat([_whole_chain(frames[:6]), _whole_chain(frames[6:])]))


def test_each_op_gets_only_its_own_context_and_computes_each_frame_once():
    # Radii 3, 1, 2, fed 8 frames at a time: each op is called as soon as outputs of its own have
    # become exact (its radius beyond them has arrived), at most 8 of them, with its radius of
    # context each side: mean3 on [0, 8) for [0, 5), [2, 16) for [5, 13), [10, 20) for [13, 20);
    # diff on [0, 5), [3, 13), [11, 20); mean2 on [0, 4), [0, 12), [8, 20) for [10, 18) and
    # [16, 20). (Windows carrying the whole chain's context, 6, 3 and 2 frames, called them on
    # 14, 18, 10 / 11, 14, 7 / 10, 12, 6 frames: 102 frames, here 88.)
    FRAMES_SEEN.clear()
    frames = _clip(t=20)
    result = run_pipeline(frames, CHAIN_SPEC, window=8)
    assert FRAMES_SEEN == {"mean3": [8, 14, 10], "diff": [5, 10, 9], "mean2": [4, 12, 12, 4]}
    assert torch.equal(result.frames, _whole_chain(frames))


# Float frames alive while a stand-in op runs (every tensor the garbage collector tracks, each
# storage once), less the output frames already passed on (``FRAMES_OUT``, from the progress):
# what the streamed chain holds, counted in frames of the clip's size.
FRAMES_HELD: list[float] = []
FRAMES_OUT = [0]


def _frames_alive(shape) -> float:
    import gc

    gc.collect()
    storages = {}
    for obj in gc.get_objects():
        if type(obj) is torch.Tensor and obj.shape[-2:] == shape[-2:] and obj.is_floating_point():
            storage = obj.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
    return sum(storages.values()) / (4 * shape[1] * shape[2] * shape[3])


def _holding(name, fn):
    def counted(frames, **params):
        FRAMES_HELD.append(_frames_alive(frames.shape) - FRAMES_OUT[0])
        return fn(frames, **params)

    return counted


_register("pipeline_test_held_mean8", _holding("mean8", lambda f: pipeline_test_temporal_mean(f, 8)), radius=8)
_register("pipeline_test_held_mean1", _holding("mean1", lambda f: pipeline_test_temporal_mean(f, 1)), radius=1)


def test_a_long_shot_holds_its_ops_own_context_not_the_chains_sum_per_window():
    # Radii 8, 1, 8, 1 (the film chain's deflicker and denoise twice): windows with the chain's
    # context held window + 36 frames (at least 18 + 36); streamed, each op holds its own 2 r, and
    # the running op its input, the source's chunk and its output: at most streamed_frames(...)
    # = 36 + 3 * 4 + 4 + 16 = 68 with the caller's clip (60 frames) on top.
    FRAMES_HELD.clear()
    frames = _clip(t=60, h=16, w=16)
    spec = {"ops": [{"op": "pipeline_test_held_mean8"}, {"op": "pipeline_test_held_mean1"}] * 2}
    result = run_pipeline(frames, spec, window=4, progress=lambda done, total: FRAMES_OUT.__setitem__(0, done))
    expected = frames
    for radius in (8, 1, 8, 1):
        expected = pipeline_test_temporal_mean(expected, radius)
    assert torch.equal(result.frames, expected.clamp(0, 1))
    del expected
    held = max(FRAMES_HELD) - 60  # the clip itself is alive throughout
    assert streamed_frames([8, 1, 8, 1], 4) == 68
    assert held <= 68
    assert held > 30  # guards the count: the ops' carried context is seen


with contextlib.suppress(ValueError):
    register_op(
        OpSpec(
            name="pipeline_test_count_mean_by",
            function=_counting("mean_by", lambda frames, radius=3: pipeline_test_temporal_mean(frames, radius)),
            module=_Module,
            params={"radius": Param(int, 3, minimum=1, maximum=3)},
            temporal_radius=3,
            radius_param="radius",
        )
    )


@pytest.mark.parametrize("radius", [1, 3])
def test_an_op_gets_the_context_its_radius_parameter_asks_for(radius):
    FRAMES_SEEN.clear()
    frames = _clip(t=12)
    spec = load_spec({"ops": [{"op": "pipeline_test_count_mean_by", "params": {"radius": radius}}]})
    assert temporal_radius(spec.steps) == radius
    result = run_pipeline(frames, spec, window=4)
    # fed 4 frames at a time: calls on [0, 4), then from the first output not yet exact less its
    # radius, for at most 4 outputs: at radius 1 [2, 8) for [3, 7), [6, 12) for [7, 11), [10, 12);
    # at radius 3 [0, 8) for [1, 5), [2, 12) for [5, 9), [6, 12) for [9, 12)
    assert FRAMES_SEEN["mean_by"] == ([4, 6, 6, 2] if radius == 1 else [4, 8, 10, 6])
    assert torch.equal(result.frames, pipeline_test_temporal_mean(frames, radius).clamp(0, 1))


def test_real_ops_read_their_context_from_their_radius_parameter():
    from restoration.op_registry import get_op

    for name, radius in (("denoise", 1), ("deflicker", 8), ("stabilise", 3)):
        op = get_op(name)
        assert op.context_radius(op.validate_params({"radius": radius})) == radius
        assert op.context_radius(op.validate_params({})) == op.params["radius"].default <= op.temporal_radius
    learned = get_op("learned_restore")
    assert learned.context_radius({}) == learned.temporal_radius  # no radius parameter: its fixed radius


def test_a_shot_of_one_frame_and_no_ops_leave_the_source_untouched():
    frames = _clip(t=5) * 1.5  # values above 1: the output is clamped, the caller's frames are not
    before = frames.clone()
    shots = [{"start_frame": 0, "end_frame": 0, "recommended_pipeline": CHAIN_SPEC["ops"]},
             {"start_frame": 1, "end_frame": 4, "recommended_pipeline": []}]
    result = run_pipeline(frames, "film", shots=shots, window=2)
    assert torch.equal(frames, before)
    assert torch.equal(result.frames, torch.cat([_whole_chain(frames[:1]), frames[1:].clamp(0, 1)]))


def test_streamed_file_equals_whole_clip(tmp_path):
    from restoration.io import read_frames, write_video

    path = tmp_path / "clip.mkv"
    write_video(path, _clip(t=11, c=3, h=8, w=10), fps=24)
    frames = read_frames(path)
    result = run_pipeline(path, TEMPORAL_SPEC, window=4)
    assert result.fps == pytest.approx(24)
    torch.testing.assert_close(result.frames, _whole_clip(frames), rtol=0, atol=1e-6)


def test_scale_ops_multiply_the_size_and_output_is_written(tmp_path):
    from restoration.io import probe

    frames = _clip(t=5, c=3, h=4, w=6)
    out = tmp_path / "up.mkv"
    result = run_pipeline(frames, {"ops": [{"op": "pipeline_test_upscale"}]}, output=out, fps=25, window=2)
    info = probe(out)
    assert (info.frame_count, info.width, info.height) == (5, 12, 8)
    assert (result.width, result.height, result.frames) == (12, 8, None)
    assert [p.name for p in tmp_path.iterdir()] == ["up.mkv"]


def test_a_scale_set_by_a_parameter_sizes_the_output():
    frames = _clip(t=4, c=1, h=3, w=5)
    spec = {"ops": [{"op": "pipeline_test_upscale_by", "params": {"factor": 3}}, {"op": "pipeline_test_upscale"}]}
    result = run_pipeline(frames, spec, window=3)
    assert result.frames.shape == (4, 1, 18, 30) and (result.width, result.height) == (30, 18)


def test_progress_counts_up_to_total():
    calls = []
    run_pipeline(_clip(t=10), {"ops": [{"op": "pipeline_test_mean1"}]}, window=3, progress=lambda d, t: calls.append((d, t)))
    # fed 3 frames at a time, each output frame passed on once the next one has arrived
    assert calls == [(0, 10), (2, 10), (5, 10), (8, 10), (10, 10)]


def test_runs_are_deterministic():
    frames = _clip()
    first = run_pipeline(frames, TEMPORAL_SPEC, window=4).frames
    assert torch.equal(first, run_pipeline(frames, TEMPORAL_SPEC, window=4).frames)


def test_the_callers_torch_settings_come_back_after_a_run():
    # The run turns on deterministic algorithms and turns off their NaN fill of new tensors (speed).
    fill = torch.utils.deterministic.fill_uninitialized_memory
    deterministic = torch.are_deterministic_algorithms_enabled()
    run_pipeline(_clip(), TEMPORAL_SPEC, window=4)
    assert torch.utils.deterministic.fill_uninitialized_memory == fill
    assert torch.are_deterministic_algorithms_enabled() == deterministic


def test_unavailable_cuda_is_refused():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the refusal is for machines without")
    with pytest.raises(RestorationError, match="device: CUDA"):
        run_pipeline(_clip(), {"ops": []}, device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_equals_cpu():
    frames = _clip()
    cpu = run_pipeline(frames, TEMPORAL_SPEC, window=4).frames
    cuda = run_pipeline(frames, TEMPORAL_SPEC, window=4, device="cuda").frames
    assert cuda.device.type == "cpu"
    torch.testing.assert_close(cuda, cpu, rtol=0, atol=1e-5)


def test_bad_source_shape():
    with pytest.raises(SpecError, match=r"source: expected frames"):
        run_pipeline(torch.rand(3, 2, 4, 4), {"ops": []})


# ---- analysis-driven (film) -----------------------------------------------------------------


def test_film_preset_runs_each_shots_recommendation_within_the_shot():
    frames = _clip(t=12)
    shots = [
        {"start_frame": 0, "end_frame": 4, "recommended_pipeline": [{"op": "pipeline_test_mean2", "params": {}}]},
        {"start_frame": 5, "end_frame": 11, "recommended_pipeline": [{"op": "pipeline_test_invert", "params": {"amount": 1.0}}]},
    ]
    result = run_pipeline(frames, "film", shots=shots, window=2)
    expected = torch.cat([pipeline_test_temporal_mean(frames[:5], 2), 1 - frames[5:]])
    torch.testing.assert_close(result.frames, expected, rtol=0, atol=1e-6)
    assert [shot.to_dict()["ops"][0]["op"] for shot in result.shots] == ["pipeline_test_mean2", "pipeline_test_invert"]


def test_a_dissolves_frames_are_restored_one_by_one_never_filtered_across():
    frames = _clip(t=20)
    mean = [{"op": "pipeline_test_mean2", "params": {}}]
    dissolve = {"type": "dissolve", "start_frame": 8, "end_frame": 13}  # middle 11: shot 2 starts there
    shots = [
        {"start_frame": 0, "end_frame": 10, "recommended_pipeline": mean},
        {"start_frame": 11, "end_frame": 19, "recommended_pipeline": mean, "transition_in": dissolve},
    ]
    result = run_pipeline(frames, "film", shots=shots, window=4)
    single = [pipeline_test_temporal_mean(frames[t : t + 1], 2) for t in range(8, 14)]
    expected = torch.cat([pipeline_test_temporal_mean(frames[:8], 2), *single, pipeline_test_temporal_mean(frames[14:], 2)])
    torch.testing.assert_close(result.frames, expected, rtol=0, atol=1e-6)
    assert [(p.start_frame, p.end_frame, p.frame_by_frame) for p in result.shots] == [
        (0, 7, False), (8, 10, True), (11, 13, True), (14, 19, False)]
    assert result.shots[1].to_dict()["frame_by_frame"] is True and "frame_by_frame" not in result.shots[0].to_dict()
    # a cut changes nothing; a malformed transition is refused, naming it
    shots[1]["transition_in"] = {"type": "cut", "start_frame": 11, "end_frame": 11}
    assert len(run_pipeline(frames, "film", shots=shots).shots) == 2
    shots[1]["transition_in"] = {"type": "swirl", "start_frame": 8, "end_frame": 13}
    with pytest.raises(SpecError, match=r"shots\[1\].transition_in"):
        run_pipeline(frames, "film", shots=shots)


def test_film_preset_rejects_bad_recommendations_and_gaps():
    frames = _clip(t=6)
    bad = [{"start_frame": 0, "end_frame": 5, "recommended_pipeline": [{"op": "nope"}]}]
    with pytest.raises(SpecError, match=r"shots\[0\].recommended_pipeline\[0\].op: unknown op 'nope'"):
        run_pipeline(frames, "film", shots=bad)
    gap = [{"start_frame": 0, "end_frame": 2, "recommended_pipeline": []}, {"start_frame": 4, "end_frame": 5, "recommended_pipeline": []}]
    with pytest.raises(SpecError, match="not covered"):
        run_pipeline(frames, "film", shots=gap)


# ---- retime ---------------------------------------------------------------------------------


@pytest.mark.parametrize("src_fps, dst_fps", [(24.0, 30.0), (30.0, 24.0), (16.0, 24.0)])
def test_retime_gives_the_right_frame_count_and_matches_whole_clip(src_fps, dst_fps):
    from restoration.ops.interpolate import interpolate_frames, retime_times

    frames = _clip(t=17, c=1, h=8, w=8)
    times = torch.as_tensor(retime_times(17, src_fps, dst_fps), dtype=torch.float64)
    result = run_pipeline(frames, {"ops": [], "retime": {"fps": dst_fps}}, fps=src_fps, window=5)
    assert result.frame_count == times.numel() == result.frames.shape[0]
    assert result.fps == dst_fps
    torch.testing.assert_close(result.frames, interpolate_frames(frames, times).clamp(0, 1), rtol=0, atol=1e-4)


def test_retime_needs_a_frame_rate():
    with pytest.raises(SpecError, match="retime: the source's frame rate is unknown"):
        run_pipeline(_clip(), {"ops": [], "retime": {"fps": 24}})


# ---- progress bar ---------------------------------------------------------------------------


def test_progress_bar_text():
    import io

    stream = io.StringIO()
    bar = ProgressBar("restore x.mkv", stream=stream, min_interval=0)
    bar(5, 10)
    bar(10, 10)
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\rrestore x.mkv 5/10 frames  50.0%")
    assert "ETA" in text and "fps" in text and text.endswith("\n")


def test_progress_bar_phases_and_an_unknown_total():
    import io

    stream = io.StringIO()
    bar = ProgressBar("analysing x.mkv", stream=stream, min_interval=0)
    bar(4, None)
    bar.phase("restoring x.mkv")
    bar(10, 10)
    bar.close()
    bar.close()  # a second close adds nothing
    first, second = stream.getvalue().split("\n")[:2]
    assert first.startswith("\ranalysing x.mkv 4 frames") and "ETA" not in first
    assert second.startswith("\rrestoring x.mkv 10/10 frames 100.0%")
    assert stream.getvalue().count("\n") == 2


def test_upscale_factor_param_sets_the_output_size():
    from restoration.pipeline import run_pipeline

    frames = torch.rand(3, 1, 16, 20)
    for factor in (2, 4):
        out = run_pipeline(frames, {"ops": [{"op": "upscale", "params": {"factor": factor}}]}, window=2)
        assert tuple(out.frames.shape) == (3, 1, 16 * factor, 20 * factor)
        assert (out.width, out.height) == (20 * factor, 16 * factor)


def test_an_upscale_factor_other_than_2_or_4_is_refused_by_the_spec():
    with pytest.raises(SpecError, match=r"params\.factor: 3 is not one of 2, 4"):
        load_spec({"ops": [{"op": "upscale", "params": {"factor": 3}}]})


# ---- flows shared along the chain -----------------------------------------------------------


def _dirty_pan(frames: int = 8) -> torch.Tensor:
    """A grainy colour texture panning 2 px per frame with a moving square and a dark blotch on
    every third frame: work for dust and the learned net, (T, 3, 48, 64)."""
    from tests.restoration.ops.textures import grainy, textured_image

    background = torch.cat([textured_image(64, 96, seed=s, low=0.2, high=0.8) for s in (1, 2, 3)], 1)
    clip = []
    for t in range(frames):
        frame = background[..., 8:56, 2 * t:2 * t + 64].clone()
        frame[..., 20:30, 5 + 4 * t:15 + 4 * t] = 0.9
        if t % 3 == 1:
            frame[..., 10:14, 40:44] = 0.05
        clip.append(frame)
    return grainy(torch.cat(clip), sigma=0.02, seed=4)


def _counting_estimates(monkeypatch) -> list[int]:
    import restoration.ops.flow as flow

    calls: list[int] = []
    real = flow.coarse_flows_between
    monkeypatch.setattr(flow, "coarse_flows_between", lambda *args, **kw: calls.append(len(args[1])) or real(*args, **kw))
    return calls


def test_the_chains_temporal_ops_share_one_motion_estimate_and_stay_close_to_their_own(monkeypatch):
    from restoration.compare import psnr
    from restoration.models.learned_ops import learned_restore
    from restoration.ops.dust import remove_dust
    from restoration.ops.flow import SharedFlows

    frames = _dirty_pan()
    spec = {"ops": [{"op": "dust"}, {"op": "learned_restore"}]}
    estimates = _counting_estimates(monkeypatch)
    shared = run_pipeline(frames, spec, window=64).frames
    estimated_shared = sum(estimates)
    own = learned_restore(remove_dust(frames)).clamp(0, 1)  # each op its own flows, as before
    assert sum(estimates) - estimated_shared == 2 * estimated_shared  # the net estimated again, dust in two batches
    flows = SharedFlows()
    assert torch.equal(shared, learned_restore(remove_dust(frames, flows=flows), flows=flows).clamp(0, 1))
    # The net's flows come from dust's input (blotches still in): within a small tolerance (on
    # the moving-objects bench's clips 0.2-0.8 codes on average, PSNR within 0.03 dB of before).
    assert psnr(shared, own) > 40.0
    assert float((shared - own).abs().mean()) < 1.0 / 255
    # Windows still equal the whole clip: each consecutive flow depends on its two frames only.
    torch.testing.assert_close(run_pipeline(frames, spec, window=3).frames, shared, rtol=0, atol=1e-6)


def test_after_an_op_that_moves_the_picture_the_next_ops_estimate_their_own_flows():
    from restoration.models.learned_ops import learned_restore
    from restoration.ops.dust import remove_dust
    from restoration.ops.flow import SharedFlows
    from restoration.ops.stabilise import stabilise

    frames = _dirty_pan()
    spec = {"ops": [{"op": "dust"}, {"op": "stabilise", "params": {"radius": 2}}, {"op": "learned_restore"}]}
    result = run_pipeline(frames, spec, window=64).frames
    steadied = stabilise(remove_dust(frames), radius=2)
    assert torch.equal(result, learned_restore(steadied).clamp(0, 1))
    # Guards the test: the flows estimated before stabilise would have given another result.
    stale = SharedFlows()
    remove_dust(frames, flows=stale)
    assert not torch.equal(result, learned_restore(steadied, flows=stale).clamp(0, 1))


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm") or runner._malloc_trim.__name__ == "<lambda>",
                    reason="glibc's malloc_trim, and the resident size from Linux's /proc")
def test_freed_heap_memory_goes_back_to_the_system():
    # 200 MB in blocks under glibc's mmap threshold, freed below one that stays: the heap cannot
    # shrink from its top, so without a trim the pages stay resident.
    blocks = [b"\1" * 100_000 for _ in range(2000)]
    kept = blocks[-1]
    del blocks
    before = _resident_bytes()
    release_freed_memory()
    assert before - _resident_bytes() > 100 * 2 ** 20
    assert kept[0] == 1


def _held_and_output(frames, spec, tile, *, alive):
    """The most frames held beyond ``alive`` while ``spec`` runs 4 frames at a time, and its output."""
    FRAMES_HELD.clear()
    FRAMES_OUT[0] = 0
    out = run_pipeline(frames, spec, window=4, tile=tile,
                       progress=lambda done, total: FRAMES_OUT.__setitem__(0, done)).frames
    return max(FRAMES_HELD) - alive, out


@pytest.mark.parametrize("tile", [0, 64])
def test_deflicker_holds_its_neighbours_as_reduced_copies_with_the_same_output(monkeypatch, tile):
    # Radius 8 at 192 px (its maps come from a copy a quarter the size): whole frames only for
    # the 8 frames ahead whose output is not made yet, not 16 around, and no output for them.
    frames = _clip(t=40, c=3, h=192, w=192)
    spec = {"ops": [{"op": "deflicker", "params": {"radius": 8}}, {"op": "pipeline_test_held_mean1"}]}

    held_reduced, reduced = _held_and_output(frames, spec, tile, alive=40)  # the clip is alive throughout
    monkeypatch.setattr(runner, "REDUCED_CONTEXTS", {})
    held_whole, whole = _held_and_output(frames, spec, tile, alive=80)  # and the first run's output
    assert torch.equal(reduced, whole)
    assert held_reduced <= streamed_frames([8, 1], 4, [True, False]) == 28
    assert held_reduced <= held_whole - 8


@pytest.mark.parametrize("tile", [0, 64])
def test_stabilise_holds_its_neighbours_as_reduced_copies_with_the_same_output(monkeypatch, tile):
    # Radius 6 on a weaving pan: whole frames only for the 6 frames ahead whose output is not made
    # yet (their grey copies for the shifts), not 12 around; the tiles' overlap still follows the
    # largest shift of the call's frames and neighbours. Shifts measured at 40 px (4K's are at
    # 444): the grey copies a sixteenth of a frame.
    monkeypatch.setattr(stabilise_op, "_WORK_SIDE", 40)
    generator = torch.Generator().manual_seed(5)
    base = torch.rand(1, 3, 20, 26, generator=generator)
    base = torch.nn.functional.interpolate(base, size=(200, 260), mode="bicubic", align_corners=False)
    weave = torch.randint(0, 6, (40, 2), generator=generator).tolist()
    frames = torch.cat([base[..., y:y + 160, 2 * t + x:2 * t + x + 160] for t, (y, x) in enumerate(weave[:40])])
    frames = frames.clamp(0, 1)
    spec = {"ops": [{"op": "stabilise", "params": {"radius": 6}}, {"op": "pipeline_test_held_mean1"}]}

    held_reduced, reduced = _held_and_output(frames, spec, tile, alive=40)  # the clip is alive throughout
    monkeypatch.setattr(runner, "REDUCED_CONTEXTS", {})
    held_whole, whole = _held_and_output(frames, spec, tile, alive=80)  # and the first run's output
    assert torch.equal(reduced, whole)
    assert float(stabilisation_shifts(frames, radius=6).abs().max()) > 1.0  # frames are moved, in wide tiles
    assert held_reduced <= streamed_frames([6, 1], 4, [True, False]) == 26
    assert held_reduced <= held_whole - 6


@pytest.mark.parametrize("tile", [0, 32])
@pytest.mark.parametrize("chain", [
    # the film preset's chain on a damaged shot (restoration.bench.scans.FILM_CHAIN)
    [{"op": "stabilise", "params": {"radius": 3}}, {"op": "deflicker", "params": {"radius": 8}}, {"op": "dust"},
     {"op": "learned_restore"}, {"op": "denoise", "params": {"strength": 0.5, "radius": 1}}],
    # the clean preset's
    [{"op": "denoise"}, {"op": "dust"}, {"op": "scratch"}, {"op": "deflicker"}],
])
def test_real_chains_streamed_in_small_chunks_equal_one_call_per_op_over_the_shot(chain, tile):
    # 3 frames at a time through ops of radii up to 8 (each op's calls start and end at other
    # frames than the whole shot's), with the flows shared from dust to learned_restore across
    # calls: the same bits as each op run once over the 14 frames.
    frames = _dirty_pan(14)
    whole = run_pipeline(frames, {"ops": chain}, window=64, tile=tile).frames
    assert torch.equal(run_pipeline(frames, {"ops": chain}, window=3, tile=tile).frames, whole)


@pytest.mark.parametrize("tile", [0, 32])
def test_a_streamed_call_makes_the_outputs_of_its_chunk_alone(monkeypatch, tile):
    # dust, learned_restore and denoise (tiling.OUTPUTS_ONLY) make no output for a call's context
    # frames (the calls before and after make those): fed 3 frames at a time they make as many
    # as one call over the shot (before: also 2 r of context each side per call), the same bits.
    from restoration.models import learned_ops
    from restoration.ops import denoise, dust

    made = collections.Counter()

    def counting(module, name, frames_of):
        function = getattr(module, name)

        def counted(*args, **kwargs):
            made[name] += frames_of(*args)
            return function(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    counting(dust, "_detect", lambda centre, *rest: centre.shape[0])  # per batch of centres
    counting(learned_ops, "aligned_windows", lambda frames, flows, rows, *rest: rows.shape[0])
    counting(denoise, "_spatial_pass", lambda image, *rest: image.shape[0])
    chain = [{"op": "dust"}, {"op": "learned_restore"}, {"op": "denoise", "params": {"radius": 2}}]
    frames = _dirty_pan(14)
    whole = run_pipeline(frames, {"ops": chain}, window=64, tile=tile).frames
    made_whole = dict(made)
    made.clear()
    streamed = run_pipeline(frames, {"ops": chain}, window=3, tile=tile).frames
    assert set(made_whole) == {"_detect", "aligned_windows", "_spatial_pass"}
    assert dict(made) == made_whole
    assert torch.equal(streamed, whole)


_FAILING_CALLS = [0]


def _fails_on_its_third_call(frames):
    _FAILING_CALLS[0] += 1
    if _FAILING_CALLS[0] == 3:
        raise RuntimeError("the op failed")
    return frames


_register("pipeline_test_fails_third", _fails_on_its_third_call, radius=1)
_register("pipeline_test_mean8", lambda f: pipeline_test_temporal_mean(f, 8), radius=8)


def _descriptor_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="open descriptors from Linux's /proc")
def test_carried_frames_spilled_to_scratch_files_give_the_same_output_and_leave_nothing(monkeypatch, tmp_path):
    # A budget that holds 10 frames of 64x64 RGB, against radii 8, 1, 1 fed 4 at a time (42):
    # every op's carried frames wait on disk between its calls.
    monkeypatch.setattr(runner, "FrameStore", functools.partial(FrameStore, str(tmp_path)))
    spills = []
    spill = FrameStore.spill
    monkeypatch.setattr(FrameStore, "spill", lambda store, frames: spills.append(frames.shape[0]) or spill(store, frames))
    frames = _clip(t=30, c=3, h=64, w=64)
    spec = {"ops": [{"op": "pipeline_test_mean8"}, {"op": "pipeline_test_mean1"}, {"op": "pipeline_test_mean1"}]}
    before = _descriptor_count()
    roomy = run_pipeline(frames, spec, window=4).frames
    assert spills == []
    spilled = run_pipeline(frames, spec, window=4, max_memory=20 * 64 * 64 * 3 * 4).frames
    assert len(spills) > 10 and max(spills) == 16  # mean8's 2 r frames between calls
    assert torch.equal(spilled, roomy)
    assert _descriptor_count() == before
    assert list(tmp_path.iterdir()) == []
    # An op failing mid-shot: the frames the others had spilled are closed too.
    _FAILING_CALLS[0] = 0
    spills.clear()
    with pytest.raises(RuntimeError, match="the op failed"):
        run_pipeline(frames, {"ops": spec["ops"] + [{"op": "pipeline_test_fails_third"}]}, window=4,
                     max_memory=20 * 64 * 64 * 3 * 4)
    assert spills
    assert _descriptor_count() == before
    assert list(tmp_path.iterdir()) == []


def test_an_ffv1_outputs_encoder_buffer_is_taken_out_of_the_budget_the_ops_plan_with(monkeypatch, tmp_path):
    from restoration.io import encoder_reserve_bytes
    from restoration.pipeline import tiling

    budgets = []
    monkeypatch.setattr(runner, "stream_plan", lambda **sizes: budgets.append(sizes["max_memory"])
                        or tiling.stream_plan(**sizes))
    frames = _clip(t=6, c=3, h=24, w=32)
    spec = {"ops": [{"op": "pipeline_test_mean1"}, {"op": "pipeline_test_upscale"}]}
    # libavcodec's FFV1 v3 packet buffer: 3 planes of 48x64 (the upscaled output) at 16 bits, 37 bytes a pixel.
    reserve = encoder_reserve_bytes("ffv1", channels=3, height=48, width=64, bit_depth=16)
    assert reserve == 3 * 48 * 64 * 37
    assert encoder_reserve_bytes("ffv1", channels=1, height=48, width=64, bit_depth=8) == 48 * 64 * 21
    assert encoder_reserve_bytes("prores", channels=3, height=48, width=64, bit_depth=16) == 0
    run_pipeline(frames, spec, output=tmp_path / "out.mkv", fps=24, bit_depth=16, max_memory=10 ** 6)
    run_pipeline(frames, spec, output=tmp_path / "out_%04d.tif", fps=24, bit_depth=16, max_memory=10 ** 6)
    run_pipeline(frames, spec, max_memory=10 ** 6)
    # A budget smaller than the reserve still leaves the ops a quarter of it.
    run_pipeline(frames, spec, output=tmp_path / "small.mkv", fps=24, bit_depth=16, max_memory=reserve)
    assert budgets == [10 ** 6 - reserve, 10 ** 6, 10 ** 6, reserve // 4]


def test_a_chunk_passed_on_is_not_held_by_the_ops_before_while_the_later_ops_run():
    # One chunk through four ops: while the last runs, what is alive is the clip and its input
    # (the third op's output), not also the first and second ops' outputs (each stage is a
    # generator suspended while the later ones run on what it passed on).
    FRAMES_HELD.clear()
    FRAMES_OUT[0] = 0
    frames = _clip(t=8, h=16, w=16)
    spec = {"ops": [{"op": "pipeline_test_held_mean1"}] * 4}
    run_pipeline(frames, spec, window=8)
    assert len(FRAMES_HELD) == 4  # one call per op: the shot is one chunk
    assert FRAMES_HELD[-1] - 8 <= 8  # the last op's input alone, not every earlier output too
