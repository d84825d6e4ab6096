import pytest

from restoration.analysis import recommend
from restoration.analysis.recommend import recommend_pipeline
from restoration.errors import SpecError
from restoration.ops import get_op

CLEAN = {
    "frames": 48, "noise": 0.5, "grain": 0.8, "dust": 1e-5, "scratch": 0.0, "flicker": 0.002, "weave": 0.1,
    "blockiness": 0.0, "sharpness": 0.3, "motion": 2.0, "black_level": 0.03, "white_level": 0.95,
    "is_grey": True, "colour_cast": None, "saturation": None,
    "red_gain": None, "green_gain": None, "blue_gain": None,
}


def ops_of(pipeline):
    return [step["op"] for step in pipeline]


def test_clean_shot_needs_nothing():
    assert recommend_pipeline(CLEAN) == []


def test_damaged_shot_gets_repairs_in_order():
    damaged = dict(CLEAN, weave=2.0, flicker=0.04, dust=5e-3, scratch=1.0, noise=6.0, blockiness=0.3)
    order = ["deblock", "stabilise", "deflicker", "dust", "scratch", "denoise"]
    available = [name for name in order if _registered(name)]
    assert ops_of(recommend_pipeline(damaged)) == available


def test_every_step_is_a_valid_spec_step():
    from restoration.pipeline import validate_steps

    worst = dict(CLEAN, weave=9.0, flicker=0.5, dust=0.5, scratch=9.0, noise=60.0, blockiness=5.0,
                 black_level=0.3, white_level=0.5, is_grey=False, colour_cast=30.0, saturation=2.0)
    pipeline = recommend_pipeline(worst)
    assert len(pipeline) >= 5
    validate_steps(pipeline)  # raises SpecError on any unknown op or out-of-range parameter
    for step in pipeline:
        assert set(step["params"]) <= set(get_op(step["op"]).params)


def test_soft_temporal_grain_also_asks_for_denoise():
    assert "denoise" in ops_of(recommend_pipeline(dict(CLEAN, noise=0.6, grain=5.0)))


def test_denoise_strength_grows_with_noise():
    def strength(noise):
        (step,) = [s for s in recommend_pipeline(dict(CLEAN, noise=noise)) if s["op"] == "denoise"]
        return step["params"].get("strength", get_op("denoise").params["strength"].default)

    assert strength(2.0) < strength(8.0)


def test_faded_colour_shot_gets_levels_white_balance_and_saturation():
    faded = dict(CLEAN, is_grey=False, colour_cast=12.0, saturation=4.0, black_level=0.15, white_level=0.7)
    names = ops_of(recommend_pipeline(faded))
    assert names[-3:] == ["levels", "white_balance", "saturation"]
    levels = recommend_pipeline(faded)[-3]["params"]
    assert levels["black_in"] < 0.15 and levels["white_in"] > 0.7


def test_grey_shot_gets_no_colour_ops():
    names = ops_of(recommend_pipeline(dict(CLEAN, colour_cast=None, saturation=None)))
    assert "white_balance" not in names and "saturation" not in names


def test_unregistered_op_and_unknown_params_are_left_out(monkeypatch):
    real_get_op = get_op

    def without_deflicker(name):
        if name == "deflicker":
            raise SpecError("unknown op 'deflicker'")
        return real_get_op(name)

    monkeypatch.setattr("restoration.ops.get_op", without_deflicker)
    monkeypatch.setattr(recommend, "_rules", lambda m: [("deflicker", {}), ("dust", {"grow": 2, "bogus": 1})])
    assert recommend_pipeline(CLEAN) == [{"op": "dust", "params": {"grow": 2}}]


def _registered(name):
    try:
        get_op(name)
    except SpecError:
        return False
    return True
