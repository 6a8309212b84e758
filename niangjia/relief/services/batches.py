"""Disbursement batches: many households paid at once from one fund, in set-based SQL.

- ``batch_create``: the eligible files (filed, in the fund's subtree and the acting user's
  scope, matching the criteria, not yet given this type in this cycle, under the yearly cap,
  not in another open batch of the same type and cycle) become pending payments in one
  ``INSERT … SELECT``.
- ``batch_approve``: another person approves (a finance officer when the amount per household
  is above the rule's second-approval threshold).
- ``batch_post``: every pending payment is paid in a handful of statements, whatever the
  number of households: payments whose household left the file or got this help meanwhile
  fail with the reason; the fund row is locked once and the balance checked against the total;
  the assistance records and timeline lines are inserted from the payments; one ledger entry
  and one balance update. 100,000 payments post in seconds on PostgreSQL.
- ``batch_payment_fail``: the bank returned a payment: it fails with the reason, the money
  goes back to the fund; ``batch_payment_retry`` puts it back to pending in the batch for the
  next ``batch_post`` (after the account is corrected).
- ``batch_reconcile``: closes a paid batch with nothing pending.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.models import Union
from niangjia.relief.choices import (
    COUNTING_ASSISTANCE_STATES,
    ArchiveLevel,
    AssistanceState,
    AssistanceType,
    BatchState,
    Category,
    EventKind,
    FileState,
    HardshipCause,
    LedgerKind,
    PaymentState,
)
from niangjia.relief.models import (
    Assistance,
    BatchPayment,
    DisbursementBatch,
    FileEvent,
    Fund,
    HardshipFile,
)
from niangjia.relief.services.common import bump, check_version, event, locked, money, today
from niangjia.relief.services.funds import InsufficientFunds, lock_fund, post_entry
from niangjia.relief.services.rules import assistance_rule_for, cycle_key
from niangjia.utilities.scoping import allowed, require

OPEN_BATCH_STATES = (BatchState.DRAFT, BatchState.APPROVED)


@dataclass
class BatchCriteria:
    """Which filed households a batch pays (empty lists: any)."""

    categories: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    within: Union | None = None
    # At most this many households (the earliest files first), e.g. for a budget.
    limit: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "categories": self.categories,
            "causes": self.causes,
            "levels": self.levels,
            "within": self.within.pk if self.within is not None else None,
            "limit": self.limit,
        }


def _check_criteria(criteria: BatchCriteria) -> None:
    if criteria.limit is not None and not 1 <= criteria.limit <= 10_000_000:
        raise ValidationError({"limit": "户数上限应为正整数"})
    for values, choices, name, label in (
        (criteria.categories, Category, "categories", "困难类别"),
        (criteria.causes, HardshipCause, "causes", "致困原因"),
        (criteria.levels, ArchiveLevel, "levels", "档案级别"),
    ):
        for value in values:
            if value not in choices.values:
                raise ValidationError({name: f"{label}：请从列表中选择"})


def eligible_files(
    *,
    user: User,
    fund: Fund,
    assistance_type: str,
    key: str,
    year: int,
    amount: Decimal,
    cap: Decimal | None,
    criteria: BatchCriteria,
) -> QuerySet[HardshipFile]:
    """The files a new batch would pay (one query; nothing is read into Python)."""
    within = criteria.within or fund.union
    files = HardshipFile.objects.restrict(user, Action.CHANGE).filter(
        state=FileState.FILED, union_path__startswith=within.path
    )
    if criteria.categories:
        files = files.filter(category__in=criteria.categories)
    if criteria.causes:
        files = files.filter(main_cause__in=criteria.causes)
    if criteria.levels:
        files = files.filter(archive_level__in=criteria.levels)
    counting = sorted(COUNTING_ASSISTANCE_STATES)
    given = Assistance.objects.filter(
        file_id=OuterRef("pk"),
        assistance_type=assistance_type,
        cycle_key=key,
        state__in=counting,
    )
    queued = BatchPayment.objects.filter(
        file_id=OuterRef("pk"),
        state=PaymentState.PENDING,
        batch__assistance_type=assistance_type,
        batch__cycle_key=key,
        batch__state__in=OPEN_BATCH_STATES,
    )
    files = files.exclude(Exists(given)).exclude(Exists(queued))
    if cap is not None:
        used = (
            Assistance.objects.filter(
                file_id=OuterRef("pk"),
                assistance_type=assistance_type,
                year=year,
                state__in=counting,
            )
            .order_by()
            .values("file_id")
            .annotate(total=Sum(F("amount") + F("in_kind_value")))
            .values("total")
        )
        capped = files.annotate(used=Coalesce(Subquery(used), Value(Decimal(0))))
        files = capped.filter(used__lte=cap - amount)  # type: ignore[assignment]
    return files


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _columns(model: Any, names: list[str]) -> str:
    return ", ".join(_qn(model._meta.get_field(n).column) for n in names)


@transaction.atomic
def batch_create(
    *,
    fund: Fund,
    name: str,
    assistance_type: str,
    amount: Decimal,
    acting_user: User,
    criteria: BatchCriteria | None = None,
    year: int | None = None,
) -> DisbursementBatch:
    """A draft batch paying ``amount`` to each eligible household (see ``eligible_files``)."""
    require(acting_user, Action.CHANGE, fund)
    fund = Fund.objects.select_related("union", "union__region").get(pk=fund.pk)
    criteria = criteria or BatchCriteria()
    _check_criteria(criteria)
    if criteria.within is not None and not criteria.within.path.startswith(fund.union.path):
        raise ValidationError({"within": f"发放范围应在{fund.union.name}的管辖范围内"})
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise ValidationError({"name": "请填写批次名称（不超过 120 个字）"})
    if assistance_type not in AssistanceType.values:
        raise ValidationError({"assistance_type": "帮扶类型：请从列表中选择"})
    try:
        value = money(amount)
    except ArithmeticError as exc:
        raise ValidationError({"amount": "每户金额格式不正确"}) from exc
    if value <= 0 or value > Decimal("9999999999.99"):
        raise ValidationError({"amount": "每户金额应大于 0"})
    day = today()
    year = year or day.year
    rule = assistance_rule_for(fund.union.region, year, assistance_type)
    if rule.cap_per_year is not None and value > rule.cap_per_year:
        raise ValidationError(
            {
                "amount": f"每户金额超过{AssistanceType(assistance_type).label}每户每年上限 {rule.cap_per_year} 元"
            }
        )
    key = cycle_key(rule.cycle, day if year == day.year else datetime.date(year, 12, 31))
    batch = DisbursementBatch.objects.create(
        name=name,
        union=fund.union,
        fund=fund,
        assistance_type=assistance_type,
        year=year,
        cycle_key=key,
        amount=value,
        criteria=criteria.as_json(),
        created_by=acting_user,
    )
    files = eligible_files(
        user=acting_user,
        fund=fund,
        assistance_type=assistance_type,
        key=key,
        year=year,
        amount=value,
        cap=rule.cap_per_year,
        criteria=criteria,
    )
    chosen = files.order_by("pk").values("pk")
    if criteria.limit is not None:
        chosen = chosen[: criteria.limit]
    select_sql, select_params = chosen.query.sql_with_params()
    table = BatchPayment._meta.db_table
    columns = _columns(
        BatchPayment, ["batch", "file", "amount", "state", "failure_reason", "attempts"]
    )
    files_table = _qn(HardshipFile._meta.db_table)
    sql = (
        f"INSERT INTO {_qn(table)} ({columns}) "  # noqa: S608 - names from the models
        f"SELECT %s, f.{_qn('id')}, %s, %s, '', 0 FROM {files_table} f "
        f"WHERE f.{_qn('id')} IN ({select_sql})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [batch.pk, value, PaymentState.PENDING, *select_params])
    _recount(batch)
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=batch,
        after={
            "fund": fund.pk,
            "type": assistance_type,
            "amount": value,
            "cycle": key,
            "criteria": criteria.as_json(),
            "payments": batch.payment_count,
            "total": batch.total_amount,
        },
    )
    return batch


def _recount(batch: DisbursementBatch) -> None:
    totals = (
        BatchPayment.objects.filter(batch=batch)
        .exclude(state=PaymentState.FAILED)
        .aggregate(n=Count("id"), total=Sum("amount"))
    )
    batch.payment_count = totals["n"] or 0
    batch.total_amount = totals["total"] or Decimal(0)
    DisbursementBatch.objects.filter(pk=batch.pk).update(
        payment_count=batch.payment_count, total_amount=batch.total_amount
    )


def _open_batch(
    batch: DisbursementBatch, version: int | None, states: tuple[str, ...]
) -> DisbursementBatch:
    batch = locked(batch)
    check_version(batch, version)
    if batch.state not in states:
        raise ValidationError(f"该批次{batch.get_state_display()}，不能办理")
    return batch


@transaction.atomic
def batch_approve(
    *, batch: DisbursementBatch, acting_user: User, version: int | None = None
) -> DisbursementBatch:
    """Approve a draft batch: someone other than its maker; a finance officer when the
    amount per household is above the rule's second-approval threshold."""
    if not (
        allowed(acting_user, Action.CHANGE, batch)
        or allowed(acting_user, Action.APPROVE_FUNDS, batch)
    ):
        require(acting_user, Action.CHANGE, batch)
    batch = _open_batch(batch, version, (BatchState.DRAFT,))
    if batch.created_by_id == acting_user.pk:
        raise PermissionDenied("批次须由制表人以外的人员审批")
    rule = assistance_rule_for(batch.union.region, batch.year, batch.assistance_type)
    if (
        rule.second_approval_above is not None
        and batch.amount > rule.second_approval_above
        and not allowed(acting_user, Action.APPROVE_FUNDS, batch)
    ):
        raise PermissionDenied(
            f"每户金额超过 {rule.second_approval_above} 元，批次须由财务人员审批"
        )
    if not BatchPayment.objects.filter(batch=batch, state=PaymentState.PENDING).exists():
        raise ValidationError("批次中没有待发放的档案，不能审批")
    batch.state = BatchState.APPROVED
    batch.approved_by = acting_user
    batch.approved_at = timezone.now()
    bump(batch)
    batch.save()
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=batch,
        before={"state": BatchState.DRAFT},
        after={"state": BatchState.APPROVED},
    )
    return batch


