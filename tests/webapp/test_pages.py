"""Server-rendered pages (login, logout, catalogue, film page, job dashboard) and the production
settings check."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.webapp.factories import (
    TEST_PASSWORD,
    FilmFactory,
    MediaAssetFactory,
    RestorationJobFactory,
    ShotFactory,
    ShotVersionFactory,
)
from webapp.catalogue.pages import colour_summary, defect_bars
from webapp.catalogue.timecode import timecode
from webapp.jobs.pages import duration_text

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_home_requires_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_login_page_renders_a_form_with_csrf():
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html and "csrfmiddlewaretoken" in html
    assert "/static/css/app.css" in html


def test_login_then_home_lists_only_my_films_with_counts(member):
    mine = FilmFactory(title="Rouge Harbour", year=1931, directors="Lin Chan, Marta Rossi", status="in_review")
    hidden = FilmFactory(title="Secret Orchard", year=1950)
    member(mine, "archivist", username="ann")
    member(hidden, "viewer")
    approved = [ShotFactory(film=mine, number=n, status="approved") for n in (1, 2, 3)]
    ShotFactory(film=mine, number=4, status="in_review")
    ShotVersionFactory(shot=approved[0])

    client = Client(enforce_csrf_checks=False)
    response = client.post("/accounts/login/", {"username": "ann", "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"

    html = client.get("/").content.decode()
    assert "Rouge Harbour" in html and "1931" in html and "Lin Chan, Marta Rossi" in html
    assert "In review" in html and "Archivist" in html
    assert "Secret Orchard" not in html
    row = html[html.index(f'data-film-id="{mine.pk}"'):]
    row = row[: row.index("</tr>")]
    assert '<td class="num">4</td>' in row  # shots
    assert "3/4" in row and 'aria-valuenow="75"' in row  # approved / shots, progress


def test_wrong_password_shows_an_error(member):
    member(FilmFactory(), "viewer", username="bob")
    response = Client().post("/accounts/login/", {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_user_without_films_sees_an_empty_state(outsider):
    client = Client()
    client.force_login(outsider)
    html = client.get("/").content.decode()
    assert "not a member of any film" in html


def test_logout_needs_post_and_ends_the_session(member):
    user = member(FilmFactory(), "viewer")
    client = Client()
    client.force_login(user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_stylesheet_is_found_by_staticfiles():
    assert finders.find("css/app.css")


def _random_secret(length: int = 50) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def test_production_settings_pass_the_deploy_check():
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}},
        "DJANGO_ENV": "production",
        "SECRET_KEY": _random_secret(),
        "ALLOWED_HOSTS": "example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


# ---- helpers ----


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _film_ids(html: str) -> list[int]:
    """The catalogue rows' film ids, in the order shown."""
    import re

    return [int(found) for found in re.findall(r'<tr data-film-id="(\d+)"', html)]


# ---- base layout ----


def test_every_page_has_the_top_bar_shortcut_overlay_and_notifications_bell(member):
    user = member(FilmFactory(), "viewer")
    html = _client(user).get("/").content.decode()
    assert 'href="/jobs/"' in html and 'href="/api/docs/"' in html and 'class="skip-link"' in html
    assert '<a id="notifications-bell"' in html and '<span class="badge" hidden></span>' in html
    assert 'id="shortcuts-dialog"' in html and "<kbd>/</kbd>" in html
    assert '<script type="module" src="/static/js/notifications.js"></script>' in html
    assert 'aria-current="page">Films</a>' in html  # the current section is marked
    for path in ("js/common/api.js", "js/common/ws.js", "js/common/toast.js", "js/common/format.js",
                 "js/common/keys.js", "js/catalogue/catalogue.js", "js/catalogue/film.js", "js/catalogue/jobs.js",
                 "css/catalogue.css"):
        assert finders.find(path), path


def test_anonymous_visitors_get_no_notifications_module():
    html = Client().get("/accounts/login/").content.decode()
    assert "notifications.js" not in html and "notifications-bell" not in html


# ---- catalogue ----


