"""The job queue: enqueue, claim, run, cancel, fail, take back from dead workers."""

from __future__ import annotations

import datetime
import logging
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.jobs import services
from niangjia.jobs.choices import JobState
from niangjia.jobs.models import Job
from niangjia.jobs.registry import WRITE_INTERVAL, JobContext, JobLost, handler
from niangjia.jobs.testing import (
    create_steps_table,
    run_steps,
    steps_done,
)

pytestmark = pytest.mark.django_db


def queue(kind: str = "jobs.test.steps", **params: Any) -> Job:
    """A queued job, left in the queue (no inline run)."""
    return Job.objects.create(kind=kind, params=params, title="测试任务")


@pytest.fixture
def queued_only(settings: Any) -> None:
    settings.JOBS_INLINE = False


# --- Enqueue and the inline mode


def test_enqueued_job_runs_inline_and_stores_its_result(county_cadre, tree):
    job = services.job_enqueue(
        kind="jobs.test.echo",
        params={"file": 7},
        owner=county_cadre,
        union=tree.jiangan,
        title="导入会员名册",
        return_url="/members/",
    )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.result == {"echo": {"file": 7}}
    assert job.union_path == tree.jiangan.path
    assert job.percent == 100
    assert job.attempts == 1
    assert job.finished_at is not None


def test_inline_job_waits_for_the_creating_transaction(county_cadre, tree):
    with transaction.atomic():
        job = services.job_enqueue(
            kind="jobs.test.echo", params={}, owner=county_cadre, union=None, title="导出"
        )
        # Inside a transaction of the code the job is not run before the commit.
        assert Job.objects.get(pk=job.pk).state == JobState.QUEUED


def test_enqueue_leaves_the_job_queued_without_inline_mode(queued_only, county_cadre):
    job = services.job_enqueue(
        kind="jobs.test.echo", params={}, owner=county_cadre, union=None, title="导出"
    )
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED


def test_enqueue_refuses_an_unknown_kind(county_cadre):
    with pytest.raises(ValueError, match="no handler"):
        services.job_enqueue(
            kind="jobs.test.nothing", params={}, owner=county_cadre, union=None, title="x"
        )


def test_enqueue_refuses_a_return_address_on_another_site(county_cadre):
    with pytest.raises(ValidationError) as caught:
        services.job_enqueue(
            kind="jobs.test.echo",
            params={},
            owner=county_cadre,
            union=None,
            title="导出",
            return_url="https://evil.example.org/",
        )
    assert caught.value.message_dict == {"return_url": ["返回地址只能是本站的页面"]}
    assert not Job.objects.exists()


# --- Claiming


def test_claim_takes_the_oldest_queued_job(queued_only):
    first, second = queue(), queue()
    Job.objects.filter(pk=second.pk).update(created_at=first.created_at - datetime.timedelta(1))
    claimed = services.claim_next("w1")
    assert claimed.pk == second.pk
    assert claimed.state == JobState.RUNNING
    assert claimed.worker == "w1"
    assert claimed.claim_token
    assert claimed.attempts == 1
    assert services.claim_next("w2").pk == first.pk
    assert services.claim_next("w3") is None


def test_two_workers_never_take_the_same_job(queued_only):
    jobs = [queue() for _ in range(5)]
    taken = [services.claim_next(f"w{i}") for i in range(7)]
    held = [job.pk for job in taken if job is not None]
    assert sorted(held) == sorted(job.pk for job in jobs)
    assert taken[5] is None and taken[6] is None


def test_a_claim_on_a_job_taken_meanwhile_comes_back_empty(queued_only):
    job = queue()
    assert services._claim(job.pk, "w1") is not None
    assert services._claim(job.pk, "w2") is None
    assert Job.objects.get(pk=job.pk).worker == "w1"


def test_run_one_runs_the_job_and_reports_an_empty_queue(queued_only):
    job = queue(steps=3)
    assert services.run_one("w1") is True
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.result == {"steps": 3, "starts": [0]}
    assert job.claim_token == ""
    assert services.run_one("w1") is False


# --- Failure


def test_an_exception_fails_the_job_with_a_chinese_message_and_logs_the_traceback(
    queued_only, caplog
):
    job = queue("jobs.test.crash")
    with caplog.at_level(logging.ERROR, logger="niangjia.jobs"):
        services.run_one("w1")
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error.startswith("任务执行时出错，已停止")
    assert f"任务编号 {job.pk}" in job.error
    assert "secret internal detail" not in job.error
    assert "secret internal detail" in caplog.text  # the traceback is in the log
    assert (job.progress_done, job.progress_total) == (1, 4)


