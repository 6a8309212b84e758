"""The export pages: the export form (reached from the member and employer lists' export
buttons, the filters in its address), the approval queue 待审批的导出, a request's page with
its decision, and a stored export's page with its progress bar and download.

Views parse, call ``niangjia.exports.services`` or ``selectors``, and render. A request is
reached through ``get_scoped_or_404`` (404 outside the scope) and then shown only to its
requester and to those who may decide it (403 for anyone else in scope); a stored file only
to its owner (``ExportFile.objects.restrict``: 404 for anyone else).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.exports import selectors, services
from niangjia.exports.choices import RequestState
from niangjia.exports.forms import DecisionForm, ExportForm
from niangjia.exports.kinds import as_query_dict, clean_query, get_kind, list_url
from niangjia.exports.models import ExportFile, ExportRequest
from niangjia.jobs.choices import JobState
from niangjia.jobs.selectors import job_progress
from niangjia.jobs.views import progress_texts
from niangjia.orgs.forms import add_service_errors
from niangjia.orgs.models import Union
from niangjia.utilities.scoping import get_scoped_or_404
from niangjia.utilities.timeouts import QueryTooSlow, time_limit
from niangjia.utilities.xlsx import XLSX_CONTENT_TYPE

# Counting the rows on the export page stops after this long (PostgreSQL): a filter no index
# serves, over millions of members, must not hold the page.
COUNT_TIMEOUT_MS = 5_000


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _outcome_response(request: HttpRequest, outcome: services.ExportOutcome) -> HttpResponse:
    if outcome.file is not None:
        return outcome.file.response(outcome.filename)
    if outcome.export_file is not None:
        messages.success(request, "文件较大，已在后台生成；完成后可在本页下载。")
        return redirect("exports:file_detail", outcome.export_file.pk)
    assert outcome.request is not None
    messages.success(request, "明文导出申请已提交，请等待上级工会管理员审批。")
    return redirect("exports:request_detail", outcome.request.pk)


# --- The export form


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def export_new(request: HttpRequest, kind: str) -> HttpResponse:
    """GET: what would be exported (the filters in words, the count) and the choices;
    POST: export (the filters stay in the address)."""
    user = request.user
    try:
        export_kind = get_kind(kind)
    except KeyError:
        raise Http404("没有这种导出内容") from None
    if not paths_for(user, Action.EXPORT):
        raise PermissionDenied(f"您没有导出{export_kind.title}的权限")
    filters = clean_query(request.GET)
    for key in ("within", "covering_union"):  # a union named in the filters: 404 outside
        if filters.get(key, "").isdigit():
            get_scoped_or_404(Union, user, Action.VIEW, pk=int(filters[key]))
    may_unmask = export_kind.may_unmask and bool(paths_for(user, Action.REVEAL))
    form = ExportForm(request.POST or None, may_unmask=may_unmask)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.export_start(
                acting_user=user,
                kind=export_kind.name,
                filters=filters,
                unmasked=form.unmasked,
                reason=form.cleaned_data.get("reason") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _outcome_response(request, outcome)
    selection = count = None
    errors: list[str] = []
    try:
        selection = services.export_select(acting_user=user, kind=export_kind.name, filters=filters)
        with time_limit(COUNT_TIMEOUT_MS):
            count = services.export_count(selection)
    except ValidationError as exc:
        errors = exc.messages
    except QueryTooSlow:
        count = None  # the page says the count is unknown; the export itself is not limited
    context = {
        "kind": export_kind,
        "form": form,
        "selection": selection,
        "count": count,
        "filter_errors": errors,
        "may_unmask": may_unmask,
        "max_rows": services.MAX_ROWS,
        "approval_rows": _settings("EXPORT_UNMASKED_APPROVAL_ROWS"),
        "inline_rows": _settings("EXPORT_INLINE_ROWS"),
        "list_url": list_url(export_kind, filters),
        "query": as_query_dict(filters).urlencode(),
    }
    return _no_store(render(request, "exports/export_new.html", context))


def _settings(name: str) -> int:
    from django.conf import settings

    return int(getattr(settings, name))


# --- Requests and their approval


@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    """待审批的导出: the requests the user may decide, and their own requests."""
    user = request.user
    if not paths_for(user, Action.REVEAL):
        raise PermissionDenied("只有管理员可以审批或申请明文导出")
    context = {
        "to_decide": list(selectors.requests_to_decide(user=user)[:200]),
        "mine": selectors.requests_of(user=user),
    }
    return render(request, "exports/request_list.html", context)


def _request_for(request: HttpRequest, pk: int, action: str = Action.VIEW) -> ExportRequest:
    export_request = get_scoped_or_404(ExportRequest, request.user, action, pk=pk)
    export_request = ExportRequest.objects.select_related("requester", "union", "approver").get(
        pk=export_request.pk
    )
    user = request.user
    if export_request.requester_id != user.pk and not services.may_decide(user, export_request):
        refusal = PermissionDenied("只有申请人和有权审批的管理员可以查看这项申请")
        refusal.obj = export_request  # type: ignore[attr-defined]
        raise refusal
    return export_request


def _request_page(
    request: HttpRequest, export_request: ExportRequest, decision_form: DecisionForm | None = None
) -> HttpResponse:
    user = request.user
    state = export_request.current_state
    context = {
        "req": export_request,
        "state": state,
        "kind": get_kind(export_request.kind),
        "can_decide": state == RequestState.PENDING and services.may_decide(user, export_request),
        "can_run": state == RequestState.APPROVED and export_request.requester_id == user.pk,
        "decision_form": decision_form or DecisionForm(),
        "files": list(export_request.files.order_by("-created_at")),
    }
    return _no_store(render(request, "exports/request_detail.html", context))


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _request_page(request, _request_for(request, pk))


@login_required
@require_POST
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    export_request = _request_for(request, pk, Action.REVEAL)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.export_request_decide(
                export_request=export_request,
                acting_user=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data.get("reason") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已提交审批结果。")
            return redirect("exports:request_detail", pk)
    return _request_page(request, export_request, form)


@login_required
@require_POST
def request_run(request: HttpRequest, pk: int) -> HttpResponse:
    export_request = _request_for(request, pk, Action.REVEAL)
    try:
        outcome = services.export_request_run(
            export_request=export_request, acting_user=request.user
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("exports:request_detail", pk)
    if outcome.export_file is not None:
        return redirect("exports:file_detail", outcome.export_file.pk)
    return _outcome_response(request, outcome)


# --- Stored exports


@login_required
@require_GET
def file_detail(request: HttpRequest, pk: int) -> HttpResponse:
    export_file = get_scoped_or_404(ExportFile, request.user, Action.EXPORT, pk=pk)
    export_file = ExportFile.objects.select_related("job", "request", "union").get(
        pk=export_file.pk
    )
    job = export_file.job
    context: dict[str, Any] = {
        "export_file": export_file,
        "kind": get_kind(export_file.kind),
        "job": job,
        "running": job is not None and not job.is_finished,
        "failed": job is not None and job.state in (JobState.FAILED, JobState.CANCELLED),
    }
    if job is not None:
        progress = job_progress(job)
        context["progress"] = {**progress, **progress_texts(progress, "行")}
    return _no_store(render(request, "exports/file_detail.html", context))


@login_required
@require_GET
def file_download(request: HttpRequest, pk: int) -> HttpResponse:
    export_file = get_scoped_or_404(ExportFile, request.user, Action.EXPORT, pk=pk)
    if not export_file.ready:
        messages.error(request, "文件尚未生成，或已超过保留时间被删除。")
        return redirect("exports:file_detail", pk)
    try:
        handle = open(export_file.path, "rb")  # noqa: SIM115 - the response closes it
    except FileNotFoundError:
        raise Http404("文件已被删除") from None
    response = FileResponse(
        handle, as_attachment=True, filename=export_file.filename, content_type=XLSX_CONTENT_TYPE
    )
    return _no_store(response)


def export_url(kind: str, query: str = "") -> str:
    """The export page for the list ``kind`` with its filters (for the lists' buttons)."""
    base = reverse("exports:export_new", args=[kind])
    return f"{base}?{query}" if query else base