@dataclass(frozen=True)
class PostResult:
    paid: int
    total: Decimal
    failed: int
    balance_after: Decimal


LEFT_FILE = "档案已不在档，未发放"
ALREADY_GIVEN = "本周期已发放过同类帮扶，未重复发放"


@transaction.atomic
def batch_post(
    *, batch: DisbursementBatch, acting_user: User, version: int | None = None
) -> PostResult:
    """Pay every pending payment of an approved batch (or the retried ones of a paid batch)
    in set-based statements under one lock of the fund's row."""
    require(acting_user, Action.CHANGE, batch)
    batch = _open_batch(batch, version, (BatchState.APPROVED, BatchState.PAID))
    fund = lock_fund(batch.fund_id)
    if not allowed(acting_user, Action.CHANGE, fund):
        raise PermissionDenied(f"您没有动用“{fund}”的权限")
    pending = BatchPayment.objects.filter(batch=batch, state=PaymentState.PENDING)
    # Households that left the file or got this help since the batch was drawn fail.
    failed = pending.exclude(file__state=FileState.FILED).update(
        state=PaymentState.FAILED, failure_reason=LEFT_FILE
    )
    other = Assistance.objects.filter(
        file_id=OuterRef("file_id"),
        assistance_type=batch.assistance_type,
        cycle_key=batch.cycle_key,
        state__in=sorted(COUNTING_ASSISTANCE_STATES),
    ).exclude(batch_payment_id=OuterRef("pk"))
    failed += pending.filter(Exists(other)).update(
        state=PaymentState.FAILED, failure_reason=ALREADY_GIVEN
    )
    totals = pending.aggregate(n=Count("id"), total=Sum("amount"))
    count, total = totals["n"] or 0, totals["total"] or Decimal(0)
    if count == 0:
        raise ValidationError("批次中没有待发放的档案")
    if fund.balance < total:
        raise InsufficientFunds(fund, total)
    now = timezone.now()
    day = timezone.localdate()
    # Payments retried after a failure: their record is paid again.
    Assistance.objects.filter(
        batch_payment__batch=batch,
        batch_payment__state=PaymentState.PENDING,
        state=AssistanceState.FAILED,
    ).update(state=AssistanceState.PAID, paid_at=now, date=day)
    _insert_assistance(batch, fund, acting_user, now, day)
    _insert_events(batch, acting_user, now, day)
    pending.update(
        state=PaymentState.PAID, paid_at=now, attempts=F("attempts") + 1, failure_reason=""
    )
    entry = post_entry(
        fund,
        -total,
        LedgerKind.PAYMENT,
        actor=acting_user,
        batch=batch,
        note=f"批量发放：{batch.name}（{count} 户）",
    )
    previous = batch.state
    batch.state = BatchState.PAID
    batch.posted_at = now
    bump(batch)
    batch.save()
    _recount(batch)
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=batch,
        before={"state": previous},
        after={"state": BatchState.PAID},
        detail={"paid": count, "total": total, "failed": failed, "ledger": entry.pk},
    )
    return PostResult(paid=count, total=total, failed=failed, balance_after=fund.balance)


