"""`manage.py import_film`: a film from a scan on disk, with the same checks as an upload."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from django.core.management import call_command
from django.core.management.base import CommandError

from restoration.io import write_video
from tests.webapp import jobs_fixtures
from webapp.catalogue.models import Film, MediaAsset, Membership
from webapp.jobs.lifecycle import JOB_RUN_TASK
from webapp.jobs.models import RestorationJob

pytestmark = pytest.mark.django_db
sent_messages = jobs_fixtures.sent_messages
ROOT = Path(__file__).resolve().parents[2]


def make_clip(path: Path, *, frames: int = 5, size: tuple[int, int] = (40, 56)) -> Path:
    clip = torch.rand(frames, 1, *size, generator=torch.Generator().manual_seed(0))
    write_video(path, clip, fps=18)
    return path


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_import_creates_film_and_stores_probed_scan(media_root, tmp_path, member, capsys):
    from tests.webapp.factories import UserFactory

    UserFactory(username="ann")
    clip = make_clip(tmp_path / "reel one.mkv", frames=9)

    call_command("import_film", str(clip), title="Rouge Harbour", year=1931, directors="Lin Chan", archivist="ann")

    film = Film.objects.get()
    assert (film.title, film.year, film.directors) == ("Rouge Harbour", 1931, "Lin Chan")
    asset = MediaAsset.objects.get(film=film)
    assert asset.original_name == "reel one.mkv"
    assert (asset.width, asset.height, asset.frame_count, asset.fps, asset.pix_fmt) == (56, 40, 9, 18.0, "gray")
    assert Path(asset.file.path).read_bytes() == clip.read_bytes()
    assert "reel" not in asset.file.name
    assert Membership.objects.get(film=film).user.username == "ann"
    assert f"Film #{film.pk}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "setup, options, message",
    [
        (lambda p: p.write_text("not a video\n" * 20), {}, "not a readable video"),
        (lambda p: None, {}, "no such file"),
        (lambda p: make_clip(p, size=(8, 8)), {}, "too small"),
        (lambda p: make_clip(p), {"year": 1700}, "year 1700"),
        (lambda p: make_clip(p), {"title": "   "}, "title is required"),
        (lambda p: make_clip(p), {"archivist": "nobody"}, "no user named 'nobody'"),
    ],
    ids=["not-a-video", "missing", "tiny", "implausible-year", "blank-title", "unknown-archivist"],
)
def test_bad_input_is_refused_and_leaves_nothing(media_root, tmp_path, setup, options, message):
    path = tmp_path / "scan.mkv"
    setup(path)
    before = stored_files(media_root)
    options = {"title": "A film", **options}
    with pytest.raises(CommandError, match=message):
        call_command("import_film", str(path), **options)
    assert not Film.objects.exists() and not MediaAsset.objects.exists() and not RestorationJob.objects.exists()
    assert stored_files(media_root) == before


def test_import_starts_the_scans_analysis_as_an_upload_does(media_root, tmp_path, sent_messages,
                                                           django_capture_on_commit_callbacks, capsys):
    # Before, a film imported here showed "no shots yet" until someone called the analyse API.
    clip = make_clip(tmp_path / "reel.mkv")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_film", str(clip), title="Rouge Harbour")
    job = RestorationJob.objects.get()
    asset = MediaAsset.objects.get()
    assert (job.kind, job.status, job.film_id, job.params) == ("analyse", "pending", asset.film_id, {"asset": asset.pk})
    assert sent_messages == [(JOB_RUN_TASK, (job.pk,), job.celery_task_id)]  # sent once the film committed
    assert f"job #{job.pk}" in capsys.readouterr().out

    call_command("import_film", str(clip), title="Night Ferry", analyse=False)  # --no-analyse
    assert RestorationJob.objects.count() == 1


def test_command_line_error_is_one_line_on_stderr_and_a_nonzero_exit(tmp_path):
    bad = tmp_path / "notes.mkv"
    bad.write_text("hello\n" * 100)
    (tmp_path / "var").mkdir()
    env = {**os.environ, "DATA_DIR": str(tmp_path / "var")}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "import_film", str(bad), "--title", "Broken"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "notes.mkv" in lines[0] and "not a readable video" in lines[0]
    assert not [p for p in (tmp_path / "var").rglob("*") if p.is_file() and p.suffix != ".sqlite3"]


def test_import_a_dpx_sequence_folder(media_root, tmp_path):
    from tests.webapp.sequence_fixtures import write_dpx_sequence

    frames = write_dpx_sequence(tmp_path / "reel2", range(86400, 86404))

    call_command("import_film", str(tmp_path / "reel2"), title="Night Ferry")

    asset = MediaAsset.objects.get(film__title="Night Ferry")
    assert (asset.original_name, asset.sequence_pattern, asset.sequence_first, asset.frame_count) == (
        "reel2", "f_%06d.dpx", 86400, 4)
    assert sorted(p.name for p in Path(asset.file.path).parent.iterdir()) == [p.name for p in frames]


def test_import_of_a_sequence_with_gaps_stores_nothing(media_root, tmp_path):
    from tests.webapp.sequence_fixtures import write_dpx_sequence

    write_dpx_sequence(tmp_path / "reel3", [1, 2, 4])

    with pytest.raises(CommandError, match="gaps in the numbering"):
        call_command("import_film", str(tmp_path / "reel3"), title="Night Ferry")
    assert not Film.objects.exists() and stored_files(media_root) == []
