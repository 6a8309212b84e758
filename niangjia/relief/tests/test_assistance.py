"""Assistance to a household: rules as data, approvals by other people, payment from a fund."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from niangjia.orgs.models import Region
from niangjia.relief import services
from niangjia.relief.choices import (
    AssistanceState,
    AssistanceType,
    Cycle,
    EventKind,
    FileState,
    LedgerKind,
)
from niangjia.relief.models import Assistance, Fund, LedgerEntry
from niangjia.relief.services.rules import cycle_key
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
def setup(tree, personas):
    set_threshold(tree)
    hubei = Region.objects.get(code="420000")
    services.assistance_rule_set(
        province=hubei,
        year=today().year,
        assistance_type=AssistanceType.LIVING,
        cap_per_year=Decimal("3000"),
        cycle=Cycle.HALF_YEAR,
        second_approval_above=Decimal("1000"),
        acting_user=personas["provincial_cadre"],
    )
    file = make_file(tree, personas)
    fund = make_fund(tree, personas, amount="10000")
    return file, fund


def create(file, fund, user, amount="800", kind=AssistanceType.LIVING, **extra):
    return services.assistance_create(
        file=file,
        assistance_type=kind,
        amount=Decimal(amount),
        fund=fund,
        acting_user=user,
        **extra,
    )


def test_a_small_payment_is_approved_once_and_paid_from_the_fund(tree, personas, setup):
    file, fund = setup
    county = personas["county_cadre"]
    record = create(file, fund, personas["grassroots_cadre"])
    assert record.state == AssistanceState.PENDING
    record = services.assistance_approve(assistance=record, acting_user=county)
    assert record.state == AssistanceState.APPROVED
    record = services.assistance_pay(assistance=record, acting_user=county)
    assert record.state == AssistanceState.PAID
    fund.refresh_from_db()
    assert fund.balance == Decimal("9200.00")
    entry = LedgerEntry.objects.get(assistance=record)
    assert (entry.kind, entry.amount, entry.balance_after) == (
        LedgerKind.PAYMENT,
        Decimal("-800.00"),
        Decimal("9200.00"),
    )
    assert file.events.filter(kind=EventKind.PAYMENT, assistance=record).exists()


def test_the_recorder_cannot_approve_their_own_record(tree, personas, setup):
    file, fund = setup
    record = create(file, fund, personas["county_cadre"])
    with pytest.raises(PermissionDenied, match="经办人以外"):
        services.assistance_approve(assistance=record, acting_user=personas["county_cadre"])


def test_a_large_payment_needs_a_finance_officer_other_than_the_approver(tree, personas, setup):
    file, fund = setup
    county = personas["county_cadre"]
    finance = make_finance_officer(tree.jiangan)
    record = create(file, fund, personas["grassroots_cadre"], amount="1500")
    record = services.assistance_approve(assistance=record, acting_user=county)
    assert record.state == AssistanceState.SECOND_PENDING
    with pytest.raises(ValidationError, match="不能办理"):
        services.assistance_pay(assistance=record, acting_user=county)
    with pytest.raises(PermissionDenied):  # a cadre holds no finance right
        services.assistance_second_approve(assistance=record, acting_user=county)
    record = services.assistance_second_approve(assistance=record, acting_user=finance)
    assert record.state == AssistanceState.APPROVED
    assert record.second_approved_by == finance
    record = services.assistance_pay(assistance=record, acting_user=county)
    assert record.state == AssistanceState.PAID


def test_a_finance_officer_outside_the_subtree_cannot_second_approve(tree, personas, setup):
    file, fund = setup
    outsider = make_finance_officer(tree.jianghan, username="jianghan_finance")
    record = create(file, fund, personas["grassroots_cadre"], amount="1500")
    record = services.assistance_approve(assistance=record, acting_user=personas["county_cadre"])
    with pytest.raises(PermissionDenied):
        services.assistance_second_approve(assistance=record, acting_user=outsider)


def test_a_second_payment_in_the_same_cycle_is_refused(tree, personas, setup):
    file, fund = setup
    create(file, fund, personas["grassroots_cadre"], amount="500")
    with pytest.raises(ValidationError, match="同一周期内不能重复发放") as caught:
        create(file, fund, personas["grassroots_cadre"], amount="300")
    assert "本半年" in str(caught.value)


def test_the_database_refuses_a_second_record_in_the_cycle_even_past_the_check(
    tree, personas, setup
):
    file, fund = setup
    first = create(file, fund, personas["grassroots_cadre"], amount="500")
    duplicate = Assistance(
        file=file,
        union_path=file.union_path,
        assistance_type=first.assistance_type,
        amount=Decimal("1"),
        date=first.date,
        year=first.year,
        cycle_key=first.cycle_key,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_rejected_record_does_not_count_for_the_cycle(tree, personas, setup):
    file, fund = setup
    record = create(file, fund, personas["grassroots_cadre"], amount="500")
    services.assistance_reject(
        assistance=record, acting_user=personas["county_cadre"], reason="材料不全"
    )
    again = create(file, fund, personas["grassroots_cadre"], amount="500")
    assert again.state == AssistanceState.PENDING


def test_the_yearly_cap_counts_money_and_goods(tree, personas, setup):
    file, fund = setup
    last_half = datetime.date(today().year, 1, 15) if today().month > 6 else None
    if last_half is None:
        pytest.skip("the two half-years of one year are needed; run after June")
    create(file, fund, personas["grassroots_cadre"], amount="2500", date=last_half)
    with pytest.raises(ValidationError, match=r"超过每户每年生活救助上限 3000\.00 元"):
        create(
            file,
            fund,
            personas["grassroots_cadre"],
            amount="400",
            in_kind_value=Decimal("200"),
            goods="米面油",
        )


def test_a_cap_below_the_amount_is_refused_at_once(tree, personas, setup):
    file, fund = setup
    with pytest.raises(ValidationError, match=r"上限 3000\.00 元（本年已 0 元"):
        create(file, fund, personas["grassroots_cadre"], amount="3500")


def test_goods_need_a_description_and_no_fund(tree, personas, setup):
    file, _ = setup
    with pytest.raises(ValidationError, match="实物内容"):
        services.assistance_create(
            file=file,
            assistance_type=AssistanceType.WARMTH,
            in_kind_value=Decimal("300"),
            acting_user=personas["grassroots_cadre"],
        )
    record = services.assistance_create(
        file=file,
        assistance_type=AssistanceType.WARMTH,
        in_kind_value=Decimal("300"),
        goods="米、面、油各一份",
        acting_user=personas["grassroots_cadre"],
    )
    record = services.assistance_approve(assistance=record, acting_user=personas["county_cadre"])
    record = services.assistance_pay(assistance=record, acting_user=personas["county_cadre"])
    assert record.state == AssistanceState.PAID
    assert not LedgerEntry.objects.filter(assistance=record).exists()


def test_money_needs_a_fund_covering_the_household(tree, personas, setup):
    file, _ = setup
    with pytest.raises(ValidationError, match="请选择资金来源"):
        create(file, None, personas["grassroots_cadre"])
    other = make_fund(tree, personas, union=tree.jianghan)
    with pytest.raises(ValidationError, match="只能用于其所辖范围内"):
        create(file, other, personas["county_cadre"])


def test_only_someone_who_may_spend_the_fund_pays(tree, personas, setup):
    file, fund = setup
    record = create(file, fund, personas["grassroots_cadre"])
    record = services.assistance_approve(assistance=record, acting_user=personas["county_cadre"])
    with pytest.raises(PermissionDenied, match="没有动用"):
        services.assistance_pay(assistance=record, acting_user=personas["grassroots_cadre"])


def test_only_filed_households_receive_assistance(tree, personas, setup):
    _, fund = setup
    applied = make_file(tree, personas, state=FileState.APPLIED)
    with pytest.raises(ValidationError, match="只有在档的困难职工家庭"):
        create(applied, fund, personas["county_cadre"])


def test_paying_more_than_the_balance_is_refused_and_nothing_changes(tree, personas, setup):
    file, _ = setup
    poor = make_fund(tree, personas, amount="100")
    record = create(file, poor, personas["grassroots_cadre"], amount="800")
    record = services.assistance_approve(assistance=record, acting_user=personas["county_cadre"])
    with pytest.raises(ValidationError, match="余额不足"):
        services.assistance_pay(assistance=record, acting_user=personas["county_cadre"])
    poor.refresh_from_db()
    record.refresh_from_db()
    assert poor.balance == Decimal("100.00")
    assert record.state == AssistanceState.APPROVED


def test_a_payment_that_came_back_returns_the_money(tree, personas, setup):
    file, fund = setup
    county = personas["county_cadre"]
    record = create(file, fund, personas["grassroots_cadre"], amount="800")
    record = services.assistance_pay(
        assistance=services.assistance_approve(assistance=record, acting_user=county),
        acting_user=county,
    )
    record = services.assistance_payment_fail(
        assistance=record, acting_user=county, reason="账户已注销"
    )
    fund.refresh_from_db()
    assert record.state == AssistanceState.FAILED
    assert fund.balance == Decimal("10000.00")
    assert LedgerEntry.objects.filter(assistance=record, kind=LedgerKind.REVERSAL).exists()
    # A failed record no longer blocks the cycle.
    assert (
        create(file, fund, personas["grassroots_cadre"], amount="800").state
        == AssistanceState.PENDING
    )


def test_a_stale_approval_is_a_conflict(tree, personas, setup):
    file, fund = setup
    record = create(file, fund, personas["grassroots_cadre"])
    other = make_cadre(tree.jiangan, "jiangan_cadre_02")
    services.assistance_approve(assistance=record, acting_user=other, version=record.version)
    with pytest.raises(ValidationError, match="已被他人修改"):
        services.assistance_approve(
            assistance=record, acting_user=personas["county_cadre"], version=record.version
        )


@pytest.mark.parametrize(
    ("cycle", "day", "key"),
    [
        (Cycle.YEAR, datetime.date(2025, 7, 1), "2025"),
        (Cycle.HALF_YEAR, datetime.date(2025, 6, 30), "2025H1"),
        (Cycle.HALF_YEAR, datetime.date(2025, 7, 1), "2025H2"),
        (Cycle.QUARTER, datetime.date(2025, 8, 1), "2025Q3"),
        (Cycle.MONTH, datetime.date(2025, 8, 1), "2025-08"),
        (Cycle.ONCE, datetime.date(2025, 8, 1), "once"),
    ],
)
def test_cycle_keys(cycle, day, key):
    assert cycle_key(cycle, day) == key


def test_no_rule_means_once_a_year_without_cap(tree, personas, setup):
    file, fund = setup
    record = create(
        file, fund, personas["grassroots_cadre"], kind=AssistanceType.MEDICAL, amount="20000"
    )
    assert record.cycle_key == str(today().year)
    assert Fund.objects.get(pk=fund.pk).balance == Decimal("10000.00")  # nothing paid yet
