"""Writes about assistance to a household: record, approve, second approval, reject, pay,
and a payment that came back.

The rules of the file's province and year (``rules.assistance_rule_for``) are enforced here:
the cap per household per year, one record per type and cycle (also by a partial unique
index), and a second approval by a finance officer (Action.APPROVE_FUNDS) above the rule's
threshold, by a person other than the first approver. Creating a record locks the file's
row, so that two cadres recording at once cannot both slip under the cap.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.relief.choices import (
    COUNTING_ASSISTANCE_STATES,
    AssistanceState,
    AssistanceType,
    Cycle,
    EventKind,
    FileState,
    LedgerKind,
)
from niangjia.relief.models import Assistance, Fund, HardshipFile, PlanMeasure
from niangjia.relief.services.common import bump, check_version, event, locked, money, today
from niangjia.relief.services.funds import lock_fund, post_entry, require_fund_use
from niangjia.relief.services.rules import assistance_rule_for, cycle_key
from niangjia.utilities.scoping import allowed, require

MAX_VALUE = Decimal("9999999999.99")
CYCLE_WORDS: dict[str, str] = {
    Cycle.YEAR: "本年度",
    Cycle.HALF_YEAR: "本半年",
    Cycle.QUARTER: "本季度",
    Cycle.MONTH: "本月",
    Cycle.ONCE: "在档期间",
}


class AlreadyGiven(ValidationError):
    def __init__(self, assistance_type: str, cycle: str, given: Assistance | None) -> None:
        when = f"（{given.date:%Y-%m-%d}，{given.get_state_display()}）" if given else ""
        super().__init__(
            {
                "assistance_type": f"该户{CYCLE_WORDS.get(cycle, '本周期')}已有一次"
                f"{AssistanceType(assistance_type).label}{when}，同一周期内不能重复发放"
            },
            code="already_given",
        )


def _value(amount: Decimal | int | str, name: str, label: str) -> Decimal:
    try:
        value = money(amount)
    except ArithmeticError as exc:
        raise ValidationError({name: f"{label}格式不正确"}) from exc
    if value < 0:
        raise ValidationError({name: f"{label}不能为负数"})
    if value > MAX_VALUE:
        raise ValidationError({name: f"{label}超出可填写的范围"})
    return value


def used_this_year(file: HardshipFile, assistance_type: str, year: int) -> Decimal:
    total = Assistance.objects.filter(
        file=file,
        assistance_type=assistance_type,
        year=year,
        state__in=COUNTING_ASSISTANCE_STATES,
    ).aggregate(money=Sum("amount"), goods=Sum("in_kind_value"))
    return (total["money"] or Decimal(0)) + (total["goods"] or Decimal(0))


@transaction.atomic
def assistance_create(
    *,
    file: HardshipFile,
    assistance_type: str,
    acting_user: User,
    amount: Decimal = Decimal(0),
    in_kind_value: Decimal = Decimal(0),
    goods: str = "",
    date: datetime.date | None = None,
    fund: Fund | None = None,
    measure: PlanMeasure | None = None,
    note: str = "",
) -> Assistance:
    """Record assistance to a filed household (pending approval). Money needs a fund whose
    union covers the household (the payer needs the right to spend it); goods need a
    description."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    if file.state != FileState.FILED:
        raise ValidationError(f"档案{file.get_state_display()}，只有在档的困难职工家庭可以登记帮扶")
    if assistance_type not in AssistanceType.values:
        raise ValidationError({"assistance_type": "帮扶类型：请从列表中选择"})
    money_amount = _value(amount, "amount", "金额")
    goods_value = _value(in_kind_value, "in_kind_value", "实物折价")
    goods = " ".join(goods.split())[:200]
    if money_amount + goods_value <= 0:
        raise ValidationError({"amount": "请填写帮扶金额或实物折价"})
    if goods_value > 0 and not goods:
        raise ValidationError({"goods": "送实物的，请填写实物内容"})
    day = date or today()
    if day > today():
        raise ValidationError({"date": "帮扶日期不能晚于今天"})
    if money_amount > 0:
        if fund is None:
            raise ValidationError({"fund": "发放资金的，请选择资金来源"})
        # Recording only names the fund; spending it (assistance_pay) needs the right on it.
        fund = Fund.objects.select_related("union").get(pk=fund.pk)
        if not file.union_path.startswith(fund.union.path):
            raise ValidationError(
                {"fund": f"“{fund}”由{fund.union.name}管理，只能用于其所辖范围内的困难职工"}
            )
    if measure is not None and measure.plan.file_id != file.pk:
        raise ValidationError({"measure": "所选帮扶措施不属于本户的帮扶计划"})
    rule = assistance_rule_for(file.city_region, day.year, assistance_type)
    key = cycle_key(rule.cycle, day)
    given = (
        Assistance.objects.filter(
            file=file,
            assistance_type=assistance_type,
            cycle_key=key,
            state__in=COUNTING_ASSISTANCE_STATES,
        )
        .order_by("-date")
        .first()
    )
    if given is not None:
        raise AlreadyGiven(assistance_type, rule.cycle, given)
    value = money_amount + goods_value
    if rule.cap_per_year is not None:
        used = used_this_year(file, assistance_type, day.year)
        if used + value > rule.cap_per_year:
            raise ValidationError(
                {
                    "amount": f"超过每户每年{AssistanceType(assistance_type).label}上限 "
                    f"{rule.cap_per_year} 元（本年已 {used} 元，本次 {value} 元）"
                }
            )
    assistance = Assistance(
        file=file,
        union_path=file.union_path,
        assistance_type=assistance_type,
        amount=money_amount,
        in_kind_value=goods_value,
        goods=goods,
        date=day,
        year=day.year,
        cycle_key=key,
        fund=fund if money_amount > 0 else None,
        measure=measure,
        note=" ".join(note.split())[:200],
        created_by=acting_user,
    )
    try:
        with transaction.atomic():
            assistance.save(force_insert=True)
    except IntegrityError as exc:
        raise AlreadyGiven(assistance_type, rule.cycle, None) from exc
    event(
        file,
        EventKind.ASSISTANCE,
        actor=acting_user,
        amount=value,
        assistance=assistance,
        date=day,
        text=f"登记{assistance.get_assistance_type_display()}"
        + (f"：{goods}" if goods else "")
        + "，待审批",
    )
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=assistance,
        after={
            "file": file.pk,
            "type": assistance_type,
            "amount": money_amount,
            "in_kind_value": goods_value,
            "fund": fund.pk if fund else None,
        },
    )
    return assistance


