"""JSON pipeline specs, presets, and running a pipeline of ops over a clip in temporal windows.

A spec is a JSON object::

    {"ops": [{"op": "denoise", "params": {"strength": 0.5}}, {"op": "dust"}],
     "retime": {"fps": 24}}

- ``ops`` (required): a list of at most ``MAX_STEPS`` (32) steps, run in order; an empty list is allowed (the clip is only
  re-encoded, or only retimed). Each step is an object with ``op`` (a registered op name) and
  optionally ``params`` (an object; missing parameters take the op's defaults). Instead of a
  list, ``"ops": "analysis"`` asks ``restoration.analysis`` for each shot's recommended
  pipeline and runs it per shot (the ``film`` preset).
- ``retime`` (optional, may be null): ``{"fps": <number > 0>, "method": "classical"|"learned"}``
  converts the frame rate with ``ops.interpolate`` after the ops (``method`` defaults to
  classical: see ``op_registry.INTERPOLATE_METHODS``).

Nothing else is accepted; a bad spec raises ``SpecError`` whose message starts with the path of
the bad field (``ops[2].op: unknown op 'x'``, ``ops[0].params.radius: ...``, ``retime.fps: ...``).

``run_pipeline`` streams the clip in windows of ``window`` output frames. Each window is read
with ``R`` extra frames on each side, ``R`` being the sum of the ops' context radii (their
``temporal_radius``, or the radius their parameters ask for: ``OpSpec.context_radius``), so
every output frame is exactly what running each op over the whole clip (or shot) would give,
while memory stays bounded by ``window + 2R`` frames. The context shrinks along the chain: op
``k`` needs only the radii of ops ``k..n-1`` beyond the window, so after each op the frames no
later op needs are dropped (with denoise, dust, scratch and deflicker the first op sees
``window + 18`` frames, the last ``window + 8``). Shots found by analysis are processed
independently: no op sees across a cut.

Inside a window each op runs in spatial tiles (``tiling``): ``max_memory`` caps the window's
frames and sets the tile side, so memory does not grow with the frame size beyond one window of
tiles. Tiles overlap and are cross-faded; ops with a whole-picture estimate make it once per
window and share it with every tile.

The package's parts: ``spec`` (specs, steps, presets), ``runner`` (``run_pipeline``: shot plans,
windows, retime), ``tiling`` (spatial tiles from a memory budget), ``frame_source`` (reading a tensor or a file in order) and ``cli``
(``cli_restore``). Callers import from here.
"""

from restoration.pipeline.cli import cli_restore
from restoration.pipeline.runner import PipelineResult, Progress, ShotPlan, resolve_device, run_pipeline
from restoration.pipeline.spec import (
    ANALYSIS_OPS,
    CLEAN_OPS,
    DEFAULT_PRESET,
    MAX_FPS,
    PRESETS,
    PipelineSpec,
    Step,
    context_radii,
    load_spec,
    preset_spec,
    spatial_scale,
    temporal_radius,
    validate_spec,
    validate_steps,
)
from restoration.progress import ProgressBar

__all__ = [
    "ANALYSIS_OPS",
    "CLEAN_OPS",
    "DEFAULT_PRESET",
    "MAX_FPS",
    "PRESETS",
    "PipelineResult",
    "PipelineSpec",
    "Progress",
    "ProgressBar",
    "ShotPlan",
    "Step",
    "cli_restore",
    "context_radii",
    "load_spec",
    "preset_spec",
    "resolve_device",
    "run_pipeline",
    "spatial_scale",
    "temporal_radius",
    "validate_spec",
    "validate_steps",
]
