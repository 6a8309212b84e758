"""Disbursement batches: drawn by criteria, approved by another person, posted in set-based
statements, failed payments returned to the batch, reconciled."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from niangjia.audit.models import AuditEntry
from niangjia.orgs.models import Region
from niangjia.relief import selectors, services
from niangjia.relief.choices import (
    AssistanceState,
    AssistanceType,
    BatchState,
    Category,
    Cycle,
    EventKind,
    FileState,
    HardshipCause,
    LedgerKind,
    PaymentState,
)
from niangjia.relief.models import Assistance, BatchPayment, FileEvent, LedgerEntry
from niangjia.relief.services import BatchCriteria
from niangjia.utilities.testing.relief import (
    make_cadre,
    make_file,
    make_finance_officer,
    make_fund,
    set_threshold,
    today,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def households(tree, personas):
    set_threshold(tree)
    deep = [make_file(tree, personas) for _ in range(3)]
    relative = make_file(
        tree, personas, category=Category.RELATIVE, main_cause=HardshipCause.UNEMPLOYMENT
    )
    applied = make_file(tree, personas, state=FileState.APPLIED)
    sibling = make_file(tree, personas, union=tree.jianghan_grassroots)
    return {"deep": deep, "relative": relative, "applied": applied, "sibling": sibling}


@pytest.fixture
def fund(tree, personas):
    return make_fund(tree, personas, amount="2000")


def draft(fund, user, amount="500", **criteria):
    return services.batch_create(
        fund=fund,
        name="春节送温暖生活补助",
        assistance_type=AssistanceType.LIVING,
        amount=Decimal(amount),
        criteria=BatchCriteria(**criteria),
        acting_user=user,
    )


def test_a_batch_takes_the_filed_households_matching_its_criteria(tree, personas, households, fund):
    batch = draft(fund, personas["county_cadre"], categories=[Category.DEEP])
    files = set(BatchPayment.objects.filter(batch=batch).values_list("file_id", flat=True))
    assert files == {f.pk for f in households["deep"]}
    assert (batch.payment_count, batch.total_amount) == (3, Decimal("1500.00"))
    everyone = draft(fund, personas["county_cadre"], amount="100")
    # The deep households are already queued for this cycle in the first batch.
    assert set(BatchPayment.objects.filter(batch=everyone).values_list("file_id", flat=True)) == {
        households["relative"].pk
    }


def test_a_batch_is_approved_by_another_person_then_posted(tree, personas, households, fund):
    maker, approver = personas["county_cadre"], make_cadre(tree.jiangan, "jiangan_cadre_02")
    batch = draft(fund, maker, categories=[Category.DEEP])
    with pytest.raises(PermissionDenied, match="制表人以外"):
        services.batch_approve(batch=batch, acting_user=maker)
    with pytest.raises(ValidationError, match="不能办理"):
        services.batch_post(batch=batch, acting_user=maker)
    batch = services.batch_approve(batch=batch, acting_user=approver, version=batch.version)
    result = services.batch_post(batch=batch, acting_user=maker)
    assert (result.paid, result.total, result.failed) == (3, Decimal("1500.00"), 0)
    fund.refresh_from_db()
    assert fund.balance == Decimal("500.00") == result.balance_after
    batch.refresh_from_db()
    assert batch.state == BatchState.PAID
    records = Assistance.objects.filter(batch_payment__batch=batch)
    assert records.count() == 3
    assert set(records.values_list("state", flat=True)) == {AssistanceState.PAID}
    assert FileEvent.objects.filter(kind=EventKind.PAYMENT, assistance__in=records).count() == 3
    entry = LedgerEntry.objects.get(batch=batch)
    assert (entry.amount, entry.balance_after) == (Decimal("-1500.00"), Decimal("500.00"))
    assert AuditEntry.objects.filter(object_type="relief.disbursementbatch").count() == 3


def test_a_batch_larger_than_the_balance_is_not_posted(tree, personas, households, fund):
    maker = personas["county_cadre"]
    batch = draft(fund, maker, amount="700", categories=[Category.DEEP])
    batch = services.batch_approve(batch=batch, acting_user=make_cadre(tree.jiangan, "c02"))
    with pytest.raises(ValidationError, match="余额不足"):
        services.batch_post(batch=batch, acting_user=maker)
    fund.refresh_from_db()
    assert fund.balance == Decimal("2000.00")
    assert not Assistance.objects.exists()
    assert BatchPayment.objects.filter(batch=batch, state=PaymentState.PENDING).count() == 3


def test_households_that_left_or_were_paid_meanwhile_fail_with_the_reason(
    tree, personas, households, fund
):
    maker = personas["county_cadre"]
    batch = draft(fund, maker, categories=[Category.DEEP])
    batch = services.batch_approve(batch=batch, acting_user=make_cadre(tree.jiangan, "c02"))
    left, paid = households["deep"][0], households["deep"][1]
    type(left).objects.filter(pk=left.pk).update(state=FileState.CLOSED)
    services.assistance_create(
        file=paid,
        assistance_type=AssistanceType.LIVING,
        amount=Decimal("100"),
        fund=fund,
        acting_user=personas["grassroots_cadre"],
    )
    result = services.batch_post(batch=batch, acting_user=maker)
    assert (result.paid, result.failed) == (1, 2)
    reasons = dict(
        BatchPayment.objects.filter(batch=batch).values_list("file_id", "failure_reason")
    )
    assert reasons[left.pk] == "档案已不在档，未发放"
    assert reasons[paid.pk] == "本周期已发放过同类帮扶，未重复发放"


def test_a_failed_payment_returns_its_money_and_can_be_paid_again(tree, personas, households, fund):
    maker = personas["county_cadre"]
    batch = draft(fund, maker, categories=[Category.DEEP])
    batch = services.batch_approve(batch=batch, acting_user=make_cadre(tree.jiangan, "c02"))
    services.batch_post(batch=batch, acting_user=maker)
    payment = BatchPayment.objects.filter(batch=batch).first()
    services.batch_payment_fail(payment=payment, acting_user=maker, reason="账号有误")
    fund.refresh_from_db()
    assert fund.balance == Decimal("1000.00")
    record = Assistance.objects.get(batch_payment=payment)
    assert record.state == AssistanceState.FAILED
    services.batch_payment_retry(payment=payment, acting_user=maker)
    with pytest.raises(ValidationError, match="还有待发放"):
        services.batch_reconcile(batch=batch, acting_user=maker)
    batch.refresh_from_db()
    result = services.batch_post(batch=batch, acting_user=maker)
    assert (result.paid, result.total) == (1, Decimal("500.00"))
    record.refresh_from_db()
    assert record.state == AssistanceState.PAID
    assert Assistance.objects.filter(batch_payment__batch=batch).count() == 3
    batch.refresh_from_db()
    batch = services.batch_reconcile(batch=batch, acting_user=maker)
    assert batch.state == BatchState.RECONCILED
    fund.refresh_from_db()
    assert fund.balance == Decimal("500.00")
    kinds = list(LedgerEntry.objects.filter(batch=batch).values_list("kind", flat=True))
    assert kinds == [LedgerKind.PAYMENT, LedgerKind.REVERSAL, LedgerKind.PAYMENT]


def test_above_the_threshold_a_batch_needs_a_finance_officer(tree, personas, households, fund):
    services.assistance_rule_set(
        province=Region.objects.get(code="420000"),
        year=today().year,
        assistance_type=AssistanceType.LIVING,
        cap_per_year=None,
        cycle=Cycle.YEAR,
        second_approval_above=Decimal("300"),
        acting_user=personas["provincial_cadre"],
    )
    batch = draft(fund, personas["county_cadre"], categories=[Category.DEEP])
    with pytest.raises(PermissionDenied, match="财务人员审批"):
        services.batch_approve(batch=batch, acting_user=make_cadre(tree.jiangan, "c02"))
    batch = services.batch_approve(batch=batch, acting_user=make_finance_officer(tree.jiangan))
    assert batch.state == BatchState.APPROVED


def test_a_batch_never_reaches_outside_the_acting_users_scope(tree, personas, households):
    city_fund = make_fund(tree, personas, union=tree.wuhan, amount="10000")
    batch = draft(city_fund, personas["provincial_cadre"])
    assert households["sibling"].pk in set(
        BatchPayment.objects.filter(batch=batch).values_list("file_id", flat=True)
    )
    with pytest.raises(ValidationError, match="管辖范围内"):
        draft(city_fund, personas["provincial_cadre"], within=tree.hubei)


def test_a_batch_summary_counts_by_state(tree, personas, households, fund):
    batch = draft(fund, personas["county_cadre"], categories=[Category.DEEP])
    summary = selectors.batch_summary(batch=batch)
    assert summary[PaymentState.PENDING] == {"count": 3, "amount": Decimal("1500.00")}
    services.batch_cancel(batch=batch, acting_user=personas["county_cadre"], reason="重复制表")
    batch.refresh_from_db()
    assert batch.state == BatchState.CANCELLED
    # A cancelled batch no longer holds its households.
    again = draft(fund, personas["county_cadre"], categories=[Category.DEEP])
    assert again.payment_count == 3


def test_a_batch_may_take_at_most_a_number_of_households_earliest_first(
    tree, personas, households, fund
):
    batch = draft(fund, personas["county_cadre"], limit=2)
    files = list(
        BatchPayment.objects.filter(batch=batch)
        .order_by("file_id")
        .values_list("file_id", flat=True)
    )
    assert files == [households["deep"][0].pk, households["deep"][1].pk]
    assert batch.criteria["limit"] == 2
