"""Typed shot boundaries on hard reels: every kind of transition and every trap, heavily damaged.

Each reel strings together shots drawn from the shared archival footage (the A-Bomb shots and
the silent clips, with their own damage) and scikit-image photographs under synthetic camera
moves (``restoration.degrade.synthetic_clip``), joined by, in a seeded order: cuts, cuts
between two moves over the same photograph (similar brightness), a jump cut (the same
photograph reframed closer), a 2- to 4-frame insert, dissolves of 4 to 60 frames, wipes of 6
to 30 frames in the four directions, fades through black and through white. Inside shots, away
from their ends: 1- to 3-frame exposure flashes, 2-frame burns over 40 % of the picture, a
splice bump (two frames jumped 6 ahead, then back) and a whip pan (8 frames of fast, blurred
travel between two held views). The whole reel is then damaged by ``restoration.degrade``
(heavy: flicker, dust, blotches, scratches, grain, weave, compression).

Scores: a boundary found within +-1 frame of a cut, or within +-max(2, length / 4) of a gradual
transition's reported frame (its middle; a fade's black or white point), is a match; each true
boundary matches once. "typed" is the share of matches with the right type; "false at traps"
counts false boundaries within 4 frames of a trap. PySceneDetect's content and adaptive
detectors (default settings, fed the same frames) are scored the same way (they give no types).
fps: frames per second of ``detect_transitions`` alone, one thread. Run by ``bench --only shots``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

CUT_TOLERANCE = 1
TRAP_REACH = 4
KINDS = ("cut", "similar", "jump", "insert", "dissolve", "wipe", "fade-black", "fade-white")
TRAPS = ("flash", "burn", "splice", "whip", "flash")


@dataclass
class Reel:
    frames: list[torch.Tensor] = field(default_factory=list)  # float (1, H, W) frames
    truths: list[dict[str, Any]] = field(default_factory=list)  # {"type", "frame", "length"}
    traps: list[int] = field(default_factory=list)  # frame of each trap inside a shot

    @property
    def position(self) -> int:
        return len(self.frames)

    def extend(self, clip: torch.Tensor) -> None:
        self.frames.extend(clip)


def _photograph_clips(size: tuple[int, int], count: int, rng: random.Random) -> list[tuple[str, torch.Tensor]]:
    """(name, picture (1, H', W') grey) of scikit-image photographs, for moves and whips."""
    from restoration.degrade.sources import clean_sources
    from restoration.luma import REC601_LUMA, luma

    sources = clean_sources()
    rng.shuffle(sources)
    pictures = []
    for name, image in sources[:count]:
        grey = image if image.shape[0] == 1 else luma(image[None, :3], weights=REC601_LUMA)[0]
        pictures.append((name, grey))
    return pictures


def _move(picture: torch.Tensor, frames: int, size: tuple[int, int], seed: int, motion: str) -> torch.Tensor:
    from restoration.degrade.sources import synthetic_clip

    return synthetic_clip(picture, frames=frames, size=size, seed=seed, motion=motion, mode="bilinear").clamp(0, 1)


def _closer(clip: torch.Tensor) -> torch.Tensor:
    """The same clip reframed: the middle 60 % of the picture, enlarged to the full size."""
    h, w = clip.shape[-2:]
    top, left = int(h * 0.2), int(w * 0.2)
    crop = clip[..., top : h - top, left : w - left]
    return F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False).clamp(0, 1)


def _whip(picture: torch.Tensor, size: tuple[int, int], hold: int) -> torch.Tensor:
    """A held view, 8 frames of fast blurred travel to the right, another held view."""
    h, w = size
    wide = F.interpolate(picture[None], size=(h, max(3 * w, int(picture.shape[-1] * h / picture.shape[-2]))),
                         mode="bilinear", align_corners=False)[0]
    travel = wide.shape[-1] - w - 2
    step = travel // 9
    frames = [wide[:, :, :w] for _ in range(hold)]
    for i in range(1, 9):
        x = i * step
        frames.append(torch.stack([wide[:, :, x - d : x - d + w] for d in range(0, step, max(1, step // 8))]).mean(0))
    frames += [wide[:, :, travel : travel + w] for _ in range(hold)]
    return torch.stack(frames).clamp(0, 1)


def _add_trap(clip: torch.Tensor, kind: str, rng: random.Random) -> tuple[torch.Tensor, int]:
    """The clip with one trap in its middle part; returns it and the trap's first frame."""
    clip = clip.clone()
    at = rng.randrange(10, clip.shape[0] - 12)
    if kind == "flash":
        n = rng.choice((1, 2, 3))
        clip[at : at + n] = (clip[at : at + n] * 1.8 + 0.35).clamp(0, 1)
    elif kind == "burn":
        h, w = clip.shape[-2:]
        yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        cy, cx = rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w
        blotch = ((yy - cy) / (0.4 * h)) ** 2 + ((xx - cx) / (0.4 * w)) ** 2 < 1
        clip[at : at + 2, :, blotch] = rng.choice((0.95, 0.03))
    elif kind == "splice":
        clip = torch.cat([clip[:at], clip[at + 6 : at + 8], clip[at + 2 :]])
    return clip, at