def _insert_assistance(
    batch: DisbursementBatch,
    fund: Fund,
    user: User,
    now: datetime.datetime,
    day: datetime.date,
) -> None:
    a, p, f = Assistance._meta, BatchPayment._meta, HardshipFile._meta
    names = [
        "file",
        "union_path",
        "assistance_type",
        "amount",
        "in_kind_value",
        "goods",
        "date",
        "year",
        "cycle_key",
        "fund",
        "state",
        "version",
        "note",
        "batch_payment",
        "created_by",
        "created_at",
        "approved_by",
        "approved_at",
        "paid_at",
        "decision_reason",
    ]
    pid, fid = _qn("id"), _qn("file_id")
    sql = (
        f"INSERT INTO {_qn(a.db_table)} ({_columns(Assistance, names)}) "  # noqa: S608
        f"SELECT p.{fid}, f.{_qn('union_path')}, %s, p.{_qn('amount')}, %s, '', %s, %s, %s, %s, "
        f"%s, 1, %s, p.{pid}, %s, %s, %s, %s, %s, '' "
        f"FROM {_qn(p.db_table)} p JOIN {_qn(f.db_table)} f ON f.{pid} = p.{fid} "
        f"WHERE p.{_qn('batch_id')} = %s AND p.{_qn('state')} = %s AND NOT EXISTS ("
        f"SELECT 1 FROM {_qn(a.db_table)} x WHERE x.{_qn('batch_payment_id')} = p.{pid})"
    )
    params: list[Any] = [
        batch.assistance_type,
        Decimal(0),
        day,
        batch.year,
        batch.cycle_key,
        fund.pk,
        AssistanceState.PAID,
        f"批量发放：{batch.name}"[:200],
        batch.created_by_id,
        now,
        batch.approved_by_id,
        batch.approved_at,
        now,
        batch.pk,
        PaymentState.PENDING,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert_events(
    batch: DisbursementBatch, user: User, now: datetime.datetime, day: datetime.date
) -> None:
    e, a, p = FileEvent._meta, Assistance._meta, BatchPayment._meta
    names = [
        "file",
        "kind",
        "date",
        "text",
        "from_state",
        "to_state",
        "amount",
        "assistance",
        "actor",
        "actor_name",
        "created_at",
    ]
    pid = _qn("id")
    sql = (
        f"INSERT INTO {_qn(e.db_table)} ({_columns(FileEvent, names)}) "  # noqa: S608
        f"SELECT a.{_qn('file_id')}, %s, %s, %s, '', '', a.{_qn('amount')}, a.{pid}, %s, %s, %s "
        f"FROM {_qn(a.db_table)} a JOIN {_qn(p.db_table)} p ON p.{pid} = a.{_qn('batch_payment_id')} "
        f"WHERE p.{_qn('batch_id')} = %s AND p.{_qn('state')} = %s"
    )
    label = AssistanceType(batch.assistance_type).label
    params: list[Any] = [
        EventKind.PAYMENT,
        day,
        f"{label}已发放（批量发放：{batch.name}）"[:500],
        user.pk,
        user.display_name[:150],
        now,
        batch.pk,
        PaymentState.PENDING,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@transaction.atomic
def batch_payment_fail(*, payment: BatchPayment, acting_user: User, reason: str) -> BatchPayment:
    """The bank returned a paid payment: it fails with ``reason``, its money goes back to the
    fund and its assistance record is marked failed. It stays in the batch, to be retried."""
    require(acting_user, Action.CHANGE, payment)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "请填写发放失败的原因（如账号有误、账户已注销）"})
    payment = locked(payment)
    batch = locked(payment.batch)
    if batch.state != BatchState.PAID or payment.state != PaymentState.PAID:
        raise ValidationError("只有已发放批次中已发放的明细可以登记发放失败")
    fund = lock_fund(batch.fund_id)
    assistance = Assistance.objects.filter(batch_payment=payment).first()
    post_entry(
        fund,
        payment.amount,
        LedgerKind.REVERSAL,
        actor=acting_user,
        batch=batch,
        assistance=assistance,
        note=f"发放失败冲回：{reason}"[:200],
    )
    payment.state = PaymentState.FAILED
    payment.failure_reason = reason[:200]
    payment.save()
    if assistance is not None:
        Assistance.objects.filter(pk=assistance.pk).update(
            state=AssistanceState.FAILED, decision_reason=reason[:200]
        )
    event(
        payment.file,
        EventKind.PAYMENT_FAILED,
        actor=acting_user,
        amount=payment.amount,
        assistance=assistance,
        text=f"批量发放“{batch.name}”失败：{reason[:200]}，资金已退回",
    )
    _recount(batch)
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=payment,
        before={"state": PaymentState.PAID},
        after={"state": PaymentState.FAILED},
        detail={"reason": reason[:200]},
    )
    return payment


