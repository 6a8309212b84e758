"""/api/v1/jobs: a background job's state and progress, and its cancellation."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Router, Schema

from niangjia.accounts.choices import Action
from niangjia.api.auth import acting_user
from niangjia.api.errors import labelled
from niangjia.api.schemas import MAX_ID, UnionRef, responses
from niangjia.jobs import selectors, services
from niangjia.jobs.choices import JobState
from niangjia.jobs.models import Job
from niangjia.utilities.scoping import get_scoped_or_404

router = Router(tags=["后台任务"])

JobId = Annotated[int, Path(ge=1, le=MAX_ID, title="任务编号")]


class JobOut(Schema):
    id: int
    kind: str
    title: str
    state: JobState
    state_display: str
    percent: int | None
    done: int
    total: int | None
    rate_per_s: float | None
    eta_seconds: int | None
    note: str
    error: str
    cancel_requested: bool
    result: dict[str, Any] | None
    union: UnionRef | None
    owner: str | None
    return_url: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


def _out(job: Job) -> dict[str, Any]:
    return {
        **selectors.job_progress(job),
        "id": job.pk,
        "kind": job.kind,
        "title": job.title,
        "result": job.result if job.state == JobState.SUCCEEDED else None,
        "union": job.union,
        "owner": job.owner.display_name if job.owner is not None else None,
        "return_url": job.return_url,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def _job(request: HttpRequest, job_id: int, action: str) -> Job:
    job = get_scoped_or_404(Job, acting_user(request), action, pk=job_id)
    return Job.objects.select_related("owner", "union").get(pk=job.pk)


@router.get(
    "/{job_id}",
    response=responses({200: JobOut}),
    summary="后台任务",
    description="任务的状态和进度：百分比、已处理数、每秒处理数、预计剩余秒数；失败时给出原因。",
)
def job_detail(request: HttpRequest, job_id: JobId) -> dict[str, Any]:
    return _out(_job(request, job_id, Action.VIEW))


@router.post(
    "/{job_id}/cancel",
    response=responses({200: JobOut}),
    summary="取消后台任务",
    description="排队中的任务立即取消；进行中的任务在处理完当前一批后停止。发起人或任务所属工会的干部可以取消。",
)
def job_cancel(request: HttpRequest, job_id: JobId) -> dict[str, Any]:
    job = _job(request, job_id, Action.CHANGE)
    with labelled(source="path"):
        services.job_cancel(job=job, acting_user=acting_user(request))
    return _out(_job(request, job_id, Action.VIEW))
