"""A background job: a row in the database is the queue (see ``niangjia.jobs.registry``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from niangjia.jobs.choices import FINISHED_STATES, JobState
from niangjia.utilities.querysets import RestrictedQuerySet, scope_q


class JobQuerySet(RestrictedQuerySet["Job"]):
    def restrict(self, user: Any, action: str = "view") -> JobQuerySet:
        """The jobs a user started, and the jobs filed under a union in a subtree where the
        user may ``action``. A job filed under no union is seen by its owner only."""
        from niangjia.accounts.scope import paths_for

        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        condition = Q(owner_id=user.pk)
        paths = paths_for(user, action)
        if paths:
            condition |= scope_q(self.model, paths)
        return self.filter(condition)


class Job(models.Model):
    kind = models.CharField("任务类型", max_length=64)
    params = models.JSONField("参数", default=dict, blank=True)
    title = models.CharField("任务名称", max_length=200)
    state = models.CharField(
        "状态", max_length=16, choices=JobState.choices, default=JobState.QUEUED
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    union = models.ForeignKey(
        "orgs.Union",
        verbose_name="所属工会",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The union's tree path, kept in step when the subtree moves (see services).
    union_path = models.CharField(max_length=255, blank=True, editable=False)
    # Where the page of the job links back to: the object that started it (a local path).
    return_url = models.CharField("返回地址", max_length=500, blank=True)

    progress_done = models.BigIntegerField("已完成", default=0)
    progress_total = models.BigIntegerField("总数", null=True, blank=True)
    progress_note = models.CharField("进度说明", max_length=200, blank=True)
    # progress_done when the current run began: the rate counts this run's work only.
    progress_start = models.BigIntegerField(default=0, editable=False)
    # Where a resumable handler left off (``JobContext.save_checkpoint``).
    checkpoint = models.JSONField(default=dict, blank=True, editable=False)

    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("心跳时间", null=True, blank=True)
    # Runs begun; a run given back by a worker that stopped gracefully does not count.
    attempts = models.PositiveIntegerField("运行次数", default=0)
    cancel_requested = models.BooleanField("已请求取消", default=False)
    # The worker holding the job, and the token of its claim: a worker that lost its claim
    # (its heartbeat went stale and the job was given to another) can no longer write.
    worker = models.CharField("执行进程", max_length=100, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)

    error = models.TextField("错误信息", blank=True)
    result = models.JSONField("结果", null=True, blank=True)

    objects = JobQuerySet.as_manager()
    scope_path_lookups = ("union_path",)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        indexes = [
            models.Index(fields=["state", "created_at"], name="job_state_created"),
            models.Index(fields=["owner", "-created_at"], name="job_owner_created"),
            models.Index(fields=["union_path", "-created_at"], name="job_union_path_created"),
        ]

    def __str__(self) -> str:
        return f"{self.title}（任务 {self.pk}）"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def percent(self) -> int | None:
        """Whole percent done; None while the total is unknown."""
        if self.state == JobState.SUCCEEDED:
            return 100
        if not self.progress_total:
            return None
        return max(0, min(100, int(self.progress_done * 100 // self.progress_total)))
