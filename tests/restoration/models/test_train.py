"""Training: a step lowers the loss, runs are deterministic by seed, devices are checked."""

from __future__ import annotations

import argparse

import pytest
import torch

from restoration.errors import ModelError
from restoration.models import data as model_data
from restoration.models.nets import RestoreConfig, TemporalRestoreNet
from restoration.models.train import _loss, cli_train, resolve_device, train_model

SMALL = {"pool_windows": 1, "crop": 24, "clip_size": (48, 48)}


def test_restore_stream_gives_aligned_windows_targets_and_masks():
    batch = next(model_data.restore_stream(5, batch_size=3, **SMALL))
    assert batch.window.shape == (3, 5, 24, 24)
    assert batch.clean.shape == batch.mask.shape == (3, 1, 24, 24)
    assert set(torch.unique(batch.mask).tolist()) <= {0.0, 1.0}
    assert float(batch.window.min()) >= 0 and float(batch.window.max()) <= 1


def test_held_out_photos_never_reach_training():
    train, valid = model_data.split_sources()
    assert {name for name, _ in valid} == set(model_data.HELD_OUT)
    assert not {name for name, _ in train} & set(model_data.HELD_OUT)


def test_training_steps_reduce_the_loss_on_a_tiny_batch():
    torch.manual_seed(0)
    batch = next(model_data.restore_stream(1, batch_size=2, **SMALL))
    net = TemporalRestoreNet(RestoreConfig())
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-3)
    with torch.no_grad():
        before = float(_loss("restore", net, batch.window, batch.clean, batch.mask))
    for _ in range(3):
        loss = _loss("restore", net, batch.window, batch.clean, batch.mask)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        after = float(_loss("restore", net, batch.window, batch.clean, batch.mask))
    assert after < before


@pytest.mark.parametrize("task, options", [("restore", SMALL), ("sr", {"pool_frames": 2, "crop": 16, "clip_size": (64, 64)})])
def test_training_is_deterministic_by_seed(task, options):
    def run(seed):
        result = train_model(task, steps=2, seed=seed, batch_size=2, validate=False, data_options=options)
        return result.model.state_dict()

    first, again, other = run(3), run(3), run(4)
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert any(not torch.equal(first[name], other[name]) for name in first)


def test_fade_option_keeps_the_colour_fading_of_the_training_data():
    from restoration.degrade import clean_sources

    name, image = next(s for s in clean_sources() if s[1].shape[0] == 3 and s[0] not in model_data.HELD_OUT)
    plain = model_data.restore_windows(image, 11, strength="heavy", size=(48, 48), align=False)
    faded = model_data.restore_windows(image, 11, strength="heavy", size=(48, 48), align=False, fade=True)
    assert torch.equal(plain[1], faded[1])  # the same clean target
    assert not torch.equal(plain[0], faded[0])  # heavy fading lifts blacks and lowers contrast


def test_training_can_start_from_a_weights_file(tmp_path):
    from restoration.models.nets import save_checkpoint

    start = train_model("restore", steps=1, seed=0, batch_size=2, validate=False, data_options=SMALL).model
    save_checkpoint(tmp_path / "start.pt", "restore", start)
    zero_steps = train_model("restore", steps=0, seed=5, batch_size=2, validate=False, data_options=SMALL,
                             init=tmp_path / "start.pt").model
    saved = start.state_dict()
    assert all(torch.equal(saved[k].half().float(), v) for k, v in zero_steps.state_dict().items())


def test_a_fine_tune_follows_its_own_peak_learning_rate():
    result = train_model("restore", steps=3, seed=0, batch_size=2, validate=False, data_options=SMALL, log_every=1,
                         learning_rate=1e-4)
    assert max(row["lr"] for row in result.log) == pytest.approx(1e-4)
    with pytest.raises(ModelError, match="learning rate"):
        train_model("restore", steps=1, seed=0, batch_size=2, validate=False, data_options=SMALL, learning_rate=0.0)


def test_cuda_device_without_cuda_is_one_clear_error():
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
        return
    with pytest.raises(ModelError, match="no CUDA GPU") as error:
        resolve_device("cuda")
    assert "\n" not in str(error.value)
    args = argparse.Namespace(task="restore", minutes=1.0, device="cuda", seed=0, out=None)
    with pytest.raises(ModelError, match="no CUDA GPU"):
        cli_train(args)
    with pytest.raises(ModelError, match="unsupported device"):
        resolve_device("meta")


