"""Bad input gets a 4xx with a message naming the problem, in the one error shape, and changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.webapp.factories import FilmFactory, InReviewVersionFactory, ShotFactory
from webapp.catalogue.models import Film
from webapp.review.models import Comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def archivist_client(film, member, client_for):
    return client_for(member(film, "archivist"))


@pytest.fixture
def version(film):
    return InReviewVersionFactory(shot=ShotFactory(film=film, number=1))


def post_raw(client, path, body: bytes, content_type="application/json"):
    return client.generic("POST", path, body, content_type=content_type)


def test_malformed_json_is_a_parse_error(archivist_client, version):
    response = post_raw(archivist_client, "/api/comments/", b'{"version": 1, "frame": ')
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert "JSON parse error" in body["detail"]
    assert Comment.objects.count() == 0


def test_a_json_list_instead_of_an_object_is_refused(archivist_client, version):
    response = post_raw(archivist_client, "/api/comments/", b"[1, 2]")
    assert response.status_code == 400
    assert "Expected a dictionary" in response.json()["detail"]


def test_form_encoded_bodies_are_unsupported(archivist_client, version):
    response = post_raw(archivist_client, "/api/comments/", b"frame=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"frame": "three", "text": "x"}, "frame"),
        ({"frame": 1.5, "text": "x"}, "frame"),
        ({"frame": -1, "text": "x"}, "frame"),
        ({"frame": 1, "text": ["not", "text"]}, "text"),
        ({"frame": 1, "text": "x", "resolved": "maybe"}, "resolved"),
        ({"frame": 1, "text": "x", "drawing": "a circle"}, "drawing"),
        ({"frame": 1}, "text"),
    ],
)
def test_wrong_types_name_the_field(archivist_client, version, body, field):
    response = archivist_client.post("/api/comments/", {"version": version.pk, **body})
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["code"] == "invalid"
    assert field in payload["fields"]
    assert payload["detail"].startswith(f"{field}:")
    assert Comment.objects.count() == 0


def test_unknown_fields_are_refused_by_name(archivist_client, version):
    response = archivist_client.post(
        "/api/comments/", {"version": version.pk, "frame": 1, "text": "x", "colour": "red", "txt": "typo"}
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert fields == {"colour": ["Unknown field."], "txt": ["Unknown field."]}
    assert Comment.objects.count() == 0


def test_read_only_fields_are_refused_by_name(archivist_client, film):
    response = archivist_client.patch(f"/api/films/{film.pk}/", {"shot_count": 5, "title": "New"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"shot_count": ["Read-only field."]}
    assert Film.objects.get(pk=film.pk).title == film.title


def test_fields_fixed_at_creation_cannot_be_changed(film, member, client_for, version):
    author = member(film, "viewer")
    comment = client_for(author).post("/api/comments/", {"version": version.pk, "frame": 1, "text": "x"}).json()
    response = client_for(author).patch(f"/api/comments/{comment['id']}/", {"frame": 2})
    assert response.status_code == 400
    assert response.json()["fields"] == {"frame": ["Cannot be changed after creation."]}


def test_oversized_json_body_is_413_with_a_clear_message(archivist_client, version, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    text = "x" * 20_000
    response = archivist_client.post("/api/comments/", {"version": version.pk, "frame": 1, "text": text})
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "request_too_large"
    assert "10000 bytes" in body["detail"] and "DATA_UPLOAD_MAX_MEMORY_SIZE" in body["detail"]
    assert Comment.objects.count() == 0


def test_a_body_that_hides_its_size_is_still_cut_at_the_limit(archivist_client, version, settings):
    """A client that declares a small Content-Length but sends more must not be read past the limit."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    body = json.dumps({"version": version.pk, "frame": 1, "text": "y" * 5_000}).encode()
    response = archivist_client.generic("POST", "/api/comments/", body, content_type="application/json",
                                        CONTENT_LENGTH="10")
    assert response.status_code in (400, 413)  # truncated JSON or over the limit: never accepted
    assert Comment.objects.count() == 0


