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
