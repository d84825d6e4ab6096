"""Decisions, grade decisions and comment revisions are append-only in the database itself: no
queryset update or raw SQL rewrites them (runs on SQLite, and again on PostgreSQL)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from tests.webapp.colour_fixtures import make_grade
from tests.webapp.factories import CommentFactory, DecisionFactory, InReviewVersionFactory, ShotFactory, UserFactory
from webapp.api.append_only import append_only_reinstall
from webapp.catalogue.models import Role
from webapp.colour.models import GradeDecision
from webapp.review.models import CommentRevision, Decision, Verdict


def _grade_decision(film) -> GradeDecision:
    grade = make_grade(shot=ShotFactory(film=film))
    return GradeDecision.objects.create(grade=grade, reviewer=UserFactory(), role=Role.CREATOR, verdict="approve")


def _revision() -> CommentRevision:
    comment = CommentFactory()
    return CommentRevision.objects.create(comment=comment, previous_text="first words", editor=comment.author)


def _refused(statement) -> str:
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        statement()
    return str(error.value)


@pytest.mark.django_db
def test_every_verdict_is_recorded_but_no_decision_is_rewritten_by_a_queryset_or_raw_sql():
    version = InReviewVersionFactory()
    for verdict in Verdict.values:  # a reopen needs its reason
        DecisionFactory(version=version, verdict=verdict, note="why" if verdict == Verdict.REOPEN else "")
    rejected = Decision.objects.get(verdict=Verdict.REJECT)

    message = _refused(lambda: Decision.objects.filter(pk=rejected.pk).update(verdict=Verdict.APPROVE))
    assert "append-only" in message
    with connection.cursor() as cursor:
        sql = f"UPDATE {Decision._meta.db_table} SET note = %s WHERE id = %s"
        assert "append-only" in _refused(lambda: cursor.execute(sql, ["rewritten", rejected.pk]))
    rejected.refresh_from_db()
    assert (rejected.verdict, rejected.note) == (Verdict.REJECT, "")


@pytest.mark.django_db
def test_grade_decisions_and_comment_revisions_are_not_rewritten_either(film):
    decision, revision = _grade_decision(film), _revision()
    assert "append-only" in _refused(lambda: GradeDecision.objects.filter(pk=decision.pk).update(verdict="reject"))
    assert "append-only" in _refused(
        lambda: CommentRevision.objects.filter(pk=revision.pk).update(previous_text="history rewritten"))
    with connection.cursor() as cursor:
        table = GradeDecision._meta.db_table
        assert "append-only" in _refused(lambda: cursor.execute(f"UPDATE {table} SET note = 'x'"))
    assert GradeDecision.objects.get().verdict == "approve"
    assert CommentRevision.objects.get().previous_text == "first words"


@pytest.mark.django_db(transaction=True)
def test_deleting_a_version_or_a_grade_still_takes_its_decisions(film):
    version = InReviewVersionFactory(shot=ShotFactory(film=film))
    DecisionFactory(version=version)
    grade_decision = _grade_decision(film)
    version.delete()
    grade_decision.grade.delete()
    assert not Decision.objects.exists() and not GradeDecision.objects.exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_decision_alone_cannot_be_deleted(film):
    assert connection.vendor == "postgresql"
    decision = DecisionFactory(version=InReviewVersionFactory(shot=ShotFactory(film=film)))
    grade_decision = _grade_decision(film)
    assert "append-only" in _refused(lambda: Decision.objects.filter(pk=decision.pk).delete())
    with connection.cursor() as cursor:
        table = GradeDecision._meta.db_table
        assert "append-only" in _refused(lambda: cursor.execute(f"DELETE FROM {table}"))
    assert Decision.objects.filter(pk=decision.pk).exists()
    assert GradeDecision.objects.filter(pk=grade_decision.pk).exists()


def _triggers(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.embedded
@pytest.mark.django_db(transaction=True)
def test_a_sqlite_table_rebuild_drops_the_triggers_and_the_helper_puts_them_back():
    """What a later migration altering the table does on SQLite (``AlterField``, ``AddConstraint``...)."""
    assert connection.vendor == "sqlite"
    table = Decision._meta.db_table
    assert _triggers(table) == {f"{table}_append_only_update"}
    with connection.schema_editor() as editor:
        editor._remake_table(Decision)
    assert _triggers(table) == set()

    append_only_reinstall(apps=apps)  # what post_migrate runs after every migrate

    assert _triggers(table) == {f"{table}_append_only_update"}
    DecisionFactory()
    assert "append-only" in _refused(lambda: Decision.objects.update(note="x"))
