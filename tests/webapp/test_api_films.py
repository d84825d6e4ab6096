"""Films: who creates them, filters, search, ordering, pagination and review progress."""

from __future__ import annotations

import pytest

from tests.webapp.factories import FilmFactory, MembershipFactory, ShotFactory, UserFactory
from webapp.catalogue.models import Film, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(staff_user):
    """Five films spanning the silent era to the sixties."""
    return {
        "nosferatu": FilmFactory(title="Nosferatu", original_title="Nosferatu, eine Symphonie des Grauens",
                                 year=1922, directors="F. W. Murnau", status="in_review"),
        "metropolis": FilmFactory(title="Metropolis", year=1927, directors="Fritz Lang", status="in_restoration"),
        "m": FilmFactory(title="M", year=1931, directors="Fritz Lang", status="approved"),
        "rashomon": FilmFactory(title="Rashomon", year=1950, directors="Akira Kurosawa", status="new"),
        "breathless": FilmFactory(title="Breathless", original_title="A bout de souffle", year=1960,
                                  directors="Jean-Luc Godard", status="new"),
    }


def titles(response):
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


@pytest.fixture
def staff_client(client_for, staff_user):
    return client_for(staff_user)


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"decade": 1920}, ["Metropolis", "Nosferatu"]),
        ({"decade": 1925}, ["Metropolis", "Nosferatu"]),
        ({"year": 1931}, ["M"]),
        ({"year_min": 1930, "year_max": 1955}, ["M", "Rashomon"]),
        ({"status": "new"}, ["Breathless", "Rashomon"]),
        ({"status": ["new", "approved"]}, ["Breathless", "M", "Rashomon"]),
        ({"director": "lang"}, ["M", "Metropolis"]),
        ({"search": "souffle"}, ["Breathless"]),
        ({"search": "grauens"}, ["Nosferatu"]),
        ({"search": "kurosawa"}, ["Rashomon"]),
        ({"ordering": "year"}, ["Nosferatu", "Metropolis", "M", "Rashomon", "Breathless"]),
        ({"ordering": "-year,title"}, ["Breathless", "Rashomon", "M", "Metropolis", "Nosferatu"]),
        ({"decade": 1920, "ordering": "-title"}, ["Nosferatu", "Metropolis"]),
    ],
)
def test_film_filters_search_and_ordering(staff_client, catalogue, query, expected):
    assert titles(staff_client.get("/api/films/", query)) == expected


def test_pagination_with_page_size_and_its_maximum(staff_client, catalogue):
    first = staff_client.get("/api/films/", {"page_size": 2, "ordering": "year"}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["previous"] is None
    assert "page=2" in first["next"]
    last = staff_client.get("/api/films/", {"page_size": 2, "page": 3, "ordering": "year"}).json()
    assert [row["title"] for row in last["results"]] == ["Breathless"] and last["next"] is None
    FilmFactory.create_batch(200)
    largest = staff_client.get("/api/films/", {"page_size": 200}).json()
    assert len(largest["results"]) == 200  # StandardPagination.max_page_size
    too_large = staff_client.get("/api/films/", {"page_size": 201})
    assert too_large.status_code == 400 and "page_size" in too_large.json()["fields"]


def test_progress_counts_shots_and_approved_shots(staff_client, film, member, client_for):
    ShotFactory(film=film, number=1, status="approved")
    ShotFactory(film=film, number=2, status="approved")
    ShotFactory(film=film, number=3, status="in_review")
    ShotFactory(film=film, number=4)
    other = FilmFactory()
    ShotFactory(film=other, number=1, status="approved")
    viewer = member(film, "viewer")
    row = client_for(viewer).get(f"/api/films/{film.pk}/").json()
    assert (row["shot_count"], row["approved_shot_count"], row["progress"], row["my_role"]) == (4, 2, 0.5, "viewer")
    listed = {r["id"]: r for r in staff_client.get("/api/films/").json()["results"]}
    assert listed[other.pk]["progress"] == 1.0 and listed[other.pk]["my_role"] is None
    empty = FilmFactory()
    assert staff_client.get(f"/api/films/{empty.pk}/").json()["progress"] == 0.0


def test_members_see_only_their_films(film, other_film, member, client_for):
    viewer = member(film, "viewer")
    MembershipFactory(film=FilmFactory(title="Third"), user=viewer, role="creator")
    assert sorted(titles(client_for(viewer).get("/api/films/"))) == sorted([film.title, "Third"])


def test_staff_create_a_film_without_becoming_a_member(staff_client, staff_user):
    response = staff_client.post("/api/films/", {"title": "Sunrise", "year": 1927, "directors": "F. W. Murnau"})
    assert response.status_code == 201, response.content
    film = Film.objects.get(title="Sunrise")
    assert response.json()["id"] == film.pk and response.json()["shot_count"] == 0
    assert not Membership.objects.filter(film=film).exists()


def test_an_archivist_creates_a_film_and_becomes_its_archivist(film, member, client_for):
    archivist = member(film, "archivist")
    response = client_for(archivist).post("/api/films/", {"title": "L'Atalante", "year": 1934})
    assert response.status_code == 201, response.content
    assert response.json()["my_role"] == "archivist"
    assert Membership.objects.get(film_id=response.json()["id"]).user == archivist


@pytest.mark.parametrize("role", ["viewer", "creator", "restorer"])
def test_other_members_cannot_create_films(film, member, client_for, role):
    response = client_for(member(film, role)).post("/api/films/", {"title": "Not mine"})
    assert response.status_code == 403
    assert "archivists" in response.json()["detail"]
    assert not Film.objects.filter(title="Not mine").exists()


def test_a_user_of_no_film_cannot_create_films(client_for):
    assert client_for(UserFactory()).post("/api/films/", {"title": "Nope"}).status_code == 403


def test_archivist_edits_the_film(film, member, client_for):
    response = client_for(member(film, "archivist")).patch(
        f"/api/films/{film.pk}/", {"status": "in_restoration", "source_notes": "Nitrate, 35mm"}
    )
    assert response.status_code == 200
    film.refresh_from_db()
    assert (film.status, film.source_notes) == ("in_restoration", "Nitrate, 35mm")
    assert response.json()["status"] == "in_restoration"
