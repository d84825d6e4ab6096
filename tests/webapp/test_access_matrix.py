"""Who may do what, through the API: every role x every action, on one film.

Rows: the four film roles, a logged-in user of another film (non-member), anonymous, staff.
Non-members must not learn that the film exists: 404 on its objects (or 400 naming the field
when they send its ids in a body), anonymous 401, a member whose role does not allow it 403.
"""

from __future__ import annotations

import pytest

from tests.webapp.factories import (
    CommentFactory,
    DecisionFactory,
    InReviewVersionFactory,
    MembershipFactory,
    RestorationJobFactory,
    ShotFactory,
    ShotVersionFactory,
    UserFactory,
)
from webapp.catalogue.models import Membership, ShotVersion
from webapp.review.models import Comment, Decision

pytestmark = pytest.mark.django_db

PRINCIPALS = ["viewer", "creator", "restorer", "archivist", "non_member", "anonymous", "staff"]


@pytest.fixture
def scene(film, other_film, member, staff_user):
    """A film with a shot, a draft and an in-review version; one user per principal."""
    shot = ShotFactory(film=film, number=1)
    users = {role: member(film, role) for role in ("viewer", "creator", "restorer", "archivist")}
    users["non_member"] = member(other_film, "archivist")  # a real user, just not on this film
    users["anonymous"] = None
    users["staff"] = staff_user
    return {
        "film": film,
        "shot": shot,
        "draft": ShotVersionFactory(shot=shot, number=1),
        "in_review": InReviewVersionFactory(shot=shot, number=2),
        "users": users,
    }


def list_films(client, scene):
    response = client.get("/api/films/")
    if response.status_code == 200:
        ids = [row["id"] for row in response.json()["results"]]
        return "listed" if scene["film"].pk in ids else "absent"
    return response.status_code


def read_film(client, scene):
    return client.get(f"/api/films/{scene['film'].pk}/").status_code


def comment(client, scene):
    response = client.post("/api/comments/", {"version": scene["in_review"].pk, "frame": 3, "text": "Dust at 3"})
    return response.status_code


def publish(client, scene):
    return client.post(f"/api/versions/{scene['draft'].pk}/publish/").status_code


def decide(client, scene):
    response = client.post("/api/decisions/", {"version": scene["in_review"].pk, "verdict": "changes_requested"})
    return response.status_code


def manage_members(client, scene):
    newcomer = UserFactory()
    response = client.post(
        "/api/invitations/", {"film": scene["film"].pk, "invitee": newcomer.username, "role": "viewer"}
    )
    return response.status_code


def edit_film(client, scene):
    return client.patch(f"/api/films/{scene['film'].pk}/", {"source_notes": "35mm nitrate"}).status_code


EXPECTED = {
    #                viewer    creator   restorer  archivist  non_member anonymous  staff
    list_films:     ["listed", "listed", "listed", "listed", "absent", 401, "listed"],
    read_film:      [200, 200, 200, 200, 404, 401, 200],
    comment:        [201, 201, 201, 201, 400, 401, 201],
    publish:        [403, 403, 200, 200, 404, 401, 200],
    # Staff who hold no role on the film cannot decide: a decision records the reviewer's role.
    decide:         [403, 201, 403, 201, 400, 401, 403],
    manage_members: [403, 403, 403, 201, 400, 401, 201],
    edit_film:      [403, 403, 403, 200, 404, 401, 200],
}

CASES = [
    pytest.param(action, principal, expected[index], id=f"{action.__name__}-{principal}")
    for action, expected in EXPECTED.items()
    for index, principal in enumerate(PRINCIPALS)
]

# What each successful action leaves behind, to check refusals change nothing.
def snapshot(scene):
    return (
        Comment.objects.count(),
        Decision.objects.count(),
        Membership.objects.count(),
        ShotVersion.objects.get(pk=scene["draft"].pk).status,
        scene["film"].__class__.objects.get(pk=scene["film"].pk).source_notes,
    )


@pytest.mark.parametrize("action, principal, expected", CASES)
def test_role_action_matrix(scene, client_for, action, principal, expected):
    before = snapshot(scene)
    outcome = action(client_for(scene["users"][principal]), scene)
    assert outcome == expected
    if isinstance(expected, int) and expected >= 400:
        assert snapshot(scene) == before, "a refused request changed something"


