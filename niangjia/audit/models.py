from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from niangjia.audit.choices import AuditAction
from niangjia.utilities.querysets import RestrictedQuerySet, scope_q


class AuditEntryQuerySet(RestrictedQuerySet["AuditEntry"]):
    def restrict(self, user: Any, action: str = "view") -> AuditEntryQuerySet:
        """Rows filed under the user's subtrees; rows filed under no union (failed logins of
        unknown names, system jobs) only for a holder of ``action`` at the root of the tree."""
        from niangjia.accounts.scope import paths_for
        from niangjia.orgs.models import Union

        paths = paths_for(user, action)
        if not paths:
            return self.none()
        condition = scope_q(self.model, paths)
        if any(len(p) <= Union.steplen for p in paths):
            condition |= Q(union_path="")
        return self.filter(condition)


class AuditEntry(models.Model):
    """One append-only audit row. Never updated or deleted (a PostgreSQL trigger enforces it)."""

    time = models.DateTimeField("时间", auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_name = models.CharField("操作人姓名", max_length=150, blank=True)
    actor_scope = models.CharField("操作人权限范围", max_length=500, blank=True)
    # Each searched column gets one index (Meta), not the pair ``db_index`` makes on PostgreSQL
    # (a plain index and a varchar_pattern_ops twin): every request that changes something
    # writes a row, a mass ceremony thousands a minute.
    action = models.CharField("动作", max_length=32, choices=AuditAction.choices)
    object_type = models.CharField("对象类型", max_length=100, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    union_path = models.CharField(
        "所属工会路径",
        max_length=255,
        blank=True,
        help_text="Tree path of the union the object belongs to; scopes the audit viewer.",
    )
    before = models.JSONField("修改前", null=True, blank=True)
    after = models.JSONField("修改后", null=True, blank=True)
    detail = models.JSONField("详情", null=True, blank=True)
    client_ip = models.GenericIPAddressField("客户端地址", null=True, blank=True)
    request_id = models.CharField("请求编号", max_length=64, blank=True)

    objects = AuditEntryQuerySet.as_manager()
    scope_path_lookups = ("union_path",)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-time", "-id"]
        default_permissions = ("view",)
        indexes = [
            # Newest-first keyset paging of the audit viewer walks this index backwards.
            models.Index(fields=["time", "id"], name="audit_time_id"),
            # Matched exactly, never with LIKE.
            models.Index(fields=["action"], name="audit_action"),
            models.Index(fields=["object_type"], name="audit_object_type"),
            models.Index(fields=["object_id"], name="audit_object_id"),
            models.Index(fields=["request_id"], name="audit_request_id"),
            # Read by subtree (``LIKE 'path%'``) and as rows under no union (``= ''``): the
            # pattern-ops index serves both.
            models.Index(
                fields=["union_path"], name="audit_union_path", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("audit entries are append-only")
