"""restoration.degrade: clean sources, synthetic camera motion, the film-damage model, its CLI."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import ndimage

from restoration import degrade as dg
from restoration import io
from restoration.cli import main
from restoration.errors import RestorationError

# Every defect switched off; tests switch on the one they look at.
NOTHING = {
    "blur_sigma": 0.0, "fade_amount": 0.0, "fade_desaturation": 0.0, "weave_px": 0.0,
    "flicker_global": 0.0, "flicker_spatial": 0.0, "grain_std": 0.0, "grain_size_px": 1.0,
    "dust_per_frame": 0.0, "dust_size_px": 2.0, "bright_dust_fraction": 0.3, "hair_probability": 0.0,
    "scratches_per_block": 0.0, "texture_scratches_per_block": 0.0, "scratch_opacity": 0.5,
    "jpeg_quality": 90, "h264_crf": 20, "fade_cast": [1.0, 0.85, 0.8], "grain_colour_correlation": 0.7,
    "compression": "none",
}


def only(**overrides) -> dict:
    return {**NOTHING, **overrides}


def textured(frames: int = 6, channels: int = 1, height: int = 72, width: int = 96, seed: int = 0) -> torch.Tensor:
    """A smooth but structured clip in [0.15, 0.85] (no photo needed)."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, channels, height // 8, width // 8, generator=generator)
    image = torch.nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    return (0.15 + 0.7 * image.clamp(0, 1)).expand(frames, -1, -1, -1).contiguous()


# -- clean sources and synthetic motion ------------------------------------------------------


def test_clean_sources_are_named_photographs_in_range():
    sources = dict(dg.clean_sources())
    assert {"camera", "astronaut", "coffee"} <= set(sources)
    assert sources["camera"].shape[0] == 1 and sources["astronaut"].shape[0] == 3
    for name, image in sources.items():
        assert image.dtype == torch.float32 and image.dim() == 3, name
        assert float(image.min()) >= 0 and float(image.max()) <= 1, name
        assert min(image.shape[1:]) >= 150, name


@pytest.mark.parametrize("motion", dg.MOTIONS)
def test_synthetic_clip_moves_smoothly_and_stays_inside_the_image(monkeypatch, motion):
    image = dict(dg.clean_sources())["coffee"]
    sampled = []
    real_grid_sample = torch.nn.functional.grid_sample

    def recording_grid_sample(source, grid, **kwargs):
        sampled.append((source.shape[-2:], grid.clone()))
        return real_grid_sample(source, grid, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "grid_sample", recording_grid_sample)
    clip = dg.synthetic_clip(image, frames=12, size=(48, 64), seed=4, motion=motion)
    assert clip.shape == (12, 3, 48, 64) and clip.dtype == torch.float32
    assert float(clip.min()) >= 0 and float(clip.max()) <= 1

    # Every sample point lies at least one source pixel inside the (resampled) photo.
    for (height, width), grid in sampled:
        x = (grid[..., 0] + 1) * width / 2 - 0.5
        y = (grid[..., 1] + 1) * height / 2 - 0.5
        assert float(x.min()) >= 1 and float(x.max()) <= width - 2
        assert float(y.min()) >= 1 and float(y.max()) <= height - 2

    steps = (clip[1:] - clip[:-1]).abs().mean(dim=(1, 2, 3))
    assert float(steps.max()) > 1e-3  # the camera moves
    assert float(steps.max()) < 0.08  # ... smoothly: neighbouring frames stay alike


