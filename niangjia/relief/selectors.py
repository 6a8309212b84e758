"""Reads of hardship relief on behalf of a user. Every function starts from
``Model.objects.restrict(user, action)``; none reads personal data in clear.

Lists
    ``file_list(user=, filters=)``             files with the workbench's filters
    ``file_page(rows, offset=, limit=)``       one page of them (use it rather than slicing)
    ``capped_count(rows)``                     how many, counting at most 10,000
    ``file_detail(user=, pk=)``                one file (404 out of scope) with its relations
    ``file_timeline(file=)``                   the file's timeline, oldest first
    ``assistance_list(user=, …)``              assistance records
    ``approvals_waiting(user=)``               records waiting for this user's approval
    ``measure_board(user=, …)``                plan measures, overdue marked
    ``relapse_checks_due(user=, on=)``         re-checks of exited households due by ``on``
    ``batch_list(user=, …)`` / ``batch_payments(batch=, …)``
    ``fund_list(user=, year=)``                funds with their balances
    ``threshold_list`` / ``category_rule_list`` / ``assistance_rule_list`` (user=)

Figures per subtree (for the statistics module; plain values, no model instances)
    ``files_by(user=, dimension=, within=, states=)``          {value: count}
    ``exit_figures(user=, start=, end=, within=, level=)``     ExitFigures
    ``assistance_figures(user=, start=, end=, within=)``       [AssistanceRow]
    ``fund_usage(user=, fund=)``                               [FundUsageRow]
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.orgs.models import Union
from niangjia.relief.choices import (
    OPEN_STATES,
    AssistanceState,
    ExitKind,
    FileChannel,
    FileState,
    LedgerKind,
    MeasureState,
    PaymentState,
    WatchState,
)
from niangjia.relief.models import (
    Assistance,
    AssistanceRule,
    BatchPayment,
    CategoryRule,
    DisbursementBatch,
    FileEvent,
    Fund,
    HardshipFile,
    LedgerEntry,
    LivingThreshold,
    PlanMeasure,
    RelapseCheck,
)
from niangjia.utilities.scoping import get_scoped_or_404

COUNT_CAP = 10_000


def _today() -> datetime.date:
    return timezone.localdate()


# --- Files


@dataclass(frozen=True)
class FileFilters:
    """The workbench's filters; empty values filter nothing.

    ``cause`` matches the main cause; ``relapse`` keeps files opened after a relapse;
    ``overdue_review`` filed files past their annual review; ``exit_proposed`` files the
    system proposes to exit; ``close_overdue`` exited files past their 30 working days;
    ``within`` a union's subtree; ``q`` the start of the worker's name.
    """

    category: str = ""
    cause: str = ""
    level: str = ""
    state: str = ""
    overdue_review: bool = False
    relapse: bool = False
    exit_proposed: bool = False
    close_overdue: bool = False
    within: Union | None = None
    q: str = ""


def file_list(
    *, user: Any, filters: FileFilters | None = None, action: str = Action.VIEW
) -> QuerySet[HardshipFile]:
    """Files the user may ``action``, filtered, newest first."""
    f = filters or FileFilters()
    rows = HardshipFile.objects.restrict(user, action)
    if f.within is not None:
        rows = rows.filter(union_path__startswith=f.within.path)
    if f.category:
        rows = rows.filter(category=f.category)
    if f.cause:
        rows = rows.filter(main_cause=f.cause)
    if f.level:
        rows = rows.filter(archive_level=f.level)
    if f.state == "open":
        rows = rows.filter(state__in=sorted(OPEN_STATES))
    elif f.state:
        rows = rows.filter(state=f.state)
    today = _today()
    if f.overdue_review:
        rows = rows.filter(state=FileState.FILED, review_due_on__lt=today)
    if f.relapse:
        rows = rows.filter(relapse_of__isnull=False)
    if f.exit_proposed:
        rows = rows.filter(state=FileState.FILED).exclude(exit_proposed_kind="")
    if f.close_overdue:
        rows = rows.filter(state=FileState.EXITED, close_due_on__lt=today)
    if f.q.strip():
        rows = rows.filter(name__startswith=f.q.strip())
    return rows.select_related("union", "city_region").order_by("-id")


def file_page(
    rows: QuerySet[HardshipFile], *, offset: int = 0, limit: int = 50
) -> list[HardshipFile]:
    """One page of ``file_list`` rows, in its order: the page's ids first (on PostgreSQL an
    index-only scan of the subtree with every filter column in the index), then just those
    rows with their union and city. Much cheaper than slicing the full rows when the filters
    leave thousands of files in a province."""
    ids = list(rows.values_list("pk", flat=True)[offset : offset + limit])
    found = HardshipFile.objects.select_related("union", "city_region").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


@dataclass(frozen=True)
class RowCount:
    count: int
    capped: bool  # True: more than ``count`` rows

    def __str__(self) -> str:
        return f"{self.count:,}+" if self.capped else f"{self.count:,}"


def capped_count(rows: QuerySet[Any], *, cap: int = COUNT_CAP) -> RowCount:
    """How many rows, counting at most ``cap + 1`` of them."""
    counted = rows.order_by()[: cap + 1].count()
    return RowCount(min(counted, cap), counted > cap)


def file_detail(*, user: Any, pk: int, action: str = Action.VIEW) -> HardshipFile:
    """One file the user may see (404 out of scope, 403 without ``action``)."""
    file: HardshipFile = get_scoped_or_404(HardshipFile, user, action, pk=pk)
    return (
        HardshipFile.objects.select_related(
            "union", "city_region", "member", "relapse_of", "created_by"
        )
        .prefetch_related("household_members", "attachments", "objections")
        .get(pk=file.pk)
    )


def file_timeline(*, file: HardshipFile) -> QuerySet[FileEvent]:
    """Every line of the file's timeline (steps, assistance, payments, checks, notes)."""
    return (
        FileEvent.objects.filter(file=file)
        .select_related("assistance", "actor")
        .order_by("created_at", "id")
    )


