"""Training the learned models from scratch: `python -m restoration train --task restore|sr ...`.

AdamW; the learning rate warms up linearly over 50 steps, stays flat to step 150, then follows a
cosine to zero. The number of steps is fixed
after timing steps 50-150 against ``--minutes``; the run is then a deterministic function of
``(seed, steps)`` (``train_model(task, steps=..., seed=...)`` reproduces it exactly on the same
machine and library versions); it is recorded in the json beside the weights.

Losses: restore: Charbonnier on the restored centre frame + ``MASK_WEIGHT`` x BCE on the defect
mask (positives up-weighted: defects cover ~1-5 % of the pixels). sr: Charbonnier.

Every ``log_every`` steps the mean training loss and the validation PSNR on the held-out
photographs (``data.HELD_OUT``, fixed seeds) go to a CSV beside the weights; at the end the
curve is drawn to ``docs/img/training_<task>.png``.
"""

from __future__ import annotations

import csv
import json
import math
import platform
import shlex
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch
import torch.nn.functional as F

from restoration.errors import ModelError
from restoration.models import data as model_data
from restoration.models import learned_ops
from restoration.models.learned_ops import WEIGHTS_DIR, weights_file
from restoration.models.nets import (
    InterpConfig,
    InterpNet,
    RestoreConfig,
    SRConfig,
    SuperResNet,
    TemporalRestoreNet,
    count_parameters,
    load_checkpoint,
    save_checkpoint,
)
from restoration.ops.upscale import UPSCALE_FACTORS

__all__ = ["resolve_device", "train_model", "TrainResult", "cli_train", "WEIGHTS_DIR"]

CURVES_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"
TASKS = ("restore", "sr", "interp")
MASK_WEIGHT = 0.1
MASK_POS_WEIGHT = 4.0
LEARNING_RATE = {"restore": 1e-3, "sr": 1e-3, "interp": 1e-3}
BATCH = {"restore": 12, "sr": 16, "interp": 16}
# What the validation PSNR of each task is compared with (the curve's baseline).
BASELINE = {"restore": "damaged input", "sr": "bicubic", "interp": "classical interpolation"}


# Timed runs: steps CALIBRATION[0]..[1] are timed to fix the total number of steps; a run of
# that many steps (``train_model(steps=...)``) follows the same schedule exactly.
CALIBRATION = (50, 150)
MIN_TIMED_STEPS = 500
WARMUP = 50


