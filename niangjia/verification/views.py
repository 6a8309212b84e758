"""The pages of employer verification campaigns (用人单位核查).

Views parse, call a selector or a service, and render. Campaigns and items come through
``get_scoped_or_404`` (404 outside the scope, 403 inside it without the right); writes go
through ``niangjia.verification.services``. Marking an item works as a plain form post
(answered with a redirect back to the list) and, from the page's script, as a request for JSON
that carries the item's new row and the campaign's new counts, so nothing reloads.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.accounts.scope import paths_for
from niangjia.orgs import queries
from niangjia.orgs.forms import PICKER_SEARCH, add_service_errors, form_state
from niangjia.orgs.models import Union
from niangjia.utilities.paging import offset_page
from niangjia.utilities.scoping import allowed, get_scoped_or_404
from niangjia.verification import exports, selectors, services
from niangjia.verification.choices import FINDINGS, CampaignState, VerificationResult
from niangjia.verification.forms import (
    UNASSIGNED,
    CampaignForm,
    ItemFilterForm,
    MarkForm,
    SplitForm,
    parse_selection,
)
from niangjia.verification.models import VerificationCampaign, VerificationItem

CAMPAIGNS_PER_PAGE = 30
ITEMS_PER_PAGE = 50
PREVIEW = "_preview"
# Which list a marked row is drawn for: a campaign's items, or the person's own.
VIEW_CAMPAIGN = "campaign"
VIEW_MINE = "mine"


def _require_some(user: Any, action: str, message: str) -> None:
    """403 for a user who may ``action`` nowhere (a list has no object to 404 on)."""
    if not paths_for(user, action):
        raise PermissionDenied(message)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _campaign(request: HttpRequest, pk: int, action: str = Action.VIEW) -> VerificationCampaign:
    campaign = get_scoped_or_404(VerificationCampaign, request.user, action, pk=pk)
    return VerificationCampaign.objects.select_related(
        "union", "region", "created_by", "closed_by"
    ).get(pk=campaign.pk)


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return default


def _errors(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _findings_text(result: services.ApplyResult) -> str:
    labels = dict(VerificationResult.choices)
    parts = []
    for key, n in result.transitions.items():
        before, _, after = key.partition("→")
        parts.append(f"{labels.get(before, before)}→{labels.get(after, after)} {n} 家")
    return "（" + "，".join(parts) + "）" if parts else ""


# --- Campaigns


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_some(user, Action.VIEW, "您没有查看用人单位核查的权限")
    state = request.GET.get("state", "")
    if state not in CampaignState.values:
        state = ""
    q = (request.GET.get("q") or "").strip()[:100]
    campaigns = selectors.campaign_list(user=user, state=state or None, q=q)
    page = offset_page(campaigns, page=request.GET.get("page"), per_page=CAMPAIGNS_PER_PAGE)
    query = {k: v for k, v in (("state", state), ("q", q)) if v}
    return render(
        request,
        "verification/campaign_list.html",
        {
            "page": page,
            "state": state,
            "q": q,
            "states": CampaignState.choices,
            "query": "&".join(f"{k}={v}" for k, v in query.items()),
            "mine": selectors.my_open_counts(user),
            "can_create": bool(paths_for(user, Action.CHANGE)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    """The new-campaign form. "预览数量" (or the page's script, asking for JSON) counts the
    employers the filters select without creating anything."""
    user = request.user
    _require_some(user, Action.CHANGE, "您没有发起用人单位核查的权限")
    preview: int | None = None
    if request.method == "POST" and PICKER_SEARCH in request.POST:
        form = CampaignForm(initial=form_state(request.POST), user=user)
    elif request.method == "POST":
        raw_union = (request.POST.get("union") or "").strip()
        if raw_union.isdigit():
            # A union outside the scope is "not found", as for any object out of scope.
            get_scoped_or_404(Union, user, Action.VIEW, pk=int(raw_union))
        form = CampaignForm(request.POST, user=user)
        previewing = PREVIEW in request.POST
        valid = form.is_valid() if not previewing else _preview_valid(form)
        if valid and previewing:
            preview = _preview_count(user, form)
            if _wants_json(request):
                return JsonResponse({"ok": True, "count": preview})
        elif valid:
            try:
                campaign = services.campaign_create(
                    acting_user=user,
                    union=form.cleaned_data["union"],
                    name=form.cleaned_data["name"],
                    due_date=form.cleaned_data.get("due_date"),
                    filters=form.employer_filters(),
                )
            except ValidationError as exc:
                add_service_errors(
                    form,
                    exc,
                    field_map={"employer_status": "employer_status"},
                )
            else:
                messages.success(
                    request,
                    f"已发起“{campaign.name}”，共 {campaign.item_count} 家单位。"
                    "请分配核查人员，然后开始核查。",
                )
                return redirect("verification:campaign_detail", pk=campaign.pk)
        elif previewing and _wants_json(request):
            errors = [e for errs in form.errors.values() for e in errs]
            return JsonResponse({"ok": False, "errors": errors}, status=422)
    else:
        form = CampaignForm(user=user)
    return render(
        request,
        "verification/campaign_form.html",
        {"form": form, "preview": preview, "max_items": services.MAX_ITEMS},
    )


def _preview_valid(form: CampaignForm) -> bool:
    """A preview needs only the scope and the filters: the name and due date may wait."""
    form.is_valid()
    for name in ("name", "due_date"):
        form.errors.pop(name, None)
    return not form.errors


def _preview_count(user: Any, form: CampaignForm) -> int:
    employers = selectors.campaign_employers(
        user=user, union=form.cleaned_data["union"], filters=form.employer_filters()
    )
    return employers.order_by()[: services.MAX_ITEMS + 1].count()


def _split_rows(form: SplitForm | None, progress: selectors.Progress) -> list[dict[str, Any]]:
    """The split form's rows, each with the person's counts so far."""
    if form is None:
        return []
    tallies = {t.user_id: t for t in progress.people}
    return [{**row, "tally": tallies.get(row["member"].user.pk)} for row in form.rows()]


@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = _campaign(request, pk)
    progress = selectors.campaign_progress(campaign)
    can_change = allowed(user, Action.CHANGE, campaign)
    split_form = None
    if can_change and not campaign.is_closed:
        split_form = SplitForm(staff=selectors.campaign_staff(campaign))
    return render(
        request,
        "verification/campaign_detail.html",
        {
            "campaign": campaign,
            "progress": progress,
            "findings": FINDINGS,
            "can_change": can_change,
            "can_export": allowed(user, Action.EXPORT, campaign),
            "split_form": split_form,
            "split_rows": _split_rows(split_form, progress),
            "filters": _filter_rows(campaign),
            "history": selectors.campaign_history(campaign),
            "today": timezone.localdate(),
            "crumbs": queries.ancestor_crumbs(user, [campaign.union])[campaign.union_id],
        },
    )


def _filter_rows(campaign: VerificationCampaign) -> list[tuple[str, str]]:
    rows = [("核查范围", f"{campaign.union.name}及其下级工会")]
    if campaign.region is not None:
        rows.append(("所在行政区划", campaign.region.full_name))
    if campaign.employer_status:
        rows.append(("登记状态", campaign.get_employer_status_display()))
    if campaign.industry_section:
        rows.append(("行业门类", campaign.get_industry_section_display()))
    if campaign.ownership:
        rows.append(("经济类型", campaign.get_ownership_display()))
    if campaign.min_headcount:
        rows.append(("职工人数", f"不少于 {campaign.min_headcount} 人"))
    if campaign.organised is not None:
        rows.append(("建会情况", "已建会" if campaign.organised else "未建会"))
    return rows


@login_required
@require_POST
def campaign_open(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk, Action.CHANGE)
    try:
        services.campaign_open(acting_user=request.user, campaign=campaign)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, "核查已开始，核查人员可以在“我的核查任务”中逐家标记。")
    return redirect("verification:campaign_detail", pk=campaign.pk)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_split(request: HttpRequest, pk: int) -> HttpResponse:
    """Share the pending items out among the staff (the campaign page opens this form in a
    dialog; this page is its version without script, and where its errors are shown)."""
    user = request.user
    campaign = _campaign(request, pk, Action.CHANGE)
    staff = selectors.campaign_staff(campaign)
    detail_url = reverse("verification:campaign_detail", args=[campaign.pk])
    if request.method == "POST":
        form = SplitForm(request.POST, staff=staff)
        if form.is_valid():
            try:
                result = services.campaign_split(
                    acting_user=user,
                    campaign=campaign,
                    staff=[m.user for m in form.chosen()],
                    counts=form.counts(),
                    include_assigned=form.cleaned_data["include_assigned"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                names = {m.user.pk: m.name for m in staff}
                shares = "、".join(
                    f"{names[uid]} {n} 家" for uid, n in result.assigned.items() if n
                )
                messages.success(request, f"已分配 {result.total} 家单位：{shares or '无'}。")
                if result.unreachable:
                    messages.warning(
                        request,
                        f"{result.unreachable} 家单位不在所选人员的管辖范围内，仍未分配。",
                    )
                if result.left:
                    messages.info(request, f"还有 {result.left} 家单位未分配。")
                return redirect(detail_url)
    else:
        form = SplitForm(staff=staff)
    progress = selectors.campaign_progress(campaign)
    return render(
        request,
        "verification/campaign_split.html",
        {
            "campaign": campaign,
            "split_form": form,
            "split_rows": _split_rows(form, progress),
            "progress": progress,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    """What closing will write to the registry (GET), and closing it (POST, confirmed)."""
    user = request.user
    campaign = _campaign(request, pk, Action.CHANGE)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            error = "请勾选确认后再结束核查"
        else:
            try:
                result = services.campaign_close(acting_user=user, campaign=campaign)
            except ValidationError as exc:
                messages.error(request, _errors(exc))
            else:
                messages.success(
                    request,
                    f"核查已结束：{result.changed} 家单位的登记状态已更新"
                    f"{_findings_text(result)}，{result.confirmed} 家维持原状态。",
                )
                if result.out_of_scope:
                    messages.warning(
                        request,
                        f"{result.out_of_scope} 家单位已不在您的管辖范围内，其登记状态未更新。",
                    )
            return redirect("verification:campaign_detail", pk=campaign.pk)
    return render(
        request,
        "verification/campaign_close.html",
        {
            "campaign": campaign,
            "summary": selectors.close_summary(user=user, campaign=campaign),
            "error": error,
        },
        status=422 if error else 200,
    )


@login_required
@require_POST
def campaign_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk, Action.CHANGE)
    try:
        services.campaign_reopen(acting_user=request.user, campaign=campaign)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, "核查已重新开始；再次结束时，只更新此后改动的结果。")
    return redirect("verification:campaign_detail", pk=campaign.pk)


@login_required
@require_GET
def campaign_export(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk, Action.EXPORT)
    xfile = exports.campaign_export(acting_user=request.user, campaign=campaign)
    return xfile.response(f"{campaign.name}-核查结果-{timezone.localdate():%Y%m%d}.xlsx")


# --- Items


def _item_filters(form: ItemFilterForm) -> selectors.ItemFilters:
    values = form.values()
    assignee = values.get("assignee") or ""
    result = values.get("result") or ""
    return selectors.ItemFilters(
        assignee=int(assignee) if assignee.isdigit() else None,
        unassigned=assignee == UNASSIGNED,
        result=result,
        pending_only=result == VerificationResult.PENDING,
        q=values.get("q") or "",
    )


@login_required
@require_GET
def item_list(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = _campaign(request, pk)
    progress = selectors.campaign_progress(campaign)
    people = [(t.user_id, t.name) for t in progress.people if t.user_id is not None]
    form = ItemFilterForm(request.GET, people=people)
    items = selectors.campaign_items(user=user, campaign=campaign, filters=_item_filters(form))
    page = offset_page(items, page=request.GET.get("page"), per_page=ITEMS_PER_PAGE)
    can_change = allowed(user, Action.CHANGE, campaign)
    query = request.GET.copy()
    query.pop("page", None)
    staff = selectors.campaign_staff(campaign) if can_change and not campaign.is_closed else []
    return render(
        request,
        "verification/item_list.html",
        {
            "campaign": campaign,
            "progress": progress,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_mark": can_change and campaign.is_open,
            "can_select": can_change and not campaign.is_closed,
            "staff": staff,
            "findings": FINDINGS,
            "view": VIEW_CAMPAIGN,
            "here": request.get_full_path(),
        },
    )


@login_required
@require_POST
def item_bulk(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the ticked items with one finding, or give them to someone."""
    user = request.user
    campaign = _campaign(request, pk, Action.CHANGE)
    ids, versions = parse_selection(request.POST.getlist("ids"))
    back = _next_url(request, reverse("verification:item_list", args=[campaign.pk]))
    try:
        if request.POST.get("do") == "assign":
            raw = request.POST.get("assignee", "")
            assignee: User | None = None
            if raw.isdigit():
                assignee = User.objects.filter(pk=int(raw)).first()
            if assignee is None and raw != UNASSIGNED:
                raise ValidationError({"assignee": "请选择要分配给的核查人员"})
            n = services.items_assign(
                acting_user=user, campaign=campaign, item_ids=ids, assignee=assignee
            )
            target = assignee.display_name if assignee is not None else "“未分配”"
            messages.success(request, f"已把 {n} 家单位分配给{target}。")
        else:
            result = services.items_mark(
                acting_user=user,
                campaign=campaign,
                item_ids=ids,
                result=request.POST.get("result", ""),
                note=request.POST.get("note", ""),
                versions=versions,
            )
            label = dict(VerificationResult.choices).get(request.POST.get("result", ""), "")
            messages.success(request, f"已将 {result.marked} 家单位标记为“{label}”。")
            if result.conflicts:
                names = "、".join(result.conflicts[:5])
                more = f"等 {len(result.conflicts)} 家" if len(result.conflicts) > 5 else ""
                messages.warning(
                    request, f"{names}{more}刚被他人改动，未按本次标记，请核对后再标记。"
                )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect(back)


@login_required
@require_GET
def my_items(request: HttpRequest) -> HttpResponse:
    """我的核查任务: the items given to the signed-in person in campaigns under way."""
    user = request.user
    _require_some(user, Action.VIEW, "您没有用人单位核查任务")
    show_all = request.GET.get("all") == "1"
    q = (request.GET.get("q") or "").strip()[:100]
    items = selectors.my_items(user=user, pending_only=not show_all, q=q)
    page = offset_page(items, page=request.GET.get("page"), per_page=ITEMS_PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "verification/my_items.html",
        {
            "page": page,
            "show_all": show_all,
            "q": q,
            "query": query.urlencode(),
            "mine": selectors.my_open_counts(user),
            "can_mark": True,
            "can_select": False,
            "findings": FINDINGS,
            "view": VIEW_MINE,
            "here": request.get_full_path(),
        },
    )


def _item(request: HttpRequest, pk: int) -> VerificationItem:
    item = get_scoped_or_404(VerificationItem, request.user, Action.VIEW, pk=pk)
    return VerificationItem.objects.select_related(
        "campaign__union",
        "employer__region",
        "employer__owner",
        "employer__covering_union",
        "assignee",
        "checked_by",
    ).get(pk=item.pk)


@login_required
@require_GET
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    item = _item(request, pk)
    campaign = item.campaign
    return render(
        request,
        "verification/item_detail.html",
        {
            "item": item,
            "campaign": campaign,
            "employer": item.employer,
            "can_mark": campaign.is_open and services.may_mark(user, item),
            "sees_campaign": allowed(user, Action.VIEW, campaign),
            "sees_employer": allowed(user, Action.VIEW, item.employer),
            "findings": FINDINGS,
            "history": selectors.employer_history(item.employer),
            "item_history": selectors.item_history(item),
            "other_checks": selectors.employer_checks(
                user=user, employer=item.employer, exclude=item
            ),
            "view": "detail",
            "here": request.get_full_path(),
        },
    )


def _progress_json(user: Any, item: VerificationItem) -> dict[str, Any]:
    data: dict[str, Any] = {"mine": selectors.my_open_counts(user)}
    if allowed(user, Action.VIEW, item.campaign):
        tally = selectors.campaign_progress(item.campaign).overall
        data["campaign"] = {
            "total": tally.assigned,
            "done": tally.done,
            "pending": tally.pending,
            "percent": tally.percent,
            **{r.value: tally.count(r) for r in FINDINGS},
        }
    return data


def _row_html(request: HttpRequest, item: VerificationItem, view: str) -> str:
    item = _item(request, item.pk)
    template = "verification/_mark_form.html" if view == "detail" else "verification/_item.html"
    return render_to_string(
        template,
        {
            "item": item,
            "can_mark": item.campaign.is_open and services.may_mark(request.user, item),
            "can_select": view == VIEW_CAMPAIGN and not item.campaign.is_closed,
            "findings": FINDINGS,
            "view": view,
            "here": _next_url(request, ""),
            "show_campaign": view == VIEW_MINE,
        },
        request=request,
    )


@login_required
@require_POST
def item_mark(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one item. A plain post is answered with a redirect back to the list it came from;
    a request for JSON with the item's new row and the counts."""
    user = request.user
    item = _item(request, pk)
    view = request.POST.get("view", VIEW_CAMPAIGN)
    if view not in (VIEW_CAMPAIGN, VIEW_MINE, "detail"):
        view = VIEW_CAMPAIGN
    back = _next_url(request, reverse("verification:item_detail", args=[item.pk]))
    anchor = f"#item-{item.pk}" if "#" not in back else ""
    form = MarkForm(request.POST)
    status, message, level = 200, "", messages.SUCCESS
    if not form.is_valid():
        status, level = 422, messages.ERROR
        message = "；".join(e for errs in form.errors.values() for e in errs)
    else:
        before = item.result
        try:
            item = services.item_mark(
                acting_user=user,
                item=item,
                result=form.cleaned_data["result"],
                note=form.cleaned_data.get("note") or "",
                version=form.cleaned_data.get("version"),
            )
        except services.VersionConflict as exc:
            status, level, message = 409, messages.WARNING, _errors(exc)
        except ValidationError as exc:
            status, level, message = 422, messages.ERROR, _errors(exc)
        else:
            name = item.employer.name
            if item.result == before:
                message = f"已保存“{name}”的备注"
            elif item.is_done:
                message = f"已将“{name}”标记为“{item.get_result_display()}”"
            else:
                message = f"已撤销“{name}”的标记"
    if _wants_json(request):
        return JsonResponse(
            {
                "ok": status == 200,
                "message": message,
                "html": _row_html(request, item, view),
                "progress": _progress_json(user, item),
            },
            status=status,
        )
    messages.add_message(request, level, message)
    return redirect(back + anchor)
