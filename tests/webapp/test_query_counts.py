"""Lists and details cost a constant number of SQL queries, whatever the page holds.

Each endpoint is measured with 5 rows and with 50 rows under the same bound: a query per row
(an N+1) would blow it.
"""

from __future__ import annotations

import pytest

from tests.webapp.factories import (
    CommentFactory,
    DecisionFactory,
    FilmFactory,
    InReviewVersionFactory,
    MembershipFactory,
    RestorationJobFactory,
    ShotFactory,
)

pytestmark = pytest.mark.django_db

# A non-staff member: their lists go through visible_films and the role annotation.
MAX_LIST_QUERIES = 4  # count + page (+ savepoint noise on some backends)
MAX_DETAIL_QUERIES = 3


def grow(user, rows: int) -> dict:
    """``rows`` rows of every kind, all visible to ``user`` (archivist of every film)."""
    made = {}
    for _ in range(rows):
        film = FilmFactory()
        MembershipFactory(film=film, user=user, role="archivist")
        shot = ShotFactory(film=film, number=1, status="approved")
        ShotFactory(film=film, number=2)
        version = InReviewVersionFactory(shot=shot, number=1)
        made = {
            "films": film,
            "shots": shot,
            "versions": version,
            "comments": CommentFactory(version=version, author=user),
            "decisions": DecisionFactory(version=version, reviewer=user),
            "jobs": RestorationJobFactory(film=film, shot=shot, created_by=user),
            "memberships": MembershipFactory(film=film),
        }
    return made


RESOURCES = ["films", "shots", "versions", "comments", "decisions", "jobs", "memberships"]


@pytest.mark.parametrize("resource", RESOURCES)
def test_list_queries_do_not_grow_with_rows(resource, client_for, outsider, django_assert_max_num_queries):
    client = client_for(outsider)
    grow(outsider, 5)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        small = client.get(f"/api/{resource}/", {"page_size": 100})
    assert small.status_code == 200 and small.json()["count"] >= 5
    grow(outsider, 45)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        large = client.get(f"/api/{resource}/", {"page_size": 100})
    assert large.status_code == 200 and len(large.json()["results"]) >= 50


@pytest.mark.parametrize("resource", RESOURCES)
def test_detail_queries_are_few(resource, client_for, outsider, django_assert_max_num_queries):
    client = client_for(outsider)
    target = grow(outsider, 5)[resource]
    with django_assert_max_num_queries(MAX_DETAIL_QUERIES):
        response = client.get(f"/api/{resource}/{target.pk}/")
    assert response.status_code == 200


def test_film_list_counts_are_right_at_scale(client_for, outsider):
    grow(outsider, 50)
    rows = client_for(outsider).get("/api/films/", {"page_size": 100}).json()["results"]
    assert {(row["shot_count"], row["approved_shot_count"], row["my_role"]) for row in rows} == {(2, 1, "archivist")}