@transaction.atomic
def batch_payment_retry(*, payment: BatchPayment, acting_user: User) -> BatchPayment:
    """Put a failed payment back into its batch (pending) for the next ``batch_post``."""
    require(acting_user, Action.CHANGE, payment)
    payment = locked(payment)
    batch = locked(payment.batch)
    if payment.state != PaymentState.FAILED or batch.state not in (
        BatchState.APPROVED,
        BatchState.PAID,
    ):
        raise ValidationError("只有未对账批次中发放失败的明细可以重新发放")
    if payment.file.state != FileState.FILED:
        raise ValidationError("该户档案已不在档，不能重新发放")
    payment.state = PaymentState.PENDING
    payment.save()
    _recount(batch)
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=payment,
        before={"state": PaymentState.FAILED},
        after={"state": PaymentState.PENDING},
    )
    return payment


@transaction.atomic
def batch_reconcile(
    *, batch: DisbursementBatch, acting_user: User, version: int | None = None
) -> DisbursementBatch:
    """Close a paid batch once the bank's results are in: nothing may still be pending."""
    require(acting_user, Action.CHANGE, batch)
    batch = _open_batch(batch, version, (BatchState.PAID,))
    if BatchPayment.objects.filter(batch=batch, state=PaymentState.PENDING).exists():
        raise ValidationError("批次中还有待发放的明细，请先发放后再对账")
    batch.state = BatchState.RECONCILED
    batch.reconciled_at = timezone.now()
    bump(batch)
    batch.save()
    counts = dict(
        BatchPayment.objects.filter(batch=batch)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=batch,
        before={"state": BatchState.PAID},
        after={"state": BatchState.RECONCILED},
        detail={"payments": counts},
    )
    return batch


@transaction.atomic
def batch_cancel(
    *, batch: DisbursementBatch, acting_user: User, reason: str, version: int | None = None
) -> DisbursementBatch:
    """Cancel a batch that has paid nothing yet."""
    require(acting_user, Action.CHANGE, batch)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "请填写作废原因"})
    batch = _open_batch(batch, version, OPEN_BATCH_STATES)
    previous = batch.state
    batch.state = BatchState.CANCELLED
    bump(batch)
    batch.save()
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=batch,
        before={"state": previous},
        after={"state": BatchState.CANCELLED},
        detail={"reason": reason[:200]},
    )
    return batch
