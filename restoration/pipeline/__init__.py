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

``run_pipeline`` streams each shot through its ops as a chain of stages, fed ``chunk`` frames at
a time (at most ``window``: fewer when the memory budget asks). Each op is called as soon as some
of its outputs have become exact, that is once the ``R`` frames beyond them have arrived (``R``
its own context radius: its ``temporal_radius``, or the radius its parameters ask for:
``OpSpec.context_radius``), with ``R`` frames of context each side, and keeps only the ``2R``
input frames its next outputs need. So every output frame is exactly what running each op over
the whole clip (or shot) would give, an op's calls overlap by its own ``2R`` frames only, and a
long shot holds about twice the sum of the ops' radii (``tiling.streamed_frames``), not a window
plus that sum each side for every op. An op whose neighbours count only through a reduced copy
of each frame (stabilise, deflicker: ``tiling.REDUCED_CONTEXTS``) holds them as those copies,
whole frames only until their own output is made; dust, learned_restore and denoise
(``tiling.OUTPUTS_ONLY``) compute only a call's new outputs, the context frames being inputs
only. When the frames the ops carry between their
calls do not fit the budget, they wait in nameless scratch files (``tiling.stream_plan``,
``frame_store``). Shots found by analysis are processed independently: no op sees across a cut.

Inside a call each op runs in spatial tiles (``tiling``): ``max_memory`` caps the frames held
and sets the tile side from what the process and the frames held while the op runs leave
(``tiling.held_while_running``), so memory does not grow with the frame size beyond one call of tiles.
Tiles overlap and are cross-faded; ops with a whole-picture estimate make it once per call and
share it with every tile.

The package's parts: ``spec`` (specs, steps, presets), ``runner`` (``run_pipeline``: shot plans,
streamed ops, retime), ``tiling`` (spatial tiles from a memory budget), ``frame_source`` (reading a tensor or a file in order), ``frame_store``
(carried frames spilled to scratch files) and ``cli``
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