def test_synthetic_clip_is_seeded_and_keeps_grey_grey():
    camera = dict(dg.clean_sources())["camera"]
    first = dg.synthetic_clip(camera, frames=5, size=(40, 56), seed=1, motion="mixed")
    again = dg.synthetic_clip(camera, frames=5, size=(40, 56), seed=1, motion="mixed")
    other = dg.synthetic_clip(camera, frames=5, size=(40, 56), seed=2, motion="mixed")
    assert first.shape == (5, 1, 40, 56)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_synthetic_clip_pan_is_sub_pixel():
    # A slow pan over a smooth ramp moves by fractions of a pixel per frame: neighbouring frames
    # differ by less than any whole-pixel shift of the ramp would make them.
    y, x = torch.meshgrid(torch.linspace(0, 0.5, 300), torch.linspace(0, 0.5, 400), indexing="ij")
    ramp = (x + y)[None]
    clip = dg.synthetic_clip(ramp, frames=60, size=(60, 80), seed=3, motion="pan")
    work_width = 400 / (0.75 * 5)  # the photo is first resampled so the window is 75 % of it
    one_pixel_change = 0.5 / work_width  # the smallest change a whole-pixel shift makes
    steps = (clip[1:] - clip[:-1]).abs().mean(dim=(1, 2, 3))
    assert float(steps.min()) > 0 and float(steps.max()) < one_pixel_change
    assert float(steps[:3].mean()) < float(steps[28:31].mean())  # eases in


def test_synthetic_clip_rejects_bad_arguments():
    image = torch.rand(3, 50, 50)
    with pytest.raises(RestorationError, match="motion"):
        dg.synthetic_clip(image, frames=3, size=(20, 20), seed=0, motion="dolly")
    with pytest.raises(RestorationError, match="frames"):
        dg.synthetic_clip(image, frames=0, size=(20, 20), seed=0)
    with pytest.raises(RestorationError, match="image"):
        dg.synthetic_clip(torch.rand(2, 50, 50), frames=3, size=(20, 20), seed=0)


# -- the damage model ------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
def test_degrade_shapes_ranges_and_masks(channels):
    clean = textured(frames=4, channels=channels)
    damage = dg.degrade(clean, seed=11, strength="heavy")
    assert damage.damaged.shape == clean.shape and damage.damaged.dtype == torch.float32
    assert torch.equal(damage.clean, clean)
    assert float(damage.damaged.min()) >= 0 and float(damage.damaged.max()) <= 1
    assert set(damage.masks) >= {"dust", "scratch", "all"}
    for mask in damage.masks.values():
        assert mask.shape == (4, 1, 72, 96)
        assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(damage.masks["all"], torch.maximum(damage.masks["dust"], damage.masks["scratch"]))
    assert damage.params["strength"] == "heavy" and damage.params["seed"] == 11


def test_same_seed_same_damage_other_seed_other_damage():
    clean = textured(frames=3, channels=3, height=48, width=64)
    params = dg.sample_params(5, "heavy")
    params["compression"] = "jpeg+h264"  # both codecs must be reproducible too
    first = dg.degrade(clean, seed=5, params=params)
    again = dg.degrade(clean, seed=5, params=params)
    assert torch.equal(first.damaged, again.damaged)
    assert all(torch.equal(first.masks[k], again.masks[k]) for k in first.masks)
    assert dg.sample_params(5, "heavy") == dg.sample_params(5, "heavy")
    assert dg.sample_params(5, "heavy") != dg.sample_params(6, "heavy")
    other = dg.degrade(clean, seed=6, strength="heavy")
    assert not torch.equal(first.damaged, other.damaged)


@pytest.mark.parametrize("compression", ["none", "jpeg", "h264"])
def test_chunked_damage_equals_whole_clip_damage(compression):
    clean = textured(frames=34, channels=1, height=32, width=48)
    params = {**dg.sample_params(9, "heavy"), "compression": compression}
    whole = dg.degrade(clean, seed=9, params=params)
    pieces = [dg.degrade(clean[i:i + 16], seed=9, params=params, first_frame=i) for i in range(0, 34, 16)]
    assert torch.equal(torch.cat([p.damaged for p in pieces]), whole.damaged)
    assert torch.equal(torch.cat([p.masks["all"] for p in pieces]), whole.masks["all"])


def test_nothing_switched_on_changes_nothing():
    clean = textured(frames=3, channels=3)
    damage = dg.degrade(clean, seed=0, params=only())
    assert torch.allclose(damage.damaged, clean, atol=1e-5)
    assert float(damage.masks["all"].sum()) == 0


