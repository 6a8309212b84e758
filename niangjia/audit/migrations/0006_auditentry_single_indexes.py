"""Audit rows: one index per searched column instead of the pair PostgreSQL got from
``db_index`` (a plain index and a varchar_pattern_ops twin), as every request that changes
something writes a row (a mass ceremony thousands a minute). The action, object type, object id
and request id (matched exactly, never with LIKE) keep their plain index; the union path (read
by subtree, ``LIKE 'path%'``, and as ``= ''``) its pattern-ops index, which serves both.

On PostgreSQL the indexes that stay are renamed and their twins dropped: nothing is built, so
the migration is quick on a large table. Elsewhere (SQLite has no twins) the database follows
the model state as usual; SQLite does so by rebuilding the table, which drops its append-only
trigger (migration 0002): it is made again after, either way.
"""

from django.conf import settings
from django.db import migrations, models

from niangjia.utilities.migration_ops import ExceptOnPostgreSQL, keep_one_index_on_postgresql

TABLE = "audit_auditentry"
# (column, the index that stays — "" the plain one, "_like" the pattern-ops twin —, its name)
KEPT = [
    ("action", "", "audit_action"),
    ("object_type", "", "audit_object_type"),
    ("object_id", "", "audit_object_id"),
    ("request_id", "", "audit_request_id"),
    ("union_path", "_like", "audit_union_path"),
]


# The UPDATE guard of 0002 on SQLite (PostgreSQL keeps its trigger through ALTER TABLE).
SQLITE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_auditentry
   BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;"""


def restore_sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


def state_operations():
    return [
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("create", "新建"),
                    ("change", "修改"),
                    ("delete", "删除"),
                    ("move", "移动"),
                    ("merge", "合并"),
                    ("dissolve", "撤销"),
                    ("login", "登录"),
                    ("login_failed", "登录失败"),
                    ("logout", "退出"),
                    ("permission_denied", "越权拒绝"),
                    ("export", "导出"),
                    ("import", "导入"),
                    ("reveal", "查看明文个人信息"),
                    ("role_grant", "授予角色"),
                    ("role_revoke", "撤销角色"),
                    ("otp_enroll", "绑定动态口令"),
                    ("token_create", "创建接口令牌"),
                    ("token_revoke", "吊销接口令牌"),
                    ("password_reset", "重置密码"),
                    ("password_change", "修改本人密码"),
                    ("account_unlock", "解除登录锁定"),
                    ("otp_reset", "重置动态口令"),
                ],
                max_length=32,
                verbose_name="动作",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="object_id",
            field=models.CharField(blank=True, max_length=64, verbose_name="对象编号"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="object_type",
            field=models.CharField(blank=True, max_length=100, verbose_name="对象类型"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="request_id",
            field=models.CharField(blank=True, max_length=64, verbose_name="请求编号"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="union_path",
            field=models.CharField(
                blank=True,
                help_text="Tree path of the union the object belongs to; scopes the audit viewer.",
                max_length=255,
                verbose_name="所属工会路径",
            ),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["action"], name="audit_action"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["object_type"], name="audit_object_type"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["object_id"], name="audit_object_id"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["request_id"], name="audit_request_id"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                fields=["union_path"], name="audit_union_path", opclasses=["varchar_pattern_ops"]
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_alter_auditentry_action"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations(),
            database_operations=[
                # Backwards, after the table is rebuilt the other way.
                migrations.RunPython(migrations.RunPython.noop, restore_sqlite_trigger),
                keep_one_index_on_postgresql(TABLE, KEPT),
                ExceptOnPostgreSQL(state_operations()),
                migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
            ],
        ),
    ]
