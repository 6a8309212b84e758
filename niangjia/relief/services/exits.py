"""Exit from hardship and relapse monitoring.

- ``income_check_record``: the household's income in a month; after each record the system
  proposes an exit (``exit_proposed_kind``): 脱困 when income per head was above the city's
  threshold in each of the last 6 consecutive months, 解困 when the latest month's income plus
  public support and regular union aid reach the threshold.
- ``exit_confirm``: a cadre confirms the proposal; the file is ``exited``, due to be closed
  within 30 working days, and enters the relapse register with re-checks every 6 months for
  two years.
- ``relapse_check``: a scheduled re-check; below the threshold the household relapses and a
  new file, linked to the old one, is opened (``applied``, to go through the steps again).
"""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.relief.choices import (
    EventKind,
    ExitKind,
    FileChannel,
    FileState,
    WatchState,
)
from niangjia.relief.models import (
    HardshipFile,
    HouseholdMember,
    IncomeCheck,
    RelapseCheck,
    RelapseWatch,
)
from niangjia.relief.services.common import (
    add_months,
    bump,
    check_version,
    event,
    locked,
    money,
    today,
)
from niangjia.relief.services.files import _close_people, _compute_income, _save_people
from niangjia.relief.services.rules import require_threshold
from niangjia.utilities.scoping import require
from niangjia.utilities.workdays import add_workdays

MONTHS_ABOVE_FOR_EXIT = 6
CLOSE_WITHIN_WORKDAYS = 30
RELAPSE_CHECK_MONTHS = (6, 12, 18, 24)


def _month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _amount(value: Decimal | int | str, name: str, label: str) -> Decimal:
    try:
        amount = money(value)
    except ArithmeticError as exc:
        raise ValidationError({name: f"{label}格式不正确"}) from exc
    if amount < 0:
        raise ValidationError({name: f"{label}不能为负数"})
    if amount > Decimal("99999999.99"):
        raise ValidationError({name: f"{label}超出可填写的范围"})
    return amount


def exit_proposal(file: HardshipFile) -> str:
    """The exit the income checks support: ``out`` (脱困), ``relieved`` (解困) or ''."""
    checks = list(IncomeCheck.objects.filter(file=file).order_by("-month")[:MONTHS_ABOVE_FOR_EXIT])
    if not checks:
        return ""
    consecutive = all(
        add_months(later.month, -1) == earlier.month
        for later, earlier in itertools.pairwise(checks)
    )
    if (
        len(checks) == MONTHS_ABOVE_FOR_EXIT
        and consecutive
        and all(c.income_per_head > c.threshold for c in checks)
    ):
        return ExitKind.OUT
    latest = checks[0]
    lifted = latest.income_per_head + latest.public_support_per_head + latest.union_aid_per_head
    if latest.income_per_head < latest.threshold <= lifted:
        return ExitKind.RELIEVED
    return ""


def _refresh_proposal(file: HardshipFile, acting_user: User | None) -> str:
    kind = exit_proposal(file)
    if kind == file.exit_proposed_kind:
        return kind
    # A system field: the editor's version is not bumped, so an open form is not made stale.
    HardshipFile.objects.filter(pk=file.pk).update(
        exit_proposed_kind=kind, exit_proposed_on=today() if kind else None
    )
    file.exit_proposed_kind = kind
    file.exit_proposed_on = today() if kind else None
    if kind:
        text = (
            f"连续 {MONTHS_ABOVE_FOR_EXIT} 个月家庭月人均收入高于当地低保标准，建议脱困"
            if kind == ExitKind.OUT
            else "政府救助和工会常态化帮扶后家庭月人均收入达到当地低保标准，建议解困"
        )
        event(file, EventKind.EXIT_PROPOSED, actor=acting_user, text=text + "，待干部确认")
    return kind


