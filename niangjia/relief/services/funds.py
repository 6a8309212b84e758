"""Writes about relief funds: opening a fund, money received, allocations down the tree, and
the ledger posting every payment goes through.

Every movement locks the fund's row (``select_for_update``) for the rest of the transaction,
checks the balance, writes one append-only ``LedgerEntry`` with the balance after it and
stores the new balance; a CHECK constraint on ``Fund.balance`` refuses a negative balance
even if a path forgot the lock. Two funds are always locked in the order of their ids.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.choices import UnionStatus
from niangjia.orgs.models import Union
from niangjia.relief.choices import FundSource, LedgerKind
from niangjia.relief.models import Assistance, DisbursementBatch, Fund, LedgerEntry
from niangjia.relief.services.common import money
from niangjia.utilities.scoping import allowed, require

MAX_AMOUNT = Decimal("99999999999999.99")


class InsufficientFunds(ValidationError):
    def __init__(self, fund: Fund, needed: Decimal) -> None:
        super().__init__(
            {
                "fund": f"“{fund}”余额不足：当前余额 {fund.balance} 元，本次需 {needed} 元，"
                "请先申请资金下拨或选择其他资金"
            },
            code="insufficient_funds",
        )


def _positive(amount: Decimal | int | str, name: str = "amount") -> Decimal:
    try:
        value = money(amount)
    except ArithmeticError as exc:
        raise ValidationError({name: "金额格式不正确"}) from exc
    if value <= 0:
        raise ValidationError({name: "金额应大于 0"})
    if value > MAX_AMOUNT:
        raise ValidationError({name: "金额超出可填写的范围"})
    return value


def lock_fund(fund: Fund | int) -> Fund:
    pk = fund if isinstance(fund, int) else fund.pk
    return Fund.objects.select_for_update().select_related("union").get(pk=pk)


def post_entry(
    fund: Fund,
    amount: Decimal,
    kind: str,
    *,
    actor: User | None,
    note: str = "",
    assistance: Assistance | None = None,
    batch: DisbursementBatch | None = None,
    counterpart: Fund | None = None,
) -> LedgerEntry:
    """Move ``amount`` (signed) on ``fund``, which the caller has locked (``lock_fund``) in
    this transaction: the ledger row and the new balance, or InsufficientFunds."""
    balance = fund.balance + amount
    if balance < 0:
        raise InsufficientFunds(fund, -amount)
    try:
        with transaction.atomic():
            Fund.objects.filter(pk=fund.pk).update(balance=balance)
            entry = LedgerEntry.objects.create(
                fund=fund,
                kind=kind,
                amount=amount,
                balance_after=balance,
                counterpart=counterpart,
                assistance=assistance,
                batch=batch,
                note=note[:200],
                actor=actor,
                actor_name=actor.display_name if actor is not None else "",
            )
    except IntegrityError as exc:  # the CHECK constraint: a path forgot to lock the row
        raise InsufficientFunds(fund, -amount) from exc
    fund.balance = balance
    return entry


def require_fund_use(user: User, fund: Fund, union_path: str) -> None:
    """``user`` may spend ``fund`` on something owned at ``union_path``."""
    if not allowed(user, Action.CHANGE, fund):
        raise PermissionDenied(f"您没有动用“{fund}”的权限")
    if not union_path.startswith(fund.union.path):
        raise ValidationError(
            {"fund": f"“{fund}”由{fund.union.name}管理，只能用于其所辖范围内的困难职工"}
        )


@transaction.atomic
def fund_create(*, union: Union, name: str, source: str, year: int, acting_user: User) -> Fund:
    """Open a fund of ``union`` (money comes in with ``fund_receive``)."""
    require(acting_user, Action.ADD, union)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "请填写资金名称"})
    if len(name) > 120:
        raise ValidationError({"name": "资金名称不能超过 120 个字"})
    if source not in FundSource.values:
        raise ValidationError({"source": "资金来源：请从列表中选择"})
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "年度应在 2000 至 2100 之间"})
    if union.status != UnionStatus.ACTIVE:
        raise ValidationError({"union": f"“{union.name}”已不存续，不能开设资金"})
    fund = Fund.objects.create(
        name=name, source=source, year=year, union=union, created_by=acting_user
    )
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=fund,
        after={"name": name, "source": source, "year": year, "union": union.pk},
    )
    return fund


@transaction.atomic
def fund_receive(*, fund: Fund, amount: Decimal, acting_user: User, note: str = "") -> LedgerEntry:
    """Money received into a fund (budget, donation): a credit on its ledger."""
    require(acting_user, Action.CHANGE, fund)
    value = _positive(amount)
    locked = lock_fund(fund)
    entry = post_entry(locked, value, LedgerKind.INCOME, actor=acting_user, note=note or "资金到账")
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=locked,
        after={"balance": locked.balance},
        detail={"ledger": entry.pk, "kind": LedgerKind.INCOME, "amount": value},
    )
    return entry


@transaction.atomic
def fund_allocate(
    *, fund: Fund, union: Union, amount: Decimal, acting_user: User, note: str = ""
) -> Fund:
    """Allocate ``amount`` of ``fund`` to a union below its owner (province → city → county):
    the money moves into the child fund of that union (opened on first allocation)."""
    require(acting_user, Action.CHANGE, fund)
    value = _positive(amount)
    fund = Fund.objects.select_related("union").get(pk=fund.pk)
    if not union.path.startswith(fund.union.path) or union.pk == fund.union_id:
        raise ValidationError({"union": f"只能下拨给{fund.union.name}的下级工会"})
    if union.status != UnionStatus.ACTIVE:
        raise ValidationError({"union": f"“{union.name}”已不存续，不能下拨"})
    child = Fund.objects.filter(parent=fund, union=union).first()
    if child is None:
        child = Fund.objects.create(
            name=fund.name,
            source=fund.source,
            year=fund.year,
            union=union,
            parent=fund,
            created_by=acting_user,
        )
        record(
            action=AuditAction.CREATE,
            actor=acting_user,
            obj=child,
            after={"parent": fund.pk, "union": union.pk},
        )
    # Lock in the order of ids: two allocations between the same funds never deadlock.
    first, second = sorted([fund.pk, child.pk])
    locked = {first: lock_fund(first), second: lock_fund(second)}
    parent_locked, child_locked = locked[fund.pk], locked[child.pk]
    text = note or f"下拨{union.name}"
    post_entry(
        parent_locked,
        -value,
        LedgerKind.ALLOCATION_OUT,
        actor=acting_user,
        note=text,
        counterpart=child_locked,
    )
    post_entry(
        child_locked,
        value,
        LedgerKind.ALLOCATION_IN,
        actor=acting_user,
        note=note or f"{fund.union.name}下拨",
        counterpart=parent_locked,
    )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=parent_locked,
        after={"balance": parent_locked.balance},
        detail={"allocated_to": child_locked.pk, "union": union.pk, "amount": value},
    )
    return child_locked
