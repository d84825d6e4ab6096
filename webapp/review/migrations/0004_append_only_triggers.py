"""Decisions and comment revisions append-only in the database (webapp/api/append_only.py).

A later migration that alters either table must end with the same operations: SQLite drops a
table's triggers when Django rebuilds it."""

from django.db import migrations

from webapp.api.append_only import append_only_operation


class Migration(migrations.Migration):

    dependencies = [
        ("review", "0003_comment_revision"),
    ]

    operations = [
        append_only_operation("review", "Decision"),
        append_only_operation("review", "CommentRevision"),
    ]
