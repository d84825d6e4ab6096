"""The OpenAPI 3 schema generates without warnings and documents every resource."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

RESOURCES = ["films", "shots", "versions", "comments", "decisions", "jobs", "memberships"]


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        # --fail-on-warn turns every generator warning or error (an unannotated field, a view
        # it cannot guess) into a failure.
        call_command("spectacular", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_schema_is_openapi_3_and_lists_every_resource(schema):
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for resource in RESOURCES:
        assert f"/api/{resource}/" in paths and f"/api/{resource}/{{id}}/" in paths, resource
    assert "post" in paths["/api/versions/{id}/publish/"]
    assert "post" in paths["/api/auth/token/"]


def test_schema_documents_permissions_and_append_only_decisions(schema):
    paths = schema["paths"]
    assert set(paths["/api/decisions/{id}/"]) - {"parameters"} == {"get"}
    assert set(paths["/api/jobs/"]) - {"parameters"} == {"get", "post"}  # post: start a restore job
    assert set(paths["/api/jobs/{id}/"]) - {"parameters"} == {"get"}
    film_filters = {parameter["name"] for parameter in paths["/api/films/"]["get"]["parameters"]}
    assert {"decade", "director", "status", "search", "ordering", "page", "page_size"} <= film_filters
    assert schema["components"]["schemas"]["VerdictEnum"]["enum"] == ["approve", "reject", "changes_requested", "reopen"]


def test_schema_and_docs_are_served_to_signed_in_users(client, outsider):
    client.force_login(outsider)
    response = client.get("/api/schema/")
    assert response.status_code == 200 and b"/api/films/" in response.content
    assert client.get("/api/docs/").status_code == 200


def test_anonymous_visitors_get_neither_the_schema_nor_the_docs_unless_debug(client, settings):
    settings.DEBUG = False
    assert client.get("/api/schema/").status_code == 401
    response = client.get("/api/docs/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/api/docs/")
    settings.DEBUG = True
    assert client.get("/api/schema/").status_code == 200


def test_the_browsable_api_renders_for_a_member(film, member, client_for):
    """The HTML forms list related objects through the same visible-only querysets."""
    from tests.webapp.factories import InReviewVersionFactory, ShotFactory

    version = InReviewVersionFactory(shot=ShotFactory(film=film))
    client = client_for(member(film, "archivist"))
    for url in ["/api/", "/api/films/", "/api/comments/", f"/api/versions/{version.pk}/", "/api/memberships/",
                "/api/grades/", "/api/scenes/", "/api/grade-decisions/"]:
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200 and b"<html" in response.content, url


IDEMPOTENT_POSTS = ["/api/comments/", "/api/decisions/", "/api/jobs/", "/api/grades/", "/api/grade-decisions/", "/api/films/{film_id}/restore/",
                    "/api/films/{film_id}/analyse/", "/api/films/{film_id}/proxies/", "/api/films/{film_id}/deliver/"]


def _headers(operation):
    return {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "header"}


def test_schema_documents_idempotency_keys_on_the_creates_that_take_them(schema):
    paths = schema["paths"]
    for path in IDEMPOTENT_POSTS:
        operation = paths[path]["post"]
        assert _headers(operation) == {"Idempotency-Key"}, path
        assert {"409", "422"} <= set(operation["responses"]), path
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"], path
        success = next(code for code in operation["responses"] if code.startswith("2"))
        assert "Idempotent-Replayed" in operation["responses"][success]["headers"], path
    # Not elsewhere: edits, actions on a job, reads.
    for path, method in [("/api/comments/{id}/", "patch"), ("/api/jobs/{id}/cancel/", "post"),
                         ("/api/comments/", "get"), ("/api/versions/", "post")]:
        operation = paths[path][method]
        assert "Idempotency-Key" not in _headers(operation) and "409" not in operation["responses"], (path, method)


def test_schema_documents_the_colour_api(schema):
    paths = schema["paths"]
    for path in ("/api/grades/", "/api/grades/{id}/", "/api/grades/{id}/lut/", "/api/grades/{id}/export/",
                 "/api/grades/export/", "/api/grades/import/", "/api/grades/{id}/summary/", "/api/scenes/",
                 "/api/scenes/propose/", "/api/grade-decisions/", "/api/grade-references/{id}/still/",
                 "/api/shots/{id}/grade/", "/api/versions/{id}/grade/", "/api/films/{film_id}/grade-fit/"):
        assert path in paths, path
    assert set(paths["/api/grade-decisions/{id}/"]) - {"parameters"} == {"get"}  # append-only
    assert set(paths["/api/grades/{id}/"]) - {"parameters"} == {"get"}
    assert schema["components"]["schemas"]["GradeStatusEnum"]["enum"] == [
        "proposed", "changes_requested", "approved", "rejected"]


def test_every_operation_documents_its_errors_with_the_one_error_body(schema):
    error_ref = "#/components/schemas/Error"
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail", "code"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            expected = set()
            if path != "/api/auth/token/":
                expected |= {"401", "403"}
            if "{" in path:
                expected.add("404")
            if "requestBody" in operation:
                expected |= {"400", "413", "415"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == {"$ref": error_ref}, (method, path)


def test_ids_pages_and_id_filters_are_bounded_integers_in_the_schema(schema):
    films = schema["paths"]["/api/films/{id}/"]["get"]["parameters"]
    assert {"name": "id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}.items() <= films[0].items()
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/comments/"]["get"]["parameters"]}
    assert parameters["page"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert parameters["version"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert parameters["frame_min"]["type"] == "integer"
