"""Join applications: one index per searched column instead of the pair PostgreSQL got from
``db_index`` (a plain index and a varchar_pattern_ops twin), as every index costs each join of a
mass ceremony. The phone's keyed hash and the status (matched exactly, never with LIKE) keep
their plain index; the union path (read by subtree, ``LIKE 'path%'``) its pattern-ops index,
which serves equality too.

On PostgreSQL the indexes that stay are renamed and their twins dropped: nothing is built, so
the migration is quick on a large table. Elsewhere (SQLite has no twins) the database follows
the model state as usual.
"""

from django.conf import settings
from django.db import migrations, models

TABLE = "members_joinapplication"
# (column, the index that stays — "" the plain one, "_like" the pattern-ops twin —, its name)
KEPT = [
    ("phone_hash", "", "joinapplication_phone_hash"),
    ("status", "", "joinapplication_status"),
    ("union_path", "_like", "joinapplication_union_path"),
]


def _index_sql(schema_editor, forwards):
    """Renames of the indexes that stay, and the twins dropped (forwards) or made again."""
    quote = schema_editor.quote_name
    for column, kept, name in KEPT:
        auto_name = schema_editor._create_index_name(TABLE, [column], suffix=kept)
        twin_suffix = "" if kept else "_like"
        twin = schema_editor._create_index_name(TABLE, [column], suffix=twin_suffix)
        if forwards:
            yield f"DROP INDEX {quote(twin)}"
            yield f"ALTER INDEX {quote(auto_name)} RENAME TO {quote(name)}"
        else:
            opclass = " varchar_pattern_ops" if twin_suffix else ""
            yield f"ALTER INDEX {quote(name)} RENAME TO {quote(auto_name)}"
            yield f"CREATE INDEX {quote(twin)} ON {quote(TABLE)} ({quote(column)}{opclass})"


def rename_on_postgresql(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in _index_sql(schema_editor, forwards=True):
            schema_editor.execute(sql)


def rename_back_on_postgresql(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in _index_sql(schema_editor, forwards=False):
            schema_editor.execute(sql)


class ExceptOnPostgreSQL(migrations.SeparateDatabaseAndState):
    """Its operations run on the database except on PostgreSQL, where the renames stand for
    them; the model state is the enclosing operation's."""

    def __init__(self, operations):
        super().__init__(database_operations=operations)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def state_operations():
    return [
        migrations.AlterField(
            model_name="joinapplication",
            name="phone_hash",
            field=models.CharField(editable=False, max_length=64, verbose_name="手机号码索引"),
        ),
        migrations.AlterField(
            model_name="joinapplication",
            name="status",
            field=models.CharField(
                choices=[
                    ("submitted", "待审批"),
                    ("approved", "已批准"),
                    ("rejected", "已驳回"),
                    ("withdrawn", "已撤回"),
                ],
                default="submitted",
                max_length=16,
                verbose_name="状态",
            ),
        ),
        migrations.AlterField(
            model_name="joinapplication",
            name="union_path",
            field=models.CharField(editable=False, max_length=255),
        ),
        migrations.AddIndex(
            model_name="joinapplication",
            index=models.Index(fields=["phone_hash"], name="joinapplication_phone_hash"),
        ),
        migrations.AddIndex(
            model_name="joinapplication",
            index=models.Index(fields=["status"], name="joinapplication_status"),
        ),
        migrations.AddIndex(
            model_name="joinapplication",
            index=models.Index(
                fields=["union_path"],
                name="joinapplication_union_path",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0004_member_event_reference_columns"),
        ("orgs", "0002_load_regions_and_root"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations(),
            database_operations=[
                migrations.RunPython(rename_on_postgresql, rename_back_on_postgresql),
                ExceptOnPostgreSQL(state_operations()),
            ],
        ),
    ]