def test_a_larger_net_trains_in_bfloat16_deterministically_and_records_its_sizes():
    def run(seed):
        return train_model("restore", steps=2, seed=seed, batch_size=2, validate=False, data_options=SMALL,
                           widths=(8, 12, 16), bfloat16=True).model

    first, again = run(3), run(3)
    assert first.config.widths == (8, 12, 16)
    assert first.head.out_channels == 8 and first.mid.conv1.out_channels == 16
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values(), strict=True))
    assert all(p.dtype == torch.float32 for p in first.parameters())  # weights stay float32
    untrained = TemporalRestoreNet(RestoreConfig(widths=(8, 12, 16)))
    assert not torch.equal(first.tail.weight, untrained.tail.weight)  # the steps did change it
    with pytest.raises(ModelError, match="widths"):
        train_model("sr", steps=1, seed=0, validate=False, widths=(8, 8, 8))


def test_sr_trains_at_x4_on_x4_pairs_and_factor_is_for_sr_only():
    options = {"pool_frames": 2, "crop": 8, "clip_size": (64, 64)}
    result = train_model("sr", steps=2, seed=0, batch_size=2, validate=False, data_options=options, factor=4)
    assert result.model.config.factor == 4
    with torch.no_grad():
        assert result.model(torch.rand(1, 1, 8, 12)).shape == (1, 1, 32, 48)
    with pytest.raises(ModelError, match="--factor is 2 or 4, for --task sr only"):
        train_model("restore", steps=1, seed=0, validate=False, factor=4)
    with pytest.raises(ModelError, match="--factor is 2 or 4"):
        train_model("sr", steps=1, seed=0, validate=False, factor=3)


def test_bf16_on_a_cpu_that_only_emulates_it_says_so(tmp_path, monkeypatch, capsys):
    from restoration.models import learned_ops

    monkeypatch.setattr(learned_ops, "_native_bfloat16_cpu", lambda: False)
    args = argparse.Namespace(task="sr", steps=1, minutes=None, device="cpu", seed=0, out=str(tmp_path / "sr.pt"),
                              bf16=True, factor=None)
    assert cli_train(args) == 0
    assert "--bf16: this CPU has no native bfloat16" in capsys.readouterr().err
    assert (tmp_path / "sr.pt").is_file()


def test_fallback_training_windows_are_the_windows_learned_restore_shows_the_net(monkeypatch):
    # With --fallback-windows the net learns on the windows it meets: aligned with the op's flows,
    # the centre frame standing in where a neighbour fails its checks (heavy damage: much of the picture).
    from restoration.degrade import clean_sources
    from restoration.models.learned_ops import restore_frames

    name, image = next(s for s in clean_sources() if s[1].shape[0] == 1 and s[0] not in model_data.HELD_OUT)
    trained_on = model_data.restore_windows(image, 3, strength="heavy", size=(64, 64), fallback=True)[0]
    damaged = model_data.restore_windows(image, 3, strength="heavy", size=(64, 64), align=False)[0]
    shown = []
    fuse = TemporalRestoreNet.fuse
    monkeypatch.setattr(TemporalRestoreNet, "fuse", lambda net, window: shown.append(window) or fuse(net, window))
    restore_frames(damaged[0][:, None])  # the clip of 5 grey frames: frame 2's window is the whole clip
    assert len(shown) == 5
    fell_back = (shown[2][:, [0, 1, 3, 4]] == shown[2][:, 2:3]).float().mean()
    assert fell_back > 0.01  # the fallback is in play on this window
    # (the 5 frames, then the fell-back maps where the committed net reads them)
    torch.testing.assert_close(trained_on[:, :shown[2].shape[1]], shown[2], atol=1e-5, rtol=0)


def test_fell_back_maps_are_one_exactly_where_the_centre_stands_in(monkeypatch):
    # The training window carries, after its 5 frames, each neighbour's fell-back map; the op hands
    # the same maps to a net that reads them.
    from restoration.degrade import clean_sources
    from restoration.models import learned_ops
    from restoration.models.nets import load_checkpoint

    name, image = next(s for s in clean_sources() if s[1].shape[0] == 1 and s[0] not in model_data.HELD_OUT)
    trained_on = model_data.restore_windows(image, 3, strength="heavy", size=(64, 64), fallback=True)[0]
    assert trained_on.shape == (1, 9, 64, 64)
    neighbours, centre, maps = trained_on[:, [0, 1, 3, 4]], trained_on[:, 2:3], trained_on[:, 5:]
    assert ((maps >= 0) & (maps <= 1)).all()
    full = maps == 1
    assert 0.01 < full.float().mean() < 0.99
    # (to float32 rounding: a confidence under 6e-8 also reads as a map of 1)
    torch.testing.assert_close(neighbours[full], centre.expand_as(neighbours)[full], atol=1e-6, rtol=0)
    # Elsewhere the neighbour's own pixels are in it (the map is the centre's share): almost never the centre's value.
    kept = maps < 0.999
    assert kept.float().mean() > 0.3
    assert (neighbours[kept] == centre.expand_as(neighbours)[kept]).float().mean() < 0.01

    damaged = model_data.restore_windows(image, 3, strength="heavy", size=(64, 64), align=False)[0]
    committed = load_checkpoint(learned_ops.WEIGHTS["restore"], "restore")
    with_maps = committed.with_fallback_maps().eval()
    monkeypatch.setattr(learned_ops, "load_model", lambda task, weights, device: with_maps)
    shown = []
    fuse = TemporalRestoreNet.fuse
    monkeypatch.setattr(TemporalRestoreNet, "fuse", lambda net, window: shown.append(window) or fuse(net, window))
    restored = learned_ops.restore_frames(damaged[0][:, None])[0]
    torch.testing.assert_close(trained_on, shown[2], atol=1e-5, rtol=0)
    monkeypatch.setattr(learned_ops, "load_model", lambda task, weights, device: committed)
    assert torch.equal(restored, learned_ops.restore_frames(damaged[0][:, None])[0])  # zero weights: same output


