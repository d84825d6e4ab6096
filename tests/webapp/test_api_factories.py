import pytest

from tests.webapp.factories import CommentFactory, DecisionFactory, MediaAssetFactory, RestorationJobFactory


@pytest.mark.django_db
def test_factories_build_valid_rows(film_members, staff_user, outsider):
    comment = CommentFactory()
    decision = DecisionFactory(version=comment.version)
    assert decision.version.shot.film_id == comment.version.shot.film_id
    MediaAssetFactory()
    RestorationJobFactory()
    assert set(film_members) == {"archivist", "creator", "restorer", "viewer"}
    assert film_members["viewer"].check_password("correct-horse-battery-staple")


@pytest.mark.django_db
def test_role_client_is_a_member_with_that_role(film, other_film, role_client):
    assert role_client("viewer").get(f"/api/films/{film.pk}/").json()["my_role"] == "viewer"
    assert role_client("viewer", on=other_film).get(f"/api/films/{film.pk}/").status_code == 404