def _blend(a: torch.Tensor, b: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (1 - weights) * a + weights * b


def _join(reel: Reel, outgoing: torch.Tensor, incoming: torch.Tensor, kind: str, rng: random.Random,
          insert: torch.Tensor) -> torch.Tensor:
    """Append ``outgoing`` joined to ``incoming`` by ``kind``; returns what is left of incoming."""
    if kind in ("cut", "similar", "jump"):
        reel.extend(outgoing)
        reel.truths.append({"type": "cut", "frame": reel.position, "length": 1})
        return incoming
    if kind == "insert":
        reel.extend(outgoing)
        reel.truths.append({"type": "cut", "frame": reel.position, "length": 1})
        reel.extend(insert)
        reel.truths.append({"type": "cut", "frame": reel.position, "length": 1})
        return incoming
    if kind == "dissolve":
        length = rng.choice((4, 8, 16, 24, 36, 48, 60))
        length = min(length, outgoing.shape[0] - 8, incoming.shape[0] - 8)
        reel.extend(outgoing[:-length])
        alpha = torch.linspace(0, 1, length + 2)[1:-1].view(-1, 1, 1, 1)
        start = reel.position
        reel.extend(_blend(outgoing[-length:], incoming[:length], alpha))
        middle = start + int(torch.nonzero(alpha.flatten() >= 0.5)[0])  # the incoming shot weighs half
        reel.truths.append({"type": "dissolve", "frame": middle, "length": length})
        return incoming[length:]
    if kind == "wipe":
        length = rng.choice((6, 10, 16, 24, 30))
        direction = rng.choice(("left", "right", "down", "up"))
        reel.extend(outgoing[:-length])
        start = reel.position
        h, w = outgoing.shape[-2:]
        yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
        along = {"left": xx, "right": 1 - xx, "down": yy, "up": 1 - yy}[direction]
        for i in range(length):
            edge = (i + 1) / (length + 1)
            reel.extend(torch.where(along < edge, incoming[i], outgoing[-length + i])[None])
        middle = start + next(i for i in range(length) if (i + 1) / (length + 1) >= 0.5)
        reel.truths.append({"type": "wipe", "frame": middle, "length": length})
        return incoming[length:]
    # fades through black or white: ramps of 4-12 frames, 1-3 blank frames
    ramp, blank = rng.choice((4, 6, 8, 12)), rng.choice((1, 2, 3))
    level = 0.0 if kind == "fade-black" else 1.0
    reel.extend(outgoing[:-ramp])
    down = torch.linspace(1, 0, ramp + 1)[:-1].view(-1, 1, 1, 1)
    reel.extend(_blend(torch.full_like(outgoing[-ramp:], level), outgoing[-ramp:], down))
    first_blank = reel.position
    reel.extend(torch.full((blank, *outgoing.shape[1:]), level))
    reel.truths.append({"type": "fade", "frame": (2 * first_blank + blank) // 2, "length": 2 * ramp + blank})
    up = torch.linspace(0, 1, ramp + 1)[1:].view(-1, 1, 1, 1)
    reel.extend(_blend(torch.full_like(incoming[:ramp], level), incoming[:ramp], up))
    return incoming[ramp:]


def build_reel(seed: int, size: tuple[int, int], footage: list[torch.Tensor],
               pictures: list[tuple[str, torch.Tensor]]) -> Reel:
    """One reel: every kind of join once (in a seeded order) and the traps inside its shots."""
    rng = random.Random(seed)
    kinds = list(KINDS)
    rng.shuffle(kinds)
    traps = list(TRAPS)
    rng.shuffle(traps)
    motions = ("pan", "zoom", "shake", "mixed")

    def photograph_shot(index: int, frames: int) -> torch.Tensor:
        _, picture = pictures[index % len(pictures)]
        return _move(picture, frames, size, seed * 100 + index, rng.choice(motions))

    def footage_shot(frames: int) -> torch.Tensor:
        clip = rng.choice(footage)
        start = rng.randrange(max(1, clip.shape[0] - frames))
        return clip[start : start + frames].float() / 255

    reel = Reel()
    current = photograph_shot(0, 70)
    for number, kind in enumerate(kinds, 1):
        frames = rng.randrange(60, 90)
        if kind == "similar":  # the same photograph, another move: similar brightness and texture
            incoming = _move(pictures[(number - 1) % len(pictures)][1], frames, size, seed * 100 + 50 + number, "pan")
        elif kind == "jump":
            incoming = _closer(current[-1:].expand(frames, -1, -1, -1).clone())
        elif number % 2:
            incoming = footage_shot(frames) if footage else photograph_shot(number, frames)
        else:
            incoming = photograph_shot(number, frames)
        if traps and current.shape[0] >= 40:
            trap = traps.pop()
            if trap == "whip":  # this shot is a whip pan between two held views
                current = _whip(pictures[(number + 3) % len(pictures)][1], size, hold=24)
                reel.traps.append(reel.position + 24)
            else:
                current, at = _add_trap(current, trap, rng)
                reel.traps.append(reel.position + at)
        insert = photograph_shot(number + 7, rng.choice((2, 3, 4)))
        current = _join(reel, current, incoming, kind, rng, insert)
    reel.extend(current)
    return reel


def score(found: list[Any], reel: Reel) -> dict[str, Any]:
    """Matches of found boundaries (``Transition`` or plain frame numbers) against the reel's."""
    unmatched = list(reel.truths)
    matched = typed = 0
    false = []
    for item in found:
        frame = item if isinstance(item, int) else item.frame
        kind = None if isinstance(item, int) else item.type

        def reach(truth: dict[str, Any]) -> int:
            return CUT_TOLERANCE if truth["type"] == "cut" else max(2, truth["length"] // 4)

        candidates = [t for t in unmatched if abs(frame - t["frame"]) <= reach(t)]
        if not candidates:
            false.append(frame)
            continue
        truth = min(candidates, key=lambda t: abs(frame - t["frame"]))
        unmatched.remove(truth)
        matched += 1
        typed += kind == truth["type"]
    precision = matched / len(found) if found else 1.0
    recall = matched / len(reel.truths) if reel.truths else 1.0
    return {
        "true": len(reel.truths),
        "found": len(found),
        "matched": matched,
        "typed": typed,
        "precision": precision,
        "recall": recall,
        "F1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "false at traps": sum(1 for f in false if any(abs(f - t) <= TRAP_REACH for t in reel.traps)),
        "missed": " ".join(f"{t['type']}@{t['frame']}" for t in unmatched) or "-",
        "false": " ".join(map(str, false)) or "-",
    }


def scenedetect_cuts(frames: torch.Tensor, detector: str) -> list[int] | None:
    """PySceneDetect's cuts on (T, 1, H, W) frames in [0, 1] (None when it is not installed)."""
    try:
        import numpy as np
        from scenedetect import FrameTimecode
        from scenedetect.detectors import AdaptiveDetector, ContentDetector
    except ImportError:
        return None
    instance = AdaptiveDetector() if detector == "adaptive" else ContentDetector()
    cuts: list[int] = []
    grey = (frames[:, 0] * 255).round().to(torch.uint8).numpy()
    last = None
    for number, picture in enumerate(grey):
        last = FrameTimecode(number, fps=24.0)
        cuts += [int(c.frame_num) for c in instance.process_frame(last, np.repeat(picture[..., None], 3, axis=2))]
    if last is not None:
        cuts += [int(c.frame_num) for c in instance.post_process(last)]
    return sorted(set(cuts))


def run(quick: bool, load_footage: Callable[[tuple[int, int]], list[tuple[str, torch.Tensor, bool]]]
        ) -> list[dict[str, Any]]:
    """The table; ``load_footage(size)`` gives the shared footage's shots as ``bench.shots`` loads
    them (``(name, uint8 (T, 1, H, W), damaged?)``)."""
    from restoration.analysis.shots import detect_transitions, single_threaded
    from restoration.degrade import degrade

    size = (96, 128) if quick else (144, 192)
    reels = 2 if quick else 6
    footage = [frames for _, frames, _ in load_footage(size) if frames.shape[0] >= 70]
    pictures = _photograph_clips(size, 12, random.Random(7))
    rows = []
    totals: dict[str, dict[str, float]] = {}
    for number in range(reels):
        with single_threaded():
            reel = build_reel(number + 1, size, footage, pictures)
            clean = torch.stack(reel.frames)
            damaged = degrade(clean, seed=500 + number, strength="heavy").damaged.clamp(0, 1)
            started = time.perf_counter()
            found = detect_transitions(damaged.split(32))
            seconds = time.perf_counter() - started
        results = {"ours": score(found, reel)}
        for detector in ("adaptive", "content"):
            cuts = scenedetect_cuts(damaged, detector)
            if cuts is not None:
                results[f"PySceneDetect {detector}"] = score(cuts, reel)
        for method, result in results.items():
            row = {"reel": f"{number + 1}", "method": method, "frames": damaged.shape[0], **result}
            if method == "ours":
                row["fps"] = damaged.shape[0] / seconds
            else:
                row["typed"] = "-"
            rows.append(row)
            total = totals.setdefault(method, {"true": 0, "found": 0, "matched": 0, "typed": 0, "false at traps": 0,
                                               "frames": 0, "seconds": 0.0})
            for key in ("true", "found", "matched", "false at traps"):
                total[key] += result[key]
            total["typed"] += result["typed"] if method == "ours" else 0
            total["frames"] += damaged.shape[0]
            total["seconds"] += seconds if method == "ours" else 0.0
    for method, total in totals.items():
        precision = total["matched"] / total["found"] if total["found"] else 1.0
        recall = total["matched"] / total["true"] if total["true"] else 1.0
        rows.append({
            "reel": f"all ({size[1]}x{size[0]})", "method": method, "frames": int(total["frames"]),
            "true": int(total["true"]), "found": int(total["found"]), "matched": int(total["matched"]),
            "typed": f"{total['typed'] / total['matched']:.3f}" if method == "ours" and total["matched"] else "-",
            "precision": precision, "recall": recall,
            "F1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "false at traps": int(total["false at traps"]), "missed": "", "false": "",
            **({"fps": total["frames"] / total["seconds"]} if method == "ours" else {}),
        })
    return rows