@transaction.atomic
def income_check_record(
    *,
    file: HardshipFile,
    month: datetime.date,
    income_per_head: Decimal,
    acting_user: User,
    public_support_per_head: Decimal = Decimal(0),
    union_aid_per_head: Decimal = Decimal(0),
    note: str = "",
) -> IncomeCheck:
    """Record (or correct) the household's income in ``month``; the exit proposal follows."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    if file.state != FileState.FILED:
        raise ValidationError(f"档案{file.get_state_display()}，只有在档档案需要收入核查")
    month = _month(month)
    if month > _month(today()):
        raise ValidationError({"month": "不能登记未来月份的收入"})
    threshold = require_threshold(file.city_region, month.year)
    values: dict[str, Any] = {
        "income_per_head": _amount(income_per_head, "income_per_head", "月人均收入"),
        "public_support_per_head": _amount(
            public_support_per_head, "public_support_per_head", "人均政府救助"
        ),
        "union_aid_per_head": _amount(union_aid_per_head, "union_aid_per_head", "人均工会帮扶"),
        "threshold": threshold,
        "note": " ".join(note.split())[:200],
        "recorded_by": acting_user,
    }
    check, created = IncomeCheck.objects.update_or_create(file=file, month=month, defaults=values)
    event(
        file,
        EventKind.INCOME,
        actor=acting_user,
        text=f"{month:%Y年%m月}家庭月人均收入 {check.income_per_head} 元"
        f"（当地低保标准 {threshold} 元）" + ("" if created else "，更正"),
    )
    record(
        action=AuditAction.CREATE if created else AuditAction.CHANGE,
        actor=acting_user,
        obj=check,
        after={"month": month, **{k: v for k, v in values.items() if k != "recorded_by"}},
    )
    _refresh_proposal(file, acting_user)
    return check


@transaction.atomic
def exit_confirm(
    *,
    file: HardshipFile,
    acting_user: User,
    kind: str | None = None,
    note: str = "",
    version: int | None = None,
) -> HardshipFile:
    """A cadre confirms the system's exit proposal: the file is ``exited``, to be closed
    within 30 working days, and enters the relapse register."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    if file.state != FileState.FILED:
        raise ValidationError(f"档案{file.get_state_display()}，不能办理解困脱困")
    check_version(file, version)
    proposal = exit_proposal(file)
    if not proposal:
        raise ValidationError(
            "收入核查数据尚不支持解困脱困：脱困须连续 6 个月家庭月人均收入高于当地低保标准，"
            "解困须政府救助和工会帮扶后达到当地低保标准"
        )
    kind = kind or proposal
    if kind != proposal:
        raise ValidationError(
            {"kind": f"按收入核查数据，本户应为“{ExitKind(proposal).label}”，请按系统建议确认"}
        )
    day = today()
    file.state = FileState.EXITED
    file.exit_kind = kind
    file.exited_on = day
    file.close_due_on = add_workdays(day, CLOSE_WITHIN_WORKDAYS)
    file.exit_proposed_kind = ""
    file.exit_proposed_on = None
    bump(file)
    file.save()
    _close_people(file)
    watch = RelapseWatch.objects.create(
        file=file, started_on=day, ends_on=add_months(day, RELAPSE_CHECK_MONTHS[-1])
    )
    RelapseCheck.objects.bulk_create(
        [RelapseCheck(watch=watch, due_on=add_months(day, m)) for m in RELAPSE_CHECK_MONTHS]
    )
    text = f"确认{ExitKind(kind).label}，{file.close_due_on:%Y-%m-%d} 前销档，纳入返困监测"
    note = " ".join(note.split())[:200]
    event(
        file,
        EventKind.EXITED,
        actor=acting_user,
        from_state=FileState.FILED,
        to_state=FileState.EXITED,
        text=text + (f"；{note}" if note else ""),
    )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=file,
        before={"state": FileState.FILED},
        after={"state": FileState.EXITED, "exit_kind": kind},
    )
    return file


# Fields a relapse file starts afresh with (everything else is copied from the old file).
_RESET_FIELDS = frozenset(
    {
        "id",
        "state",
        "version",
        "channel",
        "category_proposed",
        "category",
        "category_reason",
        "applied_on",
        "first_checked_on",
        "surveyed_on",
        "consent_on",
        "reviewed_on",
        "publicity_starts_on",
        "publicity_ends_on",
        "filed_on",
        "last_reviewed_on",
        "review_due_on",
        "exit_proposed_kind",
        "exit_proposed_on",
        "exit_kind",
        "exited_on",
        "close_due_on",
        "closed_on",
        "rejected_on",
        "rejection_reason",
        "relapse_of",
        "created_by",
        "created_at",
        "updated_at",
    }
)