def test_a_job_error_shows_its_own_message(queued_only):
    job = queue("jobs.test.refuse")
    services.run_one("w1")
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == "第 3 行：居民身份证号码校验位不正确"


def test_a_job_of_an_unknown_kind_fails(queued_only):
    job = queue("jobs.test.gone")
    services.run_one("w1")
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "系统无法执行这种任务" in job.error


def test_a_failing_inline_job_leaves_the_callers_transaction_usable(county_cadre):
    job = services.job_enqueue(
        kind="jobs.test.crash", params={}, owner=county_cadre, union=None, title="会失败的任务"
    )
    assert Job.objects.get(pk=job.pk).state == JobState.FAILED
    assert Job.objects.count() == 1  # the connection still answers


# --- Cancelling


def test_cancelling_a_queued_job_ends_it_at_once(queued_only, county_cadre, tree):
    job = services.job_enqueue(
        kind="jobs.test.steps", params={}, owner=county_cadre, union=tree.jiangan, title="导入"
    )
    services.job_cancel(job=job, acting_user=county_cadre)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert job.finished_at is not None
    assert services.claim_next("w1") is None
    entry = AuditEntry.objects.get(action=AuditAction.CHANGE, object_type="jobs.job")
    assert entry.after == {"state": "cancelled", "cancel_requested": True}
    assert entry.union_path == tree.jiangan.path


def test_cancelling_a_running_job_stops_its_handler_at_the_next_check(queued_only, county_cadre):
    job = Job.objects.create(
        kind="jobs.test.steps", params={"steps": 100}, title="导入", owner=county_cadre
    )
    job = services.claim_next("w1")
    services.job_cancel(job=job, acting_user=county_cadre)
    assert Job.objects.get(pk=job.pk).state == JobState.RUNNING  # asked, not yet stopped
    services.run_job(job, beat=False)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert job.progress_done == 0
    assert job.result is None


def test_a_finished_job_cannot_be_cancelled(county_cadre):
    job = services.job_enqueue(
        kind="jobs.test.echo", params={}, owner=county_cadre, union=None, title="导出"
    )
    with pytest.raises(ValidationError) as caught:
        services.job_cancel(job=job, acting_user=county_cadre)
    assert caught.value.message_dict == {"state": ["任务已经已完成，不能再取消"]}


def test_only_the_owner_or_a_cadre_of_the_union_may_cancel(
    queued_only, county_cadre, sibling_cadre, auditor, provincial_cadre, tree
):
    job = services.job_enqueue(
        kind="jobs.test.steps", params={}, owner=county_cadre, union=tree.jiangan, title="导入"
    )
    with pytest.raises(PermissionDenied):
        services.job_cancel(job=job, acting_user=sibling_cadre)
    with pytest.raises(PermissionDenied):
        services.job_cancel(job=job, acting_user=auditor)  # sees it, may not change it
    services.job_cancel(job=job, acting_user=provincial_cadre)
    assert Job.objects.get(pk=job.pk).state == JobState.CANCELLED


# --- Shutdown, stale workers, attempts


def test_a_stopping_worker_gives_the_job_back_to_resume_from_its_checkpoint(queued_only):
    job = queue(steps=5)
    stop = threading.Event()

    @handler("jobs.test.stop_after_two")
    def stop_after_two(job: Job, ctx: JobContext) -> dict[str, Any]:
        result = run_steps(job, _Stopping(ctx, stop, after=2))
        return result

    Job.objects.filter(pk=job.pk).update(kind="jobs.test.stop_after_two")
    services.run_one("w1", stop=stop)
    job.refresh_from_db()
    assert job.state == JobState.QUEUED
    assert job.checkpoint["next"] == 2
    assert job.attempts == 0  # a graceful stop does not count
    assert job.worker == ""
    Job.objects.filter(pk=job.pk).update(kind="jobs.test.steps")
    services.run_one("w2")
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.result == {"steps": 5, "starts": [0, 2]}


class _Stopping:
    """A context that sets the worker's stop flag after ``after`` checkpoints."""

    def __init__(self, ctx: JobContext, stop: threading.Event, after: int) -> None:
        self._ctx, self._stop, self._after = ctx, stop, after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def save_checkpoint(self, data: dict[str, Any]) -> None:
        self._ctx.save_checkpoint(data)
        if data["next"] >= self._after:
            self._stop.set()


def _stale(job: Job, seconds: int = 120) -> None:
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=seconds)
    )