def _learning_rate(task: str, step: int, total: int | None, peak: float | None = None) -> float:
    """Linear warm-up over WARMUP steps, flat until CALIBRATION[1] (a timed run does not know its
    length before that), then cosine to zero at ``total``. Runs shorter than MIN_TIMED_STEPS
    (tests, smoke runs) warm up over a tenth of their steps and go straight into the cosine."""
    peak = LEARNING_RATE[task] if peak is None else peak
    if total is not None and total < MIN_TIMED_STEPS:
        warmup, flat_until = max(1, total // 10), max(1, total // 10)
    else:
        warmup, flat_until = WARMUP, CALIBRATION[1]
    if step < warmup:
        return peak * (step + 1) / warmup
    if total is None or step < flat_until:
        return peak
    return peak * 0.5 * (1 + math.cos(math.pi * (step - flat_until) / max(1, total - flat_until)))


def resolve_device(name) -> torch.device:
    """``cpu`` or ``cuda[:n]``; ModelError (one line) when CUDA is asked for and absent."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ModelError(f"unknown device {name!r} (use cpu or cuda)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ModelError("device cuda asked for, but torch finds no CUDA GPU on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ModelError(f"device {name} does not exist (this machine has {torch.cuda.device_count()} GPU(s))")
    elif device.type != "cpu":
        raise ModelError(f"unsupported device {name!r} (use cpu or cuda)")
    return device


def charbonnier(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((a - b) ** 2 + eps * eps).mean()


@dataclass
class TrainResult:
    model: torch.nn.Module
    steps: int
    log: list[dict] = field(default_factory=list)
    final_val_psnr: float = math.nan
    input_val_psnr: float = math.nan


def _build(task: str, widths: tuple[int, int, int] | None = None, factor: int = 2,
           fallback_maps: bool = False) -> torch.nn.Module:
    if widths is not None and (task == "sr" or len(widths) != 3 or min(widths) < 1):
        raise ModelError("widths are three positive numbers (e.g. 48,64,96), for --task restore or interp")
    if task == "restore":
        return TemporalRestoreNet(RestoreConfig(widths=widths or RestoreConfig.widths, fallback_maps=fallback_maps))
    if task == "sr":
        return SuperResNet(SRConfig(factor=factor))
    if task == "interp":
        return InterpNet(InterpConfig(widths=widths) if widths else InterpConfig())
    raise ModelError(f"task {task!r} is not trainable yet (known: {', '.join(TASKS)})")


def _batches(task: str, seed: int, batch_size: int, options: dict):
    if task == "restore":
        for batch in model_data.restore_stream(seed, batch_size=batch_size, **options):
            yield batch.window, batch.clean, batch.mask
    elif task == "interp":
        for inputs, target in model_data.interp_stream(seed, batch_size=batch_size, **options):
            yield inputs, target, None
    else:
        for low, high in model_data.sr_stream(seed, batch_size=batch_size, **options):
            yield low, high, None


def _validation(task: str, factor: int = 2, fallback: bool = False):
    if task == "restore":  # validated on windows aligned as the training ones
        batch = model_data.validation_windows(fallback=fallback)
        return batch.window, batch.clean
    if task == "interp":
        return model_data.interp_validation()
    return model_data.sr_validation(factor=factor)


def _loss(task: str, model, inputs, target, mask) -> torch.Tensor:
    if task == "restore":
        restored, logits = model.fuse(inputs)
        pos_weight = torch.tensor(MASK_POS_WEIGHT, device=logits.device)
        return charbonnier(restored, target) + MASK_WEIGHT * F.binary_cross_entropy_with_logits(
            logits, mask, pos_weight=pos_weight)
    return charbonnier(model(inputs), target)


@torch.no_grad()
def _val_psnr(task: str, model, inputs, target, device) -> float:
    model.eval()
    values = []
    for i in range(inputs.shape[0]):
        x = inputs[i:i + 1].to(device)
        out = model.fuse(x)[0] if task == "restore" else model(x)
        values.append(model_data.psnr_per_item(out.cpu(), target[i:i + 1]))
    model.train()
    return float(torch.cat(values).mean())


def _input_psnr(task: str, inputs, target, radius: int = 2) -> float:
    if task == "restore":  # the centre frame (fell-back maps may follow the frames)
        r = radius
        return float(model_data.psnr_per_item(inputs[:, r:r + 1], target).mean())
    if task == "interp":  # the classical estimate is the first input
        return float(model_data.psnr_per_item(inputs[:, :1], target).mean())
    up = F.interpolate(inputs, scale_factor=target.shape[-1] // inputs.shape[-1], mode="bicubic", align_corners=False)
    return float(model_data.psnr_per_item(up, target).mean())


def train_model(task: str, *, steps: int | None = None, minutes: float | None = None, seed: int = 0,
                device="cpu", log_every: int = 100, batch_size: int | None = None,
                validate: bool = True, progress=None, data_options: dict | None = None,
                init: Path | None = None, learning_rate: float | None = None,
                widths: tuple[int, int, int] | None = None, bfloat16: bool = False, factor: int = 2) -> TrainResult:
    """Train ``task`` from scratch for ``steps`` steps, or for about ``minutes`` (the step count is
    then fixed after timing steps 50-150). ``data_options`` go to the data stream
    (``data.restore_stream`` / ``data.sr_stream``; tests use small clips). ``init``: a weights
    file to start from instead of a fresh net (fine-tuning: the schedule is the same, usually with a
    lower peak ``learning_rate`` than the task's default; the net takes the file's sizes).
    ``widths``: the U-Net's widths instead of the task's default. ``bfloat16``: forward passes and
    losses under bfloat16 autocast (weights, optimiser and validation stay float32): about 1.8x
    faster steps on a CPU with native bfloat16, so a larger net can be trained in the same time.
    ``factor``: the sr task's scale, 2 or 4."""
    if (steps is None) == (minutes is None):
        raise ModelError("give either steps or minutes")
    device = resolve_device(device)
    torch.manual_seed(seed)
    if init is not None and widths is not None:
        raise ModelError("--widths and --init exclude each other: a fine-tune keeps the sizes of its file")
    if factor not in UPSCALE_FACTORS or (factor != 2 and task != "sr"):
        raise ModelError(f"--factor is 2 or 4, for --task sr only (got {factor} for {task})")
    # The maps are the net's input, not the stream's: the stream makes them with fallback windows.
    data_options = dict(data_options or {})
    fallback_maps = bool(data_options.pop("fallback_maps", False))
    if fallback_maps and not data_options.get("fallback"):
        raise ModelError("--fallback-maps needs --fallback-windows (the maps come with those windows)")
    model = load_checkpoint(init, task) if init is not None else _build(task, widths, factor, fallback_maps)
    if fallback_maps and not model.config.fallback_maps:
        model = model.with_fallback_maps()  # starts as the file's net: the maps' weights are zero
    if task == "sr":
        factor = model.config.factor  # a fine-tune keeps its file's scale
        data_options = {"factor": factor, **data_options}
    model = model.to(device).train()
    batch_size = batch_size or BATCH[task]
    peak = LEARNING_RATE[task] if learning_rate is None else learning_rate
    if not peak > 0:
        raise ModelError(f"learning rate must be positive, got {peak}")
    optimiser = torch.optim.AdamW(model.parameters(), lr=peak, weight_decay=1e-4)
    stream = _batches(task, seed, batch_size, data_options)
    val_inputs, val_target = _validation(task, factor, bool(data_options.get("fallback"))) if validate else (None, None)
    result = TrainResult(model=model, steps=0)
    if validate:
        result.input_val_psnr = _input_psnr(task, val_inputs, val_target, getattr(model.config, "radius", 0))

    first = next(stream)  # the data pool is filled here: not part of a step's time
    start = time.perf_counter()
    total = steps
    running, count, step = 0.0, 0, 0
    mark = start
    while total is None or step < total:
        if total is None and step == CALIBRATION[0]:
            mark = time.perf_counter()
        if total is None and step == CALIBRATION[1]:
            # Time steps (with one validation) after the first ones, which are slower (allocation).
            now = time.perf_counter()
            per_step = (now - mark) / (CALIBRATION[1] - CALIBRATION[0])
            left = minutes * 60 - (now - start)
            total = max(MIN_TIMED_STEPS, step + int(0.95 * left / per_step))
        lr = _learning_rate(task, step, total, peak)
        for group in optimiser.param_groups:
            group["lr"] = lr
        inputs, target, mask = first if step == 0 else next(stream)
        inputs, target = inputs.to(device), target.to(device)
        mask = mask.to(device) if mask is not None else None
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bfloat16):
            loss = _loss(task, model, inputs, target, mask)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        step += 1
        running += float(loss.detach())
        count += 1
        last = total is not None and step == total
        if step % log_every == 0 or last:
            row = {"step": step, "elapsed_s": round(time.perf_counter() - start, 1), "lr": lr,
                   "train_loss": running / count}
            if validate:
                row["val_psnr"] = _val_psnr(task, model, val_inputs, val_target, device)
                row["input_val_psnr"] = result.input_val_psnr
            result.log.append(row)
            running, count = 0.0, 0
            if progress is not None:
                progress(row)
    result.steps = step
    model.eval()
    if validate and result.log:
        result.final_val_psnr = result.log[-1]["val_psnr"]
    return result


