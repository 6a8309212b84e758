"""The household plan (一户一策) pages and the assistance pages: the plan of one file, the
board of every measure by state, recording assistance, the approval queue (a cadre's first
approval, a finance officer's second one) and a record's page with its decisions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.orgs import queries
from niangjia.orgs.forms import PICKER_SEARCH, add_service_errors, form_state
from niangjia.orgs.models import Union
from niangjia.relief import selectors, selectors_pages
from niangjia.relief.choices import AssistanceState, AssistanceType, FileState, MeasureState
from niangjia.relief.forms_assistance import (
    AssistanceForm,
    DecisionForm,
    MeasureAddForm,
    MeasureUpdateForm,
    PlanGoalForm,
)
from niangjia.relief.models import Assistance, HardshipFile, PlanMeasure, ReliefPlan
from niangjia.relief.services import assistance as assistance_services
from niangjia.relief.services import plans as plan_services
from niangjia.relief.services.plans import PLANNABLE_STATES
from niangjia.relief.views import file_url, require_some, scoped_within, today
from niangjia.utilities.paging import offset_page
from niangjia.utilities.scoping import allowed, get_scoped_or_404

BOARD_LIMIT = 200


# --- The plan of one household


def _plan_context(request: HttpRequest, file: HardshipFile, **forms: Any) -> dict[str, Any]:
    user = request.user
    file = HardshipFile.objects.select_related("union").get(pk=file.pk)
    plan = ReliefPlan.objects.filter(file=file).first()
    measures = (
        list(PlanMeasure.objects.filter(plan=plan).select_related("responsible_union"))
        if plan is not None
        else []
    )
    updates = forms.pop("updates", {})
    rows = []
    for measure in measures:
        editable = measure.state in (MeasureState.PLANNED, MeasureState.IN_PROGRESS) and allowed(
            user, Action.CHANGE, measure
        )
        form = updates.get(measure.pk) or (
            MeasureUpdateForm(user=user, measure=measure) if editable else None
        )
        rows.append({"measure": measure, "form": form})
    can_change = allowed(user, Action.CHANGE, file) and file.state in PLANNABLE_STATES
    context = {
        "file": file,
        "plan": plan,
        "rows": rows,
        "can_change": can_change,
        "goal_form": forms.get("goal_form")
        or PlanGoalForm(
            user=user,
            initial={"goal": plan.goal if plan else "", "version": plan.version if plan else None},
        ),
        "measure_form": forms.get("measure_form")
        or (MeasureAddForm(user=user, file=file) if plan is not None else None),
        "crumbs": queries.ancestor_crumbs(user, [file.union])[file.union_id],
        "today": today(),
    }
    return context


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The household's plan: its goal and measures; a measure is added here."""
    user = request.user
    file = get_scoped_or_404(HardshipFile, user, Action.VIEW, pk=pk)
    if request.method == "GET":
        return render(request, "relief/plan_edit.html", _plan_context(request, file))
    file = get_scoped_or_404(HardshipFile, user, Action.CHANGE, pk=pk)
    plan = ReliefPlan.objects.filter(file=file).first()
    what = request.POST.get("what")
    if what == "goal":
        form = PlanGoalForm(request.POST, user=user)
        if form.is_valid():
            try:
                plan_services.plan_save(
                    file=file,
                    goal=form.cleaned_data["goal"],
                    acting_user=user,
                    version=form.cleaned_data.get("version"),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, "帮扶目标已保存" if plan else "帮扶计划已制定，请添加帮扶措施"
                )
                return redirect("relief:plan_edit", pk=file.pk)
        return render(
            request, "relief/plan_edit.html", _plan_context(request, file, goal_form=form)
        )
    if plan is None:
        messages.error(request, "请先制定帮扶目标，再添加措施")
        return redirect("relief:plan_edit", pk=file.pk)
    if PICKER_SEARCH in request.POST:
        form = MeasureAddForm(initial=form_state(request.POST), user=user, file=file)
        return render(
            request, "relief/plan_edit.html", _plan_context(request, file, measure_form=form)
        )
    form = MeasureAddForm(request.POST, user=user, file=file)
    if form.is_valid():
        d = form.cleaned_data
        try:
            plan_services.measure_add(
                plan=plan,
                assistance_type=d["assistance_type"],
                description=d["description"],
                responsible_union=d["responsible_union"],
                deadline=d["deadline"],
                acting_user=user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已添加帮扶措施")
            return redirect(reverse("relief:plan_edit", args=[file.pk]) + "#measures")
    return render(request, "relief/plan_edit.html", _plan_context(request, file, measure_form=form))


@login_required
@require_POST
def measure_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress on a measure (its file's union or the responsible union)."""
    user = request.user
    measure = get_scoped_or_404(PlanMeasure, user, Action.CHANGE, pk=pk)
    measure = PlanMeasure.objects.select_related("plan__file").get(pk=measure.pk)
    form = MeasureUpdateForm(request.POST, user=user, measure=measure)
    if form.is_valid():
        d = form.cleaned_data
        try:
            plan_services.measure_update(
                measure=measure,
                acting_user=user,
                version=d.get("version") or 0,
                progress=d.get("progress") or "",
                state=d["state"],
                deadline=d.get("deadline"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已更新措施进展：{measure.get_assistance_type_display()}")
            back = request.POST.get("back")
            if back == "board":
                return redirect(reverse("relief:plan_board") + f"#measure-{measure.pk}")
            return redirect(reverse("relief:plan_edit", args=[measure.plan.file_id]) + "#measures")
    file = measure.plan.file
    if not allowed(user, Action.VIEW, file):
        # The responsible union's cadre does not see the file: answer on the board.
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(reverse("relief:plan_board") + f"#measure-{measure.pk}")
    context = _plan_context(request, file, updates={measure.pk: form})
    return render(request, "relief/plan_edit.html", context)


@login_required
@require_GET
def plan_board(request: HttpRequest) -> HttpResponse:
    """Every measure the user sees, in columns by state, soonest deadline first; overdue
    ones marked. Filters: a subtree, a type, overdue only."""
    user = request.user
    require_some(user, Action.VIEW, "您没有查看帮扶计划的权限")
    scoped_within(request, request.GET)
    within = None
    raw = request.GET.get("within", "")
    if raw.isdigit():
        within = get_scoped_or_404(Union, user, Action.VIEW, pk=int(raw))
    assistance_type = request.GET.get("type", "")
    if assistance_type not in AssistanceType.values:
        assistance_type = ""
    overdue_only = request.GET.get("overdue") == "1"
    measures = selectors.measure_board(
        user=user, overdue_only=overdue_only, within=within, open_only=False
    )
    if assistance_type:
        measures = measures.filter(assistance_type=assistance_type)
    measures = measures.select_related("plan__file__union")
    columns = []
    change_paths = paths_for(user, Action.CHANGE)
    for state in selectors_pages.MEASURE_COLUMNS:
        rows = list(measures.filter(state=state)[: BOARD_LIMIT + 1])
        for m in rows:
            m.can_change = any(  # type: ignore[attr-defined]
                m.plan.file.union_path.startswith(p) or m.responsible_union.path.startswith(p)
                for p in change_paths
            )
        columns.append(
            {
                "state": state,
                "label": MeasureState(state).label,
                "rows": rows[:BOARD_LIMIT],
                "more": len(rows) > BOARD_LIMIT,
            }
        )
    overdue = selectors.measure_board(user=user, overdue_only=True, within=within).count()
    return render(
        request,
        "relief/plan_board.html",
        {
            "columns": columns,
            "overdue_count": overdue,
            "within": within,
            "types": AssistanceType.choices,
            "type": assistance_type,
            "overdue_only": overdue_only,
            "limit": BOARD_LIMIT,
            "today": today(),
        },
    )


# --- Assistance


@login_required
@require_http_methods(["GET", "POST"])
def assistance_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record assistance to a filed household (it then waits for approval)."""
    user = request.user
    file = get_scoped_or_404(HardshipFile, user, Action.CHANGE, pk=pk)
    file = HardshipFile.objects.select_related("union", "city_region").get(pk=file.pk)
    if file.state != FileState.FILED:
        messages.error(
            request, f"档案{file.get_state_display()}，只有在档的困难职工家庭可以登记帮扶"
        )
        return redirect(file_url(file))
    day = today()
    funds = selectors_pages.spendable_funds(user, file, day.year)
    initial = {}
    if request.GET.get("measure", "").isdigit():
        initial["measure"] = int(request.GET["measure"])
    form = AssistanceForm(request.POST or None, user=user, file=file, funds=funds, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            record = assistance_services.assistance_create(
                file=file,
                assistance_type=d["assistance_type"],
                acting_user=user,
                amount=d.get("amount") or 0,
                in_kind_value=d.get("in_kind_value") or 0,
                goods=d.get("goods") or "",
                date=d.get("date"),
                fund=d.get("fund"),
                measure=d.get("measure"),
                note=d.get("note") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"已登记{record.get_assistance_type_display()} {record.value} 元，"
                "请由经办人以外的干部审批",
            )
            return redirect("relief:assistance_detail", pk=record.pk)
    used = {
        t: assistance_services.used_this_year(file, t, day.year) for t, _ in AssistanceType.choices
    }
    return render(
        request,
        "relief/assistance_form.html",
        {
            "file": file,
            "form": form,
            "funds": list(funds),
            "used": [(AssistanceType(t).label, v) for t, v in used.items() if v],
            "crumbs": queries.ancestor_crumbs(user, [file.union])[file.union_id],
        },
    )


@login_required
@require_GET
def assistance_queue(request: HttpRequest) -> HttpResponse:
    """What waits for this user (first or second approval), what waits for payment, and the
    latest records."""
    user = request.user
    require_some(user, Action.VIEW, "您没有查看帮扶记录的权限")
    waiting = list(selectors_pages.approvals_waiting(user=user)[:200])
    finance = bool(paths_for(user, Action.APPROVE_FUNDS))
    to_pay = list(
        selectors.assistance_list(user=user, state=AssistanceState.APPROVED)
        .filter(pk__in=Assistance.objects.restrict(user, Action.CHANGE).values("pk"))
        .select_related("approved_by")[:200]
    )
    state = request.GET.get("state", "")
    if state not in AssistanceState.values:
        state = ""
    page = offset_page(
        selectors.assistance_list(user=user, state=state).select_related("created_by"),
        page=request.GET.get("page"),
        per_page=30,
    )
    return render(
        request,
        "relief/assistance_queue.html",
        {
            "waiting": waiting,
            "to_pay": to_pay,
            "finance": finance,
            "page": page,
            "state": state,
            "states": AssistanceState.choices,
            "query": f"state={state}" if state else "",
        },
    )


def _assistance_context(request: HttpRequest, record: Assistance, **extra: Any) -> dict[str, Any]:
    user = request.user
    record = Assistance.objects.select_related(
        "file__union", "fund__union", "created_by", "approved_by", "second_approved_by", "measure"
    ).get(pk=record.pk)
    can_change = allowed(user, Action.CHANGE, record)
    can_finance = allowed(user, Action.APPROVE_FUNDS, record)
    mine = {record.created_by_id, record.approved_by_id}
    actions = []
    if record.state == AssistanceState.PENDING and can_change:
        if record.created_by_id != user.pk:
            actions.append(("approve", "审批通过", ""))
        actions.append(("reject", "不予批准", "danger"))
    if record.state == AssistanceState.SECOND_PENDING and can_finance:
        if user.pk not in mine:
            actions.append(("second-approve", "财务复核通过", ""))
        actions.append(("reject", "不予批准", "danger"))
    if record.state == AssistanceState.APPROVED and can_change:
        actions.append(("pay", "确认发放", ""))
    if record.state == AssistanceState.PAID and can_change and record.batch_payment_id is None:
        actions.append(("fail", "登记发放失败", "danger"))
    context = {
        "record": record,
        "file": record.file,
        "file_visible": allowed(user, Action.VIEW, record.file),
        "actions": actions,
        "form": extra.pop("form", None) or DecisionForm(initial={"version": record.version}),
        "self_recorded": record.created_by_id == user.pk,
        "crumbs": queries.ancestor_crumbs(user, [record.file.union])[record.file.union_id],
    }
    context.update(extra)
    return context


@login_required
@require_GET
def assistance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_scoped_or_404(Assistance, request.user, Action.VIEW, pk=pk)
    return render(request, "relief/assistance_detail.html", _assistance_context(request, record))


DECISIONS = ("approve", "second-approve", "reject", "pay", "fail")


@login_required
@require_POST
def assistance_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """Approve, second-approve (finance), reject, pay, or mark a payment failed."""
    if decision not in DECISIONS:
        raise Http404("没有这个办理事项")
    user = request.user
    action = Action.APPROVE_FUNDS if decision == "second-approve" else Action.CHANGE
    if decision == "reject":
        record = get_scoped_or_404(Assistance, user, Action.VIEW, pk=pk)
        if not (
            allowed(user, Action.CHANGE, record) or allowed(user, Action.APPROVE_FUNDS, record)
        ):
            get_scoped_or_404(Assistance, user, Action.CHANGE, pk=pk)
    else:
        record = get_scoped_or_404(Assistance, user, action, pk=pk)
    form = DecisionForm(request.POST)
    conflict = False
    if form.is_valid():
        version = form.cleaned_data.get("version")
        reason = form.cleaned_data.get("reason") or ""
        try:
            if decision == "approve":
                record = assistance_services.assistance_approve(
                    assistance=record, acting_user=user, version=version
                )
                message = (
                    "已审批，金额超过财务复核标准，等待财务人员复核"
                    if record.state == AssistanceState.SECOND_PENDING
                    else "已审批，可以发放"
                )
            elif decision == "second-approve":
                assistance_services.assistance_second_approve(
                    assistance=record, acting_user=user, version=version
                )
                message = "财务复核已通过，可以发放"
            elif decision == "reject":
                assistance_services.assistance_reject(
                    assistance=record, acting_user=user, reason=reason, version=version
                )
                message = "已不予批准"
            elif decision == "pay":
                record = assistance_services.assistance_pay(
                    assistance=record, acting_user=user, version=version
                )
                message = f"已发放{record.get_assistance_type_display()}，资金台账已记账"
            else:
                assistance_services.assistance_payment_fail(
                    assistance=record, acting_user=user, reason=reason
                )
                message = "已登记发放失败，资金已退回"
        except ValidationError as exc:
            conflict = getattr(exc, "code", None) == "conflict"
            add_service_errors(form, exc)
        else:
            messages.success(request, message)
            back = request.POST.get("back")
            if back == "queue":
                return redirect("relief:assistance_queue")
            return redirect("relief:assistance_detail", pk=record.pk)
    context = _assistance_context(request, record, form=form, conflict=conflict, tried=decision)
    return render(
        request, "relief/assistance_detail.html", context, status=409 if conflict else 200
    )
