"""End to end: the archivist delivers the demo film's master with its sound from the delivery
page (choosing the scan for the shots not approved yet), follows the job, sees the checksums and
downloads the file, whole and by range."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, demo_film_id, login

pytestmark = pytest.mark.e2e

JOB_TIMEOUT_MS = 240_000  # a busy shared CPU


def _version_to_approve(page, base_url: str, film_id: int) -> int | None:
    """The last shot's latest version, unless a shot is approved already (the comments test
    approves the last shot; run alone, this test does)."""
    shots = page.request.get(f"{base_url}/api/shots/?film={film_id}&ordering=-number").json()["results"]
    if any(shot["status"] == "approved" for shot in shots):
        return None
    versions = page.request.get(f"{base_url}/api/versions/?shot={shots[0]['id']}&ordering=-number").json()
    return versions["results"][0]["id"]


def _post_decision(page, base_url: str, version_id: int) -> None:
    status = page.evaluate(
        """async ([url, version]) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const response = await fetch(url, {method: "POST", credentials: "same-origin",
              headers: {"Content-Type": "application/json", "X-CSRFToken": token},
              body: JSON.stringify({version, verdict: "approve"})});
            return response.status;
        }""", [f"{base_url}/api/decisions/", version_id])
    assert status == 201


def test_the_archivist_delivers_the_master_with_sound_sees_checksums_and_downloads(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "archivist")
    film_id = demo_film_id(page, base_url)
    version_id = _version_to_approve(page, base_url, film_id)
    if version_id is not None:
        creator_context, creator = login(browser, base_url, "creator")
        _post_decision(creator, base_url, version_id)
        creator_context.close()
        _post_decision(page, base_url, version_id)

    page.goto(f"{base_url}/films/{film_id}/delivery/")
    expect(page.locator("#deliver-form input[name=masters][value=ffv1]")).to_be_checked()
    expect(page.locator("#deliver-form input[name=sound]")).to_be_checked()
    page.locator("#deliver-form input[name=fallback][value='']").check()  # "Stop": the server lists them
    page.click("#deliver-start")
    expect(page.locator("#unapproved")).to_contain_text("have no approved version")
    page.locator("#deliver-form input[name=fallback][value=scan]").check()
    page.click("#deliver-start")
    expect(page.locator("#deliver-job")).to_be_visible()
    row = page.locator("#deliverables tr[data-deliverable]").first
    expect(row).to_be_visible(timeout=JOB_TIMEOUT_MS)  # the page reloads when the job succeeds

    sha256 = row.locator(".sha256").inner_text().strip()
    md5 = row.locator(".md5").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", sha256) and re.fullmatch(r"[0-9a-f]{32}", md5)
    expect(row).to_contain_text("yes")  # with sound
    expect(row).to_contain_text("ffv1")
    deliverable_id = row.get_attribute("data-deliverable")
    item = page.request.get(f"{base_url}/api/deliverables/{deliverable_id}/").json()
    assert item["sound"] and item["kind"] == "master" and item["sha256"] == sha256
    assert {shot["picture"] for shot in item["shots"]} == {"approved", "scan"}

    with page.expect_download() as info:
        row.locator("a.download").click()
    download = info.value
    data = Path(download.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256 and hashlib.md5(data).hexdigest() == md5
    assert download.suggested_filename.endswith(".mkv")
    part = page.request.get(f"{base_url}/api/deliverables/{deliverable_id}/download/", headers={"Range": "bytes=0-99"})
    assert part.status == 206 and part.body() == data[:100]

    page.click(f"[data-verify='{deliverable_id}']")
    expect(row.locator("[data-field=status]")).to_have_text("Verified")
    page.screenshot(path=str(SCREENSHOTS / "delivery.png"))
    context.close()
