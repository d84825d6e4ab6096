
from restoration.analysis import recommend
from restoration.analysis.recommend import colour_notes, recommend_pipeline
from restoration.errors import SpecError
from restoration.op_registry import get_op

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


DAMAGED = dict(CLEAN, weave=2.5, flicker=0.04, dust=5e-3, scratch=2.0, noise=6.0, grain=6.0, blockiness=0.3)


def test_damaged_shot_gets_repairs_in_order():
    # the learned net does dust, scratches and grain in one pass; a light denoise follows it
    order = ["deblock", "stabilise", "deflicker", "dust", "learned_restore", "denoise"]
    available = [name for name in order if _registered(name)]
    assert ops_of(recommend_pipeline(DAMAGED)) == available


def test_without_the_learned_net_the_classical_repairs_run(monkeypatch):
    real_get_op = get_op

    def without_net(name):
        if name == "learned_restore":
            raise SpecError("unknown op 'learned_restore'")
        return real_get_op(name)

    monkeypatch.setattr("restoration.op_registry.get_op", without_net)
    assert ops_of(recommend_pipeline(DAMAGED)) == ["deblock", "stabilise", "deflicker", "dust", "scratch", "denoise"]
    (denoise,) = [s for s in recommend_pipeline(DAMAGED) if s["op"] == "denoise"]
    assert denoise["params"]["strength"] == 1.5  # noise 6 / 4: the full classical strength


def test_learned_false_asks_for_the_classical_repairs_even_with_the_net_available():
    assert ops_of(recommend_pipeline(DAMAGED, learned=False)) == ["deblock", "stabilise", "deflicker", "dust", "scratch",
                                                                  "denoise"]
    assert "learned_restore" in ops_of(recommend_pipeline(DAMAGED))


def test_the_net_run_for_grain_alone_is_held_to_grain_sized_changes_where_no_neighbour_confirms():
    # light damage on moving things: the net left free there lowered them below its input
    grain_only = dict(CLEAN, noise=6.0, grain=6.0)
    (net,) = [s for s in recommend_pipeline(grain_only) if s["op"] == "learned_restore"]
    assert net["params"] == {"unconfirmed_limit": recommend.GRAIN_ONLY_UNCONFIRMED_LIMIT}
    # with dust or scratches to take out, its changes where neighbours fell back are repairs
    for damage in ({"dust": 5e-3}, {"scratch": 2.0}):
        (net,) = [s for s in recommend_pipeline(dict(grain_only, **damage)) if s["op"] == "learned_restore"]
        assert net["params"] == {}


def test_denoise_after_the_net_is_half_the_classical_strength():
    (denoise,) = [s for s in recommend_pipeline(DAMAGED) if s["op"] == "denoise"]
    assert denoise["params"] == {"strength": 0.75, "radius": 1}  # +-1 frame: the net has taken most grain


def test_deflicker_takes_the_median_over_a_third_of_a_second():
    (step,) = [s for s in recommend_pipeline(DAMAGED) if s["op"] == "deflicker"]
    assert step["params"] == {"radius": recommend.DEFLICKER_RADIUS}


def test_moderate_weave_only_loses_its_jitter_clear_weave_gets_the_full_path():
    def stabilise_params(weave):
        (step,) = [s for s in recommend_pipeline(dict(CLEAN, weave=weave)) if s["op"] == "stabilise"]
        return step["params"]

    assert stabilise_params(1.5) == {"radius": recommend.STABILISE_JITTER_RADIUS}
    assert stabilise_params(4.0) == {}  # the op's default radius (10): a camera path over +-10 frames


def test_every_step_is_a_valid_spec_step():
    from restoration.pipeline import validate_steps

    worst = dict(CLEAN, weave=9.0, flicker=0.5, dust=0.5, scratch=9.0, noise=60.0, blockiness=5.0,
                 black_level=0.3, white_level=0.5, is_grey=False, colour_cast=30.0, saturation=2.0)
    pipeline = recommend_pipeline(worst)
    assert len(pipeline) >= 4
    validate_steps(pipeline)  # raises SpecError on any unknown op or out-of-range parameter
    for step in pipeline:
        assert set(step["params"]) <= set(get_op(step["op"]).params)


