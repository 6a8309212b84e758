"""The worker loop of ``manage.py run_jobs`` (and of the ``job_worker`` test fixture)."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection

from niangjia.jobs import services

log = logging.getLogger("niangjia.jobs")

POLL_SECONDS = 0.5


class Worker:
    """Claims and runs jobs until ``stop`` is set (or, with ``once``, until the queue is
    empty). Stale jobs of dead workers are put back in the queue at start and then every
    ``requeue_every`` seconds. Setting ``stop`` lets the running handler see
    ``ctx.cancelled()``; its job goes back to the queue for the next worker."""

    def __init__(
        self,
        *,
        stop: threading.Event | None = None,
        once: bool = False,
        poll: float = POLL_SECONDS,
        requeue_every: float | None = None,
        name: str | None = None,
    ) -> None:
        self.stop = stop or threading.Event()
        self.once = once
        self.poll = poll
        self.requeue_every = (
            requeue_every if requeue_every is not None else max(1.0, settings.JOB_STALE_SECONDS / 3)
        )
        self.name = name or services.worker_name()
        self.jobs_run = 0

    def run(self) -> int:
        log.info("worker %s started", self.name)
        last_requeue = float("-inf")
        try:
            while not self.stop.is_set():
                self._fresh_connection()
                now = time.monotonic()
                if now - last_requeue >= self.requeue_every:
                    last_requeue = now
                    self._requeue()
                try:
                    ran = services.run_one(self.name, stop=self.stop)
                except Exception:
                    log.exception("worker %s: could not claim or run a job", self.name)
                    ran = False
                    self.stop.wait(self.poll)
                if ran:
                    self.jobs_run += 1
                    continue
                if self.once:
                    break
                self.stop.wait(self.poll)
        finally:
            if not connection.in_atomic_block:
                connection.close()
            log.info("worker %s stopped after %s jobs", self.name, self.jobs_run)
        return self.jobs_run

    @staticmethod
    def _fresh_connection() -> None:
        """Drop a connection that broke or outlived CONN_MAX_AGE between two jobs (left alone
        inside a transaction: a test's, when the loop runs in a test)."""
        if not connection.in_atomic_block:
            close_old_connections()

    def _requeue(self) -> None:
        try:
            services.requeue_stale()
        except Exception:
            log.exception("worker %s: could not take back stale jobs", self.name)
