"""Counting the measures from the raw tables.

Every measure is anchored on one union per row of its source table (a member on its union, an
employer on the union it is registered with or the union covering it, an event on the union it
happened at). Each family below counts its measures either per anchor union (``per_union``:
what the folder stores as a union's own contribution, for some unions or for all) or over a
node's counted subtree at once (``subtree``: the direct recount that ``stats-verify`` and the
naive benchmark use). Both run the same filters; only the grouping differs.

A figure is keyed ``(measure, dims, period)``: ``dims`` is ``""`` for the total or
``dimension=value`` for one cut, ``period`` is ``""`` for a stock's current value or
``YYYY-MM`` for a month of a flow.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth

from niangjia.members.choices import (
    HOLDING_STATUSES,
    ApplicationStatus,
    EmploymentForm,
    MemberStatus,
)
from niangjia.members.models import JoinApplication, Member, MemberEvent
from niangjia.orgs.choices import EmployerStatus, UnionKind, UnionStatus
from niangjia.orgs.models import Employer, Union
from niangjia.stats.periods import month_key

Key = tuple[str, str, str]  # (measure, dims, period)
Own = dict[int, Counter[Key]]  # anchor union id -> its figures

# Members who hold a membership; leaving (退会) and death end it.
ENDED_STATUSES = (MemberStatus.LEFT, MemberStatus.DECEASED)
# Unions whose members work at the employers they cover.
WORKPLACE_KINDS = (UnionKind.GRASSROOTS, UnionKind.JOINT)


def formation_min_staff() -> int:
    """N of the formation rate: employers with at least N staff should have a union."""
    return int(settings.STATS_FORMATION_MIN_STAFF)


# --- Which rows lie in a node's counted subtree


def linked_outside(node: Union) -> list[int]:
    """Unions counted under ``node`` only through their industry union (not by path)."""
    return list(
        Union.objects.filter(industry_union__path__startswith=node.path)
        .exclude(path__startswith=node.path)
        .order_by()
        .values_list("pk", flat=True)
    )


def counted_q(node: Union, *, union_field: str, path_field: str | None = None) -> Q:
    """Rows anchored (by ``union_field``) on a union of ``node.counted_subtree()``: by path,
    plus the unions linked to an industry union under ``node``. The two parts are disjoint
    and each uses its own index."""
    if path_field is not None:
        by_path = Q(**{f"{path_field}__startswith": node.path})
    else:
        subtree = Union.objects.filter(path__startswith=node.path).order_by().values("pk")
        by_path = Q(**{f"{union_field}__in": subtree})
    linked = linked_outside(node)
    return by_path | Q(**{f"{union_field}__in": linked}) if linked else by_path


# --- Families of stock measures


@dataclass(frozen=True)
class StockFamily:
    """Stock measures (current values) counted from one table."""

    name: str
    measures: tuple[str, ...]

    def per_union(self, union_ids: Collection[int] | None = None) -> Own:
        raise NotImplementedError

    def subtree(self, node: Union) -> Counter[Key]:
        raise NotImplementedError


def _collect(rows: Iterable[tuple[int | None, list[Key], int]]) -> Own:
    own: Own = defaultdict(Counter)
    for union_id, keys, value in rows:
        if union_id is None or not value:
            continue
        counter = own[union_id]
        for key in keys:
            counter[key] += value
    return own


def _total(rows: Iterable[tuple[Any, list[Key], int]]) -> Counter[Key]:
    total: Counter[Key] = Counter()
    for _anchor, keys, value in rows:
        for key in keys:
            total[key] += value
    return total


class MemberFamily(StockFamily):
    """Members holding a membership (在会、转接中、保留会籍), on their union."""

    def __init__(self) -> None:
        super().__init__("members", ("members", "members_covered"))

    @staticmethod
    def keys(status: str, household: str, form: str, occupation: str, kind: str) -> list[Key]:
        keys: list[Key] = [
            ("members", "", ""),
            ("members", f"status={status}", ""),
            ("members", f"household={household}", ""),
            ("members", f"employment_form={form}", ""),
        ]
        if form == EmploymentForm.GIG and occupation:
            keys.append(("members", f"gig_occupation={occupation}", ""))
        if kind in WORKPLACE_KINDS and form == EmploymentForm.STANDARD:
            keys.append(("members_covered", "", ""))
        return keys

    def _rows(
        self, queryset: QuerySet[Member], by_union: bool
    ) -> Iterator[tuple[Any, list[Key], int]]:
        fields = ["status", "household", "employment_form", "gig_occupation", "union__kind"]
        if by_union:
            fields.insert(0, "union_id")
        grouped = (
            queryset.filter(status__in=HOLDING_STATUSES)
            .order_by()
            .values_list(*fields)
            .annotate(n=Count("pk"))
        )
        for row in grouped:
            anchor = row[0] if by_union else None
            status, household, form, occupation, kind, n = row[1:] if by_union else (*row,)
            yield anchor, self.keys(status, household, form, occupation, kind), n

    def per_union(self, union_ids: Collection[int] | None = None) -> Own:
        queryset = Member.objects.all()
        if union_ids is not None:
            queryset = queryset.filter(union_id__in=list(union_ids))
        return _collect(self._rows(queryset, True))

    def subtree(self, node: Union) -> Counter[Key]:
        queryset = Member.objects.filter(
            counted_q(node, union_field="union", path_field="union_path")
        )
        return _total(self._rows(queryset, False))


class ApplicationFamily(StockFamily):
    """Join applications waiting for a decision, on the union applied to, by due date (an
    application is overdue once its due date has passed; see the registry)."""

    def __init__(self) -> None:
        super().__init__("applications", ("applications_pending",))

    @staticmethod
    def keys(due: datetime.date) -> list[Key]:
        return [("applications_pending", "", ""), ("applications_pending", f"due={due}", "")]

    def _rows(self, queryset: QuerySet[JoinApplication], by_union: bool) -> Iterator[Any]:
        fields = ["union_id", "due_date"] if by_union else ["due_date"]
        grouped = (
            queryset.filter(status=ApplicationStatus.SUBMITTED)
            .order_by()
            .values_list(*fields)
            .annotate(n=Count("pk"))
        )
        for row in grouped:
            yield (row[0] if by_union else None), self.keys(row[-2]), row[-1]

    def per_union(self, union_ids: Collection[int] | None = None) -> Own:
        queryset = JoinApplication.objects.all()
        if union_ids is not None:
            queryset = queryset.filter(union_id__in=list(union_ids))
        return _collect(self._rows(queryset, True))

    def subtree(self, node: Union) -> Counter[Key]:
        queryset = JoinApplication.objects.filter(
            counted_q(node, union_field="union", path_field="union_path")
        )
        return _total(self._rows(queryset, False))


def _sized() -> Case:
    return Case(
        When(headcount__gte=formation_min_staff(), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


class RegisteredEmployerFamily(StockFamily):
    """Employers in business (存续), on the union they are registered with (``owner``)."""

    def __init__(self) -> None:
        super().__init__("employers", ("employers", "employers_sized"))

    @staticmethod
    def keys(section: str, sized: int) -> list[Key]:
        keys: list[Key] = [("employers", "", ""), ("employers", f"section={section}", "")]
        if sized:
            keys += [("employers_sized", "", ""), ("employers_sized", f"section={section}", "")]
        return keys

    def _rows(self, queryset: QuerySet[Employer], by_union: bool) -> Iterator[Any]:
        fields = (
            ["owner_id", "industry_section", "sized"]
            if by_union
            else [
                "industry_section",
                "sized",
            ]
        )
        grouped = (
            queryset.filter(status=EmployerStatus.ACTIVE)
            .annotate(sized=_sized())
            .order_by()
            .values_list(*fields)
            .annotate(n=Count("pk"))
        )
        for row in grouped:
            yield (row[0] if by_union else None), self.keys(row[-3], row[-2]), row[-1]

    def per_union(self, union_ids: Collection[int] | None = None) -> Own:
        queryset = Employer.objects.all()
        if union_ids is not None:
            queryset = queryset.filter(owner_id__in=list(union_ids))
        return _collect(self._rows(queryset, True))

    def subtree(self, node: Union) -> Counter[Key]:
        queryset = Employer.objects.filter(counted_q(node, union_field="owner"))
        return _total(self._rows(queryset, False))


class CoveredEmployerFamily(StockFamily):
    """Employers in business with a union (已建会), on the union covering them; with their
    headcount, the denominator of the membership rate."""

    def __init__(self) -> None:
        super().__init__(
            "covered",
            ("employers_organised", "employers_organised_sized", "covered_headcount"),
        )

    def _rows(self, queryset: QuerySet[Employer], by_union: bool) -> Iterator[Any]:
        fields = ["industry_section", "sized"]
        if by_union:
            fields.insert(0, "covering_union_id")
        grouped = (
            queryset.filter(status=EmployerStatus.ACTIVE, covering_union__isnull=False)
            .annotate(sized=_sized())
            .order_by()
            .values_list(*fields)
            .annotate(n=Count("pk"), staff=Sum("headcount"))
        )
        for row in grouped:
            anchor = row[0] if by_union else None
            section, sized, n, staff = row[-4:]
            organised: list[Key] = [
                ("employers_organised", "", ""),
                ("employers_organised", f"section={section}", ""),
            ]
            if sized:
                organised += [
                    ("employers_organised_sized", "", ""),
                    ("employers_organised_sized", f"section={section}", ""),
                ]
            yield anchor, organised, n
            yield (
                anchor,
                [("covered_headcount", "", ""), ("covered_headcount", f"section={section}", "")],
                staff or 0,
            )

    def per_union(self, union_ids: Collection[int] | None = None) -> Own:
        queryset = Employer.objects.all()
        if union_ids is not None:
            queryset = queryset.filter(covering_union_id__in=list(union_ids))
        return _collect(self._rows(queryset, True))

    def subtree(self, node: Union) -> Counter[Key]:
        queryset = Employer.objects.filter(counted_q(node, union_field="covering_union"))
        return _total(self._rows(queryset, False))


class UnionFamily(StockFamily):
    """Unions in existence (存续), each counting itself."""

    def __init__(self) -> None:
        super().__init__("unions", ("unions",))

    @staticmethod
    def keys(level: str, kind: str) -> list[Key]:
        return [
            ("unions", "", ""),
            ("unions", f"level={level}", ""),
            ("unions", f"kind={kind}", ""),
        ]

    def _rows(self, queryset: QuerySet[Union], by_union: bool) -> Iterator[Any]:
        active = queryset.filter(status=UnionStatus.ACTIVE).order_by()
        if by_union:
            for pk, level, kind in active.values_list("pk", "level", "kind"):
                yield pk, self.keys(level, kind), 1
            return
        for level, kind, n in active.values_list("level", "kind").annotate(n=Count("pk")):
            yield None, self.keys(level, kind), n

    def per_union(self, union_ids: Collection[int] | None = None) -> Own:
        queryset = Union.objects.all()
        if union_ids is not None:
            queryset = queryset.filter(pk__in=list(union_ids))
        return _collect(self._rows(queryset, True))

    def subtree(self, node: Union) -> Counter[Key]:
        return _total(self._rows(node.counted_subtree(), False))


STOCK_FAMILIES: list[StockFamily] = [
    UnionFamily(),
    RegisteredEmployerFamily(),
    CoveredEmployerFamily(),
    MemberFamily(),
    ApplicationFamily(),
]


def register_family(family: StockFamily) -> None:
    """Later modules (relief …) add their families here, through the same engine."""
    if all(f.name != family.name for f in STOCK_FAMILIES):
        STOCK_FAMILIES.append(family)


# --- Flows from the membership history (MemberEvent, append-only)


def event_keys(kind: str, from_status: str, to_status: str, month: str) -> list[Key]:
    """The flows one membership event counts in, at the union it happened at. (A transfer
    also counts as a transfer out at the union the member came from: ``transfer_out_key``.)"""
    if kind == MemberEvent.Kind.JOINED:
        return [("joins", "", month)]
    if kind == MemberEvent.Kind.TRANSFER_IN:
        return [("transfers_in", "", month)]
    if (
        kind == MemberEvent.Kind.STATUS
        and from_status in HOLDING_STATUSES
        and to_status in ENDED_STATUSES
    ):
        return [("leavings", "", month), ("leavings", f"to_status={to_status}", month)]
    return []


def transfer_out_key(month: str) -> Key:
    return ("transfers_out", "", month)


def _from_union() -> Subquery:
    """For a transfer-in event: the union of the member's transfer-out just before it."""
    return Subquery(
        MemberEvent.objects.filter(
            member_id=OuterRef("member_id"),
            kind=MemberEvent.Kind.TRANSFER_OUT,
            pk__lt=OuterRef("pk"),
        )
        .order_by("-pk")
        .values("union_id")[:1]
    )