def file_history(*, file: HardshipFile) -> list[HardshipFile]:
    """The files of the same household before and after relapses, oldest first."""
    chain = [file]
    node = file
    while node.relapse_of_id is not None and len(chain) < 20:
        previous = HardshipFile.objects.filter(pk=node.relapse_of_id).first()
        if previous is None:
            break
        chain.insert(0, previous)
        node = previous
    node = file
    while len(chain) < 40:
        following = HardshipFile.objects.filter(relapse_of=node).order_by("id").first()
        if following is None:
            break
        chain.append(following)
        node = following
    return chain


# --- Assistance, plans, relapse checks


def assistance_list(
    *,
    user: Any,
    state: str = "",
    assistance_type: str = "",
    file: HardshipFile | None = None,
    within: Union | None = None,
) -> QuerySet[Assistance]:
    rows = Assistance.objects.restrict(user, Action.VIEW)
    if state:
        rows = rows.filter(state=state)
    if assistance_type:
        rows = rows.filter(assistance_type=assistance_type)
    if file is not None:
        rows = rows.filter(file=file)
    if within is not None:
        rows = rows.filter(union_path__startswith=within.path)
    return rows.select_related("file", "fund").order_by("-date", "-id")


def approvals_waiting(*, user: Any) -> QuerySet[Assistance]:
    """Records waiting for this user: pending ones recorded by someone else (cadres), and
    those waiting for a finance officer's second approval (finance role)."""
    pending = (
        Assistance.objects.restrict(user, Action.CHANGE)
        .filter(state=AssistanceState.PENDING)
        .exclude(created_by=user)
    )
    second = (
        Assistance.objects.restrict(user, Action.APPROVE_FUNDS)
        .filter(state=AssistanceState.SECOND_PENDING)
        .exclude(Q(approved_by=user) | Q(created_by=user))
    )
    ids = pending.values("pk").union(second.values("pk"))
    return (
        Assistance.objects.filter(pk__in=ids).select_related("file", "fund").order_by("date", "id")
    )


def measure_board(
    *, user: Any, overdue_only: bool = False, within: Union | None = None, open_only: bool = True
) -> QuerySet[PlanMeasure]:
    """Plan measures the user sees (their files' and those their unions are responsible
    for), each annotated ``overdue``; soonest deadline first."""
    rows = PlanMeasure.objects.restrict(user, Action.VIEW)
    today = _today()
    active = [MeasureState.PLANNED, MeasureState.IN_PROGRESS]
    if open_only or overdue_only:
        rows = rows.filter(state__in=active)
    if overdue_only:
        rows = rows.filter(deadline__lt=today)
    if within is not None:
        rows = rows.filter(
            Q(plan__file__union_path__startswith=within.path)
            | Q(responsible_union__path__startswith=within.path)
        )
    return (
        rows.select_related("plan__file", "responsible_union")
        .annotate(overdue=Q(deadline__lt=today, state__in=active))
        .order_by("deadline", "id")
    )


