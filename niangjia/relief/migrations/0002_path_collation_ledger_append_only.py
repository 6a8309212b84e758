from django.db import migrations

# Tree paths are ASCII ([0-9A-Z]); under the "C" collation PostgreSQL turns
# ``union_path LIKE 'p%'`` into a range of the (union_path, …) indexes (see members 0002).
PATH_TABLES = ("relief_hardshipfile", "relief_assistance")

LEDGER_FORWARD = """
CREATE OR REPLACE FUNCTION relief_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER relief_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON relief_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION relief_ledger_append_only();
"""
LEDGER_BACKWARD = """
DROP TRIGGER IF EXISTS relief_ledger_no_update_delete ON relief_ledgerentry;
DROP FUNCTION IF EXISTS relief_ledger_append_only();
"""
# No DELETE trigger on SQLite: its test flush deletes row by row (PostgreSQL truncates).
SQLITE_LEDGER = """CREATE TRIGGER IF NOT EXISTS relief_ledger_no_update
   BEFORE UPDATE ON relief_ledgerentry
   BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in PATH_TABLES:
            schema_editor.execute(
                f'ALTER TABLE {table} ALTER COLUMN union_path TYPE varchar(255) COLLATE "C"'
            )
        schema_editor.execute(LEDGER_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_LEDGER)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(LEDGER_BACKWARD)
        for table in PATH_TABLES:
            schema_editor.execute(
                f'ALTER TABLE {table} ALTER COLUMN union_path TYPE varchar(255) COLLATE "default"'
            )
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS relief_ledger_no_update")


class Migration(migrations.Migration):
    dependencies = [("relief", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
