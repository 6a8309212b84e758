"""The job pages persona by persona, then what they show."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from niangjia.jobs import services, views
from niangjia.jobs.choices import JobState
from niangjia.jobs.models import Job
from niangjia.jobs.testing import run_echo  # noqa: F401 (registers the test handlers)
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Personas, Tree

REDIRECT = frozenset({302})


def url(name: str, *args: Any) -> str:
    return reverse(f"jobs:{name}", args=args)


def text(response: Any) -> str:
    return response.content.decode()


def jiangan_job(t: Tree, personas: Personas) -> Job:
    """A running import of 江岸区, started by the county cadre."""
    return Job.objects.create(
        kind="jobs.test.steps",
        title="江岸区会员名册导入",
        owner=personas["county_cadre"],
        union=t.jiangan,
        union_path=t.jiangan.path,
        state=JobState.RUNNING,
        started_at=timezone.now(),
        progress_done=10,
        progress_total=40,
    )


def jobs_on_both_sides(t: Tree, personas: Personas) -> Job:
    Job.objects.create(
        kind="jobs.test.steps",
        title="江汉区会员导出",
        owner=personas["sibling_cadre"],
        union=t.jianghan,
        union_path=t.jianghan.path,
    )
    Job.objects.create(kind="jobs.test.steps", title="他人的个人任务", owner=personas["auditor"])
    return jiangan_job(t, personas)


def workers_own_job(t: Tree, personas: Personas) -> Job:
    """A job of a worker without any role, filed under no union."""
    return Job.objects.create(
        kind="jobs.test.steps", title="职工本人的导出", owner=personas["worker"]
    )


class TestJobPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="job-list",
            url=lambda t: url("job_list"),
            model=Job,
            allowed=("county_cadre", "worker", "auditor"),
        ),
        ScopedCase(
            name="job-list-shows-own-and-subtree-jobs",
            url=lambda t, job: url("job_list"),
            setup=jobs_on_both_sides,
            allowed="county_cadre",
            anonymous=False,
            contains=lambda t: ["江岸区会员名册导入", "25%"],
            excludes=lambda t: ["江汉区会员导出", "他人的个人任务"],
        ),
        ScopedCase(
            name="job-list-mine-only",
            url=lambda t, job: url("job_list") + "?mine=1",
            setup=jobs_on_both_sides,
            allowed="sibling_cadre",
            anonymous=False,
            contains=lambda t: ["江汉区会员导出"],
            excludes=lambda t: ["江岸区会员名册导入"],
        ),
        ScopedCase(
            name="job-detail",
            url=lambda t, job: url("job_detail", job.pk),
            setup=jiangan_job,
            model=Job,
            allowed=("county_cadre", "provincial_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker", "system_admin"),
            contains=lambda t: ["江岸区会员名册导入", "进行中", "10 / 40 行"],
        ),
        ScopedCase(
            name="job-detail-of-a-roleless-owner",
            url=lambda t, job: url("job_detail", job.pk),
            setup=workers_own_job,
            model=Job,
            allowed="worker",
            out_of_scope=("national_admin", "county_cadre"),
            anonymous=False,
            contains=lambda t: ["职工本人的导出"],
        ),
        ScopedCase(
            name="job-progress",
            url=lambda t, job: url("job_progress", job.pk),
            setup=jiangan_job,
            model=Job,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ['"percent": 25', "进行中"],
        ),
        ScopedCase(
            name="job-cancel",
            url=lambda t, job: url("job_cancel", job.pk),
            method="post",
            action="change",
            setup=jiangan_job,
            model=Job,
            allowed=("county_cadre", "provincial_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
            allowed_statuses=REDIRECT,
        ),
    ]


pytestmark = pytest.mark.django_db


def test_the_job_page_shows_the_bar_and_a_cancel_button_to_the_owner(
    county_cadre, tree, client_for, personas
):
    job = jiangan_job(tree, personas)
    Job.objects.filter(pk=job.pk).update(return_url="/members/", progress_note="第 10 行")
    page = text(client_for(county_cadre).get(url("job_detail", job.pk)))
    assert '<progress max="100" value="25"' in page
    assert f'data-progress-url="/jobs/{job.pk}/progress"' in page
    assert "js/job-progress.js" in page
    assert "取消任务" in page
    assert 'href="/members/"' in page
    assert "第 10 行" in page
    assert "刷新查看最新进度" in page  # without the script
    assert '<meta http-equiv="refresh" content="5">' in page


def test_an_auditor_sees_the_job_without_a_cancel_button(auditor, tree, client_for, personas):
    job = jiangan_job(tree, personas)
    page = text(client_for(auditor).get(url("job_detail", job.pk)))
    assert "江岸区会员名册导入" in page
    assert "取消任务" not in page


def test_a_finished_job_page_does_not_poll_and_shows_the_summary(county_cadre, client_for):
    job = services.job_enqueue(
        kind="jobs.test.echo", params={}, owner=county_cadre, union=None, title="导出会员"
    )
    Job.objects.filter(pk=job.pk).update(result={"summary": "共导出 1,024 名会员"})
    page = text(client_for(county_cadre).get(url("job_detail", job.pk)))
    assert 'data-state="succeeded"' in page
    assert "已完成" in page
    assert "共导出 1,024 名会员" in page
    assert "取消任务" not in page
    assert "刷新查看最新进度" not in page
    assert "http-equiv" not in page


def test_a_failed_job_shows_its_reason(county_cadre, client_for):
    job = services.job_enqueue(
        kind="jobs.test.refuse", params={}, owner=county_cadre, union=None, title="导入"
    )
    page = text(client_for(county_cadre).get(url("job_detail", job.pk)))
    assert "第 3 行：居民身份证号码校验位不正确" in page
    assert "失败" in page


def test_progress_answers_the_figures_of_the_bar(county_cadre, tree, client_for, personas):
    job = jiangan_job(tree, personas)
    Job.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - timezone.timedelta(seconds=5),
        progress_done=2000,
        progress_total=12000,
    )
    response = client_for(county_cadre).get(url("job_progress", job.pk))
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert set(body) >= {
        "state",
        "percent",
        "done",
        "total",
        "rate_per_s",
        "eta_seconds",
        "note",
        "error",
    }
    assert (body["state"], body["percent"], body["done"], body["total"]) == (
        "running",
        16,
        2000,
        12000,
    )
    assert 350 <= body["rate_per_s"] <= 400
    assert 25 <= body["eta_seconds"] <= 30
    assert body["count_text"] == "2,000 / 12,000 行"
    assert body["rate_text"].endswith(" 行/秒")
    assert body["eta_text"].startswith("预计剩余 ")


def test_cancel_of_a_running_job_says_it_is_stopping(county_cadre, tree, client_for, personas):
    job = jiangan_job(tree, personas)
    client = client_for(county_cadre)
    response = client.post(url("job_cancel", job.pk), follow=True)
    page = text(response)
    assert "正在取消“江岸区会员名册导入”：处理完当前一批后停止" in page
    assert "取消任务" not in page
    assert Job.objects.get(pk=job.pk).cancel_requested


def test_cancel_of_a_finished_job_says_why_not(county_cadre, client_for):
    job = services.job_enqueue(
        kind="jobs.test.echo", params={}, owner=county_cadre, union=None, title="导出"
    )
    page = text(client_for(county_cadre).post(url("job_cancel", job.pk), follow=True))
    assert "任务已经已完成，不能再取消" in page


def test_the_list_pages_and_shows_state_badges(county_cadre, client_for, tree, personas):
    for i in range(35):
        Job.objects.create(kind="jobs.test.steps", title=f"任务{i:02d}", owner=county_cadre)
    client = client_for(county_cadre)
    first = text(client.get(url("job_list")))
    assert "任务34" in first and "任务04" not in first
    assert "排队中" in first
    second = text(client.get(url("job_list"), {"page": 2}))
    assert "任务04" in second and "任务34" not in second


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 秒"),
        (45, "45 秒"),
        (60, "1 分钟"),
        (200, "3 分 20 秒"),
        (3600, "1 小时"),
        (7500, "2 小时 5 分"),
    ],
)
def test_durations_read_as_people_say_them(seconds, expected):
    assert views.duration_text(seconds) == expected
