"""Workers as real processes. A worker killed with SIGKILL in the middle of a job: another worker takes the job back once
its heartbeat is stale and finishes it from the checkpoint, every step done exactly once.

Real processes (``manage.py run_jobs``) on a real database: on PostgreSQL the test database
itself (the test is transactional, so what it writes is committed and visible to them); on
SQLite, whose test database lives in this process's memory, a throwaway file database migrated
for the test.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
STEPS = 40
STALE_SECONDS = 3
WAIT = 90  # seconds: the machine is shared
STARTED = re.compile(r"job (\d+) \(jobs\.test\.steps\) started by")


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="niangjia.test_settings",
        DATABASE_URL=database_url,
        JOB_STALE_SECONDS=str(STALE_SECONDS),
        PYTHONUNBUFFERED="1",
    )
    return env


def _python(database_url: str, code: str) -> Any:
    """Run ``code`` in a fresh Django process on the database; returns what it prints (JSON)."""
    script = "import django, json\ndjango.setup()\n" + code
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


class WorkerProcess:
    """``manage.py run_jobs`` in a child process, its output read line by line."""

    def __init__(self, database_url: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_jobs",
                "--poll",
                "0.1",
                "--handlers",
                "niangjia.jobs.testing",
            ],
            cwd=ROOT,
            env=_env(database_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"worker never said {text!r}; it said:\n" + "\n".join(self.seen))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=WAIT)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=WAIT)


def _postgres_url() -> str:
    s = connection.settings_dict
    credentials = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        credentials += ":" + quote(s["PASSWORD"])
    return f"postgres://{credentials}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def crash_database(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    if connection.vendor == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env=_env(url),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stderr[-3000:]
    else:
        url = _postgres_url()
    yield url
    if connection.vendor != "sqlite":
        from niangjia.jobs.testing import drop_steps_table

        drop_steps_table()


def test_a_job_killed_mid_way_resumes_on_another_worker_with_each_step_done_once(
    crash_database,
):
    url = crash_database
    job_id = _python(
        url,
        "from niangjia.jobs.models import Job\n"
        "from niangjia.jobs.testing import create_steps_table\n"
        "create_steps_table()\n"
        f"job = Job.objects.create(kind='jobs.test.steps', title='断点续跑测试',"
        f" params={{'steps': {STEPS}, 'delay': 0.05, 'table': True}})\n"
        "print(json.dumps(job.pk))\n",
    )
    first = WorkerProcess(url)
    try:
        first.wait_for(f"job {job_id}: step 9 done")
    finally:
        first.kill()
    assert first.process.returncode == -signal.SIGKILL

    middle = _python(
        url,
        "from niangjia.jobs.models import Job\n"
        "from niangjia.jobs.testing import steps_done\n"
        f"job = Job.objects.get(pk={job_id})\n"
        f"print(json.dumps([job.state, job.checkpoint.get('next'), steps_done({job_id})]))\n",
    )
    state, next_step, done = middle
    assert state == "running"  # nobody knows yet that its worker is gone
    assert 10 <= next_step < STEPS
    assert done == list(range(next_step))  # what the checkpoint says, not a row more

    second = WorkerProcess(url)
    try:
        second.wait_for("stale jobs: 1 requeued")
        second.wait_for(f"job {job_id} succeeded")
    finally:
        assert second.stop() == 0  # SIGTERM: a clean stop

    state, attempts, result, done = _python(
        url,
        "from niangjia.jobs.models import Job\n"
        "from niangjia.jobs.testing import steps_done\n"
        f"job = Job.objects.get(pk={job_id})\n"
        f"print(json.dumps([job.state, job.attempts, job.result, steps_done({job_id})]))\n",
    )
    assert state == "succeeded"
    assert attempts == 2
    assert result["starts"][0] == 0 and result["starts"][1] >= next_step
    assert done == list(range(STEPS))  # each step exactly once


def test_a_worker_stopped_with_sigterm_gives_its_job_back_and_exits_cleanly(crash_database):
    url = crash_database
    job_id = _python(
        url,
        "from niangjia.jobs.models import Job\n"
        f"job = Job.objects.create(kind='jobs.test.steps', title='优雅停止测试',"
        f" params={{'steps': {STEPS}, 'delay': 0.05}})\n"
        "print(json.dumps(job.pk))\n",
    )
    worker = WorkerProcess(url)
    try:
        worker.wait_for(f"job {job_id}: step 4 done")
    finally:
        assert worker.stop() == 0
    worker.wait_for(f"job {job_id} given back to the queue")
    state, attempts, next_step = _python(
        url,
        "from niangjia.jobs.models import Job\n"
        f"job = Job.objects.get(pk={job_id})\n"
        "print(json.dumps([job.state, job.attempts, job.checkpoint.get('next')]))\n",
    )
    assert (state, attempts) == ("queued", 0)
    assert 5 <= next_step < STEPS


def test_three_workers_draining_one_queue_run_every_job_once(crash_database):
    url = crash_database
    count = 30
    job_ids = _python(
        url,
        "from niangjia.jobs.models import Job\n"
        f"jobs = [Job.objects.create(kind='jobs.test.steps', title=f'并发{{i}}',"
        f" params={{'steps': 2, 'delay': 0.1}}) for i in range({count})]\n"
        "print(json.dumps([job.pk for job in jobs]))\n",
    )
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_jobs",
                "--once",
                "--poll",
                "0.05",
                "--handlers",
                "niangjia.jobs.testing",
            ],
            cwd=ROOT,
            env=_env(url),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [w.communicate(timeout=WAIT)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], outputs
    started = [int(pk) for output in outputs for pk in STARTED.findall(output)]
    assert sorted(started) == sorted(job_ids)  # each claimed by exactly one worker
    assert sum(1 for output in outputs if STARTED.search(output)) >= 2  # they did share
    states = _python(
        url,
        "from niangjia.jobs.models import Job\n"
        "print(json.dumps(sorted(set(Job.objects.values_list('state', 'attempts')))))\n",
    )
    assert states == [["succeeded", 1]]
