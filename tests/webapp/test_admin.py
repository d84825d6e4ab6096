"""The admin: every model is registered, pages render with few queries, decisions are read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.webapp.factories import (
    CommentFactory,
    DecisionFactory,
    InReviewVersionFactory,
    MediaAssetFactory,
    MembershipFactory,
    RestorationJobFactory,
    ShotFactory,
)
from webapp.api.models import IdempotencyRecord
from webapp.catalogue.models import Film, MediaAsset, Membership, Shot, ShotVersion
from webapp.jobs.models import RestorationJob
from webapp.review.models import Comment, Decision

pytestmark = pytest.mark.django_db

MODELS = [Film, Membership, MediaAsset, Shot, ShotVersion, Comment, Decision, RestorationJob, IdempotencyRecord]


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def populate(film, rows: int):
    asset = MediaAssetFactory(film=film)
    for number in range(1, rows + 1):
        shot = ShotFactory(film=film, number=number, source=asset)
        version = InReviewVersionFactory(shot=shot, number=1, media=asset)
        comment = CommentFactory(version=version)
        DecisionFactory(version=version)
        IdempotencyRecord.objects.create(
            user=comment.author, key=f"key-{comment.pk}", method="POST", path="/api/comments/", request_hash="0" * 64,
            state="completed", response_status=201, response_body={"id": comment.pk})
        RestorationJobFactory(film=film, shot=shot, kind="restore")
        MembershipFactory(film=film)


def test_every_model_is_registered():
    assert [model for model in MODELS if model not in admin.site._registry] == []


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_changelists_use_a_constant_number_of_queries(admin_client, film, model, django_assert_max_num_queries):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    populate(film, 3)
    with django_assert_max_num_queries(12) as small:
        assert admin_client.get(url).status_code == 200
    populate(FactoryFilm(), 30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_client.get(url)
    assert response.status_code == 200


def FactoryFilm():  # noqa: N802 - reads like a factory call
    from tests.webapp.factories import FilmFactory

    return FilmFactory()


@pytest.mark.parametrize("model", [Shot, ShotVersion, Comment, RestorationJob, Membership, MediaAsset])
def test_big_foreign_keys_are_raw_ids(model):
    model_admin = admin.site._registry[model]
    foreign_keys = {f.name for f in model._meta.get_fields() if f.many_to_one and f.concrete}
    assert foreign_keys <= set(model_admin.raw_id_fields)


def test_change_pages_render(admin_client, film):
    populate(film, 1)
    for model in MODELS:
        obj = model.objects.first()
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        assert admin_client.get(url).status_code == 200, model.__name__


def test_search_finds_shots_by_film_title(admin_client, film):
    ShotFactory(film=film, number=7)
    response = admin_client.get(reverse("admin:catalogue_shot_changelist"), {"q": film.title})
    assert response.status_code == 200
    assert f"{film} shot 7" in response.content.decode()


def test_decisions_are_read_only_in_the_admin(admin_client):
    decision = DecisionFactory(verdict="approve")
    assert admin_client.get(reverse("admin:review_decision_add")).status_code == 403
    change_url = reverse("admin:review_decision_change", args=[decision.pk])
    assert admin_client.post(change_url, {"verdict": "reject", "note": "edited"}).status_code == 403
    delete_url = reverse("admin:review_decision_delete", args=[decision.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    decision.refresh_from_db()
    assert (decision.verdict, decision.note) == ("approve", "")


def test_idempotency_keys_are_read_only_in_the_admin(admin_client, film):
    populate(film, 1)
    record = IdempotencyRecord.objects.get()
    assert admin_client.get(reverse("admin:api_idempotencyrecord_add")).status_code == 403
    change_url = reverse("admin:api_idempotencyrecord_change", args=[record.pk])
    assert admin_client.post(change_url, {"key": "edited"}).status_code == 403
    delete_url = reverse("admin:api_idempotencyrecord_delete", args=[record.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    record.refresh_from_db()
    assert record.key == f"key-{record.response_body['id']}"