def test_soft_temporal_grain_also_asks_for_denoise():
    assert "denoise" in ops_of(recommend_pipeline(dict(CLEAN, noise=0.6, grain=5.0)))


def test_texture_that_reads_as_spatial_noise_is_left_alone_when_the_compensated_grain_is_low():
    # A clean photograph under camera motion: its texture reads 3-4 on the spatial operator, but
    # aligned, brightness-matched neighbours show nothing that changes from frame to frame.
    assert recommend_pipeline(dict(CLEAN, noise=4.4, grain=1.5)) == []


def test_a_shot_too_short_for_the_temporal_estimate_falls_back_to_the_spatial_noise():
    assert "denoise" in ops_of(recommend_pipeline(dict(CLEAN, frames=2, noise=6.0, grain=0.0)))
    assert recommend_pipeline(dict(CLEAN, frames=2, noise=1.0, grain=0.0)) == []


def test_a_few_specks_on_a_clean_picture_get_the_dust_op_not_the_net():
    assert ops_of(recommend_pipeline(dict(CLEAN, dust=6e-4))) == ["dust"]


def test_denoise_strength_grows_with_noise():
    def strength(noise):
        (step,) = [s for s in recommend_pipeline(dict(CLEAN, noise=noise, grain=noise)) if s["op"] == "denoise"]
        return step["params"].get("strength", get_op("denoise").params["strength"].default)

    assert strength(2.5) < strength(8.0)


def test_faded_colour_shot_gets_no_grade_ops_only_colour_notes():
    # The grade is the colourist's and the creator's: a faded, cast, low-contrast shot gets
    # advice, never levels/white balance/saturation ops.
    faded = dict(CLEAN, is_grey=False, colour_cast=12.0, saturation=4.0, black_level=0.15, white_level=0.7)
    assert recommend_pipeline(faded) == []
    notes = colour_notes(faded)
    assert len(notes) == 3
    assert any("contrast" in n for n in notes) and any("cast" in n for n in notes) and any("saturation" in n for n in notes)


def test_no_colour_notes_for_a_well_exposed_grey_shot():
    assert colour_notes(CLEAN) == []
    assert colour_notes(dict(CLEAN, colour_cast=30.0, saturation=1.0)) == []  # grey: chroma is meaningless


def test_picture_lines_and_pan_lag_are_not_scratches_or_weave():
    # what metrics.py reads on clean panning photographs (benchmark clips): no repair is due
    assert recommend_pipeline(dict(CLEAN, scratch=0.92, weave=0.82)) == []


def test_no_grade_op_is_ever_recommended():
    worst = dict(CLEAN, weave=9.0, flicker=0.5, dust=0.5, scratch=9.0, noise=60.0, blockiness=5.0,
                 black_level=0.3, white_level=0.5, is_grey=False, colour_cast=30.0, saturation=2.0)
    names = ops_of(recommend_pipeline(worst))
    assert not set(names) & {"levels", "lift_gamma_gain", "saturation", "white_balance"}


def test_unregistered_op_and_unknown_params_are_left_out(monkeypatch):
    real_get_op = get_op

    def without_deflicker(name):
        if name == "deflicker":
            raise SpecError("unknown op 'deflicker'")
        return real_get_op(name)

    monkeypatch.setattr("restoration.op_registry.get_op", without_deflicker)
    monkeypatch.setattr(recommend, "_rules", lambda m, learned: [("deflicker", {}), ("dust", {"grow": 2, "bogus": 1})])
    assert recommend_pipeline(CLEAN) == [{"op": "dust", "params": {"grow": 2}}]


def _registered(name):
    try:
        get_op(name)
    except SpecError:
        return False
    return True
