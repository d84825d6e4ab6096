"""Grade decisions append-only in the database (webapp/api/append_only.py).

A later migration that alters the table must end with the same operation: SQLite drops a
table's triggers when Django rebuilds it."""

from django.db import migrations

from webapp.api.append_only import append_only_operation


class Migration(migrations.Migration):

    dependencies = [
        ("colour", "0001_initial"),
    ]

    operations = [
        append_only_operation("colour", "GradeDecision"),
    ]
