"""Comments: frame bounds, replies, drawings, who edits and who resolves."""

from __future__ import annotations

import pytest

from tests.webapp.factories import CommentFactory, InReviewVersionFactory, ShotFactory
from webapp.review.drawing import DrawingError, validate_drawing
from webapp.review.models import Comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(film):
    """A version of a 48-frame shot: frames 0..47."""
    return InReviewVersionFactory(shot=ShotFactory(film=film, number=3, start_frame=1000, end_frame=1047))


@pytest.fixture
def viewer(film, member):
    return member(film, "viewer")


def post(client, version, **body):
    return client.post("/api/comments/", {"version": version.pk, "text": "Scratch here", **body})


def test_a_member_comments_on_a_frame_range_with_a_drawing(version, viewer, client_for):
    drawing = [
        {"type": "freehand", "points": [[0.1, 0.1], [0.2, 0.25], [0.3, 0.2]], "colour": "#ff3b30", "width": 0.004},
        {"type": "arrow", "from": [0.5, 0.5], "to": [0.6, 0.4]},
        {"type": "rect", "x": 0.7, "y": 0.7, "w": 0.3, "h": 0.3, "colour": "#0f0"},
        {"type": "text", "x": 0.05, "y": 0.9, "text": "gate hair"},
    ]
    response = post(client_for(viewer), version, frame=0, frame_end=47, drawing=drawing)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["frame"], body["frame_end"], body["author_username"], body["film"]) == (
        0, 47, viewer.username, version.shot.film_id
    )
    assert Comment.objects.get().drawing == drawing


@pytest.mark.parametrize(
    "frames, field",
    [({"frame": 48}, "frame"), ({"frame": 10, "frame_end": 48}, "frame_end"), ({"frame": 10, "frame_end": 9}, "frame_end")],
)
def test_frames_must_lie_within_the_shot(version, viewer, client_for, frames, field):
    response = post(client_for(viewer), version, **frames)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert "0 to 47" in response.json()["detail"] or "ends before" in response.json()["detail"]
    assert not Comment.objects.exists()


def test_replies_stay_on_the_same_version(film, version, viewer, client_for):
    parent = CommentFactory(version=version)
    elsewhere = CommentFactory(version=InReviewVersionFactory(shot=version.shot, number=99))
    client = client_for(viewer)
    assert post(client, version, frame=1, reply_to=parent.pk).status_code == 201
    response = post(client, version, frame=1, reply_to=elsewhere.pk)
    assert response.status_code == 400 and "reply_to" in response.json()["fields"]


def test_blank_text_is_refused(version, viewer, client_for):
    response = client_for(viewer).post("/api/comments/", {"version": version.pk, "frame": 1, "text": "   "})
    assert response.status_code == 400 and "text" in response.json()["fields"]


@pytest.mark.parametrize(
    "drawing, words",
    [
        ({"type": "rect"}, "expected a list"),
        ([{"type": "circle", "x": 0.5}], "shapes[0].type"),
        ([{"type": "arrow", "from": [0.1, 0.1]}], "needs 'to'"),
        ([{"type": "arrow", "from": [0.1, 0.1], "to": [1.5, 0.1]}], "shapes[0].to[0]: 1.5 is outside"),
        ([{"type": "freehand", "points": [[0.1, 0.1], [0.2, "x"]]}], "shapes[0].points[1][1]"),
        ([{"type": "freehand", "points": [[0.1, 0.1]]}], "2 to 2000 points"),
        ([{"type": "rect", "x": 0.8, "y": 0, "w": 0.5, "h": 0.1}], "outside the frame"),
        ([{"type": "text", "x": 0, "y": 0, "text": ""}], "shapes[0].text"),
        ([{"type": "text", "x": 0, "y": 0, "text": "a", "font": "serif"}], "unknown key 'font'"),
        ([{"type": "arrow", "from": [0, 0], "to": [1, 1], "colour": "red"}], "hex colour"),
        ([{"type": "arrow", "from": [0, 0], "to": [1, 1], "width": 0}], "width"),
        ([{"type": "arrow", "from": [0, 0], "to": [1, True]}], "expected a number"),
        ([{"type": "arrow", "from": [0, 0], "to": [1, 1]}] * 201, "too many shapes"),
    ],
)
def test_bad_drawings_are_refused_with_the_place_named(version, viewer, client_for, drawing, words):
    with pytest.raises(DrawingError) as error:
        validate_drawing(drawing)
    assert words in str(error.value)
    response = post(client_for(viewer), version, frame=0, drawing=drawing)
    assert response.status_code == 400
    assert "drawing" in response.json()["fields"] and words in response.json()["detail"]


def test_a_drawing_of_too_many_points_in_all_is_refused():
    stroke = {"type": "freehand", "points": [[0.5, 0.5]] * 2000}
    assert validate_drawing([stroke] * 10) is not None
    with pytest.raises(DrawingError, match="too many points"):
        validate_drawing([stroke] * 11)


