import json

import pytest
import torch

from restoration.analysis import analyse
from restoration.cli import main


@pytest.fixture
def two_shot_clip(tmp_path, make_shot):
    from restoration.io import write_video

    frames = torch.cat([make_shot(1, 20, pan=(1, 0)), make_shot(2, 16, pan=(0, 1))])
    path = tmp_path / "two_shots.mkv"
    write_video(path, frames, fps=24)
    return path


def test_json_lists_shots_with_metrics_and_pipeline(two_shot_clip, capsys):
    assert main(["analyse", str(two_shot_clip), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    shots = report["shots"]
    assert [(s["start_frame"], s["end_frame"]) for s in shots] == [(0, 19), (20, 35)]
    assert [s["transition_in"] for s in shots] == [None, {"type": "cut", "start_frame": 20, "end_frame": 20}]
    for shot in shots:
        assert {"noise", "grain", "dust", "scratch", "flicker", "weave", "blockiness", "sharpness", "motion",
                "is_grey", "colour_cast", "saturation"} <= set(shot["metrics"])
        assert shot["metrics"]["is_grey"] is True
        assert isinstance(shot["recommended_pipeline"], list)
        for step in shot["recommended_pipeline"]:
            assert set(step) == {"op", "params"}
        notes = shot["colour_notes"]
        assert all(isinstance(note, str) for note in notes)
        assert not any("cast" in note or "saturation" in note for note in notes)  # grey footage has neither


def test_table_has_one_row_per_shot(two_shot_clip, capsys):
    assert main(["analyse", str(two_shot_clip)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "2 shots" in lines[0]
    assert lines[1].split()[:2] == ["shot", "frames"]
    assert [line.split()[1] for line in lines[2:]] == ["0-19", "20-35"]


def test_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["analyse", str(tmp_path / "nope.mkv"), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error:") and captured.err.count("\n") == 1


def test_unreadable_file_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video")
    assert main(["analyse", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_analyse_frames_directly_reports_progress(make_shot):
    frames = torch.cat([make_shot(3, 40), make_shot(4, 30)])
    calls = []
    report = analyse(frames, fps=25, progress=lambda done, total: calls.append((done, total)))
    assert report["fps"] == 25 and report["frame_count"] == 70
    assert [s["start_frame"] for s in report["shots"]] == [0, 40]
    assert calls[-1] == (70, 70) and len(calls) == 3


def test_analyse_rejects_bad_frames():
    from restoration.errors import MediaError

    with pytest.raises(MediaError, match="frames"):
        analyse(torch.rand(4, 2, 32, 32))
    with pytest.raises(MediaError, match="no video frames"):
        analyse(torch.zeros(0, 1, 32, 32))
