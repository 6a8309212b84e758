from django.db import migrations, models

# Tree paths are ASCII ([0-9A-Z]); under the "C" collation their order is the same and
# PostgreSQL turns ``union_path LIKE 'p%'`` into a range of the (union_path, id) index.
# Under a database's default collation (e.g. C.UTF-8 or zh_CN.UTF-8) it cannot, and a
# subtree's member list would scan the whole table.
FORWARD = 'ALTER TABLE members_member ALTER COLUMN union_path TYPE varchar(255) COLLATE "C"'
BACKWARD = 'ALTER TABLE members_member ALTER COLUMN union_path TYPE varchar(255) COLLATE "default"'


def path_collation_c(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def path_collation_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(path_collation_c, path_collation_default),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                fields=["name"], name="member_name_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ),
    ]