def test_a_body_just_under_the_limit_is_accepted(archivist_client, version, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = archivist_client.post("/api/comments/", {"version": version.pk, "frame": 1, "text": "x" * 9_000})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "query, field",
    [
        ({"ordering": "password"}, "ordering"),
        ({"ordering": "year,-nonsense"}, "ordering"),
        ({"year": "nineteen"}, "year"),
        ({"status": "lost"}, "status"),
        ({"decade": "twenties"}, "decade"),
    ],
)
def test_bad_query_parameters_name_the_parameter(archivist_client, query, field):
    response = archivist_client.get("/api/films/", query)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_ordering_error_lists_what_is_allowed(archivist_client):
    detail = archivist_client.get("/api/films/", {"ordering": "secret"}).json()["detail"]
    assert "Cannot order by secret" in detail and "year" in detail


def test_a_page_past_the_end_is_404(archivist_client):
    response = archivist_client.get("/api/films/", {"page": 99})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_film_constraints_are_validated_before_the_database(archivist_client, film):
    for body, field in [({"year": 1700}, "year"), ({"title": ""}, "title"), ({"runtime_minutes": 0}, "runtime_minutes"),
                        ({"status": "lost"}, "status")]:
        response = archivist_client.patch(f"/api/films/{film.pk}/", body)
        assert response.status_code == 400, body
        assert field in response.json()["fields"]
    assert Film.objects.get(pk=film.pk).year == film.year