def test_heavy_has_more_blotch_area_than_light():
    clean = torch.full((4, 1, 96, 128), 0.5)
    area = {strength: sum(float(dg.degrade(clean, seed=s, strength=strength).masks["dust"].mean()) for s in range(2))
            for strength in ("light", "heavy")}
    assert area["heavy"] > 5 * area["light"] > 0


def test_dust_is_dark_and_bright_blotches_of_skewed_sizes_living_one_frame():
    clean = torch.full((6, 1, 120, 160), 0.5)
    damage = dg.degrade(clean, seed=5, params=only(dust_per_frame=30.0, dust_size_px=8.0, bright_dust_fraction=0.4))
    dust = damage.masks["dust"][:, 0]
    areas = []
    for frame_mask in dust.numpy():
        labels, count = ndimage.label(frame_mask)
        areas += ndimage.sum(frame_mask, labels, range(1, count + 1)).tolist()
    areas = torch.tensor(areas)
    assert len(areas) > 60
    assert float(areas.mean()) > 1.3 * float(areas.median())  # many specks, a few big blotches
    assert float(areas.max()) > 6 * float(areas.median())
    hit = damage.damaged[damage.masks["dust"].bool()]
    assert float((hit < 0.3).float().mean()) > 0.3 and float((hit > 0.7).float().mean()) > 0.1
    overlap = (dust[1:] * dust[:-1]).sum() / dust[1:].sum()
    assert float(overlap) < 0.15  # each frame has its own dust


def test_hairs_are_thin_dark_curves():
    clean = torch.full((12, 1, 180, 240), 0.6)
    damage = dg.degrade(clean, seed=2, params=only(hair_probability=1.0))
    longest = 0
    for frame_mask in damage.masks["dust"][:, 0].numpy():
        labels, count = ndimage.label(frame_mask)
        assert count >= 1
        for index, box in enumerate(ndimage.find_objects(labels), start=1):
            height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
            longest = max(longest, height, width)
            if max(height, width) >= 8:  # a line, not a blob
                assert (labels[box] == index).sum() < 0.5 * height * width or min(height, width) <= 3
    assert longest >= 20
    assert float((damage.damaged[damage.masks["dust"].bool()] < 0.6).float().mean()) > 0.6  # mostly dark


def test_grain_is_strongest_in_mid_tones_and_spatially_correlated():
    bands = torch.tensor([0.04, 0.5, 0.96]).repeat_interleave(64)
    clean = bands.view(1, 1, 1, -1).expand(4, 1, 96, 192).contiguous()
    damage = dg.degrade(clean, seed=2, params=only(grain_std=0.05, grain_size_px=4.0))  # ~1 px at this size
    grain = damage.damaged - clean
    inner = grain[..., 8:-8]  # away from the band edges
    dark, mid, bright = (inner[..., i * 64:(i + 1) * 64 - 16].std().item() for i in range(3))
    assert mid > 1.8 * dark and mid > 1.8 * bright
    assert 0.03 < mid < 0.08
    mid_band = grain[..., 72:120]
    neighbour_correlation = (mid_band[..., 1:] * mid_band[..., :-1]).mean() / mid_band.var()
    assert neighbour_correlation > 0.4  # white noise would give about 0


def test_masks_cover_where_damage_is_strong():
    clean = textured(frames=8, channels=1, height=96, width=128)
    params = {**dg.sample_params(4, "medium"), "compression": "none", "dust_per_frame": 12.0, "scratches_per_block": 2.0}
    damage = dg.degrade(clean, seed=4, params=params)
    difference = (damage.damaged - clean).abs()
    strong = difference > 0.3
    mask = damage.masks["all"].bool()
    assert int(strong.sum()) > 50
    assert float((strong & mask).sum() / strong.sum()) > 0.9
    assert float(difference[mask].mean()) > 0.12  # masked pixels really were hit