def _month(value: datetime.date | datetime.datetime) -> str:
    return month_key(value.date() if isinstance(value, datetime.datetime) else value)


def event_flow_selects(vendor: str) -> list[str]:
    """The flows of ``event_keys`` and ``transfer_out_key`` for the whole table at once, as SQL
    giving (union, measure, dims, month, count) rows: what a rebuild adds up without reading
    millions of rows into Python. (The tests check that a rebuild and the folds agree.)"""
    table = MemberEvent._meta.db_table
    month = "to_char(e.date, 'YYYY-MM')" if vendor == "postgresql" else "strftime('%Y-%m', e.date)"
    holding = ", ".join(f"'{s}'" for s in HOLDING_STATUSES)
    ended = ", ".join(f"'{s}'" for s in ENDED_STATUSES)
    kinds = MemberEvent.Kind
    leaving = (
        f"e.kind = '{kinds.STATUS}' AND e.from_status IN ({holding}) AND e.to_status IN ({ended})"
    )
    earlier_out = (
        f"(SELECT o.union_id FROM {table} o WHERE o.member_id = e.member_id "  # noqa: S608
        f"AND o.kind = '{kinds.TRANSFER_OUT}' AND o.id < e.id ORDER BY o.id DESC LIMIT 1)"
    )
    return [
        f"SELECT e.union_id, 'joins', '', {month}, count(*) FROM {table} e "  # noqa: S608
        f"WHERE e.kind = '{kinds.JOINED}' GROUP BY e.union_id, {month}",
        f"SELECT e.union_id, 'transfers_in', '', {month}, count(*) FROM {table} e "  # noqa: S608
        f"WHERE e.kind = '{kinds.TRANSFER_IN}' GROUP BY e.union_id, {month}",
        f"SELECT e.union_id, 'leavings', '', {month}, count(*) FROM {table} e "  # noqa: S608
        f"WHERE {leaving} GROUP BY e.union_id, {month}",
        f"SELECT e.union_id, 'leavings', 'to_status=' || e.to_status, {month}, count(*) "  # noqa: S608
        f"FROM {table} e WHERE {leaving} GROUP BY e.union_id, e.to_status, {month}",
        "SELECT f.union_id, 'transfers_out', '', f.month, count(*) FROM "  # noqa: S608
        f"(SELECT {earlier_out} AS union_id, {month} AS month FROM {table} e "
        f"WHERE e.kind = '{kinds.TRANSFER_IN}') f "
        "WHERE f.union_id IS NOT NULL GROUP BY f.union_id, f.month",
    ]


