"""Test helpers of the job system: handlers for tests, and the ``job_worker`` fixture.

``job_worker`` turns ``JOBS_INLINE`` off and runs a real worker (``niangjia.jobs.worker``) in
a thread for the length of a test: for live-server and browser tests, where a job must run
beside the pages that show it::

    def test_import_page_shows_progress(live_server, job_worker, page): ...

The handlers below are registered when this module is imported (tests import it; a worker
process started by a test gets ``--handlers niangjia.jobs.testing``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from niangjia.jobs.models import Job
from niangjia.jobs.registry import JobContext, JobError, handler
from niangjia.jobs.worker import Worker

STEPS_TABLE = "jobs_test_step"
log = logging.getLogger("niangjia.jobs")


def create_steps_table() -> None:
    """The side-effect table of ``jobs.test.steps`` (one row per step done)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {STEPS_TABLE} (job_id integer NOT NULL, step integer NOT NULL)"
        )


def drop_steps_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STEPS_TABLE}")


def steps_done(job_id: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT step FROM {STEPS_TABLE} WHERE job_id = %s ORDER BY step",  # noqa: S608
            [job_id],
        )
        return [row[0] for row in cursor.fetchall()]


@handler("jobs.test.steps")
def run_steps(job: Job, ctx: JobContext) -> dict[str, Any]:
    """``params``: ``steps`` (how many), ``delay`` (seconds per step), ``table`` (write a row
    per step into STEPS_TABLE, in the step's transaction with the checkpoint)."""
    steps = int(job.params.get("steps", 10))
    delay = float(job.params.get("delay", 0))
    table = bool(job.params.get("table", False))
    start = int(ctx.checkpoint.get("next", 0))
    starts = [*ctx.checkpoint.get("starts", []), start]
    ctx.progress(start, steps, note=f"从第 {start + 1} 步开始")
    for step in range(start, steps):
        if ctx.cancelled():
            return {"stopped_at": step}
        if delay:
            time.sleep(delay)
        with transaction.atomic():
            if table:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"INSERT INTO {STEPS_TABLE} (job_id, step) VALUES (%s, %s)",  # noqa: S608
                        [job.pk, step],
                    )
            ctx.save_checkpoint({"next": step + 1, "starts": starts})
        log.info("job %s: step %s done", job.pk, step)
        ctx.progress(step + 1, steps)
    return {"steps": steps, "starts": starts}


@handler("jobs.test.crash")
def run_crash(job: Job, ctx: JobContext) -> None:
    ctx.progress(1, 4)
    raise RuntimeError("secret internal detail: /srv/niangjia/data.xlsx")


@handler("jobs.test.refuse")
def run_refuse(job: Job, ctx: JobContext) -> None:
    raise JobError("第 3 行：居民身份证号码校验位不正确")


@handler("jobs.test.echo")
def run_echo(job: Job, ctx: JobContext) -> dict[str, Any]:
    ctx.progress(1, 1)
    return {"echo": job.params}


@pytest.fixture
def job_worker(settings: Any, transactional_db: None) -> Iterator[Worker]:
    """A worker thread claiming and running jobs for the length of the test."""
    settings.JOBS_INLINE = False
    stop = threading.Event()
    worker = Worker(stop=stop, poll=0.1, name="test-worker")
    thread = threading.Thread(target=worker.run, name="job-worker", daemon=True)
    thread.start()
    yield worker
    stop.set()
    thread.join(timeout=30)