def relapse_checks_due(
    *, user: Any, on: datetime.date | None = None, within: Union | None = None
) -> QuerySet[RelapseCheck]:
    rows = RelapseCheck.objects.restrict(user, Action.VIEW).filter(
        checked_on__isnull=True,
        due_on__lte=on or _today(),
        watch__state=WatchState.WATCHING,
    )
    if within is not None:
        rows = rows.filter(watch__file__union_path__startswith=within.path)
    return rows.select_related("watch__file").order_by("due_on", "id")


# --- Batches and funds


def batch_list(*, user: Any, state: str = "") -> QuerySet[DisbursementBatch]:
    rows = DisbursementBatch.objects.restrict(user, Action.VIEW)
    if state:
        rows = rows.filter(state=state)
    return rows.select_related("fund", "union").order_by("-created_at", "-id")


def batch_payments(*, batch: DisbursementBatch, state: str = "") -> QuerySet[BatchPayment]:
    """The payments of a batch the caller has already found in scope."""
    rows = BatchPayment.objects.filter(batch=batch)
    if state:
        rows = rows.filter(state=state)
    return rows.select_related("file").order_by("id")


def fund_list(*, user: Any, year: int | None = None) -> QuerySet[Fund]:
    rows = Fund.objects.restrict(user, Action.VIEW)
    if year is not None:
        rows = rows.filter(year=year)
    return rows.select_related("union", "parent").order_by("-year", "union__path", "id")


def threshold_list(*, user: Any) -> QuerySet[LivingThreshold]:
    return (
        LivingThreshold.objects.restrict(user, Action.VIEW)
        .select_related("region", "union")
        .order_by("region__code", "-year")
    )


def category_rule_list(*, user: Any) -> QuerySet[CategoryRule]:
    return (
        CategoryRule.objects.restrict(user, Action.VIEW)
        .select_related("province", "union")
        .order_by("union__path", "-valid_from")
    )


def assistance_rule_list(*, user: Any) -> QuerySet[AssistanceRule]:
    return (
        AssistanceRule.objects.restrict(user, Action.VIEW)
        .select_related("province", "union")
        .order_by("union__path", "-year", "assistance_type")
    )


# --- Figures per subtree

DIMENSIONS = {
    "category": "category",
    "cause": "main_cause",
    "level": "archive_level",
    "state": "state",
}


def _files_within(user: Any, within: Union | None) -> QuerySet[HardshipFile]:
    rows = HardshipFile.objects.restrict(user, Action.VIEW)
    if within is not None:
        rows = rows.filter(union_path__startswith=within.path)
    return rows


def files_by(
    *,
    user: Any,
    dimension: str,
    within: Union | None = None,
    states: tuple[str, ...] | None = (FileState.FILED,),
) -> dict[str, int]:
    """How many files per ``dimension`` (category, cause, level or state) in the user's
    scope (and ``within``'s subtree); by default the files on file. ``states=None``: all."""
    column = DIMENSIONS.get(dimension)
    if column is None:
        raise ValueError(f"unknown dimension {dimension!r}; one of {sorted(DIMENSIONS)}")
    rows = _files_within(user, within)
    if states is not None:
        rows = rows.filter(state__in=states)
    return dict(
        rows.order_by().values_list(column).annotate(n=Count("id")).values_list(column, "n")
    )


@dataclass(frozen=True)
class ExitFigures:
    """Households on file at some time in [start, end], how many exited in it (脱困, 解困),
    how many relapsed (a new file opened on relapse in it), and the exit rate in percent."""

    on_file: int
    exited: int
    out: int
    relieved: int
    relapsed: int

    @property
    def rate(self) -> Decimal:
        if not self.on_file:
            return Decimal("0.0")
        return (Decimal(self.exited) * 100 / self.on_file).quantize(Decimal("0.1"))


