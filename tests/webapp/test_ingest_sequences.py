"""Image-sequence scans (a scanner's numbered DPX/TIFF frames): registered from INGEST_ROOTS by
folder or pattern, every frame checked, stored in a folder of their own, all-or-nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.webapp.sequence_fixtures import tar_bytes, write_dpx_sequence, write_tiff_sequence, zip_bytes
from webapp.catalogue.ingest import STAGED_FOLDER_SUFFIX, STALE_STAGED_SECONDS, incoming_dir
from webapp.catalogue.media_files import media_orphans_sweep
from webapp.catalogue.models import Film, MediaAsset

pytestmark = pytest.mark.django_db


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


def test_register_a_pattern_without_a_start_number_starts_at_the_first_file_present(film, member, client_for,
                                                                                    ingest_root):
    # No "@86400" needed: the pattern's one numbered run is found from the files, as for a folder.
    write_dpx_sequence(ingest_root / "reel", range(86400, 86405))

    response = register(client_for(member(film, "restorer")), film, "reel/f_%06d.dpx")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["sequence"]["first_number"], body["sequence"]["last_number"], body["frame_count"]) == (86400, 86404, 5)
    assert body["sequence"]["timecode"] == "01:00:00:00"


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
        # One frame named alone was stored as a one-frame "video" at 25 fps (container tiff_pipe).
        (lambda root: write_tiff_sequence(root / "reel", [1, 2]), "reel/r_0001.tif",
         ("r_0001.tif", "a single TIFF image", "folder or its pattern")),
        (lambda root: write_dpx_sequence(root / "reel", [1, 2]), "reel/f_000002.dpx", ("a single DPX image",)),
    ],
    ids=["gaps", "no-match", "empty-folder", "two-runs", "one-tiff-frame", "one-dpx-frame"],
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


# --- uploads of a sequence as a tar or zip archive ------------------------------------------------


def upload(client, film, name: str, data: bytes):
    return client.post(f"/api/films/{film.pk}/assets/upload/?analyse=false",
                       {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream")},
                       format="multipart")


@pytest.fixture
def frames(tmp_path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in write_dpx_sequence(tmp_path / "frames", range(1001, 1004))}


@pytest.mark.parametrize("name, pack", [
    ("reel1.tar", lambda members: tar_bytes({f"reel1/{n}": b for n, b in members.items()})),
    ("reel1.tar.gz", lambda members: tar_bytes(members, mode="w:gz")),
    ("reel1.zip", lambda members: zip_bytes({f"reel1/{n}": b for n, b in members.items()} | {"reel1/README": b"x"})),
])
def test_upload_a_sequence_archive(film, member, client_for, media_root, frames, name, pack):
    response = upload(client_for(member(film, "restorer")), film, name, pack(frames))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sequence"]["pattern"] == "f_%06d.dpx" and body["frame_count"] == 3
    assert (body["sequence"]["first_number"], body["original_name"]) == (1001, name)
    stored = Path(MediaAsset.objects.get(pk=body["id"]).file.path).parent
    # Only the frames are kept (a README in the archive is not the scan's), byte for byte.
    assert {p.name: p.read_bytes() for p in stored.iterdir()} == frames
    assert not list((media_root / "incoming").iterdir())


@pytest.mark.parametrize("name, data, words", [
    ("escape.tar", lambda f: tar_bytes({"../f_001001.dpx": f["f_001001.dpx"]}), ("'..'",)),
    ("absolute.zip", lambda f: zip_bytes({"/tmp/f_001001.dpx": f["f_001001.dpx"]}), ("absolute path",)),
    ("link.tar", lambda f: tar_bytes(f, symlinks={"f_001004.dpx": "/etc/passwd"}), ("f_001004.dpx", "a link")),
    ("link.zip", lambda f: zip_bytes(f, symlinks={"f_001004.dpx": "/etc/passwd"}), ("f_001004.dpx", "a link")),
    ("nested.tar", lambda f: tar_bytes({f"a/b/{n}": b for n, b in f.items()}), ("folders inside",)),
    ("two.zip", lambda f: zip_bytes({"a/f_001001.dpx": f["f_001001.dpx"], "b/f_001002.dpx": f["f_001002.dpx"]}),
     ("more than one folder (a and b)",)),
    ("top.tar", lambda f: tar_bytes({"f_001001.dpx": f["f_001001.dpx"], "b/f_001002.dpx": f["f_001002.dpx"]}),
     ("more than one folder (the top and b)",)),
    ("bomb.zip", lambda f: zip_bytes(f | {"padding": bytes(400_000)}), ("more than the limit",)),
    ("not.zip", lambda f: b"just some text\n" * 20, ("not a zip archive",)),
    ("not.tar", lambda f: b"just some text\n" * 20, ("not a tar archive",)),
    ("gaps.tar", lambda f: tar_bytes({n: b for n, b in f.items() if n != "f_001002.dpx"}), ("gaps in the numbering",)),
    ("empty.zip", lambda f: zip_bytes({}), ("empty",)),
])
def test_bad_archives_are_refused_and_nothing_is_kept(film, member, client_for, unchanged, settings, frames,
                                                      name, data, words):
    settings.MAX_UPLOAD_BYTES = 300_000  # the frames fit, the zip bomb's padding does not once unpacked
    response = upload(client_for(member(film, "restorer")), film, name, data(frames))

    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert detail.startswith(f"{name}: ")
    for word in words:
        assert word in detail, detail


def test_an_archive_with_too_many_members_is_refused(film, member, client_for, unchanged, monkeypatch, frames):
    monkeypatch.setattr("webapp.catalogue.archives.MAX_ARCHIVE_MEMBERS", 2)
    response = upload(client_for(member(film, "restorer")), film, "many.tar", tar_bytes(frames))

    assert response.status_code == 400, response.content
    assert "more than 2 members" in response.json()["detail"]


def test_a_link_out_of_the_roots_is_named_not_what_the_file_it_leads_to_holds(film, member, client_for, unchanged,
                                                                             ingest_root, tmp_path):
    write_dpx_sequence(ingest_root / "reel", range(1, 4))
    outside = write_dpx_sequence(tmp_path / "elsewhere", [4], bits=16)[0]  # another depth: the engine objects
    (ingest_root / "reel" / "f_000004.dpx").symlink_to(outside)

    response = register(client_for(member(film, "restorer")), film, "reel")

    assert response.status_code == 400, response.content
    assert response.json()["detail"] == ("path 'reel': frame f_000004.dpx is a link that leads outside the allowed "
                                         "ingest folders")


def test_the_film_page_says_what_each_scan_is(film, member, client, client_for, ingest_root):
    write_dpx_sequence(ingest_root / "reel1", range(86400, 86405))
    assert register(client_for(member(film, "restorer")), film, "reel1").status_code == 201
    client.force_login(member(film, "viewer"))

    page = client.get(f"/films/{film.pk}/").content.decode()

    assert "reel1" in page and "image sequence · DPX 10-bit log, frames 86400-86404, 64x48" in page
    assert "data-analyse-asset" not in page  # a viewer cannot start jobs


def test_the_film_page_offers_to_analyse_each_scan_to_who_may(film, member, client, client_for, ingest_root):
    write_dpx_sequence(ingest_root / "reel1", range(86400, 86405))
    asset = register(client_for(member(film, "restorer")), film, "reel1").json()
    client.force_login(member(film, "restorer"))

    page = client.get(f"/films/{film.pk}/").content.decode()

    assert f'data-analyse-asset="{asset["id"]}"' in page  # the film page's script posts it to the analyse API


def test_an_archive_over_the_upload_limit_is_a_413_and_leaves_nothing(film, member, client_for, unchanged,
                                                                      settings, frames):
    settings.MAX_UPLOAD_BYTES = 20_000  # under the three frames' tar
    response = upload(client_for(member(film, "restorer")), film, "reel.tar", tar_bytes(frames))

    assert response.status_code == 413, response.content


def test_a_stale_staging_folder_is_swept_when_staging_starts(media_root):
    stale = media_root / "incoming" / f"upload-abc{STAGED_FOLDER_SUFFIX}"
    stale.mkdir(parents=True)
    (stale / "f_000001.dpx").write_bytes(b"left by a killed worker")
    fresh = media_root / "incoming" / f"upload-def{STAGED_FOLDER_SUFFIX}"
    fresh.mkdir()
    long_ago = time.time() - STALE_STAGED_SECONDS - 60
    os.utime(stale, (long_ago, long_ago))

    incoming_dir()

    assert not stale.exists() and fresh.is_dir()
