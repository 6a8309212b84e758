"""Queueing, claiming, running and cancelling background jobs; the database is the queue.

A worker (``manage.py run_jobs``) calls ``run_one`` in a loop: it claims the oldest queued job
so that no other worker can take it (PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite:
a conditional ``UPDATE … WHERE state='queued'``), runs its handler
(``niangjia.jobs.registry``) and records how it ended. While the handler runs, a thread of the
worker writes the job's heartbeat; ``requeue_stale`` puts a running job whose heartbeat is
older than ``JOB_STALE_SECONDS`` (its worker died) back in the queue, and the handler resumes
from its checkpoint.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.jobs.choices import JobState
from niangjia.jobs.models import Job
from niangjia.jobs.registry import JobContext, JobError, JobLost, get_handler
from niangjia.orgs.models import Union
from niangjia.utilities.scoping import require

log = logging.getLogger("niangjia.jobs")

FAILED_MESSAGE = "任务执行时出错，已停止。请稍后重试；如果再次出错，请联系管理员（任务编号 {pk}）。"
UNKNOWN_KIND_MESSAGE = "系统无法执行这种任务（{kind}），请联系管理员（任务编号 {pk}）。"
TOO_MANY_ATTEMPTS_MESSAGE = "任务执行进程多次意外中断（共 {attempts} 次），已停止。请联系管理员。"


def worker_name() -> str:
    """A name for this worker process in logs and on the job: host, process id, and a short
    random suffix (a restarted process may reuse a pid)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _stale_after() -> timedelta:
    return timedelta(seconds=settings.JOB_STALE_SECONDS)


# --- Enqueue and cancel


def _local_url(url: str) -> str:
    url = url.strip()
    if url and not (url.startswith("/") and url_has_allowed_host_and_scheme(url, None)):
        raise ValidationError({"return_url": "返回地址只能是本站的页面"})
    return url


def job_enqueue(
    *,
    kind: str,
    params: dict[str, Any],
    owner: User | None,
    union: Union | None,
    title: str,
    return_url: str = "",
) -> Job:
    """Queue a job of ``kind`` (a registered handler). Call it after the transaction that
    created what the job works on has committed (or from inside it: the job is then run
    inline, with ``JOBS_INLINE``, only once that transaction commits). The caller has checked
    that ``owner`` may do the work under ``union``."""
    if get_handler(kind) is None:
        raise ValueError(f"no handler registered for job kind {kind!r}")
    job = Job(
        kind=kind,
        params=params,
        owner=owner,
        union=union,
        union_path=union.path if union is not None else "",
        title=title.strip()[:200],
        return_url=_local_url(return_url),
    )
    job.full_clean(exclude=["union_path"])
    job.save(force_insert=True)
    log.info("job %s (%s) queued: %s", job.pk, kind, job.title)
    if settings.JOBS_INLINE:
        _after_commit(lambda: run_inline(job.pk))
    return job


def _after_commit(fn: Callable[[], None]) -> None:
    """``transaction.on_commit``, except that the transaction a test wraps around itself counts
    as committed: there a job enqueued outside any transaction of the code runs at once."""
    blocks = connection.atomic_blocks
    if blocks and all(getattr(block, "_from_testcase", False) for block in blocks):
        fn()
    else:
        transaction.on_commit(fn)


@transaction.atomic
def job_cancel(*, job: Job, acting_user: User) -> Job:
    """Cancel a job: a queued one at once; a running one is asked to stop, and its handler
    stops at its next check (the job then ends cancelled). A finished job is left as it is."""
    require(acting_user, Action.CHANGE, job)  # the owner, or a cadre of the job's union
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.is_finished:
        raise ValidationError({"state": f"任务已经{job.get_state_display()}，不能再取消"})
    before = {"state": job.state, "cancel_requested": job.cancel_requested}
    now = timezone.now()
    if job.state == JobState.QUEUED:
        job.state = JobState.CANCELLED
        job.finished_at = now
        job.cancel_requested = True
        job.save(update_fields=["state", "finished_at", "cancel_requested"])
    else:
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested"])
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=job,
        before=before,
        after={"state": job.state, "cancel_requested": True},
        detail={"operation": "cancel", "kind": job.kind},
    )
    log.info("job %s cancel requested by %s (%s)", job.pk, acting_user, job.state)
    return job