def test_the_matrix_matches_access_rules_for_successful_writes(scene, client_for):
    """Spot-check what a permitted write did: decision records the role, publish sets the time."""
    assert decide(client_for(scene["users"]["creator"]), scene) == 201
    assert Decision.objects.get().role == "creator"
    assert publish(client_for(scene["users"]["restorer"]), scene) == 200
    draft = ShotVersion.objects.get(pk=scene["draft"].pk)
    assert draft.status == "in_review" and draft.published_at is not None


def test_staff_with_a_deciding_role_on_the_film_may_decide(scene, client_for):
    MembershipFactory(film=scene["film"], user=scene["users"]["staff"], role="archivist")
    assert decide(client_for(scene["users"]["staff"]), scene) == 201


# --- another film's objects ---------------------------------------------------------------------


@pytest.fixture
def elsewhere(other_film):
    """A full set of objects on a film the test's user is not a member of."""
    shot = ShotFactory(film=other_film, number=1)
    version = InReviewVersionFactory(shot=shot, number=1)
    return {
        "films": other_film,
        "shots": shot,
        "versions": version,
        "comments": CommentFactory(version=version),
        "decisions": DecisionFactory(version=version),
        "jobs": RestorationJobFactory(film=other_film),
        "memberships": MembershipFactory(film=other_film),
    }


@pytest.mark.parametrize("resource", ["films", "shots", "versions", "comments", "decisions", "jobs", "memberships"])
def test_objects_of_another_film_answer_404_and_are_never_listed(film, member, client_for, elsewhere, resource):
    client = client_for(member(film, "archivist"))
    target = elsewhere[resource]
    assert client.get(f"/api/{resource}/{target.pk}/").status_code == 404
    listed = client.get(f"/api/{resource}/").json()["results"]
    assert target.pk not in [row["id"] for row in listed]
    # Filtering by the other film's id finds nothing rather than an error that would confirm it.
    response = client.get(f"/api/{resource}/", {"film": elsewhere["films"].pk})
    assert response.status_code == 200 and (resource == "films" or response.json()["count"] == 0)


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("patch", "/api/films/{films}/", {"title": "Mine now"}),
        ("patch", "/api/comments/{comments}/", {"resolved": True}),
        ("patch", "/api/memberships/{memberships}/", {"role": "archivist"}),
        ("delete", "/api/memberships/{memberships}/", None),
        ("post", "/api/versions/{versions}/publish/", None),
        ("patch", "/api/versions/{versions}/", {"notes": "x"}),
    ],
)
def test_writes_to_another_films_objects_answer_404(film, member, client_for, elsewhere, method, path, body):
    client = client_for(member(film, "archivist"))
    url = path.format(**{name: obj.pk for name, obj in elsewhere.items()})
    before = (Comment.objects.filter(resolved=True).count(), Membership.objects.count())
    response = getattr(client, method)(url, body) if body is not None else getattr(client, method)(url)
    assert response.status_code == 404
    assert (Comment.objects.filter(resolved=True).count(), Membership.objects.count()) == before


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/comments/", {"version": "{versions}", "frame": 0, "text": "hi"}, "version"),
        ("/api/decisions/", {"version": "{versions}", "verdict": "approve"}, "version"),
        ("/api/versions/", {"shot": "{shots}"}, "shot"),
        ("/api/invitations/", {"film": "{films}", "invitee": "someone", "role": "viewer"}, "film"),
    ],
)
def test_ids_of_another_film_in_a_body_are_400_naming_the_field(film, member, client_for, elsewhere, path, body, field):
    UserFactory(username="someone")
    client = client_for(member(film, "archivist"))
    filled = {key: (elsewhere[value[1:-1]].pk if isinstance(value, str) and value.startswith("{") else value)
              for key, value in body.items()}
    counts = (Comment.objects.count(), Decision.objects.count(), ShotVersion.objects.count(), Membership.objects.count())
    response = client.post(path, filled)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert "does not exist" in response.json()["detail"]
    assert counts == (Comment.objects.count(), Decision.objects.count(), ShotVersion.objects.count(),
                      Membership.objects.count())


def test_the_role_is_checked_before_the_body(scene, client_for):
    """A member without the role learns nothing from validation: 403 even for a bad body."""
    viewer = client_for(scene["users"]["viewer"])
    assert viewer.patch(f"/api/films/{scene['film'].pk}/", {"year": "soon"}).status_code == 403
    assert viewer.post("/api/films/", {"title": ""}).status_code == 403
    assert viewer.patch(f"/api/versions/{scene['draft'].pk}/", {"notes": 5}).status_code == 403