def exit_figures(
    *,
    user: Any,
    start: datetime.date,
    end: datetime.date,
    within: Union | None = None,
    level: str = "",
) -> ExitFigures:
    """Exits and relapses in [start, end]: e.g. 1,084 of 2,430 national-level households
    out of hardship in a year is 44.6 %."""
    rows = _files_within(user, within)
    if level:
        rows = rows.filter(archive_level=level)
    on_file = rows.filter(filed_on__isnull=False, filed_on__lte=end).filter(
        Q(exited_on__isnull=True) | Q(exited_on__gte=start)
    )
    exited = on_file.filter(exited_on__gte=start, exited_on__lte=end)
    counts = exited.aggregate(
        n=Count("id"),
        out=Count("id", filter=Q(exit_kind=ExitKind.OUT)),
        relieved=Count("id", filter=Q(exit_kind=ExitKind.RELIEVED)),
    )
    relapsed = rows.filter(
        channel=FileChannel.RELAPSE, applied_on__gte=start, applied_on__lte=end
    ).count()
    return ExitFigures(
        on_file=on_file.count(),
        exited=counts["n"] or 0,
        out=counts["out"] or 0,
        relieved=counts["relieved"] or 0,
        relapsed=relapsed,
    )


@dataclass(frozen=True)
class AssistanceRow:
    """Paid assistance of one type from one fund (``fund_id`` None: goods without a fund):
    money, value of goods, and person-times (one per record)."""

    assistance_type: str
    fund_id: int | None
    amount: Decimal
    in_kind_value: Decimal
    person_times: int
    households: int


def assistance_figures(
    *,
    user: Any,
    start: datetime.date,
    end: datetime.date,
    within: Union | None = None,
) -> list[AssistanceRow]:
    """Assistance given in [start, end] by type and fund, in the user's scope."""
    rows = Assistance.objects.restrict(user, Action.VIEW).filter(
        state=AssistanceState.PAID, date__gte=start, date__lte=end
    )
    if within is not None:
        rows = rows.filter(union_path__startswith=within.path)
    grouped = (
        rows.order_by()
        .values("assistance_type", "fund_id")
        .annotate(
            amount=Sum("amount"),
            goods=Sum("in_kind_value"),
            n=Count("id"),
            households=Count("file_id", distinct=True),
        )
        .order_by("assistance_type", "fund_id")
    )
    return [
        AssistanceRow(
            assistance_type=g["assistance_type"],
            fund_id=g["fund_id"],
            amount=g["amount"] or Decimal(0),
            in_kind_value=g["goods"] or Decimal(0),
            person_times=g["n"],
            households=g["households"],
        )
        for g in grouped
    ]


@dataclass(frozen=True)
class FundUsageRow:
    """One fund of the tree under (and including) a fund: what came in, what was allocated
    down, what was paid out (net of reversals), and the balance."""

    fund_id: int
    union_id: int
    union_name: str
    depth: int
    received: Decimal
    allocated: Decimal
    paid: Decimal
    balance: Decimal


def fund_usage(*, user: Any, fund: Fund) -> list[FundUsageRow]:
    """The usage report of ``fund`` and the funds allocated from it, down the tree, as far
    as the user sees them; in tree order."""
    visible = Fund.objects.restrict(user, Action.VIEW)
    tree: list[Fund] = []
    level = [fund]
    while level and len(tree) < 10_000:
        tree.extend(level)
        level = list(visible.filter(parent__in=level).select_related("union"))
    ids = [f.pk for f in tree]
    sums: dict[tuple[int, str], Decimal] = {
        (row["fund_id"], row["kind"]): row["total"] or Decimal(0)
        for row in LedgerEntry.objects.filter(fund_id__in=ids)
        .order_by()
        .values("fund_id", "kind")
        .annotate(total=Sum("amount"))
    }
    base_depth = fund.union.depth

    def total(pk: int, *kinds: str) -> Decimal:
        return sum((sums.get((pk, k), Decimal(0)) for k in kinds), Decimal(0))

    result = [
        FundUsageRow(
            fund_id=f.pk,
            union_id=f.union_id,
            union_name=f.union.name,
            depth=f.union.depth - base_depth,
            received=total(f.pk, LedgerKind.INCOME, LedgerKind.ALLOCATION_IN),
            allocated=-total(f.pk, LedgerKind.ALLOCATION_OUT),
            paid=-total(f.pk, LedgerKind.PAYMENT, LedgerKind.REVERSAL),
            balance=f.balance,
        )
        for f in tree
    ]
    return sorted(result, key=lambda r: (r.depth, r.union_name))


def batch_summary(*, batch: DisbursementBatch) -> dict[str, Any]:
    """Counts and sums of a batch's payments by state."""
    rows = (
        BatchPayment.objects.filter(batch=batch)
        .order_by()
        .values("state")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    summary: dict[str, Any] = {
        state: {"count": 0, "amount": Decimal(0)} for state in PaymentState.values
    }
    for row in rows:
        summary[row["state"]] = {"count": row["n"], "amount": row["total"] or Decimal(0)}
    return summary
