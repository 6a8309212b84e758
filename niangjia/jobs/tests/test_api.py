"""/api/v1/jobs: persona by persona, then what the answers hold."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from niangjia.api.tests.helpers import JsonClient
from niangjia.jobs import services
from niangjia.jobs.choices import JobState
from niangjia.jobs.models import Job
from niangjia.jobs.testing import run_echo  # noqa: F401 (registers the test handlers)
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Personas, Tree, api_client

API = "/api/v1/jobs"


def jiangan_job(t: Tree, personas: Personas) -> Job:
    """A queued import of 江岸区, started by the county cadre."""
    return Job.objects.create(
        kind="jobs.test.steps",
        title="江岸区会员名册导入",
        owner=personas["county_cadre"],
        union=t.jiangan,
        union_path=t.jiangan.path,
    )


def unfiled_job(t: Tree, personas: Personas) -> Job:
    """A job of the grassroots cadre filed under no union: theirs alone."""
    return Job.objects.create(
        kind="jobs.test.steps", title="个人导出", owner=personas["grassroots_cadre"]
    )


class TestJobsApiScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="api-job-detail",
            api=True,
            url=lambda t, job: f"{API}/{job.pk}",
            setup=jiangan_job,
            model=Job,
            allowed=("county_cadre", "provincial_cadre", "auditor", "national_admin"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker", "system_admin"),
            contains=lambda t: ["江岸区会员名册导入", "排队中"],
        ),
        ScopedCase(
            name="api-job-detail-unfiled-owner-only",
            api=True,
            url=lambda t, job: f"{API}/{job.pk}",
            setup=unfiled_job,
            model=Job,
            allowed="grassroots_cadre",
            out_of_scope=("county_cadre", "national_admin"),
            anonymous=False,
        ),
        ScopedCase(
            name="api-job-cancel",
            api=True,
            method="post",
            action="change",
            url=lambda t, job: f"{API}/{job.pk}/cancel",
            setup=jiangan_job,
            model=Job,
            allowed=("county_cadre", "provincial_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["已取消"],
        ),
    ]


@pytest.fixture
def api_as() -> Any:
    return lambda user: JsonClient(api_client(user))


def test_a_running_job_reports_its_rate_and_time_left(api_as, county_cadre, tree):
    now = timezone.now()
    job = Job.objects.create(
        kind="jobs.test.steps",
        title="导入",
        owner=county_cadre,
        union=tree.jiangan,
        union_path=tree.jiangan.path,
        state=JobState.RUNNING,
        started_at=now - timezone.timedelta(seconds=10),
        progress_start=1000,
        progress_done=6000,
        progress_total=16000,
        progress_note="第 6000 行",
    )
    body = api_as(county_cadre).get(f"{API}/{job.pk}").json()
    assert body["state"] == "running"
    assert body["state_display"] == "进行中"
    assert body["percent"] == 37
    assert (body["done"], body["total"], body["note"]) == (6000, 16000, "第 6000 行")
    assert 450 <= body["rate_per_s"] <= 500  # 5000 rows in about 10 s
    assert 19 <= body["eta_seconds"] <= 21
    assert body["union"]["name"] == "江岸区总工会"
    assert body["result"] is None


def test_a_finished_job_shows_its_result(api_as, county_cadre):
    job = services.job_enqueue(
        kind="jobs.test.echo", params={"a": 1}, owner=county_cadre, union=None, title="导出"
    )
    body = api_as(county_cadre).get(f"{API}/{job.pk}").json()
    assert (body["state"], body["percent"], body["result"]) == (
        "succeeded",
        100,
        {"echo": {"a": 1}},
    )
    assert body["owner"] == county_cadre.display_name


def test_cancelling_a_finished_job_says_why_not(api_as, county_cadre):
    job = services.job_enqueue(
        kind="jobs.test.echo", params={}, owner=county_cadre, union=None, title="导出"
    )
    response = api_as(county_cadre).post(f"{API}/{job.pk}/cancel")
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "任务已经已完成，不能再取消"


def test_cancelling_a_running_job_asks_it_to_stop(api_as, county_cadre, settings):
    settings.JOBS_INLINE = False
    Job.objects.create(kind="jobs.test.steps", title="导入", owner=county_cadre)
    job = services.claim_next("w1")
    body = api_as(county_cadre).post(f"{API}/{job.pk}/cancel").json()
    assert (body["state"], body["cancel_requested"]) == ("running", True)
