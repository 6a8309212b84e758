"""Reading jobs on behalf of a user: their list, and a job's progress in figures."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.jobs.choices import JobState
from niangjia.jobs.models import Job, JobQuerySet

JOBS_PER_PAGE = 30


def job_list(*, user: User, state: str = "") -> JobQuerySet:
    """The jobs ``user`` started and those of the unions of their subtree, newest first."""
    jobs = Job.objects.restrict(user, Action.VIEW)
    if state:
        jobs = jobs.filter(state=state)
    return jobs.select_related("owner", "union").order_by("-created_at", "-pk")


def job_rate(job: Job, now: datetime.datetime | None = None) -> float | None:
    """Units per second of the current (or last) run; None before there is anything to tell."""
    if job.started_at is None:
        return None
    end = job.finished_at if job.is_finished and job.finished_at else (now or timezone.now())
    seconds = (end - job.started_at).total_seconds()
    done = job.progress_done - job.progress_start
    if seconds <= 0 or done <= 0:
        return None
    return done / seconds


def job_progress(job: Job, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The figures of a job's progress bar: what ``/jobs/<id>/progress`` and the API answer."""
    rate = job_rate(job, now)
    eta: int | None = None
    if job.state == JobState.RUNNING and rate and job.progress_total is not None:
        eta = max(0, round((job.progress_total - job.progress_done) / rate))
    return {
        "state": job.state,
        "state_display": job.get_state_display(),
        "percent": job.percent,
        "done": job.progress_done,
        "total": job.progress_total,
        "rate_per_s": round(rate, 1) if rate is not None else None,
        "eta_seconds": eta,
        "note": job.progress_note,
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "finished": job.is_finished,
    }
