"""On PostgreSQL, the append-only sources the folder reads (membership events, audit rows)
record the id of the transaction that wrote each row, so that the folder can tell which rows
committed since its last snapshot (see niangjia.stats.fold). The column is not part of the
models: the database fills it in (``DEFAULT pg_current_xact_id()``) whoever writes the row —
the ORM, a hand-written statement or COPY. Rows written before this migration keep NULL; the
first fold recounts everything anyway.

SQLite needs none of this: one transaction writes at a time, so ids follow commit order.
"""

from django.db import migrations

SOURCES = ("members_memberevent", "audit_auditentry")


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in SOURCES:
        # Added without a default first: existing rows are not rewritten.
        schema_editor.execute(f"ALTER TABLE {table} ADD COLUMN stats_xact xid8")
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN stats_xact SET DEFAULT pg_current_xact_id()"
        )
        schema_editor.execute(
            f"CREATE INDEX {table}_stats_xact ON {table} (stats_xact) "
            "WHERE stats_xact IS NOT NULL"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in SOURCES:
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN stats_xact")


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_initial"),
        ("members", "0002_member_path_collation_name_index"),
        ("audit", "0005_alter_auditentry_action"),
    ]

    operations = [migrations.RunPython(add, remove, elidable=False)]
