"""Append-only tables, enforced by the database: triggers that refuse UPDATE (and, on PostgreSQL,
the DELETE of a row whose parents remain), so neither a queryset ``.update()`` nor raw SQL can
rewrite a decision's history. ``Model.save()``'s own refusal only stops the ORM's ``save``.

- UPDATE: refused on PostgreSQL and SQLite (a ``BEFORE UPDATE`` trigger raising an error, which
  Django reports as ``IntegrityError``).
- DELETE (PostgreSQL): a deferred constraint trigger refuses, at commit, the delete of a row whose
  cascading parents (the ForeignKeys with ``on_delete=CASCADE``) all still exist. Deleting a
  version, grade or film still takes its decisions with it. SQLite has no deferred triggers and
  Django deletes the children before their parent, so there deletes are not guarded.
- Inserts of any value are untouched (a new verdict needs no change here).

Install with ``append_only_operation("review", "Decision")`` in a migration. **SQLite drops a
table's triggers whenever Django's schema editor rebuilds the table** (most ``AlterField``,
``AddConstraint``, ``RemoveConstraint``, ``AddField`` with a default): a later migration that
alters one of these tables must end with the same operation. As a safety net, the triggers of
every table in ``APPEND_ONLY_MODELS`` are installed again after each ``migrate`` (``post_migrate``,
connected in ``webapp/api/apps.py``); all statements are idempotent.
"""

from __future__ import annotations

from django.db import migrations, models

# (app label, model name) of every append-only table; strings, so this basement imports no area.
APPEND_ONLY_MODELS = (
    ("review", "Decision"),
    ("review", "CommentRevision"),
    ("colour", "GradeDecision"),
)

_PG_FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION append_only_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: UPDATE refused (record a new row instead)', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    # Arguments: (parent table, foreign key column) pairs. The delete is refused when every parent
    # the row names still exists at commit: the row was deleted on its own, not with a parent.
    """
    CREATE OR REPLACE FUNCTION append_only_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        parent_id bigint;
        parent_exists boolean;
    BEGIN
        FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
            EXECUTE format('SELECT ($1).%I', TG_ARGV[2 * i + 1]) INTO parent_id USING OLD;
            CONTINUE WHEN parent_id IS NULL;
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1)', TG_ARGV[2 * i])
                INTO parent_exists USING parent_id;
            IF NOT parent_exists THEN
                RETURN NULL;
            END IF;
        END LOOP;
        RAISE EXCEPTION '% is append-only: DELETE refused (only its parent''s deletion takes it)', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
]


def _cascade_parents(model) -> list[tuple[str, str]]:
    return [
        (field.related_model._meta.db_table, field.column)
        for field in model._meta.concrete_fields
        if field.many_to_one and field.remote_field.on_delete is models.CASCADE
    ]


def append_only_sql(vendor: str, model) -> list[str]:
    """The statements that (re)install ``model``'s triggers on a database of ``vendor``."""
    table = model._meta.db_table
    update_trigger, delete_trigger = f"{table}_append_only_update", f"{table}_append_only_delete"
    if vendor == "postgresql":
        parents = ", ".join(f"'{parent}', '{column}'" for parent, column in _cascade_parents(model))
        return [
            *_PG_FUNCTIONS,
            f'DROP TRIGGER IF EXISTS "{update_trigger}" ON "{table}"',
            f'CREATE TRIGGER "{update_trigger}" BEFORE UPDATE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION append_only_refuse_update()",
            f'DROP TRIGGER IF EXISTS "{delete_trigger}" ON "{table}"',
            f'CREATE CONSTRAINT TRIGGER "{delete_trigger}" AFTER DELETE ON "{table}" '
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION append_only_refuse_delete({parents})",
        ]
    if vendor == "sqlite":
        return [
            f'DROP TRIGGER IF EXISTS "{update_trigger}"',
            f'CREATE TRIGGER "{update_trigger}" BEFORE UPDATE ON "{table}" BEGIN '
            f"SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused (record a new row instead)'); END",
        ]
    return []  # another database: Model.save()'s refusal only


def append_only_install(connection, model) -> None:
    """(Re)install ``model``'s triggers; idempotent."""
    with connection.cursor() as cursor:
        for statement in append_only_sql(connection.vendor, model):
            cursor.execute(statement)


def append_only_operation(app_label: str, model_name: str) -> migrations.RunPython:
    """The migration operation that (re)installs a model's triggers: after its table is created,
    and after any later operation that rebuilds the table on SQLite."""

    def install(apps, schema_editor):
        append_only_install(schema_editor.connection, apps.get_model(app_label, model_name))

    return migrations.RunPython(install, migrations.RunPython.noop, elidable=False)


def append_only_reinstall(*, apps=None, using: str = "default", **kwargs) -> None:
    """``post_migrate`` receiver (``migrate``, and ``flush`` without ``apps``): every append-only
    table that exists gets its triggers again."""
    from django.apps import apps as installed_apps
    from django.db import connections

    apps = apps or installed_apps
    connection = connections[using]
    tables = set(connection.introspection.table_names())
    for app_label, model_name in APPEND_ONLY_MODELS:
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue  # not migrated this far
        if model._meta.db_table in tables:
            append_only_install(connection, model)
