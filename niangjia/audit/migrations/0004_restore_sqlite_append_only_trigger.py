from django.db import migrations

# SQLite alters a column by rebuilding the table, which drops its triggers: 0003 did so.
# Re-create the UPDATE guard of 0002 (PostgreSQL keeps its trigger through ALTER TABLE).
SQLITE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_auditentry
   BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_account_actions_time_index")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
