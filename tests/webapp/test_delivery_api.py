"""Deliverables through the API and the page: members list and download them (streamed, HTTP
Range), get their checksum sidecars; archivists verify them; another film's are 404."""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.webapp.factories import MediaAssetFactory
from webapp.catalogue.models import MediaAsset
from webapp.delivery.models import Deliverable

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def deliverable(film, media_root):
    name = f"deliveries/{film.pk}/film-master-job1-abc.mkv"
    path = media_root / name
    path.parent.mkdir(parents=True)
    path.write_bytes(CONTENT)
    asset = MediaAssetFactory(film=film, kind="delivery", file=name, original_name="film-master-ffv1.mkv",
                              size_bytes=len(CONTENT))
    return Deliverable.objects.create(film=film, asset=asset, kind="master", codec="ffv1", sound=True,
                                      md5=hashlib.md5(CONTENT).hexdigest(), sha256=hashlib.sha256(CONTENT).hexdigest(),
                                      shots=[{"number": 1, "picture": "approved", "version": 1, "start_frame": 0,
                                              "end_frame": 3, "grade": None}])


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_members_list_a_films_deliverables_with_their_figures(film, deliverable, member, client_for, other_film):
    viewer = client_for(member(film, "viewer"))
    items = viewer.get(f"/api/deliverables/?film={film.pk}").json()["results"]
    assert [(i["id"], i["kind"], i["codec"], i["size_bytes"], i["md5"], i["sha256"], i["status"]) for i in items] == [
        (deliverable.pk, "master", "ffv1", len(CONTENT), deliverable.md5, deliverable.sha256, "ready")]
    assert items[0]["shots"][0]["picture"] == "approved" and items[0]["file_name"] == "film-master-ffv1.mkv"
    outsider = client_for(member(other_film, "archivist"))
    assert outsider.get("/api/deliverables/").json()["results"] == []
    assert outsider.get(f"/api/deliverables/{deliverable.pk}/").status_code == 404
    assert viewer.get("/api/deliverables/?film=x").status_code == 400


def test_a_download_is_streamed_whole_or_by_range(film, deliverable, member, client_for):
    viewer = client_for(member(film, "viewer"))
    url = f"/api/deliverables/{deliverable.pk}/download/"
    whole = viewer.get(url)
    assert whole.status_code == 200 and _body(whole) == CONTENT
    assert whole["Accept-Ranges"] == "bytes" and whole["Content-Length"] == str(len(CONTENT))
    assert 'filename="film-master-ffv1.mkv"' in whole["Content-Disposition"]
    part = viewer.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and _body(part) == CONTENT[100:200]
    assert part["Content-Range"] == f"bytes 100-199/{len(CONTENT)}" and part["Content-Length"] == "100"
    tail = viewer.get(url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and _body(tail) == CONTENT[-10:]
    rest = viewer.get(url, HTTP_RANGE="bytes=10000-")
    assert rest.status_code == 206 and _body(rest) == CONTENT[10000:]
    beyond = viewer.get(url, HTTP_RANGE=f"bytes={len(CONTENT)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(CONTENT)}"
    assert viewer.get(url, HTTP_RANGE="bytes=0-1,5-6").status_code == 200  # several ranges: the whole file


def test_another_films_member_or_a_stranger_cannot_download(film, deliverable, member, client_for, other_film):
    url = f"/api/deliverables/{deliverable.pk}/download/"
    assert client_for(member(other_film, "archivist")).get(url).status_code == 404
    assert client_for(None).get(url).status_code in (401, 403)


def test_the_checksum_sidecars_read_as_md5sum_writes_them(film, deliverable, member, client_for):
    viewer = client_for(member(film, "viewer"))
    md5 = viewer.get(f"/api/deliverables/{deliverable.pk}/checksum/md5/")
    assert md5.content.decode() == f"{deliverable.md5}  film-master-ffv1.mkv\n"
    assert 'filename="film-master-ffv1.mkv.md5"' in md5["Content-Disposition"]
    sha = viewer.get(f"/api/deliverables/{deliverable.pk}/checksum/sha256/")
    assert sha.content.decode() == f"{deliverable.sha256}  film-master-ffv1.mkv\n"
    assert viewer.get(f"/api/deliverables/{deliverable.pk}/checksum/sha1/").status_code == 404


def test_verify_reads_the_file_again_and_records_what_it_found(film, deliverable, member, client_for):
    archivist = client_for(member(film, "archivist"))
    url = f"/api/deliverables/{deliverable.pk}/verify/"
    assert client_for(member(film, "restorer")).post(url).status_code == 403
    checked = archivist.post(url).json()
    assert (checked["status"], checked["verify_message"]) == ("verified", "MD5 and SHA-256 match.")
    assert checked["verified_at"]
    path = deliverable.asset.file.path
    with open(path, "r+b") as handle:  # one flipped byte
        handle.seek(5000)
        handle.write(bytes([CONTENT[5000] ^ 0xFF]))
    checked = archivist.post(url).json()
    assert checked["status"] == "mismatch" and "MD5 and SHA-256 differ" in checked["verify_message"]
    os.remove(path)
    assert archivist.post(url).json()["status"] == "missing"
    assert client_for(member(film, "viewer")).get(f"/api/deliverables/{deliverable.pk}/download/").status_code == 404


def test_the_delivery_page_lists_deliverables_and_offers_delivery_to_archivists(film, deliverable, member, client,
                                                                               other_film):
    client.force_login(member(film, "viewer"))
    page = client.get(f"/films/{film.pk}/delivery/")
    assert page.status_code == 200
    html = page.content.decode()
    assert deliverable.sha256 in html and f"/api/deliverables/{deliverable.pk}/download/" in html
    assert 'id="deliver-form"' not in html
    client.force_login(member(film, "archivist"))
    assert 'id="deliver-form"' in client.get(f"/films/{film.pk}/delivery/").content.decode()
    client.force_login(member(other_film, "archivist"))
    assert client.get(f"/films/{film.pk}/delivery/").status_code == 404


def test_deleting_a_deliverable_frees_its_asset_and_file(deliverable, django_capture_on_commit_callbacks):
    path = deliverable.asset.file.path
    with django_capture_on_commit_callbacks(execute=True):
        deliverable.delete()
    assert not MediaAsset.objects.filter(kind="delivery").exists()
    assert not os.path.exists(path)