def _reopen(old: HardshipFile, income_per_head: Decimal, acting_user: User) -> HardshipFile:
    """A new file for a relapsed household, copied from ``old``, with the re-check's income."""
    new = HardshipFile()
    for f in HardshipFile._meta.concrete_fields:
        if f.name not in _RESET_FIELDS:
            setattr(new, f.attname, getattr(old, f.attname))
    day = today()
    new.state = FileState.APPLIED
    new.channel = FileChannel.RELAPSE
    new.applied_on = day
    new.relapse_of = old
    new.created_by = acting_user
    total = money(income_per_head * 12 * new.household_size)
    wages = new.monthly_wage * 12
    if wages > total:
        new.monthly_wage = money(total / 12)
        new.other_income_year = Decimal(0)
    else:
        new.other_income_year = money(total - wages)
    _compute_income(new)
    new.save(force_insert=True)
    members = [
        HouseholdMember(
            name=m.name,
            relation=m.relation,
            id_number_enc=m.id_number_enc,
            id_hash=m.id_hash,
            id_masked=m.id_masked,
            birth_date=m.birth_date,
            monthly_income=m.monthly_income,
            health=m.health,
            medical_insurance=m.medical_insurance,
            school_or_employer=m.school_or_employer,
        )
        for m in old.household_members.all()
    ]
    _save_people(new, members)
    event(
        new,
        EventKind.APPLIED,
        actor=acting_user,
        to_state=FileState.APPLIED,
        text=f"返困重新建档（原档案 {old.file_number}），请重新初审和入户调查",
    )
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=new,
        after={"state": new.state, "channel": new.channel, "relapse_of": old.pk},
    )
    return new


@transaction.atomic
def relapse_check(
    *,
    check: RelapseCheck,
    income_per_head: Decimal,
    acting_user: User,
    note: str = "",
    checked_on: datetime.date | None = None,
) -> RelapseCheck:
    """A re-check of an exited household. Below the city's threshold the household has
    relapsed: a new file linked to the old one is opened and the watch ends as relapsed."""
    require(acting_user, Action.CHANGE, check)
    check = locked(check)
    watch = locked(check.watch)
    old = watch.file
    if watch.state != WatchState.WATCHING:
        raise ValidationError(f"该户返困监测{watch.get_state_display()}，无需回访")
    if check.checked_on is not None:
        raise ValidationError("该次回访已登记")
    day = checked_on or today()
    if day > today():
        raise ValidationError({"checked_on": "回访日期不能晚于今天"})
    threshold = require_threshold(old.city_region, day.year)
    income = _amount(income_per_head, "income_per_head", "月人均收入")
    check.checked_on = day
    check.income_per_head = income
    check.threshold = threshold
    check.relapsed = income < threshold
    check.note = " ".join(note.split())[:200]
    check.checked_by = acting_user
    check.save()
    event(
        old,
        EventKind.RELAPSE_CHECK,
        actor=acting_user,
        date=day,
        text=f"回访：家庭月人均收入 {income} 元（当地低保标准 {threshold} 元）"
        + ("，低于标准" if check.relapsed else "，高于标准"),
    )
    if check.relapsed:
        new = _reopen(old, income, acting_user)
        watch.state = WatchState.RELAPSED
        watch.relapse_file = new
        watch.save()
        event(
            old,
            EventKind.RELAPSED,
            actor=acting_user,
            date=day,
            text=f"返困，已重新建档（新档案 {new.file_number}）",
        )
    elif not watch.checks.filter(checked_on__isnull=True).exists():
        watch.state = WatchState.ENDED
        watch.save()
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=check,
        after={"income_per_head": income, "threshold": threshold, "relapsed": check.relapsed},
        detail={"relapse_file": watch.relapse_file_id} if check.relapsed else None,
    )
    return check
