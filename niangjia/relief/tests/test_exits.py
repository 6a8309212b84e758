"""Exit from hardship (脱困, 解困), closing, relapse re-checks, the plan, and the purge."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.relief import selectors, services
from niangjia.relief.choices import (
    AssistanceType,
    EventKind,
    ExitKind,
    FileChannel,
    FileState,
    MeasureState,
    WatchState,
)
from niangjia.relief.models import (
    FilePerson,
    HardshipFile,
    LedgerEntry,
    RelapseCheck,
)
from niangjia.relief.services.common import add_months
from niangjia.utilities.testing.relief import make_file, make_fund, set_threshold, today
from niangjia.utilities.workdays import add_workdays

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(tree, personas):
    set_threshold(tree, "1000", year=today().year)
    set_threshold(tree, "950", year=today().year - 1)
    return make_file(tree, personas)


def months_back(n: int) -> list[datetime.date]:
    first = today().replace(day=1)
    return [add_months(first, -i) for i in range(n)]


def record_months(file, user, incomes, **extra):
    for month, income in zip(months_back(len(incomes)), incomes, strict=True):
        services.income_check_record(
            file=file, month=month, income_per_head=Decimal(income), acting_user=user, **extra
        )
    file.refresh_from_db()
    return file


def test_six_months_above_the_threshold_propose_an_exit_a_cadre_confirms(tree, personas, filed):
    cadre = personas["county_cadre"]
    file = record_months(filed, cadre, ["1200"] * 5)
    assert file.exit_proposed_kind == ""
    with pytest.raises(ValidationError, match="连续 6 个月"):
        services.exit_confirm(file=file, acting_user=cadre)
    file = record_months(filed, cadre, ["1200"] * 6)
    assert file.exit_proposed_kind == ExitKind.OUT
    assert file.events.filter(kind=EventKind.EXIT_PROPOSED).count() == 1
    assert list(
        selectors.file_list(user=cadre, filters=selectors.FileFilters(exit_proposed=True))
    ) == [file]
    file = services.exit_confirm(file=file, acting_user=cadre)
    assert (file.state, file.exit_kind, file.exited_on) == (FileState.EXITED, ExitKind.OUT, today())
    assert file.close_due_on == add_workdays(today(), 30)
    assert not FilePerson.objects.filter(file=file, is_open=True).exists()
    watch = file.relapse_watch
    assert watch.state == WatchState.WATCHING
    assert [c.due_on for c in watch.checks.all()] == [
        add_months(today(), m) for m in (6, 12, 18, 24)
    ]


def test_a_gap_in_the_months_is_not_six_consecutive(tree, personas, filed):
    cadre = personas["county_cadre"]
    months = months_back(7)
    for month in months[:3] + months[4:]:
        services.income_check_record(
            file=filed, month=month, income_per_head=Decimal("1500"), acting_user=cadre
        )
    filed.refresh_from_db()
    assert filed.exit_proposed_kind == ""


def test_support_and_union_aid_reaching_the_threshold_propose_relieved(tree, personas, filed):
    cadre = personas["county_cadre"]
    file = record_months(
        filed,
        cadre,
        ["700"],
        public_support_per_head=Decimal("200"),
        union_aid_per_head=Decimal("100"),
    )
    assert file.exit_proposed_kind == ExitKind.RELIEVED
    with pytest.raises(ValidationError, match="请按系统建议确认"):
        services.exit_confirm(file=file, acting_user=cadre, kind=ExitKind.OUT)
    file = services.exit_confirm(file=file, acting_user=cadre)
    assert file.exit_kind == ExitKind.RELIEVED


def test_the_income_check_uses_the_threshold_of_its_year(tree, personas, filed):
    january = today().replace(month=1, day=1)
    december = add_months(january, -1)
    check = services.income_check_record(
        file=filed,
        month=december,
        income_per_head=Decimal("960"),
        acting_user=personas["county_cadre"],
    )
    assert check.threshold == Decimal("950.00")


def test_an_exited_file_is_closed_and_shows_when_overdue(tree, personas, filed):
    cadre = personas["county_cadre"]
    file = services.exit_confirm(file=record_months(filed, cadre, ["1500"] * 6), acting_user=cadre)
    HardshipFile.objects.filter(pk=file.pk).update(
        close_due_on=today() - datetime.timedelta(days=1)
    )
    overdue = selectors.file_list(user=cadre, filters=selectors.FileFilters(close_overdue=True))
    assert list(overdue) == [file]
    file = services.file_close(file=file, acting_user=cadre)
    assert (file.state, file.closed_on) == (FileState.CLOSED, today())


def test_a_recheck_below_the_threshold_reopens_a_linked_file(tree, personas, filed):
    cadre = personas["county_cadre"]
    old = services.exit_confirm(file=record_months(filed, cadre, ["1500"] * 6), acting_user=cadre)
    check = old.relapse_watch.checks.first()
    RelapseCheck.objects.filter(pk=check.pk).update(due_on=today())
    due = selectors.relapse_checks_due(user=cadre)
    assert [c.pk for c in due] == [check.pk]
    services.relapse_check(
        check=check, income_per_head=Decimal("600"), acting_user=cadre, note="配偶失业"
    )
    watch = old.relapse_watch
    watch.refresh_from_db()
    assert watch.state == WatchState.RELAPSED
    new = watch.relapse_file
    assert (new.state, new.channel, new.relapse_of) == (FileState.APPLIED, FileChannel.RELAPSE, old)
    assert new.id_hash == old.id_hash
    assert new.income_per_head == Decimal("600.00")
    assert new.household_members.count() == old.household_members.count()
    assert FilePerson.objects.filter(file=new, is_open=True).count() == 2
    assert old.events.filter(kind=EventKind.RELAPSED).exists()
    assert selectors.file_history(file=new) == [old, new]
    assert list(selectors.file_list(user=cadre, filters=selectors.FileFilters(relapse=True))) == [
        new
    ]


def test_rechecks_above_the_threshold_end_the_watch(tree, personas, filed):
    cadre = personas["county_cadre"]
    old = services.exit_confirm(file=record_months(filed, cadre, ["1500"] * 6), acting_user=cadre)
    for check in old.relapse_watch.checks.all():
        services.relapse_check(check=check, income_per_head=Decimal("1300"), acting_user=cadre)
    old.relapse_watch.refresh_from_db()
    assert old.relapse_watch.state == WatchState.ENDED
    assert not HardshipFile.objects.filter(relapse_of=old).exists()


def test_exit_figures_count_the_period(tree, personas, filed):
    cadre = personas["county_cadre"]
    make_file(tree, personas)
    services.exit_confirm(file=record_months(filed, cadre, ["1500"] * 6), acting_user=cadre)
    figures = selectors.exit_figures(
        user=cadre, start=today().replace(month=1, day=1), end=today(), level="county"
    )
    assert (figures.on_file, figures.exited, figures.out, figures.relieved) == (2, 1, 1, 0)
    assert figures.rate == Decimal("50.0")


def test_the_household_plan_tracks_measures_and_marks_the_overdue(tree, personas, filed):
    cadre = personas["county_cadre"]
    plan = services.plan_save(file=filed, goal="两年内稳定就业、脱困", acting_user=cadre)
    measure = services.measure_add(
        plan=plan,
        assistance_type=AssistanceType.EMPLOYMENT,
        description="推荐到辖区企业就业",
        responsible_union=tree.jiangan,
        deadline=today() + datetime.timedelta(days=30),
        acting_user=cadre,
    )
    measure = services.measure_update(
        measure=measure,
        acting_user=cadre,
        version=measure.version,
        progress="已推荐两家企业面试",
        state=MeasureState.IN_PROGRESS,
    )
    type(measure).objects.filter(pk=measure.pk).update(
        deadline=today() - datetime.timedelta(days=1)
    )
    board = list(selectors.measure_board(user=cadre, overdue_only=True))
    assert [(m.pk, m.overdue) for m in board] == [(measure.pk, True)]
    with pytest.raises(ValidationError, match="已被他人修改"):
        services.measure_update(measure=measure, acting_user=cadre, version=1, progress="旧版本")
    with pytest.raises(ValidationError, match="请填写帮扶目标"):
        services.plan_save(file=filed, goal=" ", acting_user=cadre)
    assert filed.events.filter(kind=EventKind.MEASURE).count() == 1


def test_the_responsible_union_sees_the_measure(tree, personas, filed):
    plan = services.plan_save(file=filed, goal="技能提升", acting_user=personas["national_admin"])
    services.measure_add(
        plan=plan,
        assistance_type=AssistanceType.TRAINING,
        description="参加市总工会技能培训班",
        responsible_union=tree.jianghan,
        deadline=today() + datetime.timedelta(days=10),
        acting_user=personas["national_admin"],
    )
    assert selectors.measure_board(user=personas["sibling_cadre"]).count() == 1


def test_the_purge_removes_files_closed_ten_years_ago_and_keeps_audit_and_ledger(
    tree, personas, filed
):
    cadre = personas["county_cadre"]
    fund = make_fund(tree, personas, amount="1000")
    record = services.assistance_create(
        file=filed,
        assistance_type=AssistanceType.LIVING,
        amount=Decimal("300"),
        fund=fund,
        acting_user=personas["grassroots_cadre"],
    )
    services.assistance_pay(
        assistance=services.assistance_approve(assistance=record, acting_user=cadre),
        acting_user=cadre,
    )
    file = services.exit_confirm(file=record_months(filed, cadre, ["1500"] * 6), acting_user=cadre)
    file = services.file_close(file=file, acting_user=cadre)
    recent = file.pk
    call_command("relief_purge", verbosity=0)
    assert HardshipFile.objects.filter(pk=recent).exists()
    HardshipFile.objects.filter(pk=file.pk).update(closed_on=add_months(today(), -121))
    audit_rows = AuditEntry.objects.filter(
        object_id=str(file.pk), object_type="relief.hardshipfile"
    ).count()
    call_command("relief_purge", verbosity=0)
    assert not HardshipFile.objects.filter(pk=file.pk).exists()
    assert LedgerEntry.objects.filter(fund=fund).count() == 2  # the income and the payment
    assert (
        AuditEntry.objects.filter(object_id=str(file.pk), object_type="relief.hardshipfile").count()
        == audit_rows + 1
    )
    assert AuditEntry.objects.filter(action=AuditAction.DELETE, object_id=str(file.pk)).exists()