def _change(
    assistance: Assistance,
    acting_user: User,
    *,
    to_state: str,
    kind: str,
    text: str,
    detail: dict[str, object] | None = None,
) -> Assistance:
    previous = assistance.state
    assistance.state = to_state
    bump(assistance)
    assistance.save()
    event(
        assistance.file,
        kind,
        actor=acting_user,
        amount=assistance.value,
        assistance=assistance,
        text=text,
    )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=assistance,
        before={"state": previous},
        after={"state": to_state},
        detail=detail,
    )
    return assistance


def _open(assistance: Assistance, version: int | None, states: tuple[str, ...]) -> Assistance:
    assistance = locked(assistance)
    check_version(assistance, version)
    if assistance.state not in states:
        raise ValidationError(f"该帮扶记录{assistance.get_state_display()}，不能办理")
    return assistance


@transaction.atomic
def assistance_approve(
    *, assistance: Assistance, acting_user: User, version: int | None = None
) -> Assistance:
    """Approve a pending record; someone other than the cadre who recorded it. Above the
    rule's threshold it then waits for a finance officer's second approval."""
    require(acting_user, Action.CHANGE, assistance)
    assistance = _open(assistance, version, (AssistanceState.PENDING,))
    if assistance.created_by_id == acting_user.pk:
        raise PermissionDenied("帮扶须由经办人以外的人员审批")
    rule = assistance_rule_for(
        assistance.file.city_region, assistance.year, assistance.assistance_type
    )
    assistance.approved_by = acting_user
    assistance.approved_at = timezone.now()
    above = rule.second_approval_above is not None and assistance.value > rule.second_approval_above
    return _change(
        assistance,
        acting_user,
        to_state=AssistanceState.SECOND_PENDING if above else AssistanceState.APPROVED,
        kind=EventKind.ASSISTANCE,
        text=(
            f"审批通过；金额超过 {rule.second_approval_above} 元，待财务复核"
            if above
            else "审批通过"
        ),
    )


