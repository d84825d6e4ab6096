"""The shot review page: who may open it, the data the viewer starts from, bad query strings."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from tests.webapp.factories import InReviewVersionFactory, MediaAssetFactory, ShotFactory, ShotVersionFactory
from webapp.review.pages import pipeline_summary

pytestmark = pytest.mark.django_db


@pytest.fixture
def shot(film):
    scan = MediaAssetFactory(film=film, width=1440, height=1080, frame_count=500)
    shot = ShotFactory(film=film, number=4, start_frame=100, end_frame=147, source=scan)
    InReviewVersionFactory(shot=shot, number=1, media=MediaAssetFactory(film=film, kind="mezzanine", frame_count=48))
    InReviewVersionFactory(shot=shot, number=2, media=MediaAssetFactory(film=film, kind="mezzanine", frame_count=48))
    ShotVersionFactory(shot=shot, number=3)  # a draft without media yet: listed, not a source
    return shot


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(shot, query: str = "") -> str:
    return f"/films/{shot.film_id}/shots/{shot.pk}/{query}"


def shot_data(response) -> dict:
    match = re.search(r'<script id="shot-data" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert match, "the page carries its data block"
    return json.loads(match.group(1))


def test_a_member_gets_the_page_with_the_viewers_data(shot, member):
    viewer = member(shot.film, "viewer")
    response = page_client(viewer).get(url(shot))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="comments-panel"' in html and 'id="decisions-panel"' in html and "shot-page.js" in html
    data = shot_data(response)
    assert [s["id"] for s in data["sources"]] == ["original", "v1", "v2"]
    assert [v["label"] for v in data["versions"]] == ["v1", "v2", "v3"]
    # By default the scan is compared with the latest version that has frames, from the first frame.
    assert (data["a"], data["b"], data["frame"]) == ("original", "v2", 0)
    assert data["shot"] == {"id": shot.pk, "number": 4, "status": "pending", "fps": 24.0, "frame_count": 48,
                            "start_frame": 100}
    assert data["role"] == "viewer" and data["user"]["username"] == viewer.username
    assert data["frames_socket"] == f"/ws/shots/{shot.pk}/frames/"


def test_the_viewer_gets_the_shots_dissolves_wipes_and_fades_in_its_own_frames(shot, member):
    # Shot 4 is film frames 100-147: a 10-frame dissolve into it (95-104) and a fade out of it into
    # the next shot of the scan (140-155, the black point at 148).
    shot.transition_in = {"type": "dissolve", "start_frame": 95, "end_frame": 104}
    shot.save(update_fields=["transition_in"])
    ShotFactory(film=shot.film, number=5, start_frame=148, end_frame=200, source=shot.source,
                transition_in={"type": "fade", "start_frame": 140, "end_frame": 155})
    data = shot_data(page_client(member(shot.film, "viewer")).get(url(shot)))
    assert data["transitions"] == [
        {"side": "in", "type": "dissolve", "start_frame": 0, "end_frame": 4, "length": 10},
        {"side": "out", "type": "fade", "start_frame": 40, "end_frame": 47, "length": 16},
    ]
    # A cut is no span: nothing to shade.
    shot.transition_in = {"type": "cut", "start_frame": 100, "end_frame": 100}
    shot.save(update_fields=["transition_in"])
    assert [t["side"] for t in shot_data(page_client(member(shot.film, "creator")).get(url(shot)))["transitions"]] == ["out"]


def test_the_query_string_picks_sources_and_frame(shot, member):
    response = page_client(member(shot.film, "creator")).get(url(shot, "?a=v1&b=original&frame=47"))
    data = shot_data(response)
    assert (data["a"], data["b"], data["frame"]) == ("v1", "original", 47)


@pytest.mark.parametrize("query, words", [
    ("?a=v3", "'a' must name a source"),  # a version without frames
    ("?b=v9", "'b' must name a source"),
    ("?frame=48", "'frame' must be a frame of this shot, 0..47"),
    ("?frame=-1", "'frame'"),
    ("?frame=ten", "'frame'"),
])
def test_bad_query_strings_are_refused(shot, member, query, words):
    response = page_client(member(shot.film, "viewer")).get(url(shot, query))
    assert response.status_code == 400 and words in response.content.decode()


def test_outsiders_and_wrong_films_get_404_and_anonymous_users_log_in(shot, member, other_film, outsider):
    assert page_client(outsider).get(url(shot)).status_code == 404
    assert page_client(member(other_film, "archivist")).get(url(shot)).status_code == 404
    # The shot under another film's address does not exist, even for a member of both.
    both = member(shot.film, "viewer")
    from tests.webapp.factories import MembershipFactory

    MembershipFactory(user=both, film=other_film, role="viewer")
    assert page_client(both).get(f"/films/{other_film.pk}/shots/{shot.pk}/").status_code == 404
    response = Client().get(url(shot))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_shot_without_media_says_so(film, member):
    bare = ShotFactory(film=film, number=9, source=None)
    response = page_client(member(film, "viewer")).get(url(bare))
    assert response.status_code == 200
    assert "no media to show yet" in response.content.decode() and shot_data(response)["sources"] == []


def test_the_page_links_the_films_previous_and_next_shots(shot, member):
    previous_shot = ShotFactory(film=shot.film, number=2, start_frame=0, end_frame=47)
    next_shot = ShotFactory(film=shot.film, number=7, start_frame=148, end_frame=200)
    ShotFactory(number=5)  # another film's shot between them is not a neighbour
    html = page_client(member(shot.film, "viewer")).get(url(shot)).content.decode()
    assert f'href="/films/{shot.film_id}/shots/{previous_shot.pk}/" data-shot-step="previous"' in html
    assert f'href="/films/{shot.film_id}/shots/{next_shot.pk}/" data-shot-step="next"' in html


def test_staff_see_any_shot(shot, staff_user):
    response = page_client(staff_user).get(url(shot))
    assert response.status_code == 200 and shot_data(response)["role"] == "staff"


def test_pipeline_summary_reads_ops_parameters_and_retime():
    spec = {"ops": [{"op": "denoise", "params": {"strength": 1.25, "radius": 2, "temporal": True}},
                    {"op": "dust", "params": {}}, {"op": "interpolate_fix", "params": {"sizes": [3, 5]}}],
            "retime": {"fps": 24.0, "method": "learned"}}
    assert pipeline_summary(spec) == [
        {"op": "denoise", "params": "strength 1.25, radius 2, temporal on"},
        {"op": "dust", "params": ""},
        {"op": "interpolate_fix", "params": "sizes 3/5"},
        {"op": "retime", "params": "to 24 fps, learned"},
    ]
    assert pipeline_summary({"ops": "analysis"})[0]["op"] == "analysis"
    # Stored by hand or long ago: what is not a step is left out, never shown wrong.
    assert pipeline_summary({"ops": [{"op": "dust", "params": "x"}, "denoise", {"params": {}}]}) == [
        {"op": "dust", "params": ""}]
    assert pipeline_summary({}) == [] and pipeline_summary(["ops"]) == [] and pipeline_summary(None) == []


def test_the_page_shows_each_versions_pipeline(shot, member):
    v1 = shot.versions.get(number=1)
    v1.pipeline_spec = {"ops": [{"op": "denoise", "params": {"strength": 1.5}}, {"op": "deflicker", "params": {}}]}
    v1.save(update_fields=["pipeline_spec"])
    html = page_client(member(shot.film, "viewer")).get(url(shot)).content.decode()
    panel = html[html.index('id="versions-panel"'):]
    panel = panel[: panel.index("</details>")]
    first = panel[panel.index(f'data-version-id="{v1.pk}"'):]
    assert '<code class="pipeline-op">denoise</code> <span class="pipeline-params muted">strength 1.5</span>' in first
    assert '<code class="pipeline-op">deflicker</code>' in first
    second = panel[panel.index(f'data-version-id="{shot.versions.get(number=2).pk}"'):]
    assert "No pipeline recorded." in second[: second.index("</li>")]  # its spec has no ops
    assert panel.count("<strong>v") == 3  # the draft too
