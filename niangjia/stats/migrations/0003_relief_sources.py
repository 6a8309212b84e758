"""The folder reads two more append-only sources, the relief files' timeline and the relief
funds' ledger (on PostgreSQL they record their writing transaction, as in 0002), and keeps its
read position by source name."""

from django.db import migrations, models

SOURCES = ("relief_fileevent", "relief_ledgerentry")


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in SOURCES:
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
        ("stats", "0002_source_transaction_ids"),
        ("relief", "0002_path_collation_ledger_append_only"),
    ]

    operations = [
        migrations.RemoveField(model_name="foldstate", name="last_audit_id"),
        migrations.RemoveField(model_name="foldstate", name="last_event_id"),
        migrations.AddField(
            model_name="foldstate",
            name="last_ids",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(add, remove, elidable=False),
    ]
