"""Exports of the registry: requests to export personal data in clear, and stored files.

``ExportRequest``: an unmasked export of more rows than ``EXPORT_UNMASKED_APPROVAL_ROWS``
waits for an administrator above the requesting union; an approval is used once and lapses
after ``APPROVAL_DAYS``. The filters are kept as the list's query parameters, in which a
searched phone or ID number is only its keyed hash.

``ExportFile``: an export too big to build while the page waits (over ``EXPORT_INLINE_ROWS``)
is written by a background job into ``EXPORT_DIR`` (private, never served as a static file),
downloaded by its owner only, and deleted after ``EXPORT_KEEP_HOURS``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from niangjia.exports.choices import CLOSED_STATES, ExportKind, RequestState
from niangjia.utilities.querysets import RestrictedQuerySet, scope_q

# An approval, and a request still waiting for one, lapse after this many days.
APPROVAL_DAYS = 7


class ExportRequestQuerySet(RestrictedQuerySet["ExportRequest"]):
    pass


class ExportRequest(models.Model):
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人",
        on_delete=models.PROTECT,
        related_name="export_requests",
    )
    # The union of the requester's role that covers the export: approval comes from above it.
    union = models.ForeignKey(
        "orgs.Union", verbose_name="申请单位", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("导出内容", max_length=16, choices=ExportKind.choices)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    # The filters in words as the requester saw them: [["会籍状态", "在会"], ...].
    filters_display = models.JSONField("筛选条件（文字）", default=list, blank=True)
    reason = models.CharField("理由", max_length=200)
    rows_at_request = models.PositiveIntegerField("申请时行数")
    state = models.CharField(
        "状态", max_length=16, choices=RequestState.choices, default=RequestState.PENDING
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_reason = models.CharField("审批意见", max_length=200, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    # Until when the request may be decided, then (once approved) used.
    expires_at = models.DateTimeField("有效期至")
    used_at = models.DateTimeField("导出时间", null=True, blank=True)

    objects = ExportRequestQuerySet.as_manager()
    scope_path_lookups = ("union__path",)

    class Meta:
        verbose_name = "明文导出申请"
        verbose_name_plural = "明文导出申请"
        indexes = [
            models.Index(fields=["state", "expires_at"], name="export_request_state"),
            models.Index(fields=["requester", "-created_at"], name="export_request_requester"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=RequestState.values), name="export_request_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"明文导出申请 {self.pk}（{self.get_kind_display()}）"

    @staticmethod
    def lapse_time(start: Any = None) -> Any:
        return (start or timezone.now()) + timedelta(days=APPROVAL_DAYS)

    @property
    def current_state(self) -> str:
        """The state, with a pending or approved request past its time shown as expired."""
        if self.state not in CLOSED_STATES and self.expires_at <= timezone.now():
            return RequestState.EXPIRED
        return self.state

    @property
    def current_state_display(self) -> str:
        return RequestState(self.current_state).label


class ExportFileQuerySet(RestrictedQuerySet["ExportFile"]):
    def restrict(self, user: Any, action: str = "view") -> ExportFileQuerySet:
        """A stored export is its owner's alone, and only while the owner still holds
        ``action`` over the union it was filed under."""
        from niangjia.accounts.scope import paths_for

        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        paths = paths_for(user, action)
        if not paths:
            return self.none()
        return self.filter(scope_q(self.model, paths), owner_id=user.pk)


class ExportFile(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导出人",
        on_delete=models.PROTECT,
        related_name="export_files",
    )
    union = models.ForeignKey(
        "orgs.Union",
        verbose_name="导出范围",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The tree path of the union the export covers (or the owner's export root).
    union_path = models.CharField(max_length=255, editable=False)
    kind = models.CharField("导出内容", max_length=16, choices=ExportKind.choices)
    masked = models.BooleanField("隐去号码", default=True)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    filters_display = models.JSONField("筛选条件（文字）", default=list, blank=True)
    reason = models.CharField("理由", max_length=200, blank=True)
    request = models.ForeignKey(
        ExportRequest,
        verbose_name="明文导出申请",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="files",
    )
    job = models.ForeignKey(
        "jobs.Job",
        verbose_name="后台任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rows_expected = models.PositiveIntegerField("预计行数", default=0)
    filename = models.CharField("文件名", max_length=200)
    # The file's name inside EXPORT_DIR (random); empty once deleted.
    stored_name = models.CharField(max_length=80, blank=True, editable=False)
    rows = models.PositiveIntegerField("行数", null=True, blank=True)
    size = models.BigIntegerField("文件大小", null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    expires_at = models.DateTimeField("保留至", null=True, blank=True)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)

    objects = ExportFileQuerySet.as_manager()
    scope_path_lookups = ("union_path",)

    class Meta:
        verbose_name = "导出文件"
        verbose_name_plural = "导出文件"
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="export_file_owner"),
            models.Index(fields=["expires_at"], name="export_file_expires"),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def ready(self) -> bool:
        return bool(self.sha256) and self.deleted_at is None and bool(self.stored_name)

    @property
    def path(self) -> Path:
        return Path(settings.EXPORT_DIR) / self.stored_name
