"""The cadre pages of hardship relief: the workbench (the file list with its filters, search
and export), a household file's page with its timeline and the steps of the workflow, the
file form, reveals, attachments and the printable form.

Views parse, call a selector or a service, and render. Objects come through
``get_scoped_or_404`` (404 outside the scope, 403 inside it without the right), lists through
``restrict(user, action)``; writes go through ``niangjia.relief.services``. A clear ID number,
phone or bank account appears only in the answer to a reveal, never in an address.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.members.public_links import absolute
from niangjia.members.services import accepting_unions_q, accepts_members
from niangjia.orgs import queries
from niangjia.orgs.forms import PICKER_SEARCH, add_service_errors, form_state
from niangjia.orgs.models import Region, Union
from niangjia.relief import exports, selectors_pages
from niangjia.relief.choices import EDITABLE_STATES, AttachmentKind, FileState
from niangjia.relief.forms import (
    SEARCH_KEYS,
    FileFilterForm,
    FileForm,
    FileSearchForm,
    PosterForm,
    RevealForm,
    filter_query,
    household_formset,
)
from niangjia.relief.forms_steps import STEPS, StepForm, available_steps
from niangjia.relief.models import Attachment, HardshipFile, HouseholdMember, LivingThreshold
from niangjia.relief.pdf import file_form_pdf
from niangjia.relief.selectors_pages import FileFilters
from niangjia.relief.services import files as file_services
from niangjia.relief.services.rules import threshold_for
from niangjia.utilities.paging import offset_page
from niangjia.utilities.qr import svg_inline
from niangjia.utilities.scoping import allowed, get_scoped_or_404

FILES_PER_PAGE = 30


def today() -> datetime.date:
    return timezone.localdate()


def require_some(user: Any, action: str, message: str) -> None:
    """403 for a user who may ``action`` nowhere (a list has no object to 404 on)."""
    if not paths_for(user, action):
        raise PermissionDenied(message)


def scoped_within(request: HttpRequest, data: QueryDict) -> None:
    """A union named in the filters must be in the user's scope: 404 otherwise."""
    raw = (data.get("within") or "").strip()
    if raw.isdigit():
        get_scoped_or_404(Union, request.user, Action.VIEW, pk=int(raw))


def no_store(response: HttpResponse) -> HttpResponse:
    """Pages that may show personal data in clear are kept out of every cache."""
    response["Cache-Control"] = "no-store"
    return response


def file_url(file: HardshipFile, anchor: str = "") -> str:
    return reverse("relief:file_detail", args=[file.pk]) + (f"#{anchor}" if anchor else "")


# --- The workbench


def _filters(form: FileFilterForm) -> FileFilters:
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    return FileFilters(
        state=data.get("state") or "",
        category=data.get("category") or "",
        cause=data.get("cause") or "",
        level=data.get("level") or "",
        review=data.get("review") or "",
        relapse=data.get("relapse") or "",
        exit=data.get("exit") or "",
        within=data.get("within"),
        name=(data.get("name") or "").strip(),
        id_hash=data.get("id_hash") or "",
    )


@login_required
@require_GET
def file_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_some(user, Action.VIEW, "您没有查看困难职工档案的权限")
    scoped_within(request, request.GET)
    form = FileFilterForm(request.GET, user=user)
    form.is_valid()  # an invalid filter is shown with its error; the valid ones still apply
    return _file_list_page(request, form, request.GET)


def _file_list_page(
    request: HttpRequest,
    form: FileFilterForm,
    params: QueryDict,
    search_errors: list[str] | None = None,
) -> HttpResponse:
    user = request.user
    filters = _filters(form)
    day = today()
    rows = selectors_pages.file_rows(user=user, filters=filters, today=day)
    page = offset_page(rows, page=params.get("page"), per_page=FILES_PER_PAGE)
    scope = selectors_pages.file_rows(
        user=user, filters=FileFilters(within=filters.within), today=day
    )
    counts = selectors_pages.state_counts(scope)
    overdue = selectors_pages.file_rows(
        user=user, filters=FileFilters(review="overdue", within=filters.within), today=day
    ).count()
    checks_due = selectors_pages.file_rows(
        user=user, filters=FileFilters(relapse="due", within=filters.within), today=day
    ).count()
    query = filter_query(params)
    without_search = filter_query(params, drop=SEARCH_KEYS)
    return render(
        request,
        "relief/file_list.html",
        {
            "form": form,
            "search_form": FileSearchForm(initial={"keep": without_search.urlencode()}),
            "search_errors": search_errors or [],
            "search_label": form.search_label(),
            "page": page,
            "counts": [(s, label, counts.get(s, 0)) for s, label in FileState.choices],
            "open_count": selectors_pages.open_count(counts),
            "total_count": sum(counts.values()),
            "overdue_count": overdue,
            "checks_due_count": checks_due,
            "query": query.urlencode(),
            "query_without_search": without_search.urlencode(),
            "filtering": any(k not in SEARCH_KEYS for k in query),
            "roots": queries.scope_roots(user),
            "can_add": bool(paths_for(user, Action.ADD)),
            "can_export": bool(paths_for(user, Action.EXPORT)),
            "today": day,
        },
    )


