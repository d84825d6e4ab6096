"""Map a shot's defect metrics (see ``metrics.py``) to an ordered restoration pipeline.

Each rule below names the metric, its threshold and why. The order is the order the ops
should run in:

1. ``deblock`` first: it needs the codec's 8x8 grid where the codec put it, before any op
   moves pixels.
2. ``stabilise`` next, so that every temporal op after it sees aligned frames.
3. ``deflicker`` before the temporal cleaners: dust/scratch/denoise compare neighbouring
   frames and work best when their brightness matches.
4. ``dust`` (blotches the 5-frame net can miss when they are large), then ``learned_restore``
   (the learned net: dust, scratches and grain in one pass), then a light ``denoise`` for the
   grain the net leaves. Measured on the engine benchmark (docs/BENCHMARKS.md): that chain
   scores 0.35 dB above the classical dust + scratch + denoise; ``scratch`` after the net only
   cost PSNR, so it runs only where the net is not available (then the classical chain:
   ``dust``, ``scratch``, ``denoise`` at full strength, so the denoiser does not smear dirt).

Do no harm: a clean shot gets no op. Whether there is grain is read from the motion-compensated
temporal ``grain`` (texture reads as spatial ``noise``), and a few specks without grain or
scratches get the ``dust`` op alone (the net changes every pixel).

``stabilise`` cannot tell gate weave from a camera's smooth hand-held shake, and removing the
shake costs more than the weave (the benchmark's shaky clip, light damage, lost 4 dB). Below ``STABILISE_FULL_WEAVE_PX``
it only takes out frame-to-frame jitter (a path fitted over +-3 frames, which follows any
camera move); only clear weave (real gate weave reads 2-5 px) gets the full +-10-frame path.

Tone and colour are never recommended: the grade is an artistic choice (a colourist grades, the
creator signs off), and a naturally low-contrast or colourful photograph measures just like a
faded one (the benchmark lost PSNR to ``levels`` and grey-world ``white_balance`` on clean
pictures). :func:`colour_notes` reports fading and casts as advice for the colourist instead.

Steps are ``{"op": name, "params": {...}}``. Only ops registered in ``restoration.ops`` at call
time are emitted, and only parameters the op declares (unknown ones are dropped, values are
clamped to the declared range), so the result always validates as a pipeline spec. An empty
``params`` means the op's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# -- thresholds (units as documented in metrics.py) --------------------------------------
DEBLOCK_MIN_BLOCKINESS = 0.15  # boundary steps 15 % above interior steps: blocking is visible
# metrics.py's weave reads 0.68-0.82 on clean eased pans (its moving-average trend lags the
# acceleration) and 0.8-1.1 on heavy weave (180x240 degrade clips): only above 0.95 is it weave.
STABILISE_MIN_WEAVE_PX = 0.95
STABILISE_FULL_WEAVE_PX = 2.0  # above this the weave is clear: the full camera-path fit
STABILISE_JITTER_RADIUS = 3  # below it, frames each side of the path fit (jitter only)
DEFLICKER_MIN_FLICKER = 0.01  # 1 % frame-to-frame brightness wobble is visible on a flat area
# The median over +-8 frames (a third of a second) also takes out the slow part of flicker; it
# keeps steps and ramps (fades). Benchmark: +0.17 dB over the op's default of 4 in the film
# preset (+-12: +0.23 dB, but far neighbours of a fast pan are aligned less well).
DEFLICKER_RADIUS = 8
DUST_MIN_DENSITY = 3e-4  # 0.03 % of pixels spiking per frame: a few specks every frame
DUST_HEAVY_DENSITY = 3e-3  # blotches: grow the repair masks
# metrics.py's scratch count reads 0.2-0.9 on clean photographs (picture lines) and up to 1.8
# on heavily scratched degrade clips: only well above the clean range is it scratches.
SCRATCH_MIN_LINES = 1.2
# 8-bit code values of the motion-compensated grain: clean photographs under camera motion, with
# or without things moving on their own, read 0.2-1.5 (resampling), lightly grainy film 2.8 and up.
DENOISE_MIN_NOISE = 2.0
DENOISE_FULL_NOISE = 4.0  # at this grain level the denoiser runs at strength 1 and up
AFTER_NET_DENOISE = 0.5  # fraction of the classical strength once the net has removed most grain
# Grain levels the net may change a pixel by where no neighbour confirms the repair, when it runs
# for grain alone (no dust, no scratches): chosen on moving clips that are not the bench's (0.5:
# +0.19 and +0.21 dB on the two light ones without dust, 1: +0.16 and +0.19; docs/BENCHMARKS.md,
# issue #19). Where it repairs dust or scratches it is left free: limited, it lost 0.1-0.5 dB
# on heavy damage, where its changes in such places take damage out.
GRAIN_ONLY_UNCONFIRMED_LIMIT = 0.5
LEARNED_OP = "learned_restore"
# Colour notes only (see colour_notes): never turned into ops.
LEVELS_MAX_RANGE = 0.7  # white_level - black_level below this: contrast has faded
LEVELS_MAX_BLACK = 0.08  # or blacks lifted above 8 %
CAST_MIN = 6.0  # 8-bit chroma units: a cast this large is visible on neutrals
FADED_SATURATION = 8.0  # 8-bit chroma units: mean chroma this low on a colour film = faded


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _registered(name: str) -> bool:
    from restoration.errors import SpecError
    from restoration.op_registry import get_op

    try:
        get_op(name)
    except SpecError:
        return False
    return True


def _grain_level(metrics: Mapping[str, Any]) -> float:
    """Whether there is grain to remove is read from the motion-compensated temporal estimate
    (``grain``): the spatial ``noise`` reads 2.7-4.4 on clean photographs (texture), as much as on
    lightly grainy film. Shots too short for it (under 3 frames) fall back to ``noise``."""
    grain = metrics.get("grain")
    if metrics.get("frames", 3) < 3 or not isinstance(grain, (int, float)) or grain != grain:
        return metrics.get("noise", 0.0)
    return grain


def _rules(metrics: Mapping[str, Any], learned: bool) -> list[tuple[str, dict[str, Any]]]:
    m = metrics
    steps: list[tuple[str, dict[str, Any]]] = []
    if m.get("blockiness", 0.0) > DEBLOCK_MIN_BLOCKINESS:
        steps.append(("deblock", {"strength": round(_clamp(m["blockiness"] / 0.3, 0.5, 2.0), 2)}))
    weave = m.get("weave", 0.0)
    if weave > STABILISE_MIN_WEAVE_PX:
        steps.append(("stabilise", {} if weave > STABILISE_FULL_WEAVE_PX else {"radius": STABILISE_JITTER_RADIUS}))
    if m.get("flicker", 0.0) > DEFLICKER_MIN_FLICKER:
        steps.append(("deflicker", {"radius": DEFLICKER_RADIUS}))
    dusty = m.get("dust", 0.0) > DUST_MIN_DENSITY
    if dusty:
        steps.append(("dust", {"grow": 2} if m["dust"] > DUST_HEAVY_DENSITY else {}))
    scratched = m.get("scratch", 0.0) > SCRATCH_MIN_LINES
    grainy = _grain_level(m) > DENOISE_MIN_NOISE
    # How hard to denoise: spatial noise and temporal grain see different things (sharp noise,
    # soft scan grain), and the larger of the two measured best on the engine benchmark.
    noise = max(m.get("noise", 0.0), m.get("grain", 0.0))
    strength = _clamp(noise / DENOISE_FULL_NOISE, 0.5, 3.0)
    # The net changes every pixel: a few specks on an otherwise clean picture are the dust op's alone.
    if (scratched or grainy or m.get("dust", 0.0) > DUST_HEAVY_DENSITY) and learned and _registered(LEARNED_OP):
        grain_only = not (dusty or scratched)
        steps.append((LEARNED_OP, {"unconfirmed_limit": GRAIN_ONLY_UNCONFIRMED_LIMIT} if grain_only else {}))
        if grainy:
            steps.append(("denoise", {"strength": round(AFTER_NET_DENOISE * strength, 2), "radius": 1}))
        return steps
    if scratched:
        steps.append(("scratch", {}))
    if grainy:
        steps.append(("denoise", {"strength": round(strength, 2)}))
    return steps


def colour_notes(metrics: Mapping[str, Any]) -> list[str]:
    """Advice for the colourist (never ops): faded contrast, a colour cast, faded colour."""
    m = metrics
    notes = []
    black, white = m.get("black_level"), m.get("white_level")
    levels_known = black is not None and white is not None and white > black
    if levels_known and (white - black < LEVELS_MAX_RANGE or black > LEVELS_MAX_BLACK):
        notes.append(f"low contrast: levels span {black:.2f}-{white:.2f} (faded, or the picture's own look)")
    if not m.get("is_grey", True):
        cast = m.get("colour_cast") or 0.0
        if cast > CAST_MIN:
            notes.append(f"colour cast of {cast:.1f} (8-bit chroma units)")
        saturation = m.get("saturation")
        if saturation is not None and saturation < FADED_SATURATION:
            notes.append(f"low saturation: mean chroma {saturation:.1f} (faded colour, or a muted grade)")
    return notes


def _valid_params(spec, params: dict[str, Any]) -> dict[str, Any]:
    valid = {}
    for name, value in params.items():
        param = spec.params.get(name)
        if param is None:
            continue
        if param.kind in (int, float) and not isinstance(value, bool):
            value = param.kind(value)
            if param.minimum is not None:
                value = max(param.kind(param.minimum), value)
            if param.maximum is not None:
                value = min(param.kind(param.maximum), value)
        elif param.kind is str and param.choices is not None and value not in param.choices:
            continue
        valid[name] = value
    return valid


def recommend_pipeline(metrics: Mapping[str, Any], *, learned: bool = True) -> list[dict[str, Any]]:
    """Ordered pipeline steps ``[{"op", "params"}]`` for a shot with these metrics.
    ``learned=False``: classical ops only (the benchmark's reference for what the net adds)."""
    from restoration.errors import SpecError
    from restoration.op_registry import get_op

    pipeline = []
    for name, params in _rules(metrics, learned):
        try:
            spec = get_op(name)
        except SpecError:
            continue  # op not available in this build: leave it out rather than emit an invalid spec
        pipeline.append({"op": name, "params": _valid_params(spec, params)})
    return pipeline
