"""Hardship relief indicators: files, exits, relapses, the exit rate, assistance and funds,
each against what the relief services wrote, and every figure against a recount."""

from decimal import Decimal

import pytest
from django.utils import timezone

from niangjia.orgs.models import Region
from niangjia.relief import services
from niangjia.relief.choices import (
    ArchiveLevel,
    AssistanceType,
    Category,
    Cycle,
    FileState,
)
from niangjia.relief.models import RelapseCheck
from niangjia.relief.services.common import add_months
from niangjia.stats.periods import Period
from niangjia.stats.tests.conftest import assert_exact, fold_now, value
from niangjia.utilities.testing.relief import make_cadre, make_file, make_fund, set_threshold

pytestmark = pytest.mark.django_db


def _months_back(n):
    first = timezone.localdate().replace(day=1)
    return [add_months(first, -i) for i in range(n)]


def _exit(file, cadre, income="1500"):
    for month in _months_back(6):
        services.income_check_record(
            file=file, month=month, income_per_head=Decimal(income), acting_user=cadre
        )
    file.refresh_from_db()
    return services.exit_confirm(file=file, acting_user=cadre)


@pytest.fixture
def relief(tree, personas):
    fold_now()
    year = timezone.localdate().year
    set_threshold(tree, "1000", year=year)
    set_threshold(tree, "950", year=year - 1)
    services.assistance_rule_set(
        province=Region.objects.get(code="420000"),
        year=year,
        assistance_type=AssistanceType.LIVING,
        cap_per_year=Decimal("5000"),
        cycle=Cycle.ONCE,
        second_approval_above=Decimal("3000"),
        acting_user=personas["provincial_cadre"],
    )
    cadre = personas["county_cadre"]
    deep = make_file(tree, personas)
    exited = make_file(tree, personas)
    relative = make_file(
        tree,
        personas,
        union=tree.jianghan_grassroots,
        category=Category.RELATIVE,
        level=ArchiveLevel.CITY,
    )
    applying = make_file(tree, personas, state=FileState.FIRST_CHECKED)
    exited = _exit(exited, cadre)
    fund = make_fund(tree, personas, amount="10000")
    second = make_cadre(tree.jiangan, "jiangan_cadre_02")
    record = services.assistance_create(
        file=deep,
        assistance_type=AssistanceType.LIVING,
        amount=Decimal("800"),
        fund=fund,
        acting_user=personas["grassroots_cadre"],
    )
    record = services.assistance_approve(assistance=record, acting_user=second)
    services.assistance_pay(assistance=record, acting_user=second)
    warmth = services.assistance_create(
        file=deep,
        assistance_type=AssistanceType.WARMTH,
        in_kind_value=Decimal("300"),
        goods="米、油",
        acting_user=personas["grassroots_cadre"],
    )
    warmth = services.assistance_approve(assistance=warmth, acting_user=second)
    services.assistance_pay(assistance=warmth, acting_user=second)
    fold_now()
    return {
        "deep": deep,
        "exited": exited,
        "relative": relative,
        "applying": applying,
        "fund": fund,
        "cadre": cadre,
    }


def test_files_on_file_by_category_cause_and_level(tree, relief):
    assert value(tree.root, "hardship_files") == 2
    assert value(tree.jiangan, "hardship_files", dims="category=deep") == 1
    assert value(tree.root, "hardship_files", dims="category=relative") == 1
    assert value(tree.root, "hardship_files", dims="archive_level=city") == 1
    assert value(tree.root, "hardship_files", dims="cause=01") == 2
    # The grassroots union of 江汉 belongs to the transport industry union as well.
    assert value(tree.transport_industry, "hardship_files") == 1
    assert value(tree.root, "hardship_files_state", dims="file_state=first_checked") == 1
    assert value(tree.root, "hardship_files_state", dims="file_state=exited") == 1
    assert value(tree.root, "hardship_files_state") == 4
    assert_exact()


def test_exits_relapses_and_the_exit_rate(tree, relief):
    assert value(tree.root, "hardship_exits") == 1
    assert value(tree.root, "hardship_exits", dims="exit_kind=out") == 1
    assert value(tree.root, "hardship_filed") == 3
    assert value(tree.root, "hardship_files_during") == 3
    assert value(tree.root, "exit_rate") == round(100 / 3, 1)
    assert value(tree.jianghan, "exit_rate") == 0.0
    cadre = relief["cadre"]
    check = relief["exited"].relapse_watch.checks.first()
    RelapseCheck.objects.filter(pk=check.pk).update(due_on=timezone.localdate())
    check.refresh_from_db()
    services.relapse_check(check=check, income_per_head=Decimal("600"), acting_user=cadre)
    fold_now()
    assert value(tree.root, "hardship_relapses") == 1
    assert value(tree.root, "hardship_files_state", dims="file_state=applied") == 1
    assert_exact()


def test_households_on_file_at_the_end_of_a_past_period_are_derived(tree, relief):
    last_year = Period.current("stat_year").previous()
    assert value(tree.root, "hardship_files", last_year) == 0
    assert value(tree.root, "exit_rate", last_year) is None  # no household was on file


def test_assistance_amounts_and_person_times_by_type_and_fund(tree, relief):
    assert value(tree.root, "assistance_times") == 2
    assert value(tree.root, "assistance_amount") == 1100.0
    assert value(tree.root, "assistance_amount", dims="assistance_type=warmth") == 300.0
    assert value(tree.root, "assistance_times", dims="assistance_type=living") == 1
    assert value(tree.root, "assistance_amount", dims="fund_source=central") == 800.0
    assert value(tree.root, "assistance_amount", dims="fund_source=none") == 300.0
    assert value(tree.jianghan, "assistance_times") == 0
    assert_exact()


def test_fund_balances_follow_the_ledger(tree, personas, relief):
    assert value(tree.jiangan, "fund_balance") == 9200.0
    assert value(tree.root, "fund_balance", dims="fund_source=central") == 9200.0
    services.fund_receive(
        fund=relief["fund"], amount=Decimal("50.5"), acting_user=personas["national_admin"]
    )
    fold_now()
    assert value(tree.hubei, "fund_balance") == 9250.5
    assert value(tree.jianghan, "fund_balance") == 0
    assert_exact()


def test_a_batch_payment_and_a_returned_payment_reach_the_figures(tree, personas, relief):
    from niangjia.relief.models import BatchPayment
    from niangjia.relief.services import BatchCriteria

    maker = personas["county_cadre"]
    batch = services.batch_create(
        fund=relief["fund"],
        name="金秋助学",
        assistance_type=AssistanceType.EDUCATION,
        amount=Decimal("200"),
        criteria=BatchCriteria(),
        acting_user=maker,
    )
    batch = services.batch_approve(batch=batch, acting_user=make_cadre(tree.jiangan, "c03"))
    services.batch_post(batch=batch, acting_user=maker)
    fold_now()
    paid = BatchPayment.objects.filter(batch=batch).count()
    assert paid >= 1
    assert value(tree.root, "assistance_times", dims="assistance_type=education") == paid
    assert value(tree.jiangan, "fund_balance") == 9200.0 - 200 * paid
    services.batch_payment_fail(
        payment=BatchPayment.objects.filter(batch=batch).first(),
        acting_user=maker,
        reason="账号有误",
    )
    fold_now()
    assert value(tree.root, "assistance_times", dims="assistance_type=education") == paid - 1
    assert value(tree.jiangan, "fund_balance") == 9200.0 - 200 * (paid - 1)
    assert_exact()
