"""PostgreSQL: staged rows and problem rows take their ids a thousand at a time per connection,
so that the dry run's two checking processes do not take turns at the sequence (see
members 0007)."""

from django.db import migrations

TABLES = ("imports_stagedmember", "imports_importproblem")


def cache(size: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN id SET CACHE {size}")

    return run


class Migration(migrations.Migration):
    dependencies = [("imports", "0002_alter_importrun_checkpoint_importchunk")]

    operations = [migrations.RunPython(cache(1000), cache(1))]