def event_flows_subtree(node: Union) -> Counter[Key]:
    total: Counter[Key] = Counter()
    grouped = (
        MemberEvent.objects.filter(counted_q(node, union_field="union"))
        .order_by()
        .annotate(month=TruncMonth("date"))
        .values_list("kind", "from_status", "to_status", "month")
        .annotate(n=Count("pk"))
    )
    for kind, from_status, to_status, month, n in grouped:
        for key in event_keys(kind, from_status, to_status, _month(month)):
            total[key] += n
    subtree = Union.objects.filter(path__startswith=node.path).order_by().values("pk")
    linked = linked_outside(node)
    inside = (
        Q(from_union__in=subtree) | Q(from_union__in=linked)
        if linked
        else Q(from_union__in=subtree)
    )
    transfers = (
        MemberEvent.objects.filter(kind=MemberEvent.Kind.TRANSFER_IN)
        .order_by()
        .annotate(from_union=_from_union(), month=TruncMonth("date"))
        .filter(inside)
        .values_list("month")
        .annotate(n=Count("pk"))
    )
    for month, n in transfers:
        total[transfer_out_key(_month(month))] += n
    return total


# --- Everything for one node, straight from the raw tables


def recount(node: Union) -> Counter[Key]:
    """Every stored figure of ``node`` counted directly over its counted subtree: what the
    folder must have arrived at. Zero figures are left out."""
    total: Counter[Key] = Counter()
    for family in STOCK_FAMILIES:
        total.update(family.subtree(node))
    total.update(event_flows_subtree(node))
    return +total
