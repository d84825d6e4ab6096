"""Reels of shots joined by known transitions, for the shot benchmarks and the shot detector's training.

One builder for both, so what the learned detector is trained on and what it is measured on are
made the same way (on different seeds and, for the hard reels, different degradation seeds).

- ``load_shots(size)``: the shared archival footage as eight shots: the four shots of *A-Bomb
  Blast Effects* (cut at its known boundaries 0, 44, 134, 299) and the four one-shot silent clips,
  with their real damage (flicker, burns, blotches, dust, scratches, weave).
- ``build_cut_reel``: the eight shots in a given order joined by cuts, optionally one pair by a
  linear cross-dissolve (the "Engine: shots" bench).
- ``build_hard_reel``: every kind of join (cut, cut between two moves over one photograph, jump
  cut, 2-4 frame insert, dissolve 4-60, wipe 6-30 in four directions, fade through black and
  through white) and every trap inside shots (1-3 frame flashes, 2-frame burns over 40 % of the
  picture, a splice bump, a whip pan), over footage and scikit-image photographs under synthetic
  camera moves (the "typed transitions on hard reels" bench; ``restoration.degrade`` is applied
  by the caller).
- ``build_synthetic_reel``: smooth random textures (``textured_shot``, the analysis tests' shots),
  still or panned, joined by cuts, 2-4 frame inserts (onwards or back to the same shot),
  dissolves 4-60, wipes and fades, with flashes, burns, splice bumps, flicker and a whip pan over a
  texture (``textured_whip_pan``) inside shots: the shot detector's training only.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from restoration.luma import REC601_LUMA, luma

FOOTAGE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "footage"
A_BOMB = "a-bomb-blast-effects-1952.mp4"
A_BOMB_CUTS = (0, 44, 134, 299)
SILENT = (
    "the_great_train_robbery.mkv",
    "within_our_gates.mkv",
    "a_trip_down_market_street_before_the_fire.mkv",
    "san_francisco_earthquake_and_fire.mkv",
)
SYNTHETIC_KINDS = ("cut", "insert", "insert-return", "insert", "dissolve", "dissolve", "wipe", "fade-black",
                   "fade-white")
SYNTHETIC_TRAPS = ("flash", "burn", "splice", "whip", "flicker", "white")
KINDS = ("cut", "similar", "jump", "insert", "dissolve", "wipe", "fade-black", "fade-white")
TRAPS = ("flash", "burn", "splice", "whip", "flash")


def textured_shot(seed: int, frames: int, *, height: int = 72, width: int = 96, pan: tuple[int, int] = (1, 0),
                  grain: float = 0.01, channels: int = 1) -> torch.Tensor:
    """(frames, channels, height, width) in [0, 1]: a smooth random picture panned ``pan`` px/frame."""
    generator = torch.Generator().manual_seed(seed)
    span_x, span_y = abs(pan[0]) * frames, abs(pan[1]) * frames
    picture = torch.rand(1, channels, height + span_y + 8, width + span_x + 8, generator=generator)
    for _ in range(3):
        picture = F.avg_pool2d(picture, 7, 1, 3, count_include_pad=False)
    picture = (picture - picture.amin()) / (picture.amax() - picture.amin()).clamp_min(1e-6) * 0.8 + 0.1
    shots = []
    for t in range(frames):
        x = t * pan[0] if pan[0] >= 0 else span_x + t * pan[0]
        y = t * pan[1] if pan[1] >= 0 else span_y + t * pan[1]
        shots.append(picture[0, :, y : y + height, x : x + width])
    clip = torch.stack(shots)
    clip = clip + grain * torch.randn(clip.shape, generator=generator)
    return clip.clamp(0, 1)


def textured_whip_pan(seed: int, *, hold: int = 30, height: int = 72, width: int = 96) -> torch.Tensor:
    """``hold`` frames of a slow pan over a smooth random texture, 8 frames of a fast pan blurred
    along x, ``hold`` frames of the new view: one shot, no boundary."""
    generator = torch.Generator().manual_seed(seed)
    step = 60 * width // 96
    picture = torch.rand(1, 1, height + 8, max(25 * width // 2, 11 * step + 2 * hold + 8 + width),
                         generator=generator)
    for _ in range(3):
        picture = F.avg_pool2d(picture, 7, 1, 3, count_include_pad=False)
    picture = (picture - picture.amin()) / (picture.amax() - picture.amin()) * 0.8 + 0.1
    frames = []
    for t in range(2 * hold + 8):
        if t < hold:
            frames.append(picture[0, :, 4 : 4 + height, t : t + width])
        elif t < hold + 8:
            x = hold + step * (t - hold + 1)
            frames.append(torch.stack([picture[0, :, 4 : 4 + height, x - d : x - d + width]
                                       for d in range(0, step, max(1, step // 10))]).mean(0))
        else:
            x = 10 * step + t
            frames.append(picture[0, :, 4 : 4 + height, x : x + width])
    return torch.stack(frames)


def load_shots(size: tuple[int, int]) -> list[tuple[str, torch.Tensor, bool]]:
    """(name, frames as uint8 (T, 1, H, W), damaged?) for the eight shots, resized to ``size``."""
    from restoration.io import read_frames

    def prepared(frames: torch.Tensor) -> torch.Tensor:
        grey = luma(frames, weights=REC601_LUMA)  # Rec. 601, as the shot detector it measures
        out = [F.interpolate(part, size=size, mode="area") for part in grey.split(64)]
        return (torch.cat(out) * 255).round().to(torch.uint8)

    shots = []
    a_bomb = prepared(read_frames(FOOTAGE / A_BOMB))
    bounds = list(A_BOMB_CUTS) + [a_bomb.shape[0]]
    for number, (start, end) in enumerate(itertools.pairwise(bounds), 1):
        shots.append((f"a-bomb shot {number}", a_bomb[start:end], False))
    for name in SILENT:
        shots.append((name.split(".")[0], prepared(read_frames(FOOTAGE / name)), True))
    return shots


def build_cut_reel(shots, order: list[int], dissolve_after: int | None, dissolve_length: int = 12):
    """Concatenate shots in ``order``; optionally cross-dissolve out of the shot at that position.

    Returns (uint8 frames, true boundaries [(frame, kind)], damaged spans [(start, end)]).
    """
    parts: list[torch.Tensor] = []
    truths: list[tuple[int, str]] = []
    damaged: list[tuple[int, int]] = []
    position = 0
    carry: torch.Tensor | None = None  # incoming shot's remaining frames after a dissolve
    for index, shot_index in enumerate(order):
        _, frames, is_damaged = shots[shot_index]
        start = position
        after_dissolve = carry is not None
        if carry is not None:
            frames, carry = carry, None
        if index > 0 and not after_dissolve:
            truths.append((start, "cut"))
        if index == dissolve_after and index + 1 < len(order):
            incoming = shots[order[index + 1]][1]
            keep = frames[:-dissolve_length]
            alpha = torch.linspace(0, 1, dissolve_length + 2)[1:-1].view(-1, 1, 1, 1)
            blend = ((1 - alpha) * frames[-dissolve_length:].float() + alpha * incoming[:dissolve_length].float())
            parts += [keep, blend.round().to(torch.uint8)]
            position += keep.shape[0] + dissolve_length
            truths.append((start + keep.shape[0] + dissolve_length // 2, "dissolve"))
            carry = incoming[dissolve_length:]
            if is_damaged:
                damaged.append((start, start + keep.shape[0] - 1))
            continue
        parts.append(frames)
        position += frames.shape[0]
        if is_damaged:
            damaged.append((start, position - 1))
    return torch.cat(parts), truths, damaged



@dataclass
class Reel:
    frames: list[torch.Tensor] = field(default_factory=list)  # float (1, H, W) frames
    # {"type", "frame" (the reported frame: a gradual one's middle), "length", "start" (first frame)}
    truths: list[dict[str, Any]] = field(default_factory=list)
    traps: list[int] = field(default_factory=list)  # frame of each trap inside a shot

    @property
    def position(self) -> int:
        return len(self.frames)

    def extend(self, clip: torch.Tensor) -> None:
        self.frames.extend(clip)

    def mark_cut(self) -> None:
        """A cut before the next frame added (none at the reel's start, nor twice at one frame)."""
        if self.position and not any(t["frame"] == self.position for t in self.truths):
            self.truths.append({"type": "cut", "frame": self.position, "length": 1, "start": self.position})


def photograph_clips(size: tuple[int, int], count: int, rng: random.Random) -> list[tuple[str, torch.Tensor]]:
    """(name, picture (1, H', W') grey) of scikit-image photographs, for moves and whips."""
    from restoration.degrade.sources import clean_sources

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
    elif kind == "white":
        n = rng.choice((1, 2, 3))
        clip[at : at + n] = rng.choice((1.0, 0.0))
    elif kind == "flicker":
        gains = torch.tensor([rng.uniform(0.5, 1.5) for _ in range(clip.shape[0])]).view(-1, 1, 1, 1)
        clip = (clip * gains).clamp(0, 1)
    elif kind == "splice":
        clip = torch.cat([clip[:at], clip[at + 6 : at + 8], clip[at + 2 :]])
    return clip, at


def _blend(a: torch.Tensor, b: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (1 - weights) * a + weights * b


def _join(reel: Reel, outgoing: torch.Tensor, incoming: torch.Tensor, kind: str, rng: random.Random,
          insert: torch.Tensor) -> torch.Tensor:
    """Append ``outgoing`` joined to ``incoming`` by ``kind``; returns what is left of incoming
    (``"insert-return"``: what is left of outgoing, which goes on after the insert)."""
    if kind == "insert-return":  # a cutaway, then the same shot goes on where it would have been
        at = rng.randrange(20, max(21, outgoing.shape[0] - 40))
        reel.extend(outgoing[:at])
        reel.mark_cut()
        reel.extend(insert)
        reel.mark_cut()
        return outgoing[at + insert.shape[0] :]
    if kind in ("cut", "similar", "jump"):
        reel.extend(outgoing)
        reel.mark_cut()
        return incoming
    if kind == "insert":
        reel.extend(outgoing)
        reel.mark_cut()
        reel.extend(insert)
        reel.mark_cut()
        return incoming
    if kind == "dissolve":
        length = rng.choice((4, 8, 16, 24, 36, 48, 60))
        length = min(length, outgoing.shape[0] - 8, incoming.shape[0] - 8)
        reel.extend(outgoing[:-length])
        alpha = torch.linspace(0, 1, length + 2)[1:-1].view(-1, 1, 1, 1)
        start = reel.position
        reel.extend(_blend(outgoing[-length:], incoming[:length], alpha))
        middle = start + int(torch.nonzero(alpha.flatten() >= 0.5)[0])  # the incoming shot weighs half
        reel.truths.append({"type": "dissolve", "frame": middle, "length": length, "start": start})
        return incoming[length:]
    if kind == "wipe":
        length = rng.choice((6, 10, 16, 24, 30))
        length = min(length, outgoing.shape[0], incoming.shape[0])  # a short shot (only seen in training reels)
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
        reel.truths.append({"type": "wipe", "frame": middle, "length": length, "start": start})
        return incoming[length:]
    # fades through black or white: ramps of 4-12 frames, 1-3 blank frames
    ramp, blank = rng.choice((4, 6, 8, 12)), rng.choice((1, 2, 3))
    level = 0.0 if kind == "fade-black" else 1.0
    reel.extend(outgoing[:-ramp])
    down = torch.linspace(1, 0, ramp + 1)[:-1].view(-1, 1, 1, 1)
    reel.extend(_blend(torch.full_like(outgoing[-ramp:], level), outgoing[-ramp:], down))
    first_blank = reel.position
    reel.extend(torch.full((blank, *outgoing.shape[1:]), level))
    reel.truths.append({"type": "fade", "frame": (2 * first_blank + blank) // 2, "length": 2 * ramp + blank,
                        "start": first_blank - ramp})
    up = torch.linspace(0, 1, ramp + 1)[1:].view(-1, 1, 1, 1)
    reel.extend(_blend(torch.full_like(incoming[:ramp], level), incoming[:ramp], up))
    return incoming[ramp:]


def build_hard_reel(seed: int, size: tuple[int, int], footage: list[torch.Tensor],
                    pictures: list[tuple[str, torch.Tensor]], kinds: tuple[str, ...] = KINDS) -> Reel:
    """One reel: each join of ``kinds`` (every kind once by default; ``"insert-return"``: a
    cutaway, then the shot goes on) in a seeded order, and the traps inside its shots."""
    rng = random.Random(seed)
    kinds = list(kinds)
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
                # it replaces what a gradual join left of the incoming shot: a cut there
                reel.mark_cut()
                current = _whip(pictures[(number + 3) % len(pictures)][1], size, hold=24)
                reel.traps.append(reel.position + 24)
            else:
                current, at = _add_trap(current, trap, rng)
                reel.traps.append(reel.position + at)
        if kind == "insert-return" and current.shape[0] < 60:
            kind = "insert"  # too little of the shot left to come back to after a cutaway
        insert = photograph_shot(number + 7, rng.choice((2, 3, 4)))
        current = _join(reel, current, incoming, kind, rng, insert)
    reel.extend(current)
    return reel


def build_synthetic_reel(seed: int, size: tuple[int, int]) -> Reel:
    """One reel of textured shots (a third of them still): every synthetic join kind once, in a
    seeded order, and the synthetic traps inside the shots."""
    rng = random.Random(seed)
    kinds = list(SYNTHETIC_KINDS)
    rng.shuffle(kinds)
    traps = list(SYNTHETIC_TRAPS)
    rng.shuffle(traps)
    height, width = size
    textures = itertools.count(seed * 1000)

    def shot(frames: int) -> torch.Tensor:
        pan = (0, 0) if rng.random() < 0.35 else (rng.choice((-2, -1, 1, 2, 3)), rng.choice((-1, 0, 0, 1)))
        return textured_shot(next(textures), frames, height=height, width=width, pan=pan,
                             grain=rng.uniform(0.0, 0.03))

    reel = Reel()
    current = shot(rng.randrange(100, 160))
    for kind in kinds:
        frames = rng.randrange(100, 160)  # 40-100 left after the longest dissolve
        insert = shot(rng.choice((2, 3, 4)))
        if traps and current.shape[0] >= 40:
            trap = traps.pop()
            if trap == "whip":  # this shot is a whip pan between two held views
                reel.mark_cut()  # it replaces what a gradual join left of the incoming shot
                hold = rng.randrange(24, 40)
                current = textured_whip_pan(next(textures), hold=hold, height=height, width=width)
                reel.traps.append(reel.position + hold)
            else:
                current, at = _add_trap(current, trap, rng)
                reel.traps.append(reel.position + at)
        incoming = current if kind == "insert-return" else shot(frames)
        current = _join(reel, current, incoming, kind, rng, insert)
    reel.extend(current)
    return reel