@pytest.fixture
def catalogue(member):
    """Four films of one archivist (and one film they are not on)."""
    films = {
        "harbour": FilmFactory(title="Rouge Harbour", original_title="Hong Gang", year=1931,
                               directors="Lin Chan, Marta Rossi", status="in_review"),
        "orchard": FilmFactory(title="Silent Orchard", year=1952, directors="Kenji Mori", status="approved"),
        "express": FilmFactory(title="Kowloon Express", year=1958, directors="Lin Chan", status="new"),
        "tide": FilmFactory(title="Night Tide", year=1975, directors="Olga Petrova", status="in_review"),
    }
    user = member(films["harbour"], "archivist", username="cat")
    for key in ("orchard", "express", "tide"):
        from tests.webapp.factories import MembershipFactory

        MembershipFactory(user=user, film=films[key], role="viewer")
    FilmFactory(title="Rouge Secret", year=1933, directors="Lin Chan")  # not a member
    return user, films


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=rouge", ["harbour"]),  # title; a film the user is not on is never found
        ("search=hong+gang", ["harbour"]),  # original title
        ("search=lin+chan", ["express", "harbour"]),  # director
        ("status=in_review", ["tide", "harbour"]),
        ("decade=1950", ["express", "orchard"]),
        ("year_min=1950&year_max=1960", ["express", "orchard"]),
        ("director=Lin+Chan&decade=1930", ["harbour"]),
        ("ordering=-year", ["tide", "express", "orchard", "harbour"]),
        ("ordering=year&status=in_review", ["harbour", "tide"]),
    ],
)
def test_catalogue_filters_and_sorts_from_the_query_string(catalogue, query, expected):
    user, films = catalogue
    response = _client(user).get(f"/?{query}")
    assert response.status_code == 200
    order = "year" if "ordering" in query else "title"
    expected_ids = [films[key].pk for key in expected]
    if order == "title":
        expected_ids = sorted(expected_ids, key=lambda pk: next(f.title for f in films.values() if f.pk == pk))
    assert _film_ids(response.content.decode()) == expected_ids


