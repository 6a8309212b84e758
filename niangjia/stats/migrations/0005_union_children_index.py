"""An index on the union tree by (depth, path): a node's children are one range of it (treebeard
asks for ``depth = d + 1`` within the node's path range). Without it, the national root's
children (the map of provinces) are a scan of every union: 30 ms at 300,000 unions."""

from django.db import migrations


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS stats_union_depth_path ON orgs_union (depth, path)"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS stats_union_depth_path")


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0004_statvalue_key_order"),
        ("orgs", "0002_load_regions_and_root"),
    ]

    operations = [migrations.RunPython(add, remove, elidable=False)]
