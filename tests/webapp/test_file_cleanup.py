"""Deleting a media asset, a version, a shot or a film frees their files on disk, after the commit,
and never touches a file outside MEDIA_ROOT or one that another asset still uses.

These tests commit for real (``transaction=True``): the files go in ``transaction.on_commit``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from django.db import transaction

from restoration.io import probe, write_video
from tests.webapp.factories import FilmFactory, MediaAssetFactory, ShotFactory, ShotVersionFactory
from webapp.catalogue.ingest import asset_ingest_path
from webapp.catalogue.models import AssetKind, Film, MediaAsset, Shot, ShotVersion
from webapp.catalogue.previews import filmstrip_path, previews_render
from webapp.catalogue.proxies import proxy_asset_dir, proxy_frame_path, write_atomically
from webapp.catalogue.services import asset_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def archive(settings, tmp_path) -> Path:
    """A folder outside MEDIA_ROOT, where the archive keeps its own files (an ingest root)."""
    root = tmp_path / "archive"
    root.mkdir()
    settings.INGEST_ROOTS = [root]
    return root


def stored_asset(film, media_root: Path, name: str, *, kind=AssetKind.ORIGINAL) -> MediaAsset:
    """An asset row and its file, with a cached proxy frame and a filmstrip as previews leave them."""
    (media_root / name).parent.mkdir(parents=True, exist_ok=True)
    (media_root / name).write_bytes(b"scan")
    asset = MediaAssetFactory(film=film, kind=kind, file=name)
    write_atomically(proxy_frame_path(asset, 240, 0), b"jpeg")
    write_atomically(filmstrip_path(asset, 0, 48), b"jpeg")
    return asset


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def files_of(asset: MediaAsset) -> set[str]:
    """What ``stored_asset`` wrote for ``asset``, relative to MEDIA_ROOT."""
    return {asset.file.name, f"proxies/{asset.pk}/240/000000.jpg", f"proxies/{asset.pk}/filmstrip-0-48.jpg"}


# Assets --------------------------------------------------------------------------------------


def test_deleting_an_asset_removes_its_file_proxies_thumbnail_and_filmstrips(film, media_root):
    name = "assets/originals/clip.mkv"
    (media_root / name).parent.mkdir(parents=True)
    write_video(media_root / name, torch.rand(6, 3, 48, 64), fps=24, codec="ffv1")
    info = probe(media_root / name)
    asset = asset_create(
        film=film, kind=AssetKind.ORIGINAL, file=name, size_bytes=(media_root / name).stat().st_size,
        width=info.width, height=info.height, fps=info.fps, frame_count=info.frame_count,
    )
    previews_render(asset=asset, spans=[(0, 3), (3, 6)])
    cached = proxy_asset_dir(asset.pk)
    assert len(list(cached.rglob("*.jpg"))) == 6 + 2  # six frames at 48 lines, two filmstrips
    kept = stored_asset(film, media_root, "assets/originals/other.mkv")

    asset.delete()

    assert not (media_root / name).exists()
    assert not cached.exists()
    assert files_under(media_root) == files_of(kept)


def test_an_asset_whose_files_are_already_gone_deletes_quietly(film, media_root, caplog):
    asset = MediaAssetFactory(film=film, file="assets/never-written.mkv")
    with caplog.at_level(logging.INFO, logger="webapp.catalogue.services"):
        asset.delete()
    assert not MediaAsset.objects.exists()
    assert caplog.records == []


def test_an_os_error_is_logged_and_the_delete_still_succeeds(film, media_root, caplog):
    asset = stored_asset(film, media_root, "assets/odd.mkv")
    (media_root / "assets/odd.mkv").unlink()
    (media_root / "assets/odd.mkv").mkdir()  # unlink() fails on a folder: IsADirectoryError
    cached = proxy_asset_dir(asset.pk)
    with caplog.at_level(logging.WARNING, logger="webapp.catalogue.services"):
        asset.delete()
    assert not MediaAsset.objects.exists()
    assert (media_root / "assets/odd.mkv").is_dir()
    assert not cached.exists()  # the rest is still removed
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "could not remove its file" in caplog.records[0].getMessage()


# Films, shots and versions -------------------------------------------------------------------


def test_deleting_a_film_removes_the_files_of_all_its_assets(media_root):
    film, other = FilmFactory(), FilmFactory()
    scan = stored_asset(film, media_root, f"assets/originals/film-{film.pk}/scan.mkv")
    mezzanine = stored_asset(film, media_root, f"versions/{film.pk}/shot1-job1.mkv", kind=AssetKind.MEZZANINE)
    delivery = stored_asset(film, media_root, f"deliveries/{film.pk}/film.mkv", kind=AssetKind.DELIVERY)
    shot = ShotFactory(film=film, source=scan)
    ShotVersionFactory(shot=shot, media=mezzanine)
    others = stored_asset(other, media_root, f"assets/originals/film-{other.pk}/scan.mkv")

    film.delete()

    assert not Film.objects.filter(title=film.title).exists()
    assert set(MediaAsset.objects.all()) == {others}
    for asset in (scan, mezzanine, delivery):
        assert not (media_root / asset.file.name).exists()
        assert not proxy_asset_dir(asset.pk).exists()
    assert files_under(media_root) == files_of(others)


def test_deleting_films_by_queryset_cascades_too(media_root):
    films = [FilmFactory(), FilmFactory()]
    assets = [stored_asset(f, media_root, f"assets/originals/film-{f.pk}/scan.mkv") for f in films]
    Film.objects.filter(pk__in=[f.pk for f in films]).delete()
    assert not any((media_root / a.file.name).exists() or proxy_asset_dir(a.pk).exists() for a in assets)


def test_deleting_a_version_removes_its_own_mezzanine_and_its_files(film, media_root):
    scan = stored_asset(film, media_root, "assets/originals/scan.mkv")
    shot = ShotFactory(film=film, source=scan)
    mezzanine = stored_asset(film, media_root, "versions/1/shot1-job1.mkv", kind=AssetKind.MEZZANINE)
    version = ShotVersionFactory(shot=shot, media=mezzanine)
    unrestored = ShotVersionFactory(shot=shot, media=scan)  # the scan itself as a version

    version.delete()
    unrestored.delete()

    assert set(MediaAsset.objects.all()) == {scan}
    assert not (media_root / mezzanine.file.name).exists() and not proxy_asset_dir(mezzanine.pk).exists()
    assert (media_root / scan.file.name).is_file() and proxy_asset_dir(scan.pk).is_dir()


def test_a_mezzanine_another_version_or_shot_uses_stays_with_its_version_deleted(film, media_root):
    shared = stored_asset(film, media_root, "versions/1/shared.mkv", kind=AssetKind.MEZZANINE)
    source = stored_asset(film, media_root, "versions/1/source.mkv", kind=AssetKind.MEZZANINE)
    first = ShotVersionFactory(shot=ShotFactory(film=film), media=shared)
    second = ShotVersionFactory(shot=first.shot, media=shared)
    ShotFactory(film=film, source=source)
    ShotVersionFactory(shot=first.shot, media=source).delete()
    first.delete()
    assert set(MediaAsset.objects.all()) == {shared, source}
    assert (media_root / shared.file.name).is_file() and (media_root / source.file.name).is_file()
    second.delete()  # the last user of the shared mezzanine
    assert set(MediaAsset.objects.all()) == {source}
    assert not (media_root / shared.file.name).exists()


def test_deleting_a_shot_removes_its_versions_mezzanines_but_not_its_scan(film, media_root):
    scan = stored_asset(film, media_root, "assets/originals/scan.mkv")
    shot = ShotFactory(film=film, source=scan)
    mezzanines = [stored_asset(film, media_root, f"versions/1/v{n}.mkv", kind=AssetKind.MEZZANINE) for n in (1, 2)]
    for media in mezzanines:
        ShotVersionFactory(shot=shot, media=media)

    shot.delete()

    assert not ShotVersion.objects.exists()
    assert set(MediaAsset.objects.all()) == {scan}
    assert not any((media_root / m.file.name).exists() for m in mezzanines)
    assert (media_root / scan.file.name).is_file()


# Transactions --------------------------------------------------------------------------------


def test_a_rolled_back_delete_keeps_the_files(film, media_root):
    asset = stored_asset(film, media_root, "assets/originals/scan.mkv")
    shot = ShotFactory(film=film, source=asset)
    mezzanine = stored_asset(film, media_root, "versions/1/v1.mkv", kind=AssetKind.MEZZANINE)
    ShotVersionFactory(shot=shot, media=mezzanine)
    before = files_under(media_root)

    with pytest.raises(RuntimeError), transaction.atomic():
        film.delete()
        assert not MediaAsset.objects.exists()
        assert files_under(media_root) == before  # nothing is removed before the commit
        raise RuntimeError("the request failed after the delete")

    assert MediaAsset.objects.count() == 2
    assert files_under(media_root) == before


def test_a_delete_rolled_back_to_a_savepoint_keeps_the_files_when_the_rest_commits(film, media_root):
    kept = stored_asset(film, media_root, "assets/kept.mkv")
    removed = stored_asset(film, media_root, "assets/removed.mkv")
    with transaction.atomic():
        removed.delete()
        with pytest.raises(RuntimeError), transaction.atomic():
            MediaAsset.objects.get(pk=kept.pk).delete()
            raise RuntimeError
    assert (media_root / kept.file.name).is_file() and proxy_asset_dir(kept.pk).is_dir()
    assert not (media_root / removed.file.name).exists()


# Files that are not the asset's alone --------------------------------------------------------


def test_a_registered_server_file_stays_in_the_archive(film, media_root, archive):
    original = archive / "reel1.mkv"
    write_video(original, torch.rand(4, 3, 32, 48), fps=24, codec="ffv1")
    content = original.read_bytes()
    asset = asset_ingest_path(film=film, path=str(original))
    stored = media_root / asset.file.name
    assert stored.is_file()

    asset.delete()

    assert not stored.exists()  # the copy ingest made is ours
    assert original.read_bytes() == content


def test_files_outside_media_root_are_never_removed(film, media_root, archive):
    outside = archive / "reel.mkv"
    outside.write_bytes(b"archive")
    (archive / "proxies").mkdir()
    (archive / "proxies" / "000000.jpg").write_bytes(b"archive jpeg")
    linked = stored_asset(film, media_root, "assets/linked.mkv")
    (media_root / "assets/linked.mkv").unlink()
    (media_root / "assets/linked.mkv").symlink_to(outside)  # a link into the archive
    linked_cache = proxy_asset_dir(linked.pk)
    linked_cache.joinpath("480").symlink_to(archive / "proxies")
    (media_root / "mounted").symlink_to(archive)  # a folder of the archive seen inside MEDIA_ROOT
    through_folder = MediaAssetFactory(film=film, file="mounted/reel.mkv")
    absolute = MediaAssetFactory(film=film, file=str(outside))
    climbing = MediaAssetFactory(film=film, file="../archive/reel.mkv")

    for asset in (linked, through_folder, absolute, climbing):
        asset.delete()

    assert outside.read_bytes() == b"archive"
    assert (archive / "proxies" / "000000.jpg").read_bytes() == b"archive jpeg"
    assert (media_root / "assets/linked.mkv").is_symlink()  # kept: it leads out of MEDIA_ROOT
    assert not linked_cache.exists()  # the link inside it is removed, not followed


def test_a_file_two_assets_share_is_removed_with_the_last_of_them(film, media_root):
    first = stored_asset(film, media_root, "assets/shared.mkv")
    second = MediaAssetFactory(film=film, file="assets/shared.mkv")
    first_cache = proxy_asset_dir(first.pk)

    first.delete()
    assert (media_root / "assets/shared.mkv").is_file()
    assert not first_cache.exists()  # caches are per asset
    second.delete()
    assert not (media_root / "assets/shared.mkv").exists()


def test_shot_rows_survive_their_source_asset(film, media_root):
    scan = stored_asset(film, media_root, "assets/scan.mkv")
    shot = ShotFactory(film=film, source=scan)
    scan.delete()
    assert Shot.objects.get(pk=shot.pk).source is None
    assert not (media_root / "assets/scan.mkv").exists()


def test_media_root_reached_through_a_symlink_is_cleaned_all_the_same(settings, tmp_path, film):
    real = tmp_path / "volume"
    real.mkdir()
    (tmp_path / "media").symlink_to(real)
    settings.MEDIA_ROOT = tmp_path / "media"  # as configured, not resolved
    asset = stored_asset(film, tmp_path / "media", "assets/scan.mkv")
    asset.delete()
    assert files_under(real) == set()