def _write_csv(path: Path, log: list[dict]) -> None:
    if not log:
        return
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(log[0]))
        writer.writeheader()
        writer.writerows(log)


def draw_curves(log: list[dict], path: Path, title: str, baseline: str = "damaged input") -> None:
    """Training loss (log scale) and validation PSNR against the step, drawn with Pillow."""
    from PIL import Image, ImageDraw

    width, height, margin = 900, 360, 60
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((margin, 10), title, fill="black")
    steps = [row["step"] for row in log]
    panels = [("train loss (log10)", [math.log10(max(row["train_loss"], 1e-9)) for row in log], (200, 40, 40)),
              ("validation PSNR (dB)", [row.get("val_psnr", math.nan) for row in log], (30, 80, 200))]
    panel_w = (width - 3 * margin) // 2
    for index, (label, values, colour) in enumerate(panels):
        left = margin + index * (panel_w + margin)
        top, bottom = 40, height - 40
        draw.rectangle([left, top, left + panel_w, bottom], outline="black")
        draw.text((left, bottom + 8), f"{label} vs step (0..{steps[-1]})", fill="black")
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            continue
        low, high = min(finite), max(finite)
        if index == 1 and math.isfinite(log[-1].get("input_val_psnr", math.nan)):
            low = min(low, log[-1]["input_val_psnr"])
        if high - low < 1e-6:
            high = low + 1
        pad = 0.05 * (high - low)
        low, high = low - pad, high + pad
        x_scale, y_scale = panel_w / max(steps[-1], 1), (bottom - top) / (high - low)
        points = [(left + s * x_scale, bottom - (v - low) * y_scale)
                  for s, v in zip(steps, values, strict=True) if math.isfinite(v)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for point in points:
            draw.ellipse([point[0] - 2, point[1] - 2, point[0] + 2, point[1] + 2], fill=colour)
        draw.text((left + 4, top + 4), f"{high - pad:.3f}", fill="black")
        draw.text((left + 4, bottom - 14), f"{low + pad:.3f}", fill="black")
        if index == 1 and "input_val_psnr" in log[-1]:
            y = bottom - (log[-1]["input_val_psnr"] - low) * y_scale
            draw.line([(left, y), (left + panel_w, y)], fill=(120, 120, 120), width=1)
            draw.text((left + panel_w - 150, y - 14), f"{baseline} {log[-1]['input_val_psnr']:.2f}", fill=(90, 90, 90))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def cli_train(args) -> int:
    task = args.task
    if task not in TASKS:
        raise ModelError(f"task {task!r} is not implemented yet (trainable: {', '.join(TASKS)})")
    steps = getattr(args, "steps", None)
    if steps is not None and steps < 1:
        raise ModelError(f"--steps must be positive, got {steps}")
    if steps is None and not args.minutes > 0:
        raise ModelError(f"--minutes must be positive, got {args.minutes}")
    device = resolve_device(args.device)
    factor = int(getattr(args, "factor", None) or 2)
    out = Path(args.out) if args.out else weights_file(task, factor)
    if getattr(args, "bf16", False) and device.type == "cpu" and not learned_ops._native_bfloat16_cpu():
        print("--bf16: this CPU has no native bfloat16; it is emulated, and slower than float32", file=sys.stderr)
    if out.suffix != ".pt":
        raise ModelError(f"{out}: the weights file name must end in .pt")
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python -m restoration " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else \
        f"python -m restoration train --task {task} --minutes {args.minutes} --device {args.device} --seed {args.seed}"
    started = datetime.now(UTC)
    csv_path = out.with_suffix(".csv")

    result_log: list[dict] = []

    def record(row: dict) -> None:
        result_log.append(row)  # the CSV grows during the run, so a long run can be watched
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
        _write_csv(csv_path, result_log)

    init = Path(args.init) if getattr(args, "init", None) else None
    fade = bool(getattr(args, "fade", False))
    fallback = bool(getattr(args, "fallback_windows", False))
    fallback_maps = bool(getattr(args, "fallback_maps", False))
    moving = float(getattr(args, "moving_cutouts", 0.0) or 0.0)
    if not 0.0 <= moving <= 1.0:
        raise ModelError(f"--moving-cutouts is a share from 0 to 1, got {moving}")
    data_options = {**({"fade": True} if fade else {}), **({"fallback": True} if fallback else {}),
                    **({"fallback_maps": True} if fallback_maps else {}), **({"moving": moving} if moving else {})}
    if (fade or fallback or fallback_maps or moving) and task != "restore":
        raise ModelError("--fade, --fallback-windows, --fallback-maps and --moving-cutouts apply to --task restore only")
    length = {"steps": steps} if steps is not None else {"minutes": args.minutes}
    widths = getattr(args, "widths", None)
    if widths is not None:
        try:
            widths = tuple(int(part) for part in widths.split(","))
        except ValueError:
            raise ModelError(f"--widths: expected three numbers like 48,64,96, got {widths!r}") from None
    bfloat16 = bool(getattr(args, "bf16", False))
    result = train_model(task, **length, seed=args.seed, device=device, progress=record,
                         data_options=data_options, init=init, learning_rate=getattr(args, "lr", None),
                         widths=widths, bfloat16=bfloat16, factor=factor)
    save_checkpoint(out, task, result.model)
    _write_csv(csv_path, result.log)
    curve_name = f"training_{task}.png" if factor == 2 else f"training_{task}_x{factor}.png"
    curve = CURVES_DIR / curve_name if out.parent == WEIGHTS_DIR else out.with_suffix(".png")
    draw_curves(result.log, curve, f"{task}: {command}", BASELINE[task])
    meta = {
        "task": task,
        "command": command,
        "seed": args.seed,
        "minutes": args.minutes,
        "steps": result.steps,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "batch_size": BATCH[task],
        "learning_rate": getattr(args, "lr", None) or LEARNING_RATE[task],
        "parameters": count_parameters(result.model),
        "config": result.model.config.to_dict(),
        "bfloat16": bfloat16,
        "init": str(init) if init else None,
        "data_recipe": {
            "restore": model_data.RECIPE + ("; colour fading kept (fade=True)" if fade else "")
            + ("; windows aligned as learned_restore aligns them (fallback=True: windows.clip_window)"
               if fallback else "")
            + ("; the net reads each neighbour's fell-back map (fallback_maps=True)" if fallback_maps else "")
            + (f"; in {moving:.0%} of the windows one or two squares of another training photograph cross the"
               f" clip at {model_data.CUTOUT_SPEED[0]:g}-{model_data.CUTOUT_SPEED[1]:g} px per frame"
               " before the weave and the damage (moving=...)" if moving else ""),
            "sr": f"luma frames of synthetic_clip(training photo, 360x360) and their antialiased bicubic /{factor} "
                  "reduction; 48x48 low-res crops",
            "interp": model_data.INTERP_RECIPE,
        }[task],
        "held_out_photos": list(model_data.HELD_OUT),
        "final_val_psnr": result.final_val_psnr,
        "input_val_psnr": result.input_val_psnr,
        "val_set": {
            "restore": "each held-out photo x light/medium/heavy, seeds 90000+10*photo+level, 192x256 luma",
            "sr": "each held-out photo, one 192x256 luma frame, seeds 80000+i",
            "interp": "each held-out photo (the next one as the moving cut-out) x data.INTERP_VALIDATION_GAPS x 2, "
                      "seeds 70000+10*photo+i, 192x256 luma, no grain",
        }[task],
        "log_csv": csv_path.name,
        "curve": str(curve.relative_to(CURVES_DIR.parents[1])) if curve.is_relative_to(CURVES_DIR.parents[1]) else str(curve),
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {out} ({result.steps} steps, validation PSNR {result.final_val_psnr:.2f} dB, "
          f"{BASELINE[task]} {result.input_val_psnr:.2f} dB)")
    return 0
