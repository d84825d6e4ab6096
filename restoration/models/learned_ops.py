"""Registry ops backed by the learned networks: ``learned_restore`` and ``learned_upscale``.

Weights are the files committed in ``restoration/models/weights`` (trained here from scratch, see
that folder's README) unless the ``weights`` parameter names another file. A network is loaded
lazily, once per (file, device), from the local file only; nothing is downloaded.

Grey and colour: the networks work on luma. ``learned_restore`` restores the luma of the centre
frame of each window and takes chroma as the per-pixel median of the aligned window's chroma
(one-frame dust and chroma noise go, colour stays); ``learned_upscale`` upscales luma with the
network and chroma bicubically; ``refine_interpolation`` (handed to ``ops.interpolate`` as its
``refine`` for the ``learned`` method) corrects the luma of the classical interpolation and
moves chroma by the same amount.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from pathlib import Path

import torch
import torch.nn.functional as F

from restoration.errors import ModelError, SpecError
from restoration.models.data import stack_interp_inputs
from restoration.models.nets import load_checkpoint, split_luma_chroma
from restoration.models.windows import aligned_windows, median_of_window
from restoration.ops._common import check_frames, output_frames, reflected_indices
from restoration.ops.denoise import estimate_noise
from restoration.ops.flow import SharedFlows, TileFlows, chained_flows
from restoration.ops.opspec import OpSpec, Param
from restoration.ops.upscale import UPSCALE_FACTORS

__all__ = ["restore_frames", "limit_unconfirmed", "median_of_window", "learned_restore", "LearnedRestore",
           "learned_upscale", "LearnedUpscale", "refine_interpolation", "load_model", "network_precision", "WEIGHTS",
           "SR_X4_WEIGHTS", "weights_file", "LEARNED_RESTORE_OP", "LEARNED_UPSCALE_OP"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS = {"restore": WEIGHTS_DIR / "restore.pt", "sr": WEIGHTS_DIR / "sr_x2.pt", "interp": WEIGHTS_DIR / "interp.pt"}
SR_X4_WEIGHTS = WEIGHTS_DIR / "sr_x4.pt"  # ``learned_upscale``'s network for factor 4
RADIUS = 2  # the committed restore network's temporal radius (checked against its file)
# Windows per forward pass. One: the aligned window, its neighbours' checks (centre and
# consensus repeated per neighbour) and the net's features scale with it, and the output is the
# same whatever it is (convolutions per window). 4 held 1.83 GiB above the op's input in 4K's
# 864 px tiles of 4 frames, 1 holds 0.81 (docs/BENCHMARKS.md, issue #18), and 1 is no slower:
# 14.9 against 22.3 CPU-s there with OMP_WAIT_POLICY=PASSIVE (on a loaded machine OpenMP's
# spin-waits, 4x as many parallel regions, doubled it), 7.5 against 9.1 on one thread.
_BATCH = 1
_MODELS: dict[tuple[str, str, str], torch.nn.Module] = {}
_LOCK = threading.Lock()


def weights_file(task: str, factor: int = 2) -> Path:
    """The committed weights of ``task`` (for ``sr``, of the network of that factor)."""
    return SR_X4_WEIGHTS if task == "sr" and factor == 4 else WEIGHTS[task]


def load_model(task: str, weights: str | Path | None = None, device="cpu") -> torch.nn.Module:
    """The ``task`` network ("restore", "sr" or "interp") from ``weights`` (default: the committed file) on
    ``device``, loaded once and cached. Raises ModelError for a missing or unfit file."""
    path = Path(weights) if weights else WEIGHTS[task]
    device = torch.device(device)
    key = (task, str(path.resolve()), str(device))
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = load_checkpoint(path, task, device=device)
            for parameter in model.parameters():
                parameter.requires_grad_(False)
            if device.type == "cpu":
                # Channels-last weights make oneDNN run every convolution channels-last (the
                # activations follow the weights): the restoration net at 640x480 in float32
                # took 0.7x the time on an AVX-512 Xeon, with the same values (to 4e-7).
                model.to(memory_format=torch.channels_last)
            _MODELS[key] = model
    return model


# CPU feature flags (Linux /proc/cpuinfo) that mean bfloat16 dot products in hardware: x86
# AVX-512 BF16 or AMX, Arm's BF16 extension.
_BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def cpu_has_native_bfloat16(cpuinfo: str) -> bool:
    """Whether a /proc/cpuinfo text lists a bfloat16 instruction set (on its flags/Features lines)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features") and _BFLOAT16_FLAGS & set(value.split()):
            return True
    return False


@functools.cache
def _native_bfloat16_cpu() -> bool:
    # oneDNN also "supports" bfloat16 on plain AVX-512 by converting to float32 and back, which
    # made the restoration net 2.5x slower than float32 on an AVX-512 Xeon without BF16: only the
    # processor's own flags say whether bfloat16 is fast. Elsewhere (no /proc) stay in float32.
    try:
        if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
            return False
        return cpu_has_native_bfloat16(Path("/proc/cpuinfo").read_text(errors="replace"))
    except (AttributeError, RuntimeError, OSError):  # a torch build without the check, no /proc
        return False