def test_a_drawing_over_its_json_size_is_refused(version, viewer, client_for):
    """Within the shape and point counts, full-precision coordinates still make a drawing too big."""
    stroke = {"type": "freehand", "points": [[0.123456789012345, 0.987654321098765]] * 2000}
    response = post(client_for(viewer), version, frame=0, drawing=[stroke] * 10)
    assert response.status_code == 400
    assert "drawing" in response.json()["fields"] and "bytes of JSON (at most 524288)" in response.json()["detail"]
    assert not Comment.objects.exists()


def test_a_comment_over_the_text_limit_is_refused_on_create_and_on_edit(version, viewer, client_for):
    from webapp.review.services import MAX_COMMENT_CHARS

    client = client_for(viewer)
    response = post(client, version, frame=0, text="x" * (MAX_COMMENT_CHARS + 1))
    assert response.status_code == 400 and "text" in response.json()["fields"]
    assert f"at most {MAX_COMMENT_CHARS} characters" in response.json()["detail"]
    assert post(client, version, frame=0, text="x" * MAX_COMMENT_CHARS).status_code == 201
    comment = Comment.objects.get()
    response = client.patch(f"/api/comments/{comment.pk}/", {"text": "y" * (MAX_COMMENT_CHARS + 1)})
    assert response.status_code == 400 and "text" in response.json()["fields"]
    assert Comment.objects.get().text == "x" * MAX_COMMENT_CHARS


def test_author_edits_own_text_others_cannot(film, version, viewer, member, client_for):
    comment = CommentFactory(version=version, author=viewer)
    response = client_for(viewer).patch(f"/api/comments/{comment.pk}/", {"text": "Scratch, frames 3-9"})
    assert response.status_code == 200 and response.json()["text"] == "Scratch, frames 3-9"
    for role in ("creator", "archivist"):
        response = client_for(member(film, role)).patch(f"/api/comments/{comment.pk}/", {"text": "rewritten"})
        assert response.status_code == 403 and "author" in response.json()["detail"]
    assert Comment.objects.get(pk=comment.pk).text == "Scratch, frames 3-9"


def test_author_and_archivists_resolve_others_cannot(film, version, viewer, member, client_for):
    comment = CommentFactory(version=version, author=viewer)
    response = client_for(member(film, "restorer")).patch(f"/api/comments/{comment.pk}/", {"resolved": True})
    assert response.status_code == 403
    assert not Comment.objects.get(pk=comment.pk).resolved
    assert client_for(member(film, "archivist")).patch(f"/api/comments/{comment.pk}/", {"resolved": True}).json()[
        "resolved"
    ]
    assert client_for(viewer).patch(f"/api/comments/{comment.pk}/", {"resolved": False}).status_code == 200
    assert not Comment.objects.get(pk=comment.pk).resolved


def test_comments_are_not_deleted(version, viewer, client_for):
    comment = CommentFactory(version=version, author=viewer)
    assert client_for(viewer).delete(f"/api/comments/{comment.pk}/").status_code == 405


def test_comment_filters_by_frame_range_and_resolved(version, viewer, client_for):
    at_5 = CommentFactory(version=version, frame=5)
    span_10_20 = CommentFactory(version=version, frame=10, frame_end=20)
    at_30 = CommentFactory(version=version, frame=30, resolved=True)
    client = client_for(viewer)
    ids = lambda **query: [row["id"] for row in client.get("/api/comments/", query).json()["results"]]  # noqa: E731
    assert ids(version=version.pk) == [at_5.pk, span_10_20.pk, at_30.pk]
    assert ids(frame_min=15, frame_max=25) == [span_10_20.pk]  # overlaps the range
    assert ids(frame_min=6, frame_max=9) == []
    assert ids(resolved="true") == [at_30.pk]
    assert ids(resolved="false", ordering="-frame") == [span_10_20.pk, at_5.pk]


def test_edits_keep_the_replaced_text_as_the_comments_history_for_members(film, version, viewer, member,
                                                                          outsider, client_for):
    comment = CommentFactory(version=version, author=viewer, text="Dust at 3")
    client = client_for(viewer)
    assert client.patch(f"/api/comments/{comment.pk}/", {"text": "Dust at 3-5"}).status_code == 200
    assert client.patch(f"/api/comments/{comment.pk}/", {"text": "Dust at 3-5"}).status_code == 200  # unchanged
    assert client.patch(f"/api/comments/{comment.pk}/", {"resolved": True}).status_code == 200
    assert client.patch(f"/api/comments/{comment.pk}/", {"text": "  "}).status_code == 400
    assert client.patch(f"/api/comments/{comment.pk}/", {"text": "Dust at 3-9"}).status_code == 200

    response = client_for(member(film, "creator")).get(f"/api/comments/{comment.pk}/history/")
    assert response.status_code == 200
    assert [(r["previous_text"], r["editor"], r["editor_name"]) for r in response.json()] == [
        ("Dust at 3", viewer.pk, viewer.username), ("Dust at 3-5", viewer.pk, viewer.username)
    ]
    assert client.get(f"/api/comments/{comment.pk}/").json()["text"] == "Dust at 3-9"
    assert client_for(outsider).get(f"/api/comments/{comment.pk}/history/").status_code == 404
    assert client.post(f"/api/comments/{comment.pk}/history/", {}).status_code == 405