# --- Claiming


def _claim_fields(worker_id: str, token: str, now: datetime) -> dict[str, Any]:
    return {
        "state": JobState.RUNNING,
        "worker": worker_id[:100],
        "claim_token": token,
        "started_at": now,
        "heartbeat_at": now,
        "attempts": F("attempts") + 1,
        "progress_start": F("progress_done"),
    }


def claim_next(worker_id: str) -> Job | None:
    """Take the oldest queued job for ``worker_id``, or None when the queue is empty. Two
    workers never take the same job."""
    token = uuid.uuid4().hex
    queued = Job.objects.filter(state=JobState.QUEUED).order_by("created_at", "pk")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            pk = queued.select_for_update(skip_locked=True).values_list("pk", flat=True).first()
            if pk is None:
                return None
            Job.objects.filter(pk=pk).update(**_claim_fields(worker_id, token, timezone.now()))
        return Job.objects.get(pk=pk)
    # SQLite: no row locks; whoever's conditional update changes the row has it.
    while True:
        pk = queued.values_list("pk", flat=True).first()
        if pk is None:
            return None
        taken = Job.objects.filter(pk=pk, state=JobState.QUEUED).update(
            **_claim_fields(worker_id, token, timezone.now())
        )
        if taken:
            return Job.objects.get(pk=pk)


def _claim(job_pk: int, worker_id: str) -> Job | None:
    """Take one given job if it is still queued (the inline mode)."""
    token = uuid.uuid4().hex
    taken = Job.objects.filter(pk=job_pk, state=JobState.QUEUED).update(
        **_claim_fields(worker_id, token, timezone.now())
    )
    return Job.objects.get(pk=job_pk) if taken else None


# --- Running


def _held(job: Job) -> Any:
    return Job.objects.filter(pk=job.pk, state=JobState.RUNNING, claim_token=job.claim_token)


