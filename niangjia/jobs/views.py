"""The pages of background jobs: 我的任务 (the list), a job's page with its progress bar and
cancel button, and the progress figures as JSON for ``static/js/job-progress.js``.

A job is seen by whoever started it and within its union's subtree (``Job.objects.restrict``);
out of scope is 404, cancelling without the right to change it 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from niangjia.accounts.choices import Action
from niangjia.jobs import selectors, services
from niangjia.jobs.choices import JobState
from niangjia.jobs.models import Job
from niangjia.utilities.paging import offset_page
from niangjia.utilities.scoping import allowed, get_scoped_or_404


def _thousands(value: int) -> str:
    return f"{value:,}"


def duration_text(seconds: int) -> str:
    """Seconds as a person reads them: 45 秒, 3 分 20 秒, 2 小时 5 分."""
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} 分 {secs} 秒" if secs else f"{minutes} 分钟"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分" if minutes else f"{hours} 小时"


def progress_texts(progress: dict[str, Any], unit: str = "行") -> dict[str, str]:
    """The words under the bar, made once here for the page and for the script alike."""
    done, total = progress["done"], progress["total"]
    percent = progress["percent"]
    rate, eta = progress["rate_per_s"], progress["eta_seconds"]
    count = (
        f"{_thousands(done)} / {_thousands(total)} {unit}"
        if total
        else f"{_thousands(done)} {unit}"
    )
    if rate is None:
        rate_text = ""
    elif rate >= 10:
        rate_text = f"{_thousands(round(rate))} {unit}/秒"
    else:
        rate_text = f"{rate:.1f} {unit}/秒"
    return {
        "percent_text": f"{percent}%" if percent is not None else "",
        "count_text": count,
        "rate_text": rate_text,
        "eta_text": f"预计剩余 {duration_text(eta)}" if eta is not None else "",
    }


def _progress(job: Job, unit: str = "行") -> dict[str, Any]:
    progress = selectors.job_progress(job)
    return {**progress, **progress_texts(progress, unit)}


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    mine = request.GET.get("mine") == "1"
    jobs = selectors.job_list(user=request.user)
    if mine:
        jobs = jobs.filter(owner=request.user)
    page = offset_page(jobs, page=request.GET.get("page"), per_page=selectors.JOBS_PER_PAGE)
    context = {
        "page": page,
        "mine": mine,
        "query": "mine=1" if mine else "",
        "running": JobState.RUNNING,
    }
    return render(request, "jobs/job_list.html", context)


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_scoped_or_404(Job, request.user, Action.VIEW, pk=pk)
    job = Job.objects.select_related("owner", "union").get(pk=job.pk)
    unit = str(job.params.get("unit", "行")) if isinstance(job.params, dict) else "行"
    context = {
        "job": job,
        "progress": _progress(job, unit),
        "unit": unit,
        "can_cancel": not job.is_finished
        and not job.cancel_requested
        and allowed(request.user, Action.CHANGE, job),
        "summary": (job.result or {}).get("summary") if isinstance(job.result, dict) else None,
    }
    return render(request, "jobs/job_detail.html", context)


@never_cache
@login_required
@require_GET
def job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    job = get_scoped_or_404(Job, request.user, Action.VIEW, pk=pk)
    unit = str(job.params.get("unit", "行")) if isinstance(job.params, dict) else "行"
    return JsonResponse(_progress(job, unit), json_dumps_params={"ensure_ascii": False})


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_scoped_or_404(Job, request.user, Action.CHANGE, pk=pk)
    try:
        job = services.job_cancel(job=job, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        if job.state == JobState.CANCELLED:
            messages.success(request, f"已取消“{job.title}”")
        else:
            messages.info(request, f"正在取消“{job.title}”：处理完当前一批后停止")
    return redirect(reverse("jobs:job_detail", args=[job.pk]))