def test_line_scratches_persist_and_drift_slowly():
    clean = torch.full((24, 1, 96, 160), 0.45)
    params = only(scratches_per_block=3.0, scratch_opacity=0.8)
    scratch = dg.degrade(clean, seed=8, params=params).masks["scratch"][:, 0]
    columns = scratch.sum(dim=1) > 0.25 * 96  # (T, W): columns crossed by a long scratch
    assert int(columns.any(dim=1).sum()) >= 12
    kept = []
    for n in range(23):
        here = columns[n].nonzero().flatten()
        if len(here) == 0:
            continue
        there = columns[n + 1].nonzero().flatten()
        near = (here.view(-1, 1) - there.view(1, -1)).abs().min(dim=1).values <= 2 if len(there) else torch.zeros(len(here), dtype=torch.bool)
        kept.append(float(near.float().mean()))
    assert sum(kept) / len(kept) > 0.7  # most scratch columns are still there, within 2 px, next frame


def test_flicker_changes_frame_means_and_brightness_field():
    clean = torch.full((16, 1, 48, 64), 0.5)
    steady = dg.degrade(clean, seed=1, params=only())
    flicker = dg.degrade(clean, seed=1, params=only(flicker_global=0.08, flicker_spatial=0.06))
    assert float(steady.damaged.mean(dim=(1, 2, 3)).std()) < 1e-6
    assert float(flicker.damaged.mean(dim=(1, 2, 3)).std()) > 0.01
    tilt = flicker.damaged[..., :32].mean(dim=(1, 2, 3)) - flicker.damaged[..., 32:].mean(dim=(1, 2, 3))
    assert float(tilt.std()) > 0.003  # the spatial field changes from frame to frame


def test_gate_weave_translates_the_picture_a_little():
    clean = textured(frames=10, channels=1, height=64, width=96)
    woven = dg.degrade(clean, seed=3, params=only(weave_px=12.0)).damaged  # x 64/360 for this small frame
    assert not torch.allclose(woven, clean, atol=1e-3)
    residual = []
    for frame, reference in zip(woven, clean, strict=True):
        errors = [float((frame[:, 8:-8, 8:-8] - torch.roll(reference, (dy, dx), dims=(1, 2))[:, 8:-8, 8:-8]).abs().mean())
                  for dy in range(-4, 5) for dx in range(-4, 5)]
        residual.append(min(errors) / max(errors[40], 1e-6))  # errors[40] is the zero shift
    assert sum(r < 1.0 for r in residual) >= 3  # some non-zero shift explains frames better


def test_colour_fading_desaturates_and_casts():
    clean = textured(frames=2, channels=3)
    faded = dg.degrade(clean, seed=0, params=only(fade_amount=0.5, fade_desaturation=0.5, fade_cast=[1.0, 0.8, 0.7])).damaged
    saturation = lambda x: float((x.max(dim=1).values - x.min(dim=1).values).mean())  # noqa: E731
    assert saturation(faded) < 0.8 * saturation(clean)
    assert float(faded[:, 0].mean() - faded[:, 2].mean()) > float(clean[:, 0].mean() - clean[:, 2].mean()) + 0.02
    grey = textured(frames=2, channels=1)
    assert torch.allclose(dg.degrade(grey, seed=0, params=only(fade_amount=0.5)).damaged, grey, atol=1e-5)


def test_compression_works_on_odd_sizes_and_leaves_artefacts():
    clean = textured(frames=4, channels=1, height=33, width=47)
    for kind in ("jpeg", "h264"):
        damaged = dg.degrade(clean, seed=0, params=only(compression=kind, jpeg_quality=20, h264_crf=40)).damaged
        assert damaged.shape == clean.shape
        assert 0.002 < float((damaged - clean).abs().mean()) < 0.1


