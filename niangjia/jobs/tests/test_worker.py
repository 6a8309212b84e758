"""The worker loop and ``manage.py run_jobs`` in this process (the real processes, killed and
stopped, are in test_worker_processes.py)."""

from __future__ import annotations

import datetime
import io
import logging
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from niangjia.jobs import services
from niangjia.jobs.choices import JobState
from niangjia.jobs.models import Job
from niangjia.jobs.testing import run_steps  # noqa: F401 (registers the test handlers)
from niangjia.jobs.worker import Worker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queued_only(settings: Any) -> None:
    settings.JOBS_INLINE = False


def test_a_worker_run_once_drains_the_queue_and_exits():
    jobs = [Job.objects.create(kind="jobs.test.steps", title=f"任务{i}") for i in range(3)]
    assert Worker(once=True, name="w1").run() == 3
    assert {job.state for job in Job.objects.filter(pk__in=[j.pk for j in jobs])} == {
        JobState.SUCCEEDED
    }


def test_a_worker_takes_back_stale_jobs_when_it_starts():
    job = Job.objects.create(kind="jobs.test.steps", title="中断的任务", params={"steps": 4})
    services.claim_next("dead-worker")
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=5),
        checkpoint={"next": 3, "starts": [0]},
        progress_done=3,
    )
    assert Worker(once=True, name="w2").run() == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.worker) == (JobState.SUCCEEDED, 2, "w2")
    assert job.result == {"steps": 4, "starts": [0, 3]}


def test_a_worker_keeps_going_when_claiming_fails(monkeypatch, caplog):
    stop = threading.Event()
    calls: list[str] = []

    def broken(worker_id: str, *, stop: threading.Event | None = None) -> bool:
        calls.append(worker_id)
        if len(calls) == 2:
            stop_event.set()
        raise RuntimeError("database went away")

    stop_event = stop
    monkeypatch.setattr(services, "run_one", broken)
    with caplog.at_level(logging.ERROR, logger="niangjia.jobs"):
        Worker(stop=stop, poll=0.01, name="w3").run()
    assert calls == ["w3", "w3"]
    assert "could not claim or run a job" in caplog.text


def test_run_jobs_once_logs_to_stdout():
    job = Job.objects.create(kind="jobs.test.echo", title="回声", params={"a": 1})
    out = io.StringIO()
    call_command("run_jobs", "--once", "--handlers", "niangjia.jobs.testing", stdout=out)
    text = out.getvalue()
    assert f"job {job.pk} (jobs.test.echo) started by" in text
    assert f"job {job.pk} succeeded" in text
    assert "stopped after 1 jobs" in text
    assert logging.getLogger("niangjia.jobs").propagate  # left as it was
