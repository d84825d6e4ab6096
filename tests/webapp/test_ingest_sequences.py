"""Image-sequence scans (a scanner's numbered DPX/TIFF frames): registered from INGEST_ROOTS by
folder or pattern, every frame checked, stored in a folder of their own, all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.webapp.sequence_fixtures import write_dpx_sequence, write_tiff_sequence
from webapp.catalogue.media_files import media_orphans_sweep
from webapp.catalogue.models import Film, MediaAsset

pytestmark = pytest.mark.django_db


@pytest.fixture
def ingest_root(settings, tmp_path) -> Path:
    root = tmp_path / "ingest"
    root.mkdir()
    settings.INGEST_ROOTS = [root]
    return root


def everything_under(root: Path) -> set[str]:
    """Files and folders: a sequence's leftover would be a folder as much as a file."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def unchanged(media_root, db):
    def tables():
        return (list(MediaAsset.objects.values_list("pk", flat=True)),
                list(Film.objects.values_list("pk", "status", "updated_at")))

    before = everything_under(media_root) - {"incoming"}, tables()
    yield
    assert (everything_under(media_root) - {"incoming"}, tables()) == before


def register(client, film, path: str):
    return client.post(f"/api/films/{film.pk}/assets/register/?analyse=false", {"path": path}, format="json")


def test_register_a_dpx_folder_records_the_sequence(film, member, client_for, media_root, ingest_root):
    frames = write_dpx_sequence(ingest_root / "reel1", range(86400, 86405))

    response = register(client_for(member(film, "restorer")), film, "reel1")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sequence"] == {"pattern": "f_%06d.dpx", "first_number": 86400, "last_number": 86404,
                                "format": "dpx", "bits": 10, "transfer": "logarithmic", "timecode": "01:00:00:00"}
    assert (body["container"], body["frame_count"], body["width"], body["height"]) == ("image_sequence", 5, 64, 48)
    asset = MediaAsset.objects.get(pk=body["id"])
    assert asset.is_sequence and asset.original_name == "reel1"
    stored = Path(asset.file.path)
    assert stored.name == "f_%06d.dpx" and stored.parent.resolve().is_relative_to(media_root.resolve())
    # Copied frame by frame under their own names; the archive keeps its frames.
    assert sorted(p.name for p in stored.parent.iterdir()) == [p.name for p in frames]
    assert [(stored.parent / p.name).read_bytes() for p in frames] == [p.read_bytes() for p in frames]
    assert asset.size_bytes == sum(p.stat().st_size for p in frames)
    assert all(p.is_file() for p in frames)
    assert not list((media_root / "incoming").iterdir())


