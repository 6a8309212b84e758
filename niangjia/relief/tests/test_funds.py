"""Funds: allocations down the tree, an append-only ledger, a balance that never goes negative
(also under concurrent payments, on PostgreSQL with real threads)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction

from niangjia.relief import selectors, services
from niangjia.relief.choices import AssistanceState, AssistanceType, LedgerKind
from niangjia.relief.models import Assistance, Fund, LedgerEntry
from niangjia.utilities.testing.relief import make_file, make_fund, set_threshold

pytestmark = pytest.mark.django_db


def test_money_goes_down_the_tree_with_a_ledger_on_each_side(tree, personas):
    province = make_fund(tree, personas, union=tree.hubei, amount="100000")
    cadre = personas["provincial_cadre"]
    city = services.fund_allocate(
        fund=province, union=tree.wuhan, amount=Decimal("60000"), acting_user=cadre
    )
    county = services.fund_allocate(
        fund=city, union=tree.jiangan, amount=Decimal("25000"), acting_user=cadre
    )
    services.fund_allocate(fund=city, union=tree.jiangan, amount=Decimal("5000"), acting_user=cadre)
    province.refresh_from_db()
    city.refresh_from_db()
    county.refresh_from_db()
    assert (province.balance, city.balance, county.balance) == (
        Decimal("40000.00"),
        Decimal("30000.00"),
        Decimal("30000.00"),
    )
    assert county.parent == city and city.parent == province
    kinds = list(
        LedgerEntry.objects.filter(fund=city).values_list("kind", "amount", "balance_after")
    )
    assert kinds == [
        (LedgerKind.ALLOCATION_IN, Decimal("60000.00"), Decimal("60000.00")),
        (LedgerKind.ALLOCATION_OUT, Decimal("-25000.00"), Decimal("35000.00")),
        (LedgerKind.ALLOCATION_OUT, Decimal("-5000.00"), Decimal("30000.00")),
    ]
    usage = selectors.fund_usage(user=cadre, fund=province)
    assert [(r.union_name, r.received, r.allocated, r.balance) for r in usage] == [
        ("湖北省总工会", Decimal("100000.00"), Decimal("60000.00"), Decimal("40000.00")),
        ("武汉市总工会", Decimal("60000.00"), Decimal("30000.00"), Decimal("30000.00")),
        ("江岸区总工会", Decimal("30000.00"), Decimal("0"), Decimal("30000.00")),
    ]


def test_an_allocation_beyond_the_balance_or_outside_the_tree_is_refused(tree, personas):
    city = make_fund(tree, personas, union=tree.wuhan, amount="1000")
    cadre = personas["provincial_cadre"]
    with pytest.raises(ValidationError, match="余额不足"):
        services.fund_allocate(
            fund=city, union=tree.jiangan, amount=Decimal("1000.01"), acting_user=cadre
        )
    with pytest.raises(ValidationError, match="下级工会"):
        services.fund_allocate(fund=city, union=tree.hubei, amount=Decimal("10"), acting_user=cadre)
    with pytest.raises(PermissionDenied):
        services.fund_allocate(
            fund=city,
            union=tree.jiangan,
            amount=Decimal("10"),
            acting_user=personas["county_cadre"],
        )
    city.refresh_from_db()
    assert city.balance == Decimal("1000.00")


def test_the_ledger_is_append_only(tree, personas):
    fund = make_fund(tree, personas, amount="500")
    entry = LedgerEntry.objects.get(fund=fund)
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("999"))


def test_the_database_refuses_a_negative_balance(tree, personas):
    fund = make_fund(tree, personas, amount="500")
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=fund.pk).update(balance=Decimal("-0.01"))


def test_fund_list_is_scoped(tree, personas):
    mine = make_fund(tree, personas, union=tree.jiangan)
    other = make_fund(tree, personas, union=tree.jianghan)
    seen = set(selectors.fund_list(user=personas["county_cadre"]))
    assert mine in seen and other not in seen


def _approved_payments(tree, personas, count, amount):
    """``count`` approved living-relief records of ``amount``, one household each."""
    set_threshold(tree)
    records = []
    for _ in range(count):
        file = make_file(tree, personas)
        record = services.assistance_create(
            file=file,
            assistance_type=AssistanceType.LIVING,
            amount=Decimal(amount),
            fund=Fund.objects.get(union=tree.jiangan),
            acting_user=personas["grassroots_cadre"],
        )
        records.append(
            services.assistance_approve(assistance=record, acting_user=personas["county_cadre"])
        )
    return records


@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_never_overdraw_a_fund(tree, personas):
    """Eight threads pay eight approved records of 300 from a fund of 1,000 at once: exactly
    three succeed, the others are refused for the balance, and the ledger adds up."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency: PostgreSQL")
    fund = make_fund(tree, personas, amount="1000")
    records = _approved_payments(tree, personas, 8, "300")
    payer = personas["county_cadre"]
    barrier = threading.Barrier(len(records))
    outcomes: list[str] = []
    lock = threading.Lock()

    def pay(record: Assistance) -> None:
        close_old_connections()
        try:
            barrier.wait()
            services.assistance_pay(assistance=record, acting_user=payer)
            result = "paid"
        except ValidationError as exc:
            result = "refused" if "余额不足" in str(exc) else f"error: {exc}"
        except Exception as exc:  # pragma: no cover - shown in the assertion
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=pay, args=(r,)) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["paid"] * 3 + ["refused"] * 5, outcomes
    fund.refresh_from_db()
    assert fund.balance == Decimal("100.00")
    entries = LedgerEntry.objects.filter(fund=fund).order_by("id")
    assert sum(e.amount for e in entries) == fund.balance
    assert all(e.balance_after >= 0 for e in entries)
    # Each entry's balance follows from the one before: no lost update.
    running = Decimal(0)
    for entry in entries:
        running += entry.amount
        assert entry.balance_after == running
    assert Assistance.objects.filter(state=AssistanceState.PAID).count() == 3