def test_a_job_whose_heartbeat_is_stale_goes_back_to_the_queue(queued_only, settings):
    settings.JOB_STALE_SECONDS = 30
    job = queue()
    services.claim_next("w1")
    assert services.requeue_stale() == 0  # fresh heartbeat
    _stale(job, seconds=31)
    assert services.requeue_stale() == 1
    job.refresh_from_db()
    assert job.state == JobState.QUEUED
    assert (job.worker, job.claim_token) == ("", "")
    assert job.attempts == 1
    assert services.claim_next("w2").attempts == 2


def test_the_dead_workers_writes_are_refused_after_the_job_was_taken_back(queued_only):
    job = queue()
    old = services.claim_next("w1")
    _stale(job)
    services.requeue_stale()
    services.claim_next("w2")
    ctx = JobContext(old)
    with pytest.raises(JobLost):
        ctx.save_checkpoint({"next": 9})
    assert ctx.cancelled() is True
    assert Job.objects.get(pk=job.pk).checkpoint == {}


def test_a_lost_job_is_left_to_its_new_worker(queued_only):
    job = queue(steps=3)
    old = services.claim_next("w1")
    _stale(job)
    services.requeue_stale()
    services.claim_next("w2")
    assert services.run_job(old, beat=False) == JobState.RUNNING
    job.refresh_from_db()
    assert (job.state, job.worker, job.checkpoint) == (JobState.RUNNING, "w2", {})


def test_a_job_fails_after_the_maximum_number_of_attempts(queued_only, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job = queue()
    for attempt in (1, 2):
        claimed = services.claim_next(f"w{attempt}")
        assert claimed.attempts == attempt
        _stale(job)
        services.requeue_stale()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == "任务执行进程多次意外中断（共 2 次），已停止。请联系管理员。"
    assert job.finished_at is not None


def test_a_stale_job_that_was_asked_to_cancel_ends_cancelled(queued_only, county_cadre):
    job = Job.objects.create(kind="jobs.test.steps", title="导入", owner=county_cadre)
    services.claim_next("w1")
    services.job_cancel(job=job, acting_user=county_cadre)
    _stale(job)
    services.requeue_stale()
    assert Job.objects.get(pk=job.pk).state == JobState.CANCELLED


# --- The context's throttle


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_written_at_most_twice_a_second_and_always_at_the_end(
    queued_only, django_assert_num_queries
):
    queue()
    job = services.claim_next("w1")
    clock = _Clock()
    ctx = JobContext(job, clock=clock)
    with django_assert_num_queries(1):
        for done in range(1, 50):
            ctx.progress(done, 100)
    assert Job.objects.get(pk=job.pk).progress_done == 1
    clock.now += WRITE_INTERVAL
    with django_assert_num_queries(2):
        ctx.progress(60, 100, note="第 60 行")
        ctx.progress(100, 100)  # the last one is always written
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total, job.progress_note) == (100, 100, "第 60 行")
    assert job.heartbeat_at is not None


def test_cancelled_reads_the_database_at_most_twice_a_second(
    queued_only, county_cadre, django_assert_num_queries
):
    Job.objects.create(kind="jobs.test.steps", title="导入", owner=county_cadre)
    job = services.claim_next("w1")
    clock = _Clock()
    ctx = JobContext(job, clock=clock)
    with django_assert_num_queries(1):
        assert [ctx.cancelled() for _ in range(20)] == [False] * 20
    services.job_cancel(job=job, acting_user=county_cadre)
    assert ctx.cancelled() is False  # not read again yet
    clock.now += WRITE_INTERVAL
    assert ctx.cancelled() is True


def test_a_handler_kind_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="already handled"):

        @handler("jobs.test.echo")
        def other(job: Job, ctx: JobContext) -> None:
            return None


# --- Union paths follow a moved subtree


def test_a_jobs_union_path_follows_its_union_when_the_subtree_moves(
    queued_only, national_admin, county_cadre, tree
):
    from niangjia.orgs import services as org_services

    job = services.job_enqueue(
        kind="jobs.test.echo",
        params={},
        owner=county_cadre,
        union=tree.jiangan_grassroots,
        title="导入",
    )
    org_services.union_move(
        acting_user=national_admin, union=tree.jiangan_grassroots, new_parent=tree.wuhan
    )
    tree.refresh()
    job.refresh_from_db()
    assert job.union_path == tree.jiangan_grassroots.path
    assert not job.union_path.startswith(tree.jiangan.path)


def test_steps_table_helper_counts_rows(queued_only):
    create_steps_table()
    job = queue(steps=3, table=True)
    services.run_one("w1")
    assert steps_done(job.pk) == [0, 1, 2]