def test_register_a_tiff_pattern(film, member, client_for, media_root, ingest_root):
    write_tiff_sequence(ingest_root / "scan", range(1, 4))
    (ingest_root / "scan" / "notes.txt").write_text("not a frame")

    response = register(client_for(member(film, "archivist")), film, str(ingest_root / "scan" / "r_%04d.tif"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sequence"]["format"] == "tiff" and body["sequence"]["bits"] == 16
    assert (body["sequence"]["first_number"], body["sequence"]["last_number"]) == (1, 3)
    assert body["sequence"]["transfer"] == "" and body["pix_fmt"] == "gray16"
    asset = MediaAsset.objects.get(pk=body["id"])
    assert asset.original_name == "r_%04d.tif"
    assert sorted(p.name for p in Path(asset.file.path).parent.iterdir()) == ["r_0001.tif", "r_0002.tif", "r_0003.tif"]


def test_register_a_pattern_from_a_start_number_copies_only_those_frames(film, member, client_for, ingest_root):
    write_dpx_sequence(ingest_root / "reel", range(10, 16))

    response = register(client_for(member(film, "restorer")), film, "reel/f_%06d.dpx@13")

    assert response.status_code == 201, response.content
    assert (response.json()["sequence"]["first_number"], response.json()["frame_count"]) == (13, 3)


def test_a_frame_linked_outside_the_roots_refuses_the_sequence(film, member, client_for, unchanged, ingest_root,
                                                               tmp_path):
    write_dpx_sequence(ingest_root / "reel", range(1, 4))
    outside = write_dpx_sequence(tmp_path / "elsewhere", [4])[0]
    (ingest_root / "reel" / "f_000004.dpx").symlink_to(outside)

    response = register(client_for(member(film, "restorer")), film, "reel")

    assert response.status_code == 400, response.content
    assert "f_000004.dpx is a link that leads outside the allowed ingest folders" in response.json()["detail"]


def test_a_frame_linked_inside_the_roots_is_copied(film, member, client_for, ingest_root):
    write_dpx_sequence(ingest_root / "reel", range(1, 3))
    other = write_dpx_sequence(ingest_root / "spare", [7])[0]
    (ingest_root / "reel" / "f_000003.dpx").symlink_to(other)

    response = register(client_for(member(film, "restorer")), film, "reel")

    assert response.status_code == 201, response.content
    copied = Path(MediaAsset.objects.get(pk=response.json()["id"]).file.path).parent / "f_000003.dpx"
    assert not copied.is_symlink() and copied.read_bytes() == other.read_bytes()


def test_a_folder_linked_outside_the_roots_is_answered_as_missing(film, member, client_for, unchanged, ingest_root,
                                                                  tmp_path):
    write_dpx_sequence(tmp_path / "elsewhere", range(1, 3))
    (ingest_root / "reel").symlink_to(tmp_path / "elsewhere")

    for path in ("reel", "reel/f_%06d.dpx", str(tmp_path / "elsewhere"), "nothing/f_%06d.dpx"):
        response = register(client_for(member(film, "restorer")), film, path)
        assert response.status_code == 400, response.content
        assert "is not a file in the allowed ingest folders" in response.json()["detail"], path


@pytest.mark.parametrize(
    "make, path, words",
    [
        (lambda root: write_dpx_sequence(root / "reel", [1, 2, 5, 6]), "reel", ("gaps in the numbering", "3-4")),
        (lambda root: write_dpx_sequence(root / "reel", [1, 2]), "reel/g_%06d.dpx", ("no frames match",)),
        (lambda root: (root / "reel").mkdir(), "reel", ("reel",)),
        (lambda root: (write_dpx_sequence(root / "reel", [1, 2]), write_dpx_sequence(root / "reel", [1], bits=16,
                                                                                      prefix="g_")),
         "reel", ("reel",)),
    ],
    ids=["gaps", "no-match", "empty-folder", "two-runs"],
)
def test_bad_sequences_are_refused_naming_the_problem(film, member, client_for, unchanged, ingest_root,
                                                      make, path, words):
    make(ingest_root)

    response = register(client_for(member(film, "restorer")), film, path)

    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert str(ingest_root) not in detail  # the user's own path, not the server's roots
    for word in words:
        assert word in detail, detail


def test_deleting_a_sequence_asset_removes_its_frames_and_folder(film, member, client_for, media_root, ingest_root,
                                                                 django_capture_on_commit_callbacks):
    write_dpx_sequence(ingest_root / "reel", range(1, 4))
    asset = MediaAsset.objects.get(pk=register(client_for(member(film, "restorer")), film, "reel").json()["id"])
    folder = Path(asset.file.path).parent

    with django_capture_on_commit_callbacks(execute=True):
        asset.delete()

    assert not folder.exists()


def test_the_orphan_sweep_keeps_a_sequence_s_frames(film, member, client_for, ingest_root):
    write_dpx_sequence(ingest_root / "reel", range(1, 4))
    asset = MediaAsset.objects.get(pk=register(client_for(member(film, "restorer")), film, "reel").json()["id"])

    report = media_orphans_sweep(grace_s=-1)

    assert report.removed_files == []
    assert len(list(Path(asset.file.path).parent.iterdir())) == 3