def test_fallback_maps_need_fallback_windows():
    with pytest.raises(ModelError, match="--fallback-windows"):
        train_model("restore", steps=1, validate=False, data_options={**SMALL, "fallback_maps": True})


def test_default_training_windows_keep_the_committed_weights_recipe():
    # run 5 (run 12's starting point) was trained on windows aligned by one coarse flow per neighbour, with no
    # fallback: the default recipe must still make those windows, so its command repeats it.
    from restoration.degrade import clean_sources
    from restoration.models.nets import align_window

    name, image = next(s for s in clean_sources() if s[1].shape[0] == 1 and s[0] not in model_data.HELD_OUT)
    damaged = model_data.restore_windows(image, 3, strength="heavy", size=(64, 64), align=False)[0]
    default = model_data.restore_windows(image, 3, strength="heavy", size=(64, 64))[0]
    assert torch.equal(default, align_window(damaged, 2))
    fallback = model_data.restore_windows(image, 3, strength="heavy", size=(64, 64), fallback=True)[0]
    assert not torch.equal(default, fallback)


def test_fallback_windows_apply_to_the_restore_task_only(tmp_path):
    args = argparse.Namespace(task="sr", steps=1, minutes=None, seed=0, device="cpu", out=str(tmp_path / "sr.pt"),
                              fallback_windows=True)
    with pytest.raises(ModelError, match="--fallback-windows"):
        cli_train(args)


def test_a_net_trained_with_fallback_maps_reads_them():
    result = train_model("restore", steps=1, validate=False,
                         data_options={**SMALL, "fallback": True, "fallback_maps": True})
    assert result.model.config.fallback_maps is True
    assert result.model.head.weight[:, 36:].abs().sum() > 0  # the maps' weights moved off zero


def test_moving_cutouts_cross_the_training_clip():
    # Things moving inside the picture: squares of another photograph on straight paths, a third
    # of the clip's side, moving between frames (not the camera's move).
    import numpy as np

    clip = torch.zeros(6, 1, 60, 90)
    photo = torch.ones(3, 80, 80)
    moved = model_data._with_cutouts(clip, photo, np.random.default_rng(4))
    covered = moved[:, 0] > 0.5
    side = 60 // 3
    areas = covered.flatten(1).sum(1)
    assert int(areas.max()) >= side * side // 2  # at least one square in view
    assert int(areas.max()) <= 2 * (side + 2) ** 2
    assert moved.shape == clip.shape and ((moved >= 0) & (moved <= 1)).all()
    seen = [i for i in range(6) if areas[i] > 0]
    first, last = seen[0], seen[-1]
    assert not torch.equal(covered[first], covered[last])  # it moves


def test_the_stream_adds_moving_cutouts_to_the_share_asked_and_nothing_else():
    plain = next(model_data.restore_stream(5, batch_size=3, **SMALL))
    unchanged = next(model_data.restore_stream(5, batch_size=3, moving=0.0, **SMALL))
    assert torch.equal(plain.window, unchanged.window)  # the default stream is the committed recipe's
    moving = next(model_data.restore_stream(5, batch_size=3, moving=1.0, **SMALL))
    assert moving.window.shape == plain.window.shape
    assert not torch.equal(plain.clean, moving.clean)


@pytest.mark.parametrize(("task", "share", "message"), [("restore", 1.5, "from 0 to 1"), ("restore", -0.1, "from 0 to 1"),
                                                        ("sr", 0.5, "--moving-cutouts")])
def test_moving_cutouts_option_is_checked(tmp_path, task, share, message):
    args = argparse.Namespace(task=task, steps=1, minutes=None, seed=0, device="cpu", out=str(tmp_path / "x.pt"),
                              moving_cutouts=share)
    with pytest.raises(ModelError, match=message):
        cli_train(args)
    assert not list(tmp_path.iterdir())
