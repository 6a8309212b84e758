"""Background job handlers: how long work (imports, big exports) runs outside the request.

A handler is a function registered under a kind name::

    from niangjia.jobs.registry import JobContext, JobError, handler

    @handler("imports.commit")
    def commit_import(job: Job, ctx: JobContext) -> dict | None:
        done = ctx.checkpoint.get("rows_done", 0)       # where an earlier run stopped
        total = count_rows(job.params["upload_id"])
        for chunk in chunks(job.params["upload_id"], start=done, size=1000):
            if ctx.cancelled():                          # cancel, or the worker is stopping
                return None
            with transaction.atomic():
                save_rows(chunk)
                done += len(chunk)
                ctx.save_checkpoint({"rows_done": done})  # in the chunk's own transaction
            ctx.progress(done, total)
        return {"rows": done}                             # stored as ``job.result``

and started by a service, after the transaction that created what it works on, with
``niangjia.jobs.services.job_enqueue(kind=..., params=..., owner=..., union=..., title=...)``.
Modules named ``jobs`` in installed apps (``niangjia/imports/jobs.py``) are imported at start-up,
so their ``@handler`` registrations are known to every process.

The context:

- ``ctx.progress(done, total=None, note="")``: progress shown on the job's page; cheap to call
  for every chunk (written at most every ``WRITE_INTERVAL`` seconds, and always when
  ``done == total``). It also counts as a heartbeat.
- ``ctx.cancelled() -> bool``: True once someone asked to cancel the job (read at most every
  ``WRITE_INTERVAL`` seconds), the worker is shutting down, or the worker lost the job. The
  handler then stops at once and returns; what it returns is ignored. A cancelled job ends
  "已取消"; a job stopped by a shutdown goes back to the queue and resumes from its checkpoint.
- ``ctx.save_checkpoint(data)`` / ``ctx.checkpoint``: a JSON object saying where the work
  stands. Called inside the transaction that writes a chunk's effects, it makes each chunk
  count exactly once: if the worker lost the job meanwhile, it raises ``JobLost`` and the
  chunk rolls back.
- ``ctx.heartbeat()``: "still alive" for a long step without progress to report. The worker
  also beats for the handler every few seconds from a thread of its own, so a job is taken
  back only when its worker process is gone (crashed, killed).
- ``raise JobError("中文说明")``: the job fails with that message shown to the user. Any other
  exception fails it with a generic message; the traceback goes to the log, never to the page.

**Handlers must be resumable.** A worker may die at any instruction (``kill -9``, power
loss). Its job is then put back in the queue once its heartbeat is older than
``JOB_STALE_SECONDS`` and run again, from the start of the handler, with ``ctx.checkpoint``
as last saved: the handler skips what the checkpoint says is done, and work not covered by a
checkpoint must be safe to do twice. After ``JOB_MAX_ATTEMPTS`` runs the job fails.

A handler runs with autocommit (no transaction around it), in a worker process
(``manage.py run_jobs``) or, with ``JOBS_INLINE`` (tests), in the thread that enqueued it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from niangjia.jobs.choices import JobState

if TYPE_CHECKING:
    from niangjia.jobs.models import Job

Handler = Callable[["Job", "JobContext"], "dict[str, Any] | None"]

# Progress and cancellation are written and read at most this often (seconds).
WRITE_INTERVAL = 0.5

_HANDLERS: dict[str, Handler] = {}


class JobError(Exception):
    """A failure to tell the user: the message (Chinese) becomes the job's error."""


class JobLost(Exception):
    """This worker no longer holds the job (given to another worker, or cancelled while
    queued); whatever the handler was writing must roll back."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register ``fn(job, ctx) -> dict | None`` as the handler of jobs of ``kind``."""

    def register(fn: Handler) -> Handler:
        existing = _HANDLERS.get(kind)
        if existing is not None and existing is not fn:
            same = (existing.__module__, existing.__qualname__) == (fn.__module__, fn.__qualname__)
            if not same:
                raise ValueError(f"job kind {kind!r} is already handled by {existing!r}")
        _HANDLERS[kind] = fn
        return fn

    return register


def get_handler(kind: str) -> Handler | None:
    return _HANDLERS.get(kind)


def kinds() -> list[str]:
    return sorted(_HANDLERS)


def autodiscover() -> None:
    """Import the ``jobs`` module of every installed app that has one."""
    autodiscover_modules("jobs")


class JobContext:
    """What a running handler may tell the job (progress, checkpoint) or ask it (cancelled?).

    Every write is conditioned on this run's claim token: a run that lost its job writes
    nothing."""

    def __init__(
        self,
        job: Job,
        *,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self._stop = stop or threading.Event()
        self._clock = clock
        self._last_write = float("-inf")
        self._last_cancel_read = float("-inf")
        self._cancel_requested = bool(job.cancel_requested)
        self.lost = False
        self.stopped = False  # cancelled() said True at least once

    # --- The database row of this run

    def _mine(self) -> Any:
        from niangjia.jobs.models import Job

        return Job.objects.filter(
            pk=self.job.pk, state=JobState.RUNNING, claim_token=self.job.claim_token
        )

    def _update(self, **fields: Any) -> bool:
        fields["heartbeat_at"] = timezone.now()
        if self._mine().update(**fields):
            return True
        self.lost = True
        return False

    # --- The handler's calls

    @property
    def checkpoint(self) -> dict[str, Any]:
        return dict(self.job.checkpoint or {})

    def progress(self, done: int, total: int | None = None, note: str = "") -> None:
        """Report ``done`` of ``total`` units (rows); written at most every WRITE_INTERVAL."""
        self.job.progress_done = done
        if total is not None:
            self.job.progress_total = total
        if note:
            self.job.progress_note = note[:200]
        now = self._clock()
        final = self.job.progress_total is not None and done >= self.job.progress_total
        if not final and now - self._last_write < WRITE_INTERVAL:
            return
        self._last_write = now
        self._update(
            progress_done=self.job.progress_done,
            progress_total=self.job.progress_total,
            progress_note=self.job.progress_note,
        )

    def save_checkpoint(self, data: dict[str, Any]) -> None:
        """Store where the work stands; raises JobLost if this run no longer holds the job."""
        if not self._update(checkpoint=data):
            raise JobLost(f"job {self.job.pk} is no longer held by this worker")
        self.job.checkpoint = data

    def heartbeat(self) -> None:
        now = self._clock()
        if now - self._last_write < WRITE_INTERVAL:
            return
        self._last_write = now
        self._update()

    def cancelled(self) -> bool:
        """Should the handler stop now? (cancel requested, worker stopping, or job lost)"""
        if not (self._cancel_requested or self.lost or self._stop.is_set()):
            now = self._clock()
            if now - self._last_cancel_read >= WRITE_INTERVAL:
                self._last_cancel_read = now
                row = self._mine().values_list("cancel_requested", flat=True).first()
                if row is None:
                    self.lost = True
                else:
                    self._cancel_requested = bool(row)
        if self._cancel_requested or self.lost or self._stop.is_set():
            self.stopped = True
        return self.stopped

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    @property
    def shutting_down(self) -> bool:
        return self._stop.is_set()
