"""Pages of the roster importer: list and upload, the run page (columns, dry-run summary,
commit, progress), the error report and the templates."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from niangjia.accounts.choices import Action
from niangjia.imports import report, selectors, services
from niangjia.imports.choices import BUSY_STATES, ImportKind, ImportState
from niangjia.imports.forms import MappingForm, UploadForm
from niangjia.imports.models import ImportRun
from niangjia.jobs.selectors import job_progress
from niangjia.jobs.views import progress_texts
from niangjia.utilities.scoping import allowed, get_scoped_or_404
from niangjia.utilities.xlsx import XLSX_CONTENT_TYPE

FIRST_PROBLEMS = 20


def _error_text(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    runs = selectors.runs_for(request.user)
    if not selectors.may_import(request.user):
        raise PermissionDenied
    return render(
        request,
        "imports/import_list.html",
        {"runs": runs[:100], "form": UploadForm(user=request.user)},
    )


@login_required
@require_POST
def import_upload(request: HttpRequest) -> HttpResponse:
    if not selectors.may_import(request.user):
        raise PermissionDenied
    form = UploadForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = services.import_upload(
                acting_user=request.user,
                union=form.cleaned_data["union"],
                kind=form.cleaned_data["kind"],
                file=upload,
                original_name=upload.name,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("imports:import_detail", pk=run.pk)
    runs = selectors.runs_for(request.user)
    return render(
        request, "imports/import_list.html", {"runs": runs[:100], "form": form}, status=400
    )


@login_required
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    from niangjia.imports.templates import template_for

    if kind not in ImportKind.values:
        raise Http404
    if not selectors.may_import(request.user):
        raise PermissionDenied
    name, content = template_for(kind)
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_scoped_or_404(ImportRun, request.user, Action.VIEW, pk=pk)
    context: dict[str, Any] = {
        "run": run,
        "can_edit": allowed(request.user, Action.ADD, run),
        "busy": run.state in BUSY_STATES,
        "problems": selectors.first_problems(run, FIRST_PROBLEMS),
        "problem_count": run.rows_error + run.rows_conflict + run.committed_conflict,
    }
    if context["busy"] and run.job is not None:
        # The bar's figures as of now; static/js/job-progress.js keeps them live.
        figures = job_progress(run.job)
        context["progress"] = {**figures, **progress_texts(figures)}
    if (
        run.state in (ImportState.UPLOADED, ImportState.CANCELLED, ImportState.FAILED)
        and not run.checkpoint
    ):
        context["mapping_form"] = MappingForm(
            headers=run.headers,
            columns=services.columns_for(run.kind),
            mapping=run.mapping,
        )
        context["columns"] = services.columns_for(run.kind)
    return render(request, "imports/import_detail.html", context)


def _run_for_change(request: HttpRequest, pk: int) -> ImportRun:
    return get_scoped_or_404(ImportRun, request.user, Action.ADD, pk=pk)


@login_required
@require_POST
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for_change(request, pk)
    form = MappingForm(
        request.POST,
        headers=run.headers,
        columns=services.columns_for(run.kind),
        mapping=run.mapping,
    )
    if form.is_valid():
        try:
            run = services.import_set_mapping(
                run=run, acting_user=request.user, mapping=form.mapping()
            )
            services.import_dry_run(run=run, acting_user=request.user)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, "列对应已确认，正在试导入")
    else:
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    return redirect("imports:import_detail", pk=run.pk)


@login_required
@require_POST
def import_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for_change(request, pk)
    try:
        services.import_dry_run(run=run, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("imports:import_detail", pk=run.pk)


@login_required
@require_POST
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for_change(request, pk)
    try:
        services.import_commit(run=run, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("imports:import_detail", pk=run.pk)


@login_required
@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for_change(request, pk)
    try:
        services.import_cancel(run=run, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "已取消")
    return redirect("imports:import_detail", pk=run.pk)


@login_required
@require_POST
def import_delete(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for_change(request, pk)
    try:
        services.import_delete(run=run, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("imports:import_detail", pk=run.pk)
    messages.success(request, "已删除该导入记录")
    return redirect("imports:import_list")


@login_required
@require_GET
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_scoped_or_404(ImportRun, request.user, Action.VIEW, pk=pk)
    result = report.problem_report(run=run, acting_user=request.user)
    stem = run.original_name.rsplit(".", 1)[0]
    return result.response(f"{stem}-问题行.xlsx")
