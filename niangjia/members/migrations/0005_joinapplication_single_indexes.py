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

from niangjia.utilities.migration_ops import ExceptOnPostgreSQL, keep_one_index_on_postgresql

KEPT = [
    ("phone_hash", "", "joinapplication_phone_hash"),
    ("status", "", "joinapplication_status"),
    ("union_path", "_like", "joinapplication_union_path"),
]


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
                keep_one_index_on_postgresql("members_joinapplication", KEPT),
                ExceptOnPostgreSQL(state_operations()),
            ],
        ),
    ]