@transaction.atomic
def assistance_second_approve(
    *, assistance: Assistance, acting_user: User, version: int | None = None
) -> Assistance:
    """The finance officer's second approval of a record above the threshold: a person other
    than the one who recorded it and the first approver."""
    require(acting_user, Action.APPROVE_FUNDS, assistance)
    assistance = _open(assistance, version, (AssistanceState.SECOND_PENDING,))
    if acting_user.pk in (assistance.approved_by_id, assistance.created_by_id):
        raise PermissionDenied("财务复核须由经办人、审批人以外的财务人员办理")
    assistance.second_approved_by = acting_user
    assistance.second_approved_at = timezone.now()
    return _change(
        assistance,
        acting_user,
        to_state=AssistanceState.APPROVED,
        kind=EventKind.ASSISTANCE,
        text="财务复核通过",
    )


@transaction.atomic
def assistance_reject(
    *, assistance: Assistance, acting_user: User, reason: str, version: int | None = None
) -> Assistance:
    """Refuse a record waiting for approval (the approver) or second approval (finance)."""
    if not (
        allowed(acting_user, Action.CHANGE, assistance)
        or allowed(acting_user, Action.APPROVE_FUNDS, assistance)
    ):
        require(acting_user, Action.CHANGE, assistance)
    reason = " ".join(reason.split())
    if len(reason) < 2:
        raise ValidationError({"reason": "请填写不予批准的理由"})
    assistance = _open(
        assistance, version, (AssistanceState.PENDING, AssistanceState.SECOND_PENDING)
    )
    assistance.decision_reason = reason[:200]
    return _change(
        assistance,
        acting_user,
        to_state=AssistanceState.REJECTED,
        kind=EventKind.ASSISTANCE,
        text=f"未批准：{reason[:200]}",
    )


@transaction.atomic
def assistance_pay(
    *, assistance: Assistance, acting_user: User, version: int | None = None
) -> Assistance:
    """Pay an approved record: the fund's row is locked, the ledger written and the balance
    lowered (never below zero). Goods only: marked as given, no ledger."""
    require(acting_user, Action.CHANGE, assistance)
    assistance = _open(assistance, version, (AssistanceState.APPROVED,))
    entry = None
    if assistance.amount > 0:
        if assistance.fund_id is None:
            raise ValidationError({"fund": "该帮扶未指定资金来源，不能发放"})
        fund = lock_fund(assistance.fund_id)
        require_fund_use(acting_user, fund, assistance.union_path)
        entry = post_entry(
            fund,
            -assistance.amount,
            LedgerKind.PAYMENT,
            actor=acting_user,
            assistance=assistance,
            note=f"{assistance.get_assistance_type_display()}：{assistance.file}",
        )
    assistance.paid_at = timezone.now()
    return _change(
        assistance,
        acting_user,
        to_state=AssistanceState.PAID,
        kind=EventKind.PAYMENT,
        text=f"{assistance.get_assistance_type_display()}已发放"
        + (f"（{assistance.fund}）" if entry is not None else ""),
        detail={"ledger": entry.pk} if entry is not None else None,
    )


@transaction.atomic
def assistance_payment_fail(
    *, assistance: Assistance, acting_user: User, reason: str
) -> Assistance:
    """A paid record whose money came back (wrong account, closed account): the amount is
    written back to the fund and the record marked failed; a new record may then be made."""
    require(acting_user, Action.CHANGE, assistance)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "请填写发放失败的原因"})
    assistance = _open(assistance, None, (AssistanceState.PAID,))
    if assistance.batch_payment_id is not None:
        raise ValidationError("批量发放的记录请在批次中登记发放失败")
    if assistance.amount > 0 and assistance.fund_id is not None:
        fund = lock_fund(assistance.fund_id)
        post_entry(
            fund,
            assistance.amount,
            LedgerKind.REVERSAL,
            actor=acting_user,
            assistance=assistance,
            note=f"发放失败冲回：{reason}"[:200],
        )
    assistance.decision_reason = reason[:200]
    return _change(
        assistance,
        acting_user,
        to_state=AssistanceState.FAILED,
        kind=EventKind.PAYMENT_FAILED,
        text=f"发放失败：{reason[:200]}，资金已退回",
    )
