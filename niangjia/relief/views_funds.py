"""Relief funds and disbursement batches: the funds with their balances, one fund's ledger
and allocations down the tree, the usage report per subtree (page and spreadsheet), and the
batches from drawing the eligible households to reconciliation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.orgs import queries
from niangjia.orgs.forms import PICKER_SEARCH, add_service_errors, form_state
from niangjia.orgs.models import Union
from niangjia.relief import exports, selectors
from niangjia.relief.choices import BatchState, PaymentState
from niangjia.relief.forms_assistance import (
    BatchForm,
    DecisionForm,
    FundAllocateForm,
    FundForm,
    FundReceiveForm,
    PaymentFailForm,
    UsageForm,
)
from niangjia.relief.models import BatchPayment, DisbursementBatch, Fund, LedgerEntry
from niangjia.relief.services import batches as batch_services
from niangjia.relief.services import funds as fund_services
from niangjia.relief.views import require_some, scoped_within
from niangjia.utilities.paging import offset_page
from niangjia.utilities.scoping import allowed, get_scoped_or_404

LEDGER_PER_PAGE = 50
PAYMENTS_PER_PAGE = 50


# --- Funds


@login_required
@require_GET
def fund_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_some(user, Action.VIEW, "您没有查看帮扶资金的权限")
    year_raw = request.GET.get("year", "")
    year = int(year_raw) if year_raw.isdigit() else None
    funds = selectors.fund_list(user=user, year=year).select_related("parent__union")
    page = offset_page(funds, page=request.GET.get("page"), per_page=50)
    totals = funds.aggregate(balance=Sum("balance"))
    years = sorted(
        set(Fund.objects.restrict(user, Action.VIEW).values_list("year", flat=True)), reverse=True
    )
    return render(
        request,
        "relief/fund_list.html",
        {
            "page": page,
            "balance": totals["balance"] or 0,
            "years": years,
            "year": year,
            "query": f"year={year}" if year else "",
            "can_add": bool(paths_for(user, Action.ADD)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def fund_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_some(user, Action.ADD, "您没有开设帮扶资金的权限")
    chosen = request.POST.get("union", "") if request.method == "POST" else ""
    if chosen.isdigit():
        get_scoped_or_404(Union, user, Action.ADD, pk=int(chosen))
    if request.method == "POST" and PICKER_SEARCH in request.POST:
        form = FundForm(initial=form_state(request.POST), user=user)
    else:
        form = FundForm(request.POST or None, user=user)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                fund = fund_services.fund_create(
                    union=d["union"],
                    name=d["name"],
                    source=d["source"],
                    year=d["year"],
                    acting_user=user,
                )
                if d.get("amount"):
                    fund_services.fund_receive(
                        fund=fund, amount=d["amount"], acting_user=user, note="初始到账"
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已开设资金“{fund}”")
                return redirect("relief:fund_detail", pk=fund.pk)
    return render(request, "relief/fund_form.html", {"form": form})


def _fund_context(request: HttpRequest, fund: Fund, **extra: Any) -> dict[str, Any]:
    user = request.user
    fund = Fund.objects.select_related("union", "parent__union", "created_by").get(pk=fund.pk)
    ledger = (
        LedgerEntry.objects.filter(fund=fund).select_related("counterpart__union").order_by("-id")
    )
    can_change = allowed(user, Action.CHANGE, fund)
    context = {
        "fund": fund,
        "ledger": offset_page(ledger, page=request.GET.get("page"), per_page=LEDGER_PER_PAGE),
        "usage": selectors.fund_usage(user=user, fund=fund),
        "children": list(
            Fund.objects.restrict(user, Action.VIEW).filter(parent=fund).select_related("union")
        ),
        "parent_visible": fund.parent_id is not None and allowed(user, Action.VIEW, fund.parent),  # type: ignore[arg-type]
        "can_change": can_change,
        "receive_form": extra.pop("receive_form", None) or FundReceiveForm(user=user),
        "allocate_form": extra.pop("allocate_form", None) or FundAllocateForm(user=user, fund=fund),
        "crumbs": queries.ancestor_crumbs(user, [fund.union])[fund.union_id],
        "anchor": "#ledger",
    }
    context.update(extra)
    return context


@login_required
@require_GET
def fund_detail(request: HttpRequest, pk: int) -> HttpResponse:
    fund = get_scoped_or_404(Fund, request.user, Action.VIEW, pk=pk)
    return render(request, "relief/fund_detail.html", _fund_context(request, fund))


@login_required
@require_POST
def fund_receive(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    fund = get_scoped_or_404(Fund, user, Action.CHANGE, pk=pk)
    form = FundReceiveForm(request.POST, user=user)
    if form.is_valid():
        try:
            fund_services.fund_receive(
                fund=fund,
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data.get("note") or "",
                acting_user=user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已登记到账 {form.cleaned_data['amount']:,.2f} 元")
            return redirect(reverse("relief:fund_detail", args=[fund.pk]) + "#ledger")
    return render(
        request, "relief/fund_detail.html", _fund_context(request, fund, receive_form=form)
    )


@login_required
@require_POST
def fund_allocate(request: HttpRequest, pk: int) -> HttpResponse:
    """Allocate money of this fund down the tree (province → city → county)."""
    user = request.user
    fund = get_scoped_or_404(Fund, user, Action.CHANGE, pk=pk)
    if PICKER_SEARCH in request.POST:
        state = {k.removeprefix("allocate-"): v for k, v in form_state(request.POST).items()}
        form = FundAllocateForm(initial=state, user=user, fund=fund)
        return render(
            request, "relief/fund_detail.html", _fund_context(request, fund, allocate_form=form)
        )
    chosen = request.POST.get("allocate-union", "")
    if chosen.isdigit():
        get_scoped_or_404(Union, user, Action.VIEW, pk=int(chosen))
    form = FundAllocateForm(request.POST, user=user, fund=fund)
    if form.is_valid():
        d = form.cleaned_data
        try:
            fund_services.fund_allocate(
                fund=fund,
                union=d["union"],
                amount=d["amount"],
                note=d.get("note") or "",
                acting_user=user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已向{d['union'].name}下拨 {d['amount']:,.2f} 元")
            return redirect(reverse("relief:fund_detail", args=[fund.pk]) + "#allocations")
    return render(
        request, "relief/fund_detail.html", _fund_context(request, fund, allocate_form=form)
    )


@login_required
@require_GET
def fund_report(request: HttpRequest) -> HttpResponse:
    """Paid assistance per child union, fund and type under a subtree; ``?format=xlsx``
    downloads it (audited)."""
    user = request.user
    require_some(user, Action.VIEW, "您没有查看帮扶资金的权限")
    scoped_within(request, request.GET)
    form = UsageForm(request.GET or None, user=user)
    roots = queries.scope_roots(user)
    root = None
    year = None
    if form.is_bound and form.is_valid():
        root = form.cleaned_data.get("within")
        year = form.cleaned_data.get("year")
    root = root or (roots[0] if roots else None)
    if root is None:
        raise Http404("没有可查看的工会")
    if request.GET.get("format") == "xlsx":
        if form.is_bound and not form.is_valid():
            return HttpResponseBadRequest("筛选条件有误，未导出")
        require_some(user, Action.EXPORT, "您没有导出资金使用情况的权限")
        xfile, filename = exports.export_usage(acting_user=user, root=root, year=year)
        return xfile.response(filename)
    rows = exports.usage_rows(user=user, root=root, year=year)
    totals = {
        "times": sum(r["times"] for r in rows),
        "amount": sum(r["amount"] for r in rows),
        "in_kind": sum(r["in_kind"] for r in rows),
    }
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("within_q", None)
    return render(
        request,
        "relief/fund_report.html",
        {
            "form": form,
            "root": root,
            "year": year,
            "rows": rows,
            "totals": totals,
            "query": query.urlencode(),
            "can_export": bool(paths_for(user, Action.EXPORT)),
        },
    )


# --- Disbursement batches


@login_required
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_some(user, Action.VIEW, "您没有查看批量发放的权限")
    state = request.GET.get("state", "")
    if state not in BatchState.values:
        state = ""
    page = offset_page(
        selectors.batch_list(user=user, state=state).select_related("created_by"),
        page=request.GET.get("page"),
        per_page=30,
    )
    return render(
        request,
        "relief/batch_list.html",
        {
            "page": page,
            "state": state,
            "states": BatchState.choices,
            "query": f"state={state}" if state else "",
            "can_add": bool(paths_for(user, Action.CHANGE)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def batch_create(request: HttpRequest) -> HttpResponse:
    """Draw the eligible households into a draft batch."""
    user = request.user
    require_some(user, Action.CHANGE, "您没有办理批量发放的权限")
    chosen = request.POST.get("fund", "") if request.method == "POST" else ""
    if chosen.isdigit():
        get_scoped_or_404(Fund, user, Action.CHANGE, pk=int(chosen))
    if request.method == "POST" and PICKER_SEARCH in request.POST:
        form = BatchForm(initial=form_state(request.POST), user=user)
    else:
        form = BatchForm(request.POST or None, user=user)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                batch = batch_services.batch_create(
                    fund=d["fund"],
                    name=d["name"],
                    assistance_type=d["assistance_type"],
                    amount=d["amount"],
                    acting_user=user,
                    criteria=batch_services.BatchCriteria(
                        categories=list(d.get("categories") or []),
                        causes=list(d.get("causes") or []),
                        levels=list(d.get("levels") or []),
                        within=d.get("within"),
                    ),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if batch.payment_count:
                    messages.success(
                        request,
                        f"已生成批次草稿：{batch.payment_count} 户，合计 {batch.total_amount:,.2f} 元，"
                        "请由制表人以外的人员审批",
                    )
                else:
                    messages.warning(request, "没有符合条件的在档困难职工家庭，批次为空")
                return redirect("relief:batch_detail", pk=batch.pk)
    return render(request, "relief/batch_form.html", {"form": form})


def _batch_context(request: HttpRequest, batch: DisbursementBatch, **extra: Any) -> dict[str, Any]:
    user = request.user
    batch = DisbursementBatch.objects.select_related(
        "fund__union", "union", "created_by", "approved_by"
    ).get(pk=batch.pk)
    state = request.GET.get("payments", "")
    if state not in PaymentState.values:
        state = ""
    payments = selectors.batch_payments(batch=batch, state=state).select_related("file__union")
    can_change = allowed(user, Action.CHANGE, batch)
    can_finance = allowed(user, Action.APPROVE_FUNDS, batch)
    actions = []
    if batch.state == BatchState.DRAFT and (can_change or can_finance):
        if batch.created_by_id != user.pk:
            actions.append(("approve", "审批批次", "", ""))
        if can_change:
            actions.append(("cancel", "作废批次", "danger", "reason"))
    if batch.state == BatchState.APPROVED and can_change:
        actions.append(("post", "确认发放并记账", "", ""))
        actions.append(("cancel", "作废批次", "danger", "reason"))
    summary = selectors.batch_summary(batch=batch)
    if batch.state == BatchState.PAID and can_change:
        if summary[PaymentState.PENDING]["count"]:
            actions.append(("post", "发放重新提交的明细", "", ""))
        else:
            actions.append(("reconcile", "对账完成", "", ""))
    context = {
        "batch": batch,
        "summary": [(s, label, summary[s]) for s, label in PaymentState.choices],
        "payments": offset_page(payments, page=request.GET.get("page"), per_page=PAYMENTS_PER_PAGE),
        "payment_state": state,
        "payment_states": PaymentState.choices,
        "query": f"payments={state}" if state else "",
        "anchor": "#payments",
        "actions": actions,
        "can_change": can_change,
        "form": extra.pop("form", None) or DecisionForm(initial={"version": batch.version}),
        "fail_form": PaymentFailForm(),
        "criteria": _criteria_text(batch),
    }
    context.update(extra)
    return context


def _criteria_text(batch: DisbursementBatch) -> str:
    from niangjia.relief.choices import ArchiveLevel, Category, HardshipCause

    c = batch.criteria or {}
    parts = []
    for key, choices, label in (
        ("categories", Category, "困难类别"),
        ("causes", HardshipCause, "致困原因"),
        ("levels", ArchiveLevel, "档案级别"),
    ):
        values = [str(choices(v).label) for v in c.get(key) or [] if v in choices.values]
        if values:
            parts.append(f"{label}：{'、'.join(values)}")
    if c.get("within"):
        union = Union.objects.filter(pk=c["within"]).first()
        if union is not None:
            parts.append(f"范围：{union.name}")
    return "；".join(parts) or "全部在档困难职工家庭"


@login_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_scoped_or_404(DisbursementBatch, request.user, Action.VIEW, pk=pk)
    return render(request, "relief/batch_detail.html", _batch_context(request, batch))


BATCH_ACTIONS = ("approve", "post", "reconcile", "cancel")


@login_required
@require_POST
def batch_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in BATCH_ACTIONS:
        raise Http404("没有这个办理事项")
    user = request.user
    if action == "approve":
        batch = get_scoped_or_404(DisbursementBatch, user, Action.VIEW, pk=pk)
        if not allowed(user, Action.APPROVE_FUNDS, batch):
            get_scoped_or_404(DisbursementBatch, user, Action.CHANGE, pk=pk)
    else:
        batch = get_scoped_or_404(DisbursementBatch, user, Action.CHANGE, pk=pk)
    form = DecisionForm(request.POST)
    conflict = False
    if form.is_valid():
        version = form.cleaned_data.get("version")
        try:
            if action == "approve":
                batch_services.batch_approve(batch=batch, acting_user=user, version=version)
                message = "批次已审批，可以发放"
            elif action == "post":
                result = batch_services.batch_post(batch=batch, acting_user=user, version=version)
                message = f"已发放 {result.paid} 户，合计 {result.total:,.2f} 元，资金余额 {result.balance_after:,.2f} 元"
                if result.failed:
                    message += f"；{result.failed} 户未发放（已不在档或本周期已发放）"
            elif action == "reconcile":
                batch_services.batch_reconcile(batch=batch, acting_user=user, version=version)
                message = "批次已对账"
            else:
                batch_services.batch_cancel(
                    batch=batch,
                    acting_user=user,
                    reason=form.cleaned_data.get("reason") or "",
                    version=version,
                )
                message = "批次已作废"
        except ValidationError as exc:
            conflict = getattr(exc, "code", None) == "conflict"
            add_service_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect("relief:batch_detail", pk=batch.pk)
    context = _batch_context(request, batch, form=form, conflict=conflict, tried=action)
    return render(request, "relief/batch_detail.html", context, status=409 if conflict else 200)


@login_required
@require_POST
def payment_fail(request: HttpRequest, pk: int) -> HttpResponse:
    """The bank returned a payment: it fails with the reason and its money goes back."""
    user = request.user
    payment = get_scoped_or_404(BatchPayment, user, Action.CHANGE, pk=pk)
    form = PaymentFailForm(request.POST)
    if form.is_valid():
        try:
            batch_services.batch_payment_fail(
                payment=payment, acting_user=user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, "已登记发放失败，资金已退回，可在更正账户后重新提交")
    else:
        messages.error(request, "请填写发放失败的原因")
    return redirect(reverse("relief:batch_detail", args=[payment.batch_id]) + "#payments")


@login_required
@require_POST
def payment_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a failed payment back into its batch for the next posting."""
    user = request.user
    payment = get_scoped_or_404(BatchPayment, user, Action.CHANGE, pk=pk)
    try:
        batch_services.batch_payment_retry(payment=payment, acting_user=user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已重新提交，下次发放时一并发放")
    return redirect(reverse("relief:batch_detail", args=[payment.batch_id]) + "#payments")
