"""End to end, as a new user tries issue #18 on the demo: a DPX sequence (frames 86400-86411, timecode
01:00:00:00 on) put under the demo's ingest root is registered, analysed from the film page's Analyse
button, restored with the film page's Restore all, and its version compared with the scan on the
review page, whose counter shows the scan's own file numbers and timecode (and seeks by them); the
same frames uploaded as a tar archive are a second scan, and one frame named alone is refused.

A user of its own makes the film, so the demo users' films, jobs and notifications, which the
other browser tests look at, stay as they were."""

from __future__ import annotations

import io
import re
import tarfile
import time

import numpy as np
import pytest
import torch
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, demo_manage, demo_user_create, login

pytestmark = pytest.mark.e2e

JOB_TIMEOUT_S = 300  # a restore on a busy CI machine; the wait ends as soon as the job does
FIRST, FRAMES = 86400, 12


def _dpx_sequence(folder) -> None:
    """FRAMES 10-bit DPX frames numbered from FIRST, each with its timecode in its TV header as a
    scanner writes it (FIRST is 01:00:00:00 at 24 fps): a pan over a smooth picture, with grain."""
    from restoration.bench.scans import synthetic_scan
    from restoration.sequence import dpx

    folder.mkdir(parents=True)
    for index, frame in enumerate(synthetic_scan(96, 128, FRAMES)):
        codes = (frame.permute(1, 2, 0) * 1023).round().to(torch.int32).numpy().astype(np.uint16)
        dpx.write(folder / f"reel_{FIRST + index:07d}.dpx", codes, bits=10, timecode=_timecode(FIRST + index),
                  frame_rate=24.0)


def _timecode(frame: int) -> str:
    seconds, frames = divmod(frame, 24)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frames:02d}"


def _counter(page) -> tuple[str, str, str]:
    """The viewer's frame counter: the number of the frame drawn, "/ last" and the timecode."""
    return tuple(page.eval_on_selector("#viewer", """el => [el.querySelector('.cv-frame-input').value,
        el.querySelector('.cv-of').textContent, el.querySelector('.cv-timecode').textContent]"""))


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
    assert {key: asset["sequence"][key] for key in ("pattern", "first_number", "last_number", "format", "bits",
                                                    "timecode")} == {
        "pattern": "reel_%07d.dpx", "first_number": FIRST, "last_number": FIRST + FRAMES - 1, "format": "dpx",
        "bits": 10, "timecode": "01:00:00:00"}
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

    # The film page lists each shot by the scan's file numbers and its own timecode.
    page.reload()
    shot = shots[0]
    first, last = FIRST + shot["start_frame"], FIRST + shot["end_frame"]
    expect(page.locator(f"[data-shot-id='{shot['id']}'] .frames")).to_contain_text(
        f"{_timecode(first)} · {first}–{last} · {shot['frame_count']} fr")

    # The review page: the scan (A) against v1 (B), frame by frame, in every compare mode.
    page.goto(f"{base_url}/films/{film['id']}/shots/{shot['id']}/")
    page.wait_for_function("document.getElementById('viewer').dataset.drawnFrame === '0'", timeout=20000)
    drawn = page.eval_on_selector("#viewer", "el => [el.dataset.drawnA, el.dataset.drawnB]")
    assert drawn == ["original:0", "v1:0"]
    # The counter shows the scan's own file numbers (86400...) and timecode, as the scanner's files
    # and the lab's paperwork have them; the frames (the link's, the socket's) stay counted from 0.
    assert _counter(page) == (str(first), f"/ {last}", _timecode(first))
    expect(page.locator("#viewer .cv-start-input")).to_have_value(str(first))
    expect(page.locator(".review-facts [data-numbered-by=scan]")).to_have_text(f"files {first}–{last}")
    expect(page.locator("#viewer .cv-start-input")).to_have_js_property("readOnly", True)  # the scan's, not the film's
    page.locator("#viewer canvas").first.screenshot(path=str(SCREENSHOTS / "sequence-review.png"))
    for key, mode in (("2", "wipe"), ("3", "toggle"), ("4", "diff"), ("1", "side")):
        page.keyboard.press(key)
        page.wait_for_function(f"document.getElementById('viewer').dataset.mode === '{mode}'")
    page.keyboard.press("End")
    end = shot["frame_count"] - 1
    page.wait_for_function(f"document.getElementById('viewer').dataset.drawnFrame === '{end}'", timeout=20000)
    assert page.eval_on_selector("#viewer", "el => el.dataset.drawnB") == f"v1:{end}"
    assert _counter(page) == (str(last), f"/ {last}", _timecode(last))

    # Seeking by the scan's numbers: typing a file number goes to that file's frame ...
    target = min(3, end)
    page.fill("#viewer .cv-frame-input", str(first + target))
    page.press("#viewer .cv-frame-input", "Enter")
    page.wait_for_function(f"document.getElementById('viewer').dataset.drawnFrame === '{target}'", timeout=20000)
    assert page.eval_on_selector("#viewer", "el => el.dataset.drawnA") == f"original:{target}"
    assert _counter(page)[0] == str(first + target)
    page.wait_for_function(f"new URL(location.href).searchParams.get('frame') === '{target}'")
    # ... and a number outside the shot (a shot frame, say) says which numbers are the shot's.
    page.fill("#viewer .cv-frame-input", "5")
    page.press("#viewer .cv-frame-input", "Enter")
    problem = page.eval_on_selector("#viewer .cv-frame-input", "el => el.validationMessage")
    assert problem == f"Frame 5 is not in this shot: its frames are {first}–{last}.", problem
    expect(page.locator("#viewer .cv-frame-input")).to_have_class(re.compile(r"\binvalid\b"))
    assert page.eval_on_selector("#viewer", "el => el.dataset.drawnFrame") == str(target)

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