def test_catalogue_keeps_the_filters_in_the_form_and_sort_links(catalogue):
    user, _ = catalogue
    html = _client(user).get("/?search=lin&status=in_review&ordering=-year").content.decode()
    assert 'name="search" id="film-search" value="lin"' in html
    assert '<option value="in_review" selected>' in html
    assert '<input type="hidden" name="ordering" value="-year">' in html
    # The year column is sorted descending; its link flips to ascending and keeps the filters.
    assert 'aria-sort="descending"><a class="sort" href="?search=lin&amp;status=in_review&amp;ordering=year"' in html
    assert '<option value="Lin Chan">' in html and '<option value="1950">1950s</option>' in html
    assert "Rouge Secret" not in html  # facets come from the user's films only


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year_min=abc", "year_min: Enter a number."),
        ("status=lost", "status: Select a valid choice."),
        ("ordering=budget", "ordering: &#x27;budget&#x27; is not one of"),
        ("search=" + "x" * 201, "search: at most 200 characters."),
    ],
)
def test_catalogue_refuses_bad_filters_with_a_400_naming_them(catalogue, query, message):
    user, _ = catalogue
    response = _client(user).get(f"/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'role="alert"' in html and "data-film-id" not in html


def test_catalogue_shows_counts_per_shot_status_and_a_filtered_empty_state(catalogue):
    user, films = catalogue
    harbour = films["harbour"]
    for number, status in enumerate(["approved", "approved", "in_review", "in_restoration", "pending"], start=1):
        ShotFactory(film=harbour, number=number, status=status)
    html = _client(user).get("/?search=rouge").content.decode()
    row = html[html.index(f'data-film-id="{harbour.pk}"'):]
    row = row[: row.index("</tr>")]
    assert "2/5" in row and 'aria-valuenow="40"' in row
    assert "2 approved" in row and "1 in review" in row and "1 restoring" in row and "rejected" not in row
    assert 'class="bar seg-approved" data-width="40.00"' in row  # sized by js/common/boot.js (CSP)

    html = _client(user).get("/?search=nothing-like-this").content.decode()
    assert "No films match these filters." in html


def test_catalogue_query_count_does_not_grow_with_films(member, django_assert_max_num_queries):
    user = member(FilmFactory(), "archivist")
    from tests.webapp.factories import MembershipFactory

    for _ in range(12):
        film = FilmFactory()
        MembershipFactory(user=user, film=film, role="viewer")
        ShotFactory(film=film, status="approved")
    client = _client(user)
    with django_assert_max_num_queries(8):
        assert client.get("/").status_code == 200


# ---- film page ----


@pytest.fixture
def film_with_shots(member):
    film = FilmFactory(title="Rouge Harbour", status="in_review")
    scan = MediaAssetFactory(film=film)
    shots = [
        ShotFactory(film=film, number=1, start_frame=0, end_frame=47, status="in_review", source=scan,
                    metrics={"noise": 6.0, "dust": 0.0002, "scratch": 0.3, "flicker": 0.02, "weave": 0.1,
                             "blockiness": 0.05, "is_grey": True}),
        ShotFactory(film=film, number=2, start_frame=48, end_frame=95, status="pending",
                    transition_in={"type": "dissolve", "start_frame": 36, "end_frame": 59}),
    ]
    ShotVersionFactory(shot=shots[0], number=1)
    ShotVersionFactory(shot=shots[0], number=2)
    return film, shots


def test_film_page_shows_facts_members_and_shot_cards(film_with_shots, member):
    film, shots = film_with_shots
    viewer = member(film, "viewer", username="vera")
    member(film, "creator", username="carl")
    response = _client(viewer).get(f"/films/{film.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Rouge Harbour" in html and "vera" in html and "carl" in html and "Creator" in html
    assert "Frames <strong class=\"num\">96</strong>" in html and "(00:00:04:00)" in html
    first = html[html.index(f'data-shot-id="{shots[0].pk}"'):]
    first = first[: first.index("</article>")]
    assert f'data-href="/films/{film.pk}/shots/{shots[0].pk}/"' in first  # opens the shot review page
    assert f'src="/api/shots/{shots[0].pk}/thumbnail.jpg"' in first
    assert "In review" in first and "v2 of 2" in first and "0–47 · 48 fr" in first and "2.0 s" in first
    assert 'class="fill bad" width="75.0"' in first  # noise 6 of 8: visible
    assert "Scratches" in first and "Flicker" in first
    second = html[html.index(f'data-shot-id="{shots[1].pk}"'):]
    second = second[: second.index("</article>")]
    assert "no version" in second and "Not analysed yet" in second and "No scan" in second
    # the boundary into the shot: a 24-frame dissolve (the first shot has none)
    assert 'data-role="transition"' in second and ">dissolve 24 f<" in second
    assert "film frames 36 to 59" in second and 'data-role="transition"' not in first
    assert f'data-version-id="{shots[0].versions.order_by("-number").first().pk}"' in first  # for sessions
    assert 'data-version-id=""' in second and 'id="start-session"' in html
    # A viewer may not start jobs: no batch actions. Every member may export the film's notes.
    assert 'id="restore-all"' not in html and 'data-can-restore="false"' in html
    assert f'href="/api/comments/export/?film={film.pk}"' in html
    assert f'href="/api/comments/export/?film={film.pk}&amp;as=pdf"' in html
    assert _client(viewer).get(f"/api/comments/export/?film={film.pk}").status_code == 200


@pytest.mark.parametrize("role", ["restorer", "archivist"])
def test_restorers_and_archivists_get_the_batch_actions(film_with_shots, member, role):
    film, _ = film_with_shots
    html = _client(member(film, role)).get(f"/films/{film.pk}/").content.decode()
    assert 'id="restore-all"' in html and 'id="restore-selected"' in html and 'data-can-restore="true"' in html


def test_film_page_filters_shots_by_status_and_keeps_the_view(film_with_shots, member):
    film, shots = film_with_shots
    html = _client(member(film, "viewer")).get(f"/films/{film.pk}/?status=pending&view=strip").content.decode()
    assert 'class="shots strip"' in html
    assert f'data-shot-id="{shots[1].pk}"' in html and f'data-shot-id="{shots[0].pk}"' not in html
    assert 'data-status="pending" aria-current="true">Pending <span class="count">1</span>' in html
    assert 'data-status="in_review">In review <span class="count">1</span>' in html  # counts are the film's
    html = _client(member(film, "viewer")).get(f"/films/{film.pk}/?status=rejected").content.decode()
    assert "No shots with this status." in html


def test_film_page_pages_through_many_shots(film_with_shots, member, monkeypatch):
    from webapp.catalogue import pages

    monkeypatch.setattr(pages, "SHOTS_PER_PAGE", 1)
    film, shots = film_with_shots
    client = _client(member(film, "viewer"))
    first = client.get(f"/films/{film.pk}/").content.decode()
    assert f'data-shot-id="{shots[0].pk}"' in first and f'data-shot-id="{shots[1].pk}"' not in first
    assert "Shots 1–1 of 2" in first and 'rel="next" href="?page=2"' in first
    second = client.get(f"/films/{film.pk}/?page=2").content.decode()
    assert f'data-shot-id="{shots[1].pk}"' in second and 'rel="prev" href="?page=1"' in second
    assert client.get(f"/films/{film.pk}/?page=3").status_code == 404


@pytest.mark.parametrize(("query", "message"), [("status=lost", "status: &#x27;lost&#x27; is not one of"),
                                                ("page=zero", "page: must be a page number from 1."),
                                                ("view=list", "view: must be grid or strip.")])
def test_film_page_refuses_bad_options_with_a_400(film_with_shots, member, query, message):
    film, _ = film_with_shots
    response = _client(member(film, "viewer")).get(f"/films/{film.pk}/?{query}")
    assert response.status_code == 400 and message in response.content.decode()


def test_film_page_is_a_404_for_non_members_and_needs_a_login(film_with_shots, outsider, member):
    film, _ = film_with_shots
    member(FilmFactory(), "archivist", username="elsewhere")
    assert _client(outsider).get(f"/films/{film.pk}/").status_code == 404
    assert Client().get(f"/films/{film.pk}/").status_code == 302
    assert _client(outsider).get("/films/999999/").status_code == 404


def test_defect_bars_scale_and_grade_each_metric():
    bars = {bar["key"]: bar for bar in defect_bars({"noise": 1.0, "dust": 0.0006, "weave": 4.0, "flicker": None,
                                                    "is_grey": True, "blockiness": True})}
    assert set(bars) == {"noise", "dust", "weave"}  # missing, null and non-numbers are left out
    assert bars["noise"]["severity"] == "ok" and bars["noise"]["percent"] == 12.5
    assert bars["dust"]["severity"] == "warn" and "0.06 %" in bars["dust"]["title"]
    assert bars["weave"]["severity"] == "bad" and bars["weave"]["percent"] == 100.0


def test_colour_summary_labels_the_analysis_notes_and_draws_the_cast():
    warm = colour_summary({"is_grey": False, "red_gain": 0.8, "green_gain": 1.0, "blue_gain": 1.25, "colour_notes": [
        "colour cast of 12.5 (8-bit chroma units)", "low contrast: levels span 0.20-0.70 (faded, or the picture's own look)"]})
    assert [note["label"] for note in warm["notes"]] == ["Colour cast of 12.5", "Low contrast"]
    assert warm["notes"][1]["title"].startswith("low contrast: levels span 0.20-0.70")
    red, green, blue = (int(warm["swatch"][i:i + 2], 16) for i in (1, 3, 5))
    assert red > green > blue  # red-heavy picture: a warm swatch
    assert warm["balance"] == "R 1.25 G 1.00 B 0.80" and not warm["grey"]
    balanced = colour_summary({"is_grey": False, "red_gain": 1.0, "green_gain": 1.0, "blue_gain": 1.0, "colour_notes": []})
    assert balanced["notes"] == [] and balanced["swatch"] == "#808080"
    grey = colour_summary({"is_grey": True, "red_gain": None, "colour_notes": ["low saturation: mean chroma 2"]})
    assert grey["grey"] and grey["swatch"] == "" and grey["notes"][0]["label"] == "Low saturation"
    assert colour_summary({"noise": 1.0}) is None  # analysed before colour notes existed: nothing shown
    assert colour_summary({"colour_notes": "cast", "is_grey": False}) is None  # not a list: not shown
    odd = colour_summary({"colour_notes": [None, 3, ""], "is_grey": False, "red_gain": 0, "green_gain": 1, "blue_gain": 1})
    assert odd["notes"] == [] and odd["swatch"] == ""


def test_shot_cards_show_the_analysis_colour_notes(film_with_shots, member):
    film, shots = film_with_shots
    shots[1].metrics = {"noise": 1.0, "is_grey": False, "red_gain": 0.9, "green_gain": 1.0, "blue_gain": 1.1,
                        "colour_notes": ["colour cast of 9.1 (8-bit chroma units)"]}
    shots[1].save(update_fields=["metrics"])
    html = _client(member(film, "viewer")).get(f"/films/{film.pk}/").content.decode()
    first = html[html.index(f'data-shot-id="{shots[0].pk}"'):]
    first = first[: first.index("</article>")]
    second = html[html.index(f'data-shot-id="{shots[1].pk}"'):]
    second = second[: second.index("</article>")]
    assert 'data-role="colour"' not in first  # no colour notes stored
    assert 'title="colour cast of 9.1 (8-bit chroma units)">Colour cast of 9.1</span>' in second
    assert 'class="cast-swatch"' in second and 'fill="#' in second


def test_timecode_and_duration_text():
    assert timecode(0, 24) == "00:00:00:00"
    assert timecode(24 * 3661 + 5, 24) == "01:01:01:05"
    assert timecode(30, 23.976) == "00:00:01:06"  # non-drop: counted at 24
    assert duration_text(None) == "" and duration_text(42.4) == "42 s"
    assert duration_text(185) == "3 m 05 s" and duration_text(3720) == "1 h 02 m"


# ---- job dashboard ----


@pytest.fixture
def jobs(member):
    film = FilmFactory(title="Rouge Harbour")
    other = FilmFactory(title="Secret Orchard")
    shots = [ShotFactory(film=film, number=n) for n in (1, 2)]
    batch = RestorationJobFactory(film=film, kind="restore_batch", status="running", progress=0.5,
                                  params={"preset": "film"},
                                  summary={"children": {"succeeded": 1, "failed": 1},
                                           "failed_shots": [{"shot": shots[1].pk, "number": 2,
                                                             "error": "Decoder error at frame 12"}]})
    children = [
        RestorationJobFactory(film=film, kind="restore", shot=shots[0], parent=batch, status="succeeded", progress=1.0),
        RestorationJobFactory(film=film, kind="restore", shot=shots[1], parent=batch, status="failed",
                              error="Decoder error at frame 12"),
    ]
    analyse = RestorationJobFactory(film=film, kind="analyse", status="failed", error="No video stream.")
    hidden = RestorationJobFactory(film=other, kind="analyse", status="running")
    return film, {"batch": batch, "children": children, "analyse": analyse, "hidden": hidden}


def _job_ids(html: str) -> list[int]:
    import re

    return [int(found) for found in re.findall(r'<tr data-job-id="(\d+)"', html)]


def test_job_dashboard_lists_top_level_jobs_of_my_films(jobs, member):
    film, made = jobs
    response = _client(member(film, "viewer")).get("/jobs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _job_ids(html) == [made["analyse"].pk, made["batch"].pk]  # newest first, no children, not the other film
    assert "1 succeeded" in html and "1 failed" in html and "Decoder error at frame 12" in html
    assert f'href="?parent={made["batch"].pk}"' in html and "No video stream." in html
    assert f'data-live-films="{film.pk}"' in html  # the running batch's film is listened to
    assert 'data-action="cancel"' not in html  # viewers cannot cancel or retry


def test_job_dashboard_actions_follow_the_role(jobs, member):
    film, made = jobs
    html = _client(member(film, "restorer")).get("/jobs/").content.decode()
    batch_row = html[html.index(f'data-job-id="{made["batch"].pk}"'):]
    batch_row = batch_row[: batch_row.index("</tr>")]
    assert '<button type="button" class="btn sm" data-action="cancel">' in batch_row  # running: cancel shown
    analyse_row = html[html.index(f'data-job-id="{made["analyse"].pk}"'):]
    analyse_row = analyse_row[: analyse_row.index("</tr>")]
    assert '<button type="button" class="btn sm" data-action="retry">' in analyse_row  # failed: retry shown
    assert 'data-action="cancel" hidden' in analyse_row


def test_job_dashboard_filters_and_batch_children(jobs, member):
    film, made = jobs
    client = _client(member(film, "viewer"))
    assert _job_ids(client.get("/jobs/?status=failed").content.decode()) == [made["analyse"].pk]
    assert _job_ids(client.get("/jobs/?kind=restore_batch").content.decode()) == [made["batch"].pk]
    assert _job_ids(client.get(f"/jobs/?film={film.pk}&status=running").content.decode()) == [made["batch"].pk]
    children = client.get(f"/jobs/?parent={made['batch'].pk}").content.decode()
    assert sorted(_job_ids(children)) == sorted(job.pk for job in made["children"])
    assert "shot 2" in children
    # Another film's batch has no children to show, as if it did not exist.
    assert _job_ids(client.get(f"/jobs/?parent={made['hidden'].pk}").content.decode()) == []


@pytest.mark.parametrize(("query", "message"), [("status=stuck", "status: Select a valid choice."),
                                                ("parent=first", "parent: must be a job id."),
                                                ("film=abc", "film: Enter a number.")])
def test_job_dashboard_refuses_bad_filters(jobs, member, query, message):
    film, _ = jobs
    response = _client(member(film, "viewer")).get(f"/jobs/?{query}")
    assert response.status_code == 400 and message in response.content.decode()


def test_job_dashboard_needs_a_login_and_shows_nothing_to_outsiders(jobs, outsider):
    assert Client().get("/jobs/").status_code == 302
    html = _client(outsider).get("/jobs/").content.decode()
    assert _job_ids(html) == [] and "No jobs yet." in html


@pytest.mark.parametrize("template", ["404.html", "403.html", "500.html"])
def test_error_pages_use_the_dark_theme(template):
    from django.template.loader import render_to_string

    html = render_to_string(template, request=None)  # the 500 handler renders without a request context
    assert "/static/css/app.css" in html and 'class="btn primary"' in html


def test_a_missing_film_gets_the_styled_404_in_production(member, settings):
    settings.DEBUG = False
    html = _client(member(FilmFactory(), "viewer")).get("/films/999999/").content.decode()
    assert "Not found" in html and "not a member of" in html and 'id="notifications-bell"' in html


def test_versions_at_another_rate_map_shot_frames_by_time():
    from webapp.catalogue.timecode import media_frame, rate_ratio, shot_frames_covered

    assert rate_ratio(23.976, 23.976023976) == 1.0  # one rate, as probed
    assert rate_ratio(24, None) == 1.0
    ratio = rate_ratio(18, 24)  # an 18 fps scan retimed to 24
    assert [media_frame(f, ratio) for f in range(7)] == [0, 1, 2, 4, 5, 6, 8]
    assert shot_frames_covered(24, ratio) == 18 and shot_frames_covered(23, ratio) == 17
    assert shot_frames_covered(24, 1.0) == 24 and shot_frames_covered(0, ratio) == 0
    down = rate_ratio(24, 16)  # retimed down: frames repeat
    assert [media_frame(f, down) for f in range(4)] == [0, 0, 1, 2]