def test_degrade_rejects_bad_input():
    with pytest.raises(RestorationError, match="strength"):
        dg.degrade(textured(2), seed=0, strength="apocalyptic")
    with pytest.raises(RestorationError, match=r"\(T, C, H, W\)"):
        dg.degrade(torch.rand(3, 2, 16, 16), seed=0)
    with pytest.raises(RestorationError, match="float"):
        dg.degrade(torch.zeros(2, 1, 16, 16, dtype=torch.uint8), seed=0)
    with pytest.raises(RestorationError, match="params lack"):
        dg.degrade(textured(2), seed=0, params={"seed": 0})


# -- CLI --------------------------------------------------------------------------------------


@pytest.fixture
def small_clip(tmp_path):
    path = tmp_path / "clean.mkv"
    io.write_video(path, textured(frames=34, channels=1, height=48, width=64), fps=18)  # two CLI chunks
    return path


def test_cli_degrade_writes_a_matching_clip_and_masks(tmp_path, small_clip, capsys):
    out, masks = tmp_path / "damaged.mkv", tmp_path / "masks.mkv"
    assert main(["degrade", str(small_clip), str(out), "--seed", "7", "--strength", "heavy", "--masks", str(masks)]) == 0
    assert "34 frames" in capsys.readouterr().out
    source, result = io.probe(small_clip), io.probe(out)
    assert (result.width, result.height, result.frame_count, result.fps, result.channels) == (
        source.width, source.height, source.frame_count, source.fps, source.channels)
    # Chunked by the CLI (32 frames), equal to degrading the whole clip at once.
    expected = dg.degrade(io.read_frames(small_clip), seed=7, strength="heavy")
    assert float((io.read_frames(out) - expected.damaged).abs().max()) <= 0.5 / 255 + 1e-6
    written_masks = io.read_frames(masks)
    assert written_masks.shape == (34, 3, 48, 64)
    assert torch.equal(written_masks[:, 2:3], expected.masks["all"])
    assert torch.equal(written_masks[:, 0:1], expected.masks["dust"])



def test_cli_degrade_bad_input_exits_2_with_one_line_and_no_output(tmp_path, small_clip, capsys):
    not_video = tmp_path / "notes.mkv"
    not_video.write_text("hello\n")
    cases = [
        [str(tmp_path / "missing.mkv"), str(tmp_path / "out.mkv")],
        [str(not_video), str(tmp_path / "out.mkv")],
        [str(small_clip), str(tmp_path / "no" / "such" / "out.mkv")],
        [str(small_clip), str(small_clip)],
        [str(small_clip), str(tmp_path / "out.avi")],
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    for arguments in cases:
        assert main(["degrade", *arguments, "--seed", "1"]) == 2
        captured = capsys.readouterr()
        assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, arguments
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_cli_degrade_odd_size_to_mp4_fails_cleanly(tmp_path, capsys):
    odd = tmp_path / "odd.mkv"
    io.write_video(odd, textured(frames=3, channels=1, height=33, width=48), fps=24)
    assert main(["degrade", str(odd), str(tmp_path / "out.mp4"), "--seed", "1", "--masks", str(tmp_path / "m.mkv")]) == 2
    assert "even" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.mkv"]


def test_damage_keeps_working_on_the_requested_device():
    clean = textured(frames=2)
    damage = dg.degrade(clean, seed=0, strength="light", device="cpu")
    assert damage.damaged.device.type == "cpu" and math.isfinite(float(damage.damaged.sum()))


def test_degrade_never_changes_the_callers_clip():
    from restoration.degrade import degrade, sample_params

    clean = torch.full((4, 1, 32, 48), 0.5)
    params = sample_params(0, "heavy")
    # Switch off every whole-frame effect: only the in-place defects remain.
    for key in list(params):
        whole_frame = key in {"blur_sigma", "fade_amount", "fade_desaturation"} or key.startswith(("grain", "flicker", "weave"))
        if whole_frame and isinstance(params[key], (int, float)) and not isinstance(params[key], bool):
            params[key] = 0 * params[key]
    before = clean.clone()
    degrade(clean, seed=0, strength="heavy", params=params)
    assert torch.equal(clean, before)
