"""`python -m restoration restore`: output properties, progress bar, and every bad input -> one line, exit 2,
no partial output file."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
import torch

from restoration.cli import main
from restoration.errors import RestorationError
from restoration.io import probe, read_frames, write_video
from restoration.op_registry import register_op
from restoration.ops.opspec import OpSpec

FOOTAGE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "footage"


def cli_test_brighten(frames: torch.Tensor) -> torch.Tensor:
    return (frames + 0.1).clamp(0, 1)


def cli_test_fail_late(frames: torch.Tensor) -> torch.Tensor:
    # Fails on the second window, after the writer has already written frames.
    cli_test_fail_late.calls += 1
    if cli_test_fail_late.calls > 1:
        raise RestorationError("cli_test_fail_late: deliberate failure")
    return frames


cli_test_fail_late.calls = 0


class _Module(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, frames):
        return self.fn(frames)


for _name, _fn in [("cli_test_brighten", cli_test_brighten), ("cli_test_fail_late", cli_test_fail_late)]:
    with contextlib.suppress(ValueError):
        register_op(OpSpec(name=_name, function=_fn, module=_Module))


@pytest.fixture
def clip(tmp_path) -> Path:
    path = tmp_path / "in.mkv"
    frames = torch.rand(40, 1, 16, 24, generator=torch.Generator().manual_seed(0))
    write_video(path, frames, fps=18)
    return path


def _spec(tmp_path, spec) -> str:
    path = tmp_path / "spec.json"
    path.write_text(spec if isinstance(spec, str) else json.dumps(spec))
    return str(path)


def _assert_refused(capsys, out: Path, argv: list[str], message: str) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(out.stem)] == []  # no temporary left


def test_restore_keeps_count_size_and_fps_and_shows_progress(tmp_path, clip, capsys):
    out = tmp_path / "out.mkv"
    code = main(["restore", str(clip), str(out), "--pipeline", _spec(tmp_path, {"ops": [{"op": "cli_test_brighten"}]})])
    err = capsys.readouterr().err
    assert code == 0
    info, source = probe(out), probe(clip)
    assert (info.frame_count, info.width, info.height, info.channels) == (40, 24, 16, 1)
    assert info.fps == pytest.approx(source.fps)
    torch.testing.assert_close(read_frames(out), cli_test_brighten(read_frames(clip)), atol=1 / 255, rtol=0)
    assert "\r" in err and "40/40 frames" in err and "ETA" in err and "fps" in err


def test_film_preset_shows_analysis_then_restoration_progress(tmp_path, clip, capsys, monkeypatch):
    # The real analysis (with the CLI's progress callback); its recommendations are swapped for a
    # stand-in op so the restoring phase stays quick on this tiny noise clip.
    import restoration.analysis

    real_analyse = restoration.analysis.analyse
    analysed = []

    def analyse(source, **kwargs):
        report = real_analyse(source, **kwargs)
        analysed.append(kwargs)
        for shot in report["shots"]:
            shot["recommended_pipeline"] = [{"op": "cli_test_brighten"}]
        return report

    monkeypatch.setattr(restoration.analysis, "analyse", analyse)
    out = tmp_path / "out.mkv"
    assert main(["restore", str(clip), str(out)]) == 0
    err = capsys.readouterr().err
    assert len(analysed) == 1 and analysed[0]["progress"] is not None
    lines = err.splitlines()
    analysing = [i for i, line in enumerate(lines) if "analysing in.mkv 40/40 frames" in line]
    restoring = [i for i, line in enumerate(lines) if "restoring in.mkv 40/40 frames" in line]
    assert analysing and restoring and analysing[0] < restoring[0], err
    torch.testing.assert_close(read_frames(out), cli_test_brighten(read_frames(clip)), atol=1 / 255, rtol=0)


def test_quiet_prints_nothing(tmp_path, clip, capsys):
    out = tmp_path / "out.mov"
    assert main(["restore", str(clip), str(out), "--pipeline", _spec(tmp_path, {"ops": []}), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert probe(out).codec == "prores"


def test_unreadable_input(tmp_path, capsys):
    junk = tmp_path / "junk.mkv"
    junk.write_bytes(b"not a video" * 100)
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, {"ops": [{"op": "cli_test_brighten"}]})
    _assert_refused(capsys, out, ["restore", str(junk), str(out), "--pipeline", spec], "junk.mkv")


def test_missing_input(tmp_path, capsys):
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, {"ops": [{"op": "cli_test_brighten"}]})
    _assert_refused(capsys, out, ["restore", str(tmp_path / "nope.mkv"), str(out), "--pipeline", spec], "nope.mkv")


def test_truncated_input(tmp_path, clip, capsys):
    data = clip.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, {"ops": [{"op": "cli_test_brighten"}]})
    _assert_refused(capsys, out, ["restore", str(cut), str(out), "--pipeline", spec], "cut.mkv")


def test_unknown_op(tmp_path, clip, capsys):
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, {"ops": [{"op": "cli_test_brighten"}, {"op": "sharpen_everything"}]})
    _assert_refused(capsys, out, ["restore", str(clip), str(out), "--pipeline", spec], "ops[1].op: unknown op 'sharpen_everything'")


def test_bad_params(tmp_path, clip, capsys):
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, {"ops": [{"op": "ffmpeg", "params": {"chain": "vaseline"}}]})
    _assert_refused(capsys, out, ["restore", str(clip), str(out), "--pipeline", spec], "ops[0].params.chain:")


def test_bad_json(tmp_path, clip, capsys):
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, '{"ops": [{"op": "dust",}]}')
    _assert_refused(capsys, out, ["restore", str(clip), str(out), "--pipeline", spec], "invalid JSON at line 1")


def test_unknown_preset(tmp_path, clip, capsys):
    out = tmp_path / "out.mkv"
    _assert_refused(capsys, out, ["restore", str(clip), str(out), "--preset", "magic"], "unknown preset 'magic'")


def test_unwritable_output(tmp_path, clip, capsys):
    out = tmp_path / "no" / "such" / "folder" / "out.mkv"
    code = main(["restore", str(clip), str(out), "--pipeline", _spec(tmp_path, {"ops": []})])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "does not exist" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "no").exists()


def test_output_is_a_folder(tmp_path, clip, capsys):
    folder = tmp_path / "taken.mkv"
    folder.mkdir()
    code = main(["restore", str(clip), str(folder), "--pipeline", _spec(tmp_path, {"ops": []})])
    assert code == 2 and "is a folder" in capsys.readouterr().err
    assert list(folder.iterdir()) == []


def test_bad_codec(tmp_path, clip, capsys):
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, {"ops": []})
    _assert_refused(capsys, out, ["restore", str(clip), str(out), "--pipeline", spec, "--codec", "divx"], "unknown codec 'divx'")


def test_cuda_without_cuda(tmp_path, clip, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the refusal is for machines without")
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, {"ops": []})
    _assert_refused(capsys, out, ["restore", str(clip), str(out), "--pipeline", spec, "--device", "cuda"], "CUDA")


def test_failure_midway_leaves_no_partial_file(tmp_path, clip, capsys):
    cli_test_fail_late.calls = 0
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, {"ops": [{"op": "cli_test_fail_late"}]})
    _assert_refused(capsys, out, ["restore", str(clip), str(out), "--pipeline", spec, "--quiet"], "deliberate failure")
    assert cli_test_fail_late.calls == 2


def test_default_preset_is_film_and_keeps_count_size_and_fps(tmp_path, capsys):
    # Real analysis and real ops on a tiny clip: grain and a steady picture, so something is recommended.
    from restoration.degrade import clean_sources, degrade, synthetic_clip

    name, image = clean_sources()[0]
    clean = synthetic_clip(image, frames=6, size=(48, 64), seed=0, motion="pan")
    source = tmp_path / "damaged.mkv"
    write_video(source, degrade(clean, seed=3, strength="medium").damaged, fps=24)
    out = tmp_path / "restored.mkv"
    assert main(["restore", str(source), str(out), "--quiet"]) == 0
    info = probe(out)
    assert (info.frame_count, info.width, info.height, info.channels) == (6, 64, 48, clean.shape[1])
    assert info.fps == pytest.approx(24)


@pytest.mark.parametrize("size", ["lots", "4 parsecs", "12", "0x10"])
def test_bad_max_memory(tmp_path, clip, capsys, size):
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, {"ops": []})
    _assert_refused(capsys, out, ["restore", str(clip), str(out), "--pipeline", spec, "--max-memory", size], "--max-memory")


def test_max_memory_accepted(tmp_path, clip):
    out = tmp_path / "out.mkv"
    spec = _spec(tmp_path, {"ops": [{"op": "cli_test_brighten"}]})
    assert main(["restore", str(clip), str(out), "--pipeline", spec, "--max-memory", "256MiB", "--quiet"]) == 0
    assert probe(out).frame_count == 40
