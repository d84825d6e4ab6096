"""End to end, as a new user tries issue #18 on the demo: a DPX sequence (frames 86400-86411) put
under the demo's ingest root is registered, analysed from the film page's Analyse button, restored
with the film page's Restore all, and its version compared with the scan on the review page; the
same frames uploaded as a tar archive are a second scan, and one frame named alone is refused.

A user of its own makes the film, so the demo users' films, jobs and notifications, which the
other browser tests look at, stay as they were."""

from __future__ import annotations

import io
import re
import tarfile
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, demo_manage, demo_user_create, login

pytestmark = pytest.mark.e2e

JOB_TIMEOUT_S = 300  # a restore on a busy CI machine; the wait ends as soon as the job does
FIRST, FRAMES = 86400, 12


def _dpx_sequence(folder) -> None:
    """FRAMES 10-bit DPX frames numbered from FIRST: a pan over a smooth picture, with grain."""
    from restoration.bench.scans import synthetic_scan
    from restoration.sequence import SequenceWriter

    writer = SequenceWriter(f"{folder}/reel_%07d.dpx@{FIRST}", fps=24)  # DPX from 8-bit frames: 10 bits
    writer.write(synthetic_scan(96, 128, FRAMES))
    writer.close()


def _post(context, page, base_url: str, path: str, **kwargs):
    token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    return page.request.post(f"{base_url}{path}", headers={"X-CSRFToken": token, "Referer": f"{base_url}/"}, **kwargs)


def _job_finished(page, base_url: str, job_id: int) -> dict:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        job = page.request.get(f"{base_url}/api/jobs/{job_id}/").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']} after {JOB_TIMEOUT_S} s"
        page.wait_for_timeout(500)


def test_a_registered_dpx_sequence_is_analysed_restored_and_reviewed(demo_server, browser):
    base_url, log = demo_server
    data_dir = log.parent
    _dpx_sequence(data_dir / "ingest" / "reel-e2e")
    demo_user_create(data_dir, "scanner", "scanner@example.org")
    film = {"id": int(demo_manage(data_dir, "shell", "-c", (
        "from django.contrib.auth import get_user_model; from webapp.catalogue.services import film_create; "
        "print(film_create(title='Reel one (e2e sequence)', "
        "created_by=get_user_model().objects.get(username='scanner')).pk)")).split()[-1])}  # its archivist
    context, page = login(browser, base_url, "scanner")

    registered = _post(context, page, base_url, f"/api/films/{film['id']}/assets/register/?analyse=false",
                       data={"path": "reel-e2e"})
    assert registered.status == 201, registered.text()
    asset = registered.json()
    assert (asset["container"], asset["frame_count"], asset["width"], asset["height"]) == ("image_sequence", 12, 128, 96)
    assert {key: asset["sequence"][key] for key in ("pattern", "first_number", "last_number", "format", "bits")} == {
        "pattern": "reel_%07d.dpx", "first_number": FIRST, "last_number": FIRST + FRAMES - 1, "format": "dpx",
        "bits": 10}
    assert asset["analysis_job"] is None

    # The film page names the scan and analyses it: its shots show when the job ends.
    page.goto(f"{base_url}/films/{film['id']}/")
    expect(page.locator("body")).to_contain_text(f"DPX 10-bit user-defined, frames {FIRST}-{FIRST + FRAMES - 1}, 128x96")
    expect(page.locator("#shots .shot")).to_have_count(0)
    with page.expect_response(f"{base_url}/api/films/{film['id']}/analyse/") as answer:
        page.click(f"[data-analyse-asset='{asset['id']}']")
    assert answer.value.status == 202, answer.value.text()
    analysis = answer.value.json()["id"]  # read before the page reloads (when the film's socket says the job ended)
    expect(page.locator("#shots .shot").first).to_be_visible(timeout=JOB_TIMEOUT_S * 1000)  # the page reloads
    assert _job_finished(page, base_url, analysis)["status"] == "succeeded"

    # ... and restores them.
    with page.expect_response(f"{base_url}/api/films/{film['id']}/restore/") as answer:
        page.click("#restore-all")
        page.click("#confirm-restore-all button[value=confirm]")
    assert answer.value.status == 202, answer.value.text()
    batch = _job_finished(page, base_url, answer.value.json()["id"])
    shots = page.request.get(f"{base_url}/api/shots/?film={film['id']}&ordering=number").json()["results"]
    assert (batch["status"], batch["children_summary"]["succeeded"]) == ("succeeded", len(shots)), batch

    # The review page: the scan (A) against v1 (B), frame by frame, in every compare mode.
    shot = shots[0]
    page.goto(f"{base_url}/films/{film['id']}/shots/{shot['id']}/")
    page.wait_for_function("document.getElementById('viewer').dataset.drawnFrame === '0'", timeout=20000)
    drawn = page.eval_on_selector("#viewer", "el => [el.dataset.drawnA, el.dataset.drawnB]")
    assert drawn == ["original:0", "v1:0"]
    page.locator("#viewer canvas").first.screenshot(path=str(SCREENSHOTS / "sequence-review.png"))
    for key, mode in (("2", "wipe"), ("3", "toggle"), ("4", "diff"), ("1", "side")):
        page.keyboard.press(key)
        page.wait_for_function(f"document.getElementById('viewer').dataset.mode === '{mode}'")
    page.keyboard.press("End")
    last = shot["frame_count"] - 1
    page.wait_for_function(f"document.getElementById('viewer').dataset.drawnFrame === '{last}'", timeout=20000)
    assert page.eval_on_selector("#viewer", "el => el.dataset.drawnB") == f"v1:{last}"

    # The same frames as a tar archive: a second scan of the film, unpacked on the server.
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w") as archive:
        archive.add(data_dir / "ingest" / "reel-e2e", arcname="reel-e2e")
    uploaded = _post(context, page, base_url, f"/api/films/{film['id']}/assets/upload/?analyse=false",
                     multipart={"file": {"name": "reel-e2e.tar", "mimeType": "application/x-tar",
                                         "buffer": packed.getvalue()}})
    assert uploaded.status == 201, uploaded.text()
    assert uploaded.json()["sequence"]["first_number"] == FIRST and uploaded.json()["frame_count"] == FRAMES

    # One frame named alone is not a scan.
    refused = _post(context, page, base_url, f"/api/films/{film['id']}/assets/register/",
                    data={"path": f"reel-e2e/reel_{FIRST:07d}.dpx"})
    assert refused.status == 400 and re.search(r"a single DPX image", refused.json()["detail"]), refused.text()
    context.close()
