"""Content-Security-Policy: every page carries a strict policy, and nothing we serve needs an
exception to it (no inline script, style element or attribute, no on*= handler) — the browser
tests fail on any violation too (tests/e2e/conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.webapp.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted([*ROOT.glob("webapp/*/templates/**/*.html"), *ROOT.glob("frontend/templates/**/*.html")])
SCRIPTS = sorted(ROOT.glob("frontend/static/js/**/*.js"))
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=\s*[\"']", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
# JSON data islands are not run, so the policy allows them.
DATA_ISLAND = re.compile(r"<script\b[^>]*type=[\"']application/(ld\+)?json[\"']", re.IGNORECASE)


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/api/docs/"])
def test_pages_carry_a_strict_policy(client, path):
    client.force_login(UserFactory())
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]  # nothing inline, no eval
    assert policy["connect-src"] == ["'self'"]  # the API and this host's websockets only
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    assert "blob:" in policy["img-src"]  # the viewer's decoded frames


@pytest.mark.django_db
def test_the_api_docs_start_up_script_is_a_file(client):
    client.force_login(UserFactory())
    html = client.get("/api/docs/").content.decode()
    assert not INLINE_SCRIPT.search(html) and not INLINE_STYLE.search(html)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_templates_have_no_inline_script_or_style(template):
    text = template.read_text()
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.DOTALL)  # template comments are not served
    scripts = [tag for tag in INLINE_SCRIPT.findall(text) if not DATA_ISLAND.match(tag)]
    assert not scripts, f"inline <script>: {scripts}"
    assert not INLINE_STYLE.search(text), INLINE_STYLE.search(text)
    assert not HANDLER_ATTRIBUTE.search(text), HANDLER_ATTRIBUTE.search(text)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_scripts_write_no_inline_style_or_handler_into_html(script):
    """HTML built from strings (innerHTML) is held to the policy too; scripts set element.style instead."""
    text = script.read_text()
    assert not re.search(r"""\sstyle\s*=\s*["'$]""", text), "style= attribute in HTML built by the script"
    assert not re.search(r"""setAttribute\(\s*["']style["']""", text)
    assert not re.search(r"""\son[a-z]+\s*=\s*["'][^"']*["']""", text), "on*= handler attribute"
    assert not re.search(r"\beval\(|new Function\(", text)


@pytest.mark.django_db
def test_only_drfs_browsable_api_pages_allow_inline_styles(client):
    """DRF's own templates style inline; its JSON and every page of ours stay strict."""
    client.force_login(UserFactory())
    page = client.get("/api/films/", HTTP_ACCEPT="text/html")
    assert page["Content-Type"].startswith("text/html")
    policy = _policy(page)
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"] and policy["script-src"] == ["'self'"]
    assert _policy(client.get("/api/films/"))["style-src"] == ["'self'"]  # JSON
    assert _policy(client.get("/"))["style-src"] == ["'self'"]