def network_precision(device: torch.device) -> contextlib.AbstractContextManager:
    """Where the processor multiplies bfloat16 natively (AVX-512 BF16 or AMX CPUs) the networks'
    convolutions run in bfloat16 (autocast): on the development machine's CPU the restoration
    net takes a third of the time, and its output stays within 0.002 of float32 (half an 8-bit
    code value; the engine benchmark's PSNR does not move). Flows, warps and everything outside
    the networks stay float32; so do GPUs and CPUs without native bfloat16."""
    if device.type == "cpu" and _native_bfloat16_cpu():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def restore_frames(frames: torch.Tensor, *, weights: str | Path | None = None,
                   flows: SharedFlows | TileFlows | None = None, noise: torch.Tensor | None = None,
                   outputs: range | None = None, unconfirmed_limit: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Restore (T, C, H, W) frames; returns (restored (T, C, H, W), defect probability (T, 1, H, W)).

    Frame t is restored from frames t-R..t+R (reflected at the clip's edges), so a window with R
    frames of context on each side gives exactly what the whole clip gives. ``flows``: a pipeline
    window's shared motion estimates (``ops.flow.SharedFlows``, or a tile's view of them), else
    estimated here. ``noise``: each frame's grain level (T,) measured on the whole frames
    (``pipeline.tiling`` runs tiles with it), else measured on ``frames``. ``outputs``: the
    frames restored (all by default; the others are only their context), each as in all.
    ``unconfirmed_limit`` (grain levels; 0: none): where neighbours fell back, how far the net may
    move a pixel's luma from the frame's own (:func:`limit_unconfirmed`).
    """
    check_frames(frames, "learned_restore")
    model = load_model("restore", weights, frames.device)
    radius = model.config.radius
    if radius != RADIUS:
        raise ModelError(f"learned_restore: weights have temporal radius {radius}, the op declares {RADIUS}")
    t = frames.shape[0]
    compute = frames.float()
    luma, _ = split_luma_chroma(compute)
    index = reflected_indices(t, range(-radius, radius + 1), device=frames.device).T  # (T, 2R+1)
    # The ops' default flow (finer than the one the net was trained with): it follows things
    # moving on their own better, and where it does not, the checks below leave them alone.
    flows = chained_flows(luma, flows)
    noise = estimate_noise(compute) if noise is None else noise
    restored, probability = [], []
    with torch.no_grad():
        outputs = output_frames(frames, outputs)
        for start in range(outputs.start, outputs.stop, _BATCH):
            rows = index[start:min(start + _BATCH, outputs.stop)]
            window = compute[rows]  # (n, 2R+1, C, H, W)
            fell_back = None
            if model.config.align:
                window, fell_back = aligned_windows(compute, flows, rows, radius, noise)
                flows.forget_before(start + rows.shape[0] - radius)
            n = rows.shape[0]
            grey, chroma = split_luma_chroma(window.flatten(0, 1))
            grey = grey.view(n, -1, *grey.shape[-2:])
            centre = grey[:, radius:radius + 1]
            if model.config.fallback_maps and fell_back is not None:
                grey = torch.cat([grey, fell_back], dim=1)
            with network_precision(frames.device):
                out, logits = model.fuse(grey)
            out, logits = out.float(), logits.float()
            if unconfirmed_limit > 0 and fell_back is not None:
                out = limit_unconfirmed(out, centre, fell_back, unconfirmed_limit * noise[rows[:, radius]])
            if chroma is not None:
                out = out + median_of_window(chroma.view(n, -1, *chroma.shape[1:]))
            restored.append(out.clamp(0, 1))
            probability.append(torch.sigmoid(logits))
    return torch.cat(restored).to(frames.dtype), torch.cat(probability).to(frames.dtype)


def limit_unconfirmed(out: torch.Tensor, centre: torch.Tensor, fell_back: torch.Tensor, limit: torch.Tensor
                      ) -> torch.Tensor:
    """The net's luma ``out`` (n, 1, H, W) with its change to the ``centre`` frame's luma held
    within +-``limit`` (n,) where the window's neighbours fell back to the centre, in proportion
    to how many did (``fell_back`` (n, 2R, H, W), :func:`windows.aligned_windows`).

    Where no neighbour confirms a repair, the net has only the frame itself to go on, a window
    it never met in training: on lightly damaged moving clips it lowered the moving things' PSNR
    2.3 dB below its own input (docs/BENCHMARKS.md, issue #19). A grain-sized limit keeps its
    grain removal there and takes nothing else out."""
    change = out - centre
    bound = limit.view(-1, 1, 1, 1)
    held = torch.maximum(torch.minimum(change, bound), -bound)
    return out + fell_back.mean(1, keepdim=True) * (held - change)


def learned_restore(frames: torch.Tensor, *, unconfirmed_limit: float = 0.0, weights: str = "",
                    flows: SharedFlows | None = None, outputs: range | None = None) -> torch.Tensor:
    """Remove dust, blotches, scratches and grain with the learned temporal network (radius 2);
    ``unconfirmed_limit``: see :func:`restore_frames`; ``outputs``: only these frames'."""
    return restore_frames(frames, weights=weights or None, flows=flows, outputs=outputs,
                          unconfirmed_limit=unconfirmed_limit)[0]


class LearnedRestore(torch.nn.Module):
    def __init__(self, unconfirmed_limit: float = 0.0, weights: str = "") -> None:
        super().__init__()
        self.unconfirmed_limit = unconfirmed_limit
        self.weights = weights

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return learned_restore(frames, unconfirmed_limit=self.unconfirmed_limit, weights=self.weights)


def learned_upscale(frames: torch.Tensor, *, factor: int = 2, weights: str = "") -> torch.Tensor:
    """Upscale (T, C, H, W) x2 or x4 with the learned network of that factor (luma), chroma
    bicubic. ``weights`` (a file) must hold a network of the same factor."""
    check_frames(frames, "learned_upscale")
    if isinstance(factor, bool) or factor not in UPSCALE_FACTORS:
        raise SpecError(f"learned_upscale: factor must be 2 or 4, got {factor!r}")
    if min(frames.shape[-2:]) < 4:
        raise SpecError(f"learned_upscale: frames must be at least 4x4, got {tuple(frames.shape[-2:])}")
    model = load_model("sr", weights or weights_file("sr", factor), frames.device)
    if model.config.factor != factor:
        raise ModelError(f"learned_upscale: weights are for x{model.config.factor}, the op was asked for x{factor}")
    compute = frames.float()
    out = []
    with torch.no_grad():
        for start in range(0, frames.shape[0], _BATCH):
            luma, chroma = split_luma_chroma(compute[start:start + _BATCH])
            with network_precision(frames.device):
                big = model(luma).float()
            if chroma is not None:
                big = big + F.interpolate(chroma, scale_factor=factor, mode="bicubic", align_corners=False)
            out.append(big.clamp(0, 1))
    return torch.cat(out).to(frames.dtype)


def refine_interpolation(first: torch.Tensor, second: torch.Tensor, candidates) -> torch.Tensor:
    """The frame at ``candidates.fraction`` between ``first`` and ``second`` (1, C, H, W): the
    classical estimate (``ops.interpolate.PairCandidates``) corrected by the interpolation net.
    Colour: the net corrects luma and every channel moves by the same amount."""
    model = load_model("interp", None, first.device)
    grey = type(candidates)(
        candidates.fraction,
        *(split_luma_chroma(image.float())[0] for image in
          (candidates.warped_first, candidates.warped_second)),
        candidates.trust_first.float(), candidates.trust_second.float(),
        split_luma_chroma(candidates.estimate.float())[0],
    )
    with torch.no_grad(), network_precision(first.device):
        luma = model(stack_interp_inputs(grey)).float()
    return (candidates.estimate.float() + (luma - grey.estimate)).clamp(0, 1).to(first.dtype)


class LearnedUpscale(torch.nn.Module):
    def __init__(self, factor: int = 2, weights: str = "") -> None:
        super().__init__()
        self.factor = factor
        self.weights = weights

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return learned_upscale(frames, factor=self.factor, weights=self.weights)


# Pipeline specs come from users (the web app, JSON files), so they cannot name a weights file:
# registered ops always use the committed weights. Python callers may pass ``weights=`` a path.

LEARNED_RESTORE_OP = OpSpec(
    name="learned_restore",
    function=learned_restore,
    module=LearnedRestore,
    params={"unconfirmed_limit": Param(float, 0.0, minimum=0.0, maximum=100.0,
                                       help="grain levels the net may change a pixel by where no neighbour confirms "
                                            "the repair (0: no limit); the film preset sets it for grain alone")},
    temporal_radius=RADIUS,
    tileable=True,  # flows and grain level from the whole frames (pipeline.tiling._learned_restore_tiled)
    shares_flows=True,
    # Its 5-frame aligned windows (luma and chroma) and the net's features: with 4 windows a pass,
    # 1.8-2.0 GiB above its input in 864 px 4K tiles of 4 frames; with one (now) the planner's
    # default would do (4K film chain: 3.73 against 3.60 GiB peak, 21.9 against 22.5 s/frame:
    # within run-to-run noise), kept for the margin (docs/BENCHMARKS.md, issue #18).
    working_copies=56,
    description="learned temporal restoration (dust, blotches, scratches, grain), flow-aligned 5-frame window",
)

LEARNED_UPSCALE_OP = OpSpec(
    name="learned_upscale",
    function=learned_upscale,
    module=LearnedUpscale,
    params={"factor": Param(int, 2, choices=UPSCALE_FACTORS, help="2 or 4 (a network trained for each)")},
    scale_param="factor",
    description="learned x2 / x4 super-resolution (luma network, chroma bicubic)",
)