def test_unknown_api_method_is_405_in_the_error_shape(archivist_client, film):
    response = archivist_client.delete(f"/api/films/{film.pk}/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert Film.objects.filter(pk=film.pk).exists()


def test_an_other_films_id_in_a_filter_finds_nothing(archivist_client):
    elsewhere = FilmFactory()
    ShotFactory(film=elsewhere)
    response = archivist_client.get("/api/shots/", {"film": elsewhere.pk})
    assert response.status_code == 200 and response.json()["count"] == 0


# Found by fuzzing the schema (issue #14): each of these was a 500.


@pytest.mark.parametrize("page", ["2147483648", "9" * 40, "1e400", "0", "-1", "1.5", "two"])
def test_an_out_of_range_or_malformed_page_names_the_page(archivist_client, page):
    response = archivist_client.get("/api/films/", {"page": page})
    assert response.status_code in (400, 404), response.content
    body = response.json()
    assert "page" in body["detail"].lower()


@pytest.mark.parametrize("page_size", ["2147483648", "-5", "many"])
def test_a_bad_page_size_names_the_parameter(archivist_client, page_size):
    response = archivist_client.get("/api/films/", {"page_size": page_size})
    assert response.status_code == 400, response.content
    assert "page_size" in response.json()["fields"]


@pytest.mark.parametrize(
    "path, query, field",
    [
        ("/api/sessions/", {"film": "1.36e49"}, "film"),
        ("/api/versions/", {"shot": "-0.33", "film": "2.4e22"}, "shot"),
        ("/api/versions/", {"film": "2.4e22"}, "film"),
        ("/api/jobs/", {"parent": "-1.6e169", "film": "-1.79e308"}, "parent"),
        ("/api/jobs/", {"film": "-1.79e308"}, "film"),
        ("/api/shots/", {"film": "9223372036854775808"}, "film"),
        ("/api/shots/", {"number_min": "1e30"}, "number_min"),
        ("/api/films/", {"year": "1e30"}, "year"),
        ("/api/films/", {"decade": "1e308"}, "decade"),
        ("/api/approval-policies/", {"film": "1.5"}, "film"),
        ("/api/approval-policies/", {"film": "99999999999999999999"}, "film"),
        ("/api/comments/", {"version": "1e40"}, "version"),
    ],
)
def test_ids_and_numbers_in_filters_must_be_integers_in_range(archivist_client, path, query, field):
    response = archivist_client.get(path, query)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


@pytest.mark.parametrize(
    "method, path",
    [("get", "/api/sessions/4292168688525/invites/"), ("get", "/api/films/99999999999999999999/"),
     ("get", "/api/comments/2147483648/"), ("get", "/api/versions/-1/"), ("get", "/api/shots/1.5/grade/"),
     ("post", "/api/films/9223372036854775808/restore/"), ("post", "/api/sessions/1/invites/1e99/revoke/"),
     ("get", "/api/versions/0/")],
)
def test_an_id_out_of_range_in_the_path_is_404(archivist_client, method, path):
    response = getattr(archivist_client, method)(path)
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_an_empty_key_in_a_body_is_refused_by_name(film, member, client_for, version):
    author = member(film, "viewer")
    comment = client_for(author).post("/api/comments/", {"version": version.pk, "frame": 1, "text": "x"}).json()
    response = client_for(author).patch(f"/api/comments/{comment['id']}/", {"": None})
    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {"": ["Unknown field."]}
    assert response.json()["detail"] == '"": Unknown field.'
    assert Comment.objects.get(pk=comment["id"]).text == "x"


def test_junk_keys_in_a_policy_are_refused_by_name(archivist_client, film):
    from webapp.review.models import ApprovalPolicy

    policy = ApprovalPolicy.objects.create(film=film)
    body = {"archivist_required": True, "creator_required": False,
            "required_roles": {"x": {"y": []}}, "": {"nested": None}}
    response = archivist_client.put(f"/api/approval-policies/{policy.pk}/", body)
    assert response.status_code == 400, response.content
    assert set(response.json()["fields"]) == {"required_roles", ""}
    assert ApprovalPolicy.objects.get(pk=policy.pk).creator_required is True


@pytest.mark.parametrize("path", ["/api/comments/", "/api/auth/token/", "/api/films/"])
def test_json_nested_too_deep_is_a_parse_error(api_client, archivist_client, path):
    client = api_client if path == "/api/auth/token/" else archivist_client
    body = b"[" * 5000 + b"]" * 5000
    response = post_raw(client, path, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "parse_error"
    assert "deep" in response.json()["detail"]


def test_unknown_keys_are_refused_in_plain_bodies_and_nested_ones(archivist_client, film):
    session = archivist_client.post("/api/sessions/", {"film": film.pk, "title": "T", "versions": [], "colour": 1})
    assert session.status_code == 400 and session.json()["fields"] == {"colour": ["Unknown field."]}
    cdl = {"slope": [1, 1, 1], "offset": [0, 0, 0], "power": [1, 1, 1], "saturation": 1, "": 5}
    grade = archivist_client.post("/api/grades/", {"shot": ShotFactory(film=film).pk, "cdl": cdl})
    assert grade.status_code == 400, grade.content
    assert grade.json()["fields"] == {"cdl": {"": ["Unknown field."]}}
    assert grade.json()["detail"] == 'cdl: Unknown field.'


def test_brackets_inside_strings_do_not_count_as_depth(archivist_client, version):
    text = '[{"\\"' * 100
    response = archivist_client.post("/api/comments/", {"version": version.pk, "frame": 1, "text": text})
    assert response.status_code == 201, response.content
    assert Comment.objects.get().text == text


def test_the_depth_limit_is_exact(archivist_client, version, settings):
    from webapp.api.parsers import json_depth_exceeds

    limit = settings.API_JSON_MAX_DEPTH
    assert not json_depth_exceeds("[" * limit + "]" * limit, limit)
    assert json_depth_exceeds("[" * (limit + 1) + "]" * (limit + 1), limit)
    nested_three_deep = '{"a": "[[[[[[", "b": [1, {"c": "]]]"}]}'
    assert not json_depth_exceeds(nested_three_deep, 3) and json_depth_exceeds(nested_three_deep, 2)
    drawing = "[" * 40 + "]" * 40
    body = f'{{"version": {version.pk}, "frame": 1, "text": "x", "drawing": {drawing}}}'
    response = post_raw(archivist_client, "/api/comments/", body.encode())
    assert response.status_code == 400 and f"deeper than {limit} levels" in response.json()["detail"]
    assert Comment.objects.count() == 0


def test_filters_are_bounded_once_per_view_not_once_per_request(archivist_client):
    from webapp.api.filters import StrictFilterBackend

    for _ in range(3):
        assert archivist_client.get("/api/approval-policies/", {"film": "1"}).status_code == 200
        assert archivist_client.get("/api/comments/", {"version": "1"}).status_code == 200
    keys = list(StrictFilterBackend._bounded_classes)
    assert len(keys) == len(set(map(repr, keys)))  # no class built twice for the same view
    assert sum(1 for key in keys if isinstance(key, tuple)) <= 1  # approval policies' filterset_fields
