"""The cadre pages of the member registry: join applications, the member list and a member's
record, reveals, status changes, transfers and the spreadsheet export.

Views parse, call a selector or a service, and render. Objects come through
``get_scoped_or_404`` (404 outside the scope, 403 inside it without the right), lists
through ``restrict(user, action)`` (``niangjia.members.selectors``); writes go through
``niangjia.members.services``. A clear ID number or phone appears only in the answer to a
reveal, never in an address, a message kept in the session or a log line.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.exports import services as export_services
from niangjia.exports.choices import ExportKind
from niangjia.exports.kinds import clean_query
from niangjia.exports.views import export_url
from niangjia.members import selectors, services
from niangjia.members.choices import ApplicationStatus, MemberStatus, TransferStatus
from niangjia.members.forms_cadre import (
    SEARCH_KEYS,
    TRANSFER_PURPOSE,
    ApplicationFilterForm,
    BulkDecisionForm,
    DecisionForm,
    MemberFilterForm,
    MemberSearchForm,
    RefuseForm,
    RevealForm,
    StatusChangeForm,
    TransferReleaseForm,
    filter_query,
    status_choices,
    transfer_target_label,
)
from niangjia.members.models import JoinApplication, Member, Transfer
from niangjia.orgs import queries
from niangjia.orgs.forms import PICKER_SEARCH, add_service_errors, form_state
from niangjia.orgs.models import Union
from niangjia.utilities.paging import offset_page
from niangjia.utilities.scoping import allowed, get_scoped_or_404
from niangjia.utilities.timeouts import QueryTooSlow, time_limit

MEMBERS_PER_PAGE = selectors.MEMBERS_PER_PAGE
MEMBER_COUNT_CAP = selectors.COUNT_CAP
# A list query that runs longer is stopped (PostgreSQL): a filter no index serves, over
# millions of members, must not hold a database process.
LIST_QUERY_TIMEOUT_MS = 5_000
APPLICATIONS_PER_PAGE = 50
TRANSFERS_PER_PAGE = 30
OPEN_TRANSFERS_SHOWN = 200
LOOKUP_LIMIT = 20


def _require_some(user: Any, action: str, message: str) -> None:
    """403 for a user who may ``action`` nowhere (a list has no object to 404 on)."""
    if not paths_for(user, action):
        raise PermissionDenied(message)


def _scoped_within(request: HttpRequest, data: QueryDict) -> None:
    """A union named in the filters must be in the user's scope: 404 otherwise, as for any
    object out of scope (the picker would only say the choice is invalid)."""
    raw = (data.get("within") or "").strip()
    if raw.isdigit():
        get_scoped_or_404(Union, request.user, Action.VIEW, pk=int(raw))


def _member_url(member: Member) -> str:
    return reverse("members:member_detail", args=[member.pk])


def _no_store(response: HttpResponse) -> HttpResponse:
    """Pages that may show personal data in clear are kept out of every cache."""
    response["Cache-Control"] = "no-store"
    return response


# --- Member list, search and export


@login_required
@require_GET
def member_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_some(user, Action.VIEW, "您没有查看会员名册的权限")
    _scoped_within(request, request.GET)
    form = MemberFilterForm(request.GET, user=user)
    form.is_valid()  # an invalid filter is shown with its error; the valid ones still apply
    return _member_list_page(request, form, request.GET)


def _member_list_page(
    request: HttpRequest,
    form: MemberFilterForm,
    params: QueryDict,
    search_errors: list[str] | None = None,
) -> HttpResponse:
    user = request.user
    rows = selectors.member_search(user=user, filters=form.filters())
    cursor_error = too_slow = ""
    page = selectors.MemberPage(items=[], next_cursor=None, previous_cursor=None)
    count = selectors.RowCount(total=0, capped=False, exact=False)
    try:
        with time_limit(LIST_QUERY_TIMEOUT_MS):
            try:
                page = selectors.member_keyset_page(
                    rows,
                    after=params.get("after") or None,
                    before=params.get("before") or None,
                    limit=MEMBERS_PER_PAGE,
                )
            except ValidationError as exc:
                cursor_error = "；".join(exc.messages)
                page = selectors.member_keyset_page(rows, limit=MEMBERS_PER_PAGE)
            count = selectors.capped_count(
                rows, cap=MEMBER_COUNT_CAP, exact=params.get("count") == "exact"
            )
    except QueryTooSlow:
        too_slow = (
            "查询用时过长，已经停止。请缩小范围后再查：选择具体的工会，或用姓名开头、"
            "手机号、证件号码查找（“包含”方式的姓名查找和工作单位条件较慢）。"
        )
    query = filter_query(params)
    without_search = filter_query(params, drop=SEARCH_KEYS)
    context = {
        "form": form,
        "search_form": MemberSearchForm(
            initial={"keep": without_search.urlencode(), "match": params.get("match", "")}
        ),
        "search_errors": search_errors or [],
        "page": page,
        "count": count,
        "cursor_error": cursor_error,
        "too_slow": too_slow,
        "query": query.urlencode(),
        "query_without_search": without_search.urlencode(),
        "filtering": any(k not in SEARCH_KEYS for k in query),
        "search_label": form.search_label(),
        "roots": queries.scope_roots(user),
        "can_export": bool(paths_for(user, Action.EXPORT)),
        "export_url": export_url(ExportKind.MEMBERS, query.urlencode()),
    }
    return render(request, "members/member_list.html", context)


@login_required
@require_POST
def member_search(request: HttpRequest) -> HttpResponse:
    """The search box: the name, member number or keyed hash of the phone / ID number goes
    into the list's address together with the filters in force. A number that does not parse
    is answered on the page, without repeating it."""
    _require_some(request.user, Action.VIEW, "您没有查看会员名册的权限")
    search = MemberSearchForm(request.POST)
    if search.is_valid():
        try:
            params = search.search_params()
        except ValidationError as exc:
            add_service_errors(search, exc)
        else:
            query = search.kept_filters()
            for key, value in params.items():
                query[key] = value
            target = reverse("members:member_list")
            return redirect(f"{target}?{query.urlencode()}" if query else target)
    kept = filter_query(QueryDict(search.data.get("keep", "")), drop=SEARCH_KEYS)
    _scoped_within(request, kept)
    form = MemberFilterForm(kept, user=request.user)
    form.is_valid()
    # The page shows what was wrong, never the number typed: the box comes back empty.
    errors = [e for errs in search.errors.values() for e in errs]
    return _member_list_page(request, form, kept, search_errors=errors)


@login_required
@require_GET
def member_export(request: HttpRequest) -> HttpResponse:
    """The current filters as a masked spreadsheet, sent at once when it is small. A bigger
    one is built in the background from the export page (``niangjia.exports``), where an
    unmasked export is asked for too."""
    user = request.user
    _scoped_within(request, request.GET)
    _require_some(user, Action.EXPORT, "您没有导出会员名册的权限")
    filters = clean_query(request.GET)
    try:
        selection = export_services.export_select(
            acting_user=user, kind=ExportKind.MEMBERS, filters=filters
        )
        count = export_services.export_count(selection)
        if count.capped or count.total > settings.EXPORT_INLINE_ROWS:
            return redirect(export_url(ExportKind.MEMBERS, request.GET.urlencode()))
        outcome = export_services.export_start(
            acting_user=user, kind=ExportKind.MEMBERS, filters=filters
        )
    except ValidationError as exc:
        return HttpResponseBadRequest("；".join(exc.messages))
    assert outcome.file is not None
    return outcome.file.response(outcome.filename)


# --- One member


def _detail_context(request: HttpRequest, member: Member, **extra: Any) -> dict[str, Any]:
    user = request.user
    member = Member.objects.select_related("union", "employer").get(pk=member.pk)
    can_change = allowed(user, Action.CHANGE, member)
    context = {
        "member": member,
        "record": selectors.member_record(user=user, member=member),
        "crumbs": queries.ancestor_crumbs(user, [member.union])[member.union_id],
        "can_change": can_change,
        "can_reveal": allowed(user, Action.REVEAL, member),
        "can_transfer": can_change
        and member.status in (MemberStatus.ACTIVE, MemberStatus.RESERVED),
        "reveal_form": RevealForm(),
        "reveal_url": reverse("members:member_reveal", args=[member.pk]),
        "status_changes": bool(status_choices(member)),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_scoped_or_404(Member, request.user, Action.VIEW, pk=pk)
    return render(request, "members/member_detail.html", _detail_context(request, member))


@never_cache
@login_required
@require_POST
def member_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the clear ID number or phone once, in this answer only (audited by the service)."""
    member = get_scoped_or_404(Member, request.user, Action.REVEAL, pk=pk)
    form = RevealForm(request.POST)
    revealed = None
    if form.is_valid():
        try:
            value = services.member_reveal(
                member=member,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            revealed = {"label": services.REVEALABLE[form.cleaned_data["field"]], "value": value}
            form = RevealForm()
    context = _detail_context(request, member, reveal_form=form, revealed=revealed)
    return _no_store(render(request, "members/member_detail.html", context))


@login_required
@require_http_methods(["GET", "POST"])
def member_status(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_scoped_or_404(Member, request.user, Action.CHANGE, pk=pk)
    form = StatusChangeForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        to_status = form.cleaned_data["to_status"]
        try:
            services.member_change_status(
                member=member,
                to_status=to_status,
                reason=form.reason(),
                date=form.cleaned_data.get("date"),
                acting_user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc, {"reason": "note"})
        else:
            messages.success(
                request, f"“{member.name}”的会籍状态已变更为“{MemberStatus(to_status).label}”"
            )
            return redirect(_member_url(member))
    return render(
        request,
        "members/member_status.html",
        {
            "member": member,
            "form": form,
            "crumbs": queries.ancestor_crumbs(request.user, [member.union])[member.union_id],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """Release a member to another union anywhere in the country (the target accepts)."""
    member = get_scoped_or_404(Member, request.user, Action.CHANGE, pk=pk)
    if request.method == "POST" and PICKER_SEARCH not in request.POST:
        form = TransferReleaseForm(request.POST, user=request.user, member=member)
        if form.is_valid():
            target = form.cleaned_data["to_union"]
            try:
                services.transfer_release(
                    member=member,
                    to_union=target,
                    reason=form.cleaned_data["reason"],
                    new_employer_name=form.cleaned_data.get("new_employer_name") or "",
                    acting_user=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已将“{member.name}”转出至“{target.name}”，等待对方接收")
                return redirect(_member_url(member))
    elif request.method == "POST":
        form = TransferReleaseForm(
            initial=form_state(request.POST), user=request.user, member=member
        )
    else:
        form = TransferReleaseForm(user=request.user, member=member)
    return render(
        request,
        "members/member_transfer.html",
        {
            "member": member,
            "form": form,
            "crumbs": queries.ancestor_crumbs(request.user, [member.union])[member.union_id],
        },
    )


@login_required
@require_GET
def transfer_targets(request: HttpRequest) -> JsonResponse:
    """Search for the transfer picker: active unions taking members anywhere in the country,
    by name and region only. For users who may release members somewhere."""
    _require_some(request.user, Action.CHANGE, "您没有办理会籍转接的权限")
    q = request.GET.get("q", "").strip()[:50]
    unions = selectors.transfer_targets(q=q)
    exclude = request.GET.get("exclude", "")
    if exclude.isdigit():
        unions = unions.exclude(pk=int(exclude))
    found = list(unions.order_by("depth", "name", "path")[:LOOKUP_LIMIT]) if q else []
    return JsonResponse(
        {
            "purpose": TRANSFER_PURPOSE,
            "results": [
                {
                    "id": u.pk,
                    "name": u.name,
                    "region": u.region.full_name if u.region else "",
                    "label": transfer_target_label(u),
                }
                for u in found
            ],
            "truncated": len(found) >= LOOKUP_LIMIT,
        }
    )


# --- Join applications


@login_required
@require_GET
def application_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_some(user, Action.VIEW, "您没有查看入会申请的权限")
    _scoped_within(request, request.GET)
    form = ApplicationFilterForm(request.GET, user=user)
    form.is_valid()
    status = form.listed_status
    applications = selectors.application_list(
        user=user,
        status=status or None,
        overdue=True if form.value("overdue") else None,
        union=form.value("within"),
    )
    if form.value("channel"):
        applications = applications.filter(channel=form.value("channel"))
    if status and status != ApplicationStatus.SUBMITTED:
        applications = applications.order_by("-decided_at", "-id")
    page = offset_page(applications, page=request.GET.get("page"), per_page=APPLICATIONS_PER_PAGE)
    query = filter_query(request.GET, drop=("page",))
    pending = status == ApplicationStatus.SUBMITTED
    return render(
        request,
        "members/application_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "counts": selectors.application_counts(user=user),
            "pending": pending,
            "can_decide": pending and bool(paths_for(user, Action.CHANGE)),
            "bulk_form": BulkDecisionForm(),
            "today": _today(),
        },
    )


def _today() -> datetime.date:
    return timezone.localdate()


def _application_context(
    request: HttpRequest, application: JoinApplication, **extra: Any
) -> dict[str, Any]:
    user = request.user
    application = JoinApplication.objects.select_related(
        "union", "employer", "venue__ceremony", "decided_by", "member"
    ).get(pk=application.pk)
    pending = application.status == ApplicationStatus.SUBMITTED
    context = {
        "application": application,
        "crumbs": queries.ancestor_crumbs(user, [application.union])[application.union_id],
        "can_decide": pending and allowed(user, Action.CHANGE, application),
        "can_reveal": allowed(user, Action.REVEAL, application),
        "member_visible": application.member_id is not None
        and Member.objects.restrict(user, Action.VIEW).filter(pk=application.member_id).exists(),
        "decision_form": DecisionForm(initial={"decision": DecisionForm.APPROVE}),
        "reveal_form": RevealForm(),
        "reveal_url": reverse("members:application_reveal", args=[application.pk]),
        "today": _today(),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_scoped_or_404(JoinApplication, request.user, Action.VIEW, pk=pk)
    return render(
        request,
        "members/application_detail.html",
        _application_context(request, application),
    )


@login_required
@require_POST
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_scoped_or_404(JoinApplication, request.user, Action.CHANGE, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            if form.approve:
                member = services.application_approve(
                    application=application,
                    acting_user=request.user,
                    reason=form.cleaned_data["reason"],
                )
            else:
                services.application_reject(
                    application=application,
                    acting_user=request.user,
                    reason=form.cleaned_data["reason"],
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if form.approve:
                messages.success(
                    request, f"已批准“{application.name}”入会，会员编号 {member.member_number}"
                )
            else:
                messages.success(request, f"已驳回“{application.name}”的入会申请")
            return redirect("members:application_detail", pk=application.pk)
    return render(
        request,
        "members/application_detail.html",
        _application_context(request, application, decision_form=form),
    )


@never_cache
@login_required
@require_POST
def application_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_scoped_or_404(JoinApplication, request.user, Action.REVEAL, pk=pk)
    form = RevealForm(request.POST)
    revealed = None
    if form.is_valid():
        try:
            value = services.member_reveal(
                member=application,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            revealed = {"label": services.REVEALABLE[form.cleaned_data["field"]], "value": value}
            form = RevealForm()
    context = _application_context(request, application, reveal_form=form, revealed=revealed)
    return _no_store(render(request, "members/application_detail.html", context))


@login_required
@require_POST
def application_bulk(request: HttpRequest) -> HttpResponse:
    """Approve or reject the ticked applications with one reason; each is decided on its own
    and the page tells which succeeded and why the others did not."""
    user = request.user
    form = BulkDecisionForm(request.POST)
    ids = form.selected_ids()
    visible = {
        a.pk: a
        for a in JoinApplication.objects.restrict(user, Action.VIEW)
        .filter(pk__in=ids)
        .select_related("union")
    }
    if len(visible) != len(ids):
        # As for a single object: one out of scope is "not found", not a partial success.
        get_scoped_or_404(
            JoinApplication, user, Action.VIEW, pk=next(i for i in ids if i not in visible)
        )
    changeable = set(
        JoinApplication.objects.restrict(user, Action.CHANGE)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    if len(changeable) != len(ids) or not paths_for(user, Action.CHANGE):
        raise PermissionDenied("您没有审批这些入会申请的权限")
    back = request.POST.get("back", "")
    back_url = reverse("members:application_list") + (
        f"?{back}" if back and not back.startswith(("/", "http")) else ""
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back_url)
    applications = [visible[i] for i in ids]
    decisions = services.applications_decide(
        applications=applications,
        acting_user=user,
        approve=form.approve,
        reason=form.cleaned_data["reason"],
    )
    return render(
        request,
        "members/application_bulk_result.html",
        {
            "approve": form.approve,
            "done": [d for d in decisions if not d.error],
            "failed": [d for d in decisions if d.error],
            "back_url": back_url,
        },
    )


# --- Transfers


@login_required
@require_GET
def transfer_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_some(user, Action.VIEW, "您没有查看会籍转接的权限")
    open_lists = {}
    for direction in (selectors.INCOMING, selectors.OUTGOING):
        rows = list(
            selectors.transfer_list(
                user=user, direction=direction, status=TransferStatus.RELEASED
            ).order_by("released_at", "id")[: OPEN_TRANSFERS_SHOWN + 1]
        )
        open_lists[direction] = rows
    incoming, outgoing = open_lists[selectors.INCOMING], open_lists[selectors.OUTGOING]
    history = selectors.transfer_list(user=user).exclude(status=TransferStatus.RELEASED)
    page = offset_page(
        history.order_by("-decided_at", "-id"),
        page=request.GET.get("page"),
        per_page=TRANSFERS_PER_PAGE,
    )
    change_paths = paths_for(user, Action.CHANGE)

    def may(union: Union) -> bool:
        return any(union.path.startswith(p) for p in change_paths)

    for transfer in incoming:
        transfer.can_decide = may(transfer.to_union)  # type: ignore[attr-defined]
    for transfer in outgoing:
        transfer.can_cancel = may(transfer.from_union)  # type: ignore[attr-defined]
    return render(
        request,
        "members/transfer_list.html",
        {
            "incoming": incoming[:OPEN_TRANSFERS_SHOWN],
            "incoming_more": len(incoming) > OPEN_TRANSFERS_SHOWN,
            "outgoing": outgoing[:OPEN_TRANSFERS_SHOWN],
            "outgoing_more": len(outgoing) > OPEN_TRANSFERS_SHOWN,
            "shown": OPEN_TRANSFERS_SHOWN,
            "page": page,
            "query": "",
            "anchor": "#history",
        },
    )


def _open_transfer(request: HttpRequest, pk: int) -> Transfer:
    transfer = get_scoped_or_404(Transfer, request.user, Action.VIEW, pk=pk)
    return Transfer.objects.select_related("member", "from_union", "to_union").get(pk=transfer.pk)


@login_required
@require_POST
def transfer_accept(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _open_transfer(request, pk)
    if not allowed(request.user, Action.CHANGE, transfer.to_union):
        raise PermissionDenied("只有转入工会可以接收或拒收")
    try:
        member = services.transfer_accept(transfer=transfer, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已接收“{member.name}”转入“{transfer.to_union.name}”")
    return redirect("members:transfer_list")


@login_required
@require_http_methods(["GET", "POST"])
def transfer_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _open_transfer(request, pk)
    if not allowed(request.user, Action.CHANGE, transfer.to_union):
        raise PermissionDenied("只有转入工会可以接收或拒收")
    form = RefuseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer_refuse(
                transfer=transfer, acting_user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已拒收“{transfer.member.name}”，会籍退回原工会")
            return redirect("members:transfer_list")
    return render(request, "members/transfer_refuse.html", {"transfer": transfer, "form": form})


@login_required
@require_POST
def transfer_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _open_transfer(request, pk)
    if not allowed(request.user, Action.CHANGE, transfer.from_union):
        raise PermissionDenied("只有转出工会可以撤销转接")
    try:
        services.transfer_cancel(transfer=transfer, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已撤销“{transfer.member.name}”的转出")
    return redirect("members:transfer_list")