@login_required
@require_POST
def file_search(request: HttpRequest) -> HttpResponse:
    """The search box: a name, or the keyed hash of an ID number, goes into the list's
    address with the filters in force. A number that does not parse is answered on the page,
    without repeating it."""
    require_some(request.user, Action.VIEW, "您没有查看困难职工档案的权限")
    search = FileSearchForm(request.POST)
    if search.is_valid():
        try:
            params = search.search_params()
        except ValidationError as exc:
            add_service_errors(search, exc)
        else:
            query = search.kept_filters()
            for key, value in params.items():
                query[key] = value
            target = reverse("relief:file_list")
            return redirect(f"{target}?{query.urlencode()}" if query else target)
    kept = filter_query(QueryDict(search.data.get("keep", "")), drop=SEARCH_KEYS)
    scoped_within(request, kept)
    form = FileFilterForm(kept, user=request.user)
    form.is_valid()
    errors = [e for errs in search.errors.values() for e in errs]
    return _file_list_page(request, form, kept, search_errors=errors)


@login_required
@require_GET
def file_export(request: HttpRequest) -> HttpResponse:
    """The current filters as a spreadsheet, personal numbers masked; audited."""
    user = request.user
    require_some(user, Action.EXPORT, "您没有导出困难职工档案的权限")
    scoped_within(request, request.GET)
    form = FileFilterForm(request.GET, user=user)
    if not form.is_valid():
        errors = "；".join(e for errs in form.errors.values() for e in errs)
        return HttpResponseBadRequest(f"筛选条件有误，未导出：{errors}")
    try:
        xfile, filename = exports.export_files(
            acting_user=user, filters=_filters(form), today=today()
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        query = filter_query(request.GET).urlencode()
        return redirect(reverse("relief:file_list") + (f"?{query}" if query else ""))
    return xfile.response(filename)


# --- Create and edit


def _city_choices() -> list[tuple[str, str]]:
    """Cities with a minimum-living threshold: where a household may be assessed."""
    regions = Region.objects.filter(pk__in=LivingThreshold.objects.values("region_id")).order_by(
        "code"
    )
    return [("", "按所在工会的行政区划")] + [(r.code, r.full_name) for r in regions]


@login_required
@require_http_methods(["GET", "POST"])
def file_create(request: HttpRequest) -> HttpResponse:
    """A cadre enters a household's application (or keeps it as a draft)."""
    user = request.user
    require_some(user, Action.ADD, "您没有新建困难职工档案的权限")
    picker_search = request.method == "POST" and PICKER_SEARCH in request.POST
    chosen = request.POST.get("union", "") if request.method == "POST" else ""
    if chosen.isdigit():
        # A union out of the scope is "not found", as for any object (not a form error).
        get_scoped_or_404(Union, user, Action.ADD, pk=int(chosen))
    if request.method == "POST" and not picker_search:
        form = FileForm(request.POST, user=user)
        household = household_formset(request.POST)
    elif picker_search:
        form = FileForm(initial=form_state(request.POST), user=user)
        household = household_formset(request.POST)
    else:
        initial = {}
        within = request.GET.get("union", "")
        if within.isdigit():
            initial["union"] = get_scoped_or_404(Union, user, Action.ADD, pk=int(within)).pk
        form = FileForm(initial=initial, user=user)
        household = household_formset()
    city = form.fields["city_region_code"]
    city.widget = _city_select()
    city.help_text = "家庭不在所在工会的城市时选择；只列出已设置低保标准的城市"
    if request.method == "POST" and not picker_search:
        valid = form.is_valid() & household.is_valid()
        if valid:
            city = _city(form.cleaned_data.get("city_region_code"))
            try:
                file = file_services.file_apply(
                    union=form.cleaned_data["union"],
                    data=form.file_data(household.person_data(None)),
                    acting_user=user,
                    city_region=city,
                    submit=request.POST.get("save") != "draft",
                )
            except ValidationError as exc:
                _service_errors(form, household, exc)
            else:
                what = "草稿已保存" if file.state == FileState.DRAFT else "申请已录入"
                messages.success(request, f"{what}：{file}")
                return redirect(file_url(file))
    return render(
        request,
        "relief/file_form.html",
        {"form": form, "household": household, "creating": True},
    )


def _city_select() -> Any:
    from django import forms

    return forms.Select(choices=_city_choices())


def _city(code: str | None) -> Region | None:
    if not code:
        return None
    return Region.objects.filter(code=code).first()


def _service_errors(form: FileForm, household: Any, exc: ValidationError) -> None:
    """A service error onto the form; errors about the household go above its table."""
    if hasattr(exc, "error_dict") and "household_members" in exc.error_dict:
        household.service_errors = [m for e in exc.error_dict["household_members"] for m in e]
        rest = {k: v for k, v in exc.error_dict.items() if k != "household_members"}
        if not rest:
            return
        exc = ValidationError(rest)
    add_service_errors(form, exc, {"secondary_causes": "secondary_causes"})


@login_required
@require_http_methods(["GET", "POST"])
def file_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the household's data from the version the form was opened at."""
    user = request.user
    file = get_scoped_or_404(HardshipFile, user, Action.CHANGE, pk=pk)
    conflict = False
    if file.state not in EDITABLE_STATES:
        messages.error(request, f"档案{file.get_state_display()}，不能修改")
        return redirect(file_url(file))
    if request.method == "POST":
        form = FileForm(request.POST, user=user, file=file)
        household = household_formset(request.POST, file=file)
        if form.is_valid() & household.is_valid():
            try:
                file = file_services.file_update(
                    file=file,
                    data=form.file_data(household.person_data(file)),
                    version=form.cleaned_data["version"],
                    acting_user=user,
                )
            except ValidationError as exc:
                conflict = getattr(exc, "code", None) == "conflict"
                _service_errors(form, household, exc)
            else:
                messages.success(request, f"已保存（第 {file.version} 版）")
                return redirect(file_url(file))
    else:
        form = FileForm(user=user, file=file)
        household = household_formset(file=file)
    if "city_region_code" in form.fields:
        del form.fields["city_region_code"]
    response = render(
        request,
        "relief/file_form.html",
        {"form": form, "household": household, "file": file, "conflict": conflict},
        status=409 if conflict else 200,
    )
    return no_store(response)


# --- One file


def _detail_context(
    request: HttpRequest,
    file: HardshipFile,
    *,
    bound: tuple[str, StepForm] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    user = request.user
    day = today()
    page = selectors_pages.file_page(user=user, file=file, today=day)
    file = page.file
    can_change = allowed(user, Action.CHANGE, file)
    can_review = can_change and selectors_pages.may_review(user, file)
    context = {
        "file": file,
        "page": page,
        "crumbs": queries.ancestor_crumbs(user, [file.union])[file.union_id],
        "can_change": can_change,
        "can_edit": can_change and file.state in EDITABLE_STATES,
        "can_reveal": allowed(user, Action.REVEAL, file),
        "can_assist": can_change and file.state == FileState.FILED,
        "can_plan": can_change
        and file.state in (FileState.REVIEWED, FileState.PUBLICITY, FileState.FILED),
        "steps": available_steps(
            file=file, page=page, can_change=can_change, can_review=can_review, bound=bound
        ),
        "reveal_form": RevealForm(),
        "attachment_kinds": AttachmentKind.choices,
        "attachment_max_mb": file_services.ATTACHMENT_MAX_BYTES // (1024 * 1024),
        "today": day,
        "review_overdue": file.state == FileState.FILED
        and file.review_due_on is not None
        and file.review_due_on < day,
    }
    context.update(extra)
    return context


@login_required
@require_GET
def file_detail(request: HttpRequest, pk: int) -> HttpResponse:
    file = get_scoped_or_404(HardshipFile, request.user, Action.VIEW, pk=pk)
    return render(request, "relief/file_detail.html", _detail_context(request, file))


@login_required
@require_POST
def file_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """One step of the workflow (``forms_steps.STEPS``), posted from the file's page. A stale
    page (the file changed since) is answered 409 with the conflict explained."""
    spec = STEPS.get(step)
    if spec is None:
        raise Http404("没有这个办理事项")
    user = request.user
    file = get_scoped_or_404(HardshipFile, user, Action.CHANGE, pk=pk)
    form = spec.form(request.POST, file=file)
    conflict = False
    if form.is_valid() and form.started_version not in (None, file.version):
        # The page was opened before someone else acted on the file: nothing is done, and
        # the page shows the file as it is now.
        conflict = True
    elif form.is_valid():
        try:
            message = spec.run(user, file, form)
        except ValidationError as exc:
            conflict = getattr(exc, "code", None) == "conflict"
            add_service_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect(file_url(file, "timeline"))
    file.refresh_from_db()
    context = _detail_context(request, file, bound=(spec.slug, form), conflict=conflict)
    return render(request, "relief/file_detail.html", context, status=409 if conflict else 200)


@never_cache
@login_required
@require_POST
def file_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the clear ID number, phone or bank account once, in this answer only (audited)."""
    user = request.user
    file = get_scoped_or_404(HardshipFile, user, Action.REVEAL, pk=pk)
    form = RevealForm(request.POST)
    revealed = None
    if form.is_valid():
        member_pk = form.cleaned_data.get("household_member")
        member = None
        if member_pk:
            member = HouseholdMember.objects.filter(pk=member_pk, file=file).first()
            if member is None:
                raise Http404("该家庭成员不存在")
        try:
            value = file_services.file_reveal(
                file=file,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
                acting_user=user,
                household_member=member,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            label = file_services.REVEALABLE[form.cleaned_data["field"]]
            who = member.name if member is not None else file.name
            revealed = {"label": f"{who}的{label}", "value": value or "（未登记）"}
            form = RevealForm()
    context = _detail_context(request, file, reveal_form=form, revealed=revealed)
    return no_store(render(request, "relief/file_detail.html", context))


@login_required
@require_GET
def file_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The household file in the national form's layout (A4 PDF), numbers masked; the
    printing is audited."""
    user = request.user
    file = get_scoped_or_404(HardshipFile, user, Action.EXPORT, pk=pk)
    page = selectors_pages.file_page(user=user, file=file, today=today())
    file = page.file
    content = file_form_pdf(
        file,
        threshold=threshold_for(file.city_region_id, today().year),
        members=page.members,
        assistance=page.assistance,
        printed_by=user.display_name,
    )
    with transaction.atomic():
        record(
            action=AuditAction.EXPORT,
            actor=user,
            obj=file,
            detail={"export": "file_form_pdf", "masked": True, "bytes": len(content)},
        )
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"困难职工档案-{file.file_number}.pdf"
    response["Content-Disposition"] = (
        f"inline; filename=\"{file.file_number}.pdf\"; filename*=UTF-8''" + _rfc5987(filename)
    )
    return no_store(response)


def _rfc5987(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


# --- Attachments


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a photo or PDF; its type is decided by its content, at most 10 MB."""
    user = request.user
    file = get_scoped_or_404(HardshipFile, user, Action.CHANGE, pk=pk)
    upload = request.FILES.get("upload")
    kind = request.POST.get("kind", "")
    if upload is None:
        messages.error(request, "请选择要上传的文件（JPG、PNG 图片或 PDF）")
        return redirect(file_url(file, "attachments"))
    if upload.size and upload.size > file_services.ATTACHMENT_MAX_BYTES:
        limit = file_services.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        messages.error(request, f"“{upload.name}”超过 {limit} MB，请压缩后再上传")
        return redirect(file_url(file, "attachments"))
    try:
        attachment = file_services.attachment_add(
            file=file,
            kind=kind,
            original_name=upload.name or "",
            upload=upload,
            acting_user=user,
        )
    except ValidationError as exc:
        messages.error(request, f"“{upload.name}”未能上传：" + "；".join(exc.messages))
    else:
        messages.success(
            request, f"已上传{attachment.get_kind_display()}“{attachment.original_name}”"
        )
    return redirect(file_url(file, "attachments"))


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    """An attachment, for someone who may see its file; every opening is audited."""
    attachment = get_scoped_or_404(Attachment, request.user, Action.VIEW, pk=pk)
    handle = file_services.attachment_open(attachment=attachment, acting_user=request.user)
    inline = request.GET.get("inline") == "1"
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; plugin-types application/pdf"
    )
    return no_store(response)


# --- The poster of the worker's application page


@login_required
@require_GET
def application_poster(request: HttpRequest) -> HttpResponse:
    """A printable poster with the QR code of a union's self-check and application page."""
    user = request.user
    require_some(user, Action.VIEW, "您没有查看困难帮扶的权限")
    raw = request.GET.get("union", "")
    union = None
    if raw.isdigit():
        union = get_scoped_or_404(Union, user, Action.VIEW, pk=int(raw))
    else:
        union = (
            Union.objects.restrict(user, Action.VIEW)
            .filter(accepting_unions_q())
            .order_by("depth", "path")
            .first()
        )
    form = PosterForm(initial={"union": union.pk if union else None}, user=user)
    context: dict[str, Any] = {"form": form, "union": union}
    if union is not None:
        address = absolute(request, reverse("relief_public:union_check", args=[union.pk]))
        context.update(
            accepts=accepts_members(union), address=address, qr=svg_inline(address, scale=8)
        )
    return render(request, "relief/poster.html", context)