@contextmanager
def _heartbeat(job: Job, interval: float) -> Iterator[None]:
    """Beat for ``job`` every ``interval`` seconds from a thread of its own while the handler
    runs: a long step without progress reports must not look like a dead worker."""
    done = threading.Event()

    def beat() -> None:
        try:
            while not done.wait(interval):
                try:
                    if not _held(job).update(heartbeat_at=timezone.now()):
                        return  # the job is no longer ours
                except Exception:  # a busy database: the next beat will do
                    log.warning("job %s: heartbeat not written", job.pk, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"job-{job.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=interval + 15)


def run_job(job: Job, *, stop: threading.Event | None = None, beat: bool = True) -> str:
    """Run the handler of a job this worker has claimed and record how it ended; returns the
    state it ended in (``queued`` if it went back to the queue, ``running`` if it was lost)."""
    ctx = JobContext(job, stop=stop)
    fn = get_handler(job.kind)
    if fn is None:
        log.error("job %s: no handler for kind %r", job.pk, job.kind)
        return _end(
            ctx, JobState.FAILED, error=UNKNOWN_KIND_MESSAGE.format(kind=job.kind, pk=job.pk)
        )
    log.info("job %s (%s) started by %s, attempt %s", job.pk, job.kind, job.worker, job.attempts)
    interval = max(1.0, settings.JOB_STALE_SECONDS / 6)
    # Inline inside a test's transaction, a failing handler must not spoil the transaction.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with _heartbeat(job, interval) if beat else nullcontext(), guard:
            result = fn(job, ctx)
    except JobLost:
        log.warning("job %s: lost by %s (taken back or cancelled)", job.pk, job.worker)
        return JobState.RUNNING
    except JobError as exc:
        log.info("job %s failed: %s", job.pk, exc)
        return _end(ctx, JobState.FAILED, error=str(exc) or FAILED_MESSAGE.format(pk=job.pk))
    except Exception:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        return _end(ctx, JobState.FAILED, error=FAILED_MESSAGE.format(pk=job.pk))
    if ctx.lost:
        log.warning("job %s: lost by %s (taken back or cancelled)", job.pk, job.worker)
        return JobState.RUNNING
    if ctx.stopped:
        cancel = _held(job).values_list("cancel_requested", flat=True).first()
        if cancel or not ctx.shutting_down:
            return _end(ctx, JobState.CANCELLED)
        return _give_back(ctx)
    if result is not None and not isinstance(result, dict):
        result = {"value": result}
    return _end(ctx, JobState.SUCCEEDED, result=result)


def _progress_fields(job: Job) -> dict[str, Any]:
    return {
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
        "progress_note": job.progress_note,
    }


def _end(ctx: JobContext, state: str, *, error: str = "", result: Any = None) -> str:
    job = ctx.job
    now = timezone.now()
    fields = {
        **_progress_fields(job),
        "state": state,
        "finished_at": now,
        "heartbeat_at": now,
        "claim_token": "",
        "error": error,
    }
    if state == JobState.SUCCEEDED:
        fields["result"] = result
    if not _held(job).update(**fields):
        log.warning("job %s: lost before it could be marked %s", job.pk, state)
        return JobState.RUNNING
    log.info("job %s %s", job.pk, state)
    return state


def _give_back(ctx: JobContext) -> str:
    """The worker is stopping: back to the queue, to resume from the checkpoint; the run
    does not count as an attempt."""
    job = ctx.job
    fields = {
        **_progress_fields(job),
        "state": JobState.QUEUED,
        "worker": "",
        "claim_token": "",
        "attempts": Case(When(attempts__gt=0, then=F("attempts") - 1), default=Value(0)),
    }
    if not _held(job).update(**fields):
        return JobState.RUNNING
    log.info("job %s given back to the queue (worker stopping)", job.pk)
    return JobState.QUEUED


def run_one(worker_id: str, *, stop: threading.Event | None = None) -> bool:
    """Claim and run the oldest queued job; False when there was none."""
    job = claim_next(worker_id)
    if job is None:
        return False
    run_job(job, stop=stop)
    return True


def run_inline(job_pk: int) -> None:
    """``JOBS_INLINE``: run a just-queued job in this thread."""
    job = _claim(job_pk, f"inline:{os.getpid()}")
    if job is not None:
        run_job(job, beat=False)


def requeue_stale(now: datetime | None = None) -> int:
    """Running jobs whose heartbeat is older than JOB_STALE_SECONDS lost their worker: back
    to the queue; a job that had been asked to cancel ends cancelled, and one that has run
    JOB_MAX_ATTEMPTS times fails. Returns how many jobs were taken back."""
    now = now or timezone.now()
    stale = Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=now - _stale_after())
    ended = {"finished_at": now, "claim_token": "", "worker": ""}
    cancelled = stale.filter(cancel_requested=True).update(state=JobState.CANCELLED, **ended)
    failed = stale.filter(attempts__gte=settings.JOB_MAX_ATTEMPTS).update(
        state=JobState.FAILED,
        error=TOO_MANY_ATTEMPTS_MESSAGE.format(attempts=settings.JOB_MAX_ATTEMPTS),
        **ended,
    )
    requeued = stale.update(state=JobState.QUEUED, claim_token="", worker="")
    if cancelled or failed or requeued:
        log.warning(
            "stale jobs: %s requeued, %s cancelled, %s failed after too many attempts",
            requeued,
            cancelled,
            failed,
        )
    return requeued + cancelled + failed


# --- Keeping the copies of union paths in step


def _paths_moved(old_prefix: str, new_prefix: str) -> int:
    return Job.objects.filter(Q(union_path__startswith=old_prefix)).update(
        union_path=Concat(Value(new_prefix), Substr("union_path", len(old_prefix) + 1))
    )


def register_org_hooks() -> None:
    from niangjia.orgs import services as org_services

    if _paths_moved not in org_services.PATH_CHANGE_STEPS:
        org_services.PATH_CHANGE_STEPS.append(_paths_moved)
