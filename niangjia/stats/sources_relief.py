"""Counting the hardship-relief measures from the raw tables (see ``niangjia.stats.sources``).

Files, their exits and relapses are anchored on the file's union (the union that checked it);
assistance on the union of the household's file; a fund's balance on the union holding it.
Money is counted in fen (1/100 yuan), so that every stored figure is an integer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncMonth

from niangjia.orgs.models import Union
from niangjia.relief.choices import AssistanceState, FileState
from niangjia.relief.models import Assistance, Fund, HardshipFile
from niangjia.stats.sources import (
    Key,
    Own,
    StockFamily,
    _collect,
    _month,
    _total,
    counted_q,
    register_family,
)

NO_FUND = "none"


def fen(amount: Decimal | int | None) -> int:
    return int((Decimal(amount or 0) * 100).to_integral_value())


class HardshipFileFamily(StockFamily):
    """Household files: those on file (在档) by category, cause and archive level; all files
    by state."""

    def __init__(self) -> None:
        super().__init__("hardship_files", ("hardship_files", "hardship_files_state"))

    @staticmethod
    def keys(state: str, category: str, cause: str, level: str) -> list[Key]:
        keys: list[Key] = [
            ("hardship_files_state", "", ""),
            ("hardship_files_state", f"file_state={state}", ""),
        ]
        if state == FileState.FILED:
            keys += [
                ("hardship_files", "", ""),
                ("hardship_files", f"category={category or 'none'}", ""),
                ("hardship_files", f"cause={cause}", ""),
                ("hardship_files", f"archive_level={level}", ""),
            ]
        return keys

    def _rows(self, queryset: QuerySet[HardshipFile], by_union: bool) -> Iterator[Any]:
        fields = ["state", "category", "main_cause", "archive_level"]
        if by_union:
            fields.insert(0, "union_id")
        for row in queryset.order_by().values_list(*fields).annotate(n=Count("pk")):
            anchor = row[0] if by_union else None
            state, category, cause, level, n = row[-5:]
            yield anchor, self.keys(state, category, cause, level), n

    def per_union(self, union_ids: Collection[int] | None = None) -> Own:
        queryset = HardshipFile.objects.all()
        if union_ids is not None:
            queryset = queryset.filter(union_id__in=list(union_ids))
        return _collect(self._rows(queryset, True))

    def subtree(self, node: Union) -> Any:
        queryset = HardshipFile.objects.filter(
            counted_q(node, union_field="union", path_field="union_path")
        )
        return _total(self._rows(queryset, False))


class HardshipFlowFamily(StockFamily):
    """Per month: files newly on file (by their filing date), exits from hardship (by the exit
    date, 脱困 or 解困) and relapses (a new file opened for an exited household, by the day the
    relapse was found)."""

    def __init__(self) -> None:
        super().__init__(
            "hardship_flows", ("hardship_filed", "hardship_exits", "hardship_relapses")
        )

    def _rows(self, queryset: QuerySet[HardshipFile], by_union: bool) -> Iterator[Any]:
        anchor = ["union_id"] if by_union else []
        filed = (
            queryset.filter(filed_on__isnull=False)
            .annotate(month=TruncMonth("filed_on"))
            .order_by()
            .values_list(*anchor, "month")
            .annotate(n=Count("pk"))
        )
        for row in filed:
            yield (row[0] if by_union else None), [("hardship_filed", "", _month(row[-2]))], row[-1]
        exits = (
            queryset.filter(exited_on__isnull=False)
            .annotate(month=TruncMonth("exited_on"))
            .order_by()
            .values_list(*anchor, "exit_kind", "month")
            .annotate(n=Count("pk"))
        )
        for row in exits:
            month = _month(row[-2])
            keys: list[Key] = [
                ("hardship_exits", "", month),
                ("hardship_exits", f"exit_kind={row[-3]}", month),
            ]
            yield (row[0] if by_union else None), keys, row[-1]
        relapses = (
            queryset.filter(relapse_of__isnull=False, applied_on__isnull=False)
            .annotate(month=TruncMonth("applied_on"))
            .order_by()
            .values_list(*anchor, "month")
            .annotate(n=Count("pk"))
        )
        for row in relapses:
            month = _month(row[-2])
            yield (row[0] if by_union else None), [("hardship_relapses", "", month)], row[-1]

    def per_union(self, union_ids: Collection[int] | None = None) -> Own:
        queryset = HardshipFile.objects.all()
        if union_ids is not None:
            queryset = queryset.filter(union_id__in=list(union_ids))
        return _collect(self._rows(queryset, True))

    def subtree(self, node: Union) -> Any:
        queryset = HardshipFile.objects.filter(
            counted_q(node, union_field="union", path_field="union_path")
        )
        return _total(self._rows(queryset, False))


class AssistanceFamily(StockFamily):
    """Assistance given (发放) per month of its date: amount (money plus the value of goods, in
    fen) and person-times, by type and by the source of the fund it was paid from."""

    def __init__(self) -> None:
        super().__init__("assistance", ("assistance_amount", "assistance_times"))

    def _rows(self, queryset: QuerySet[Assistance], by_union: bool) -> Iterator[Any]:
        anchor = ["file__union_id"] if by_union else []
        grouped = (
            queryset.filter(state=AssistanceState.PAID)
            .annotate(month=TruncMonth("date"))
            .order_by()
            .values_list(*anchor, "assistance_type", "fund__source", "month")
            .annotate(n=Count("pk"), value=Sum(F("amount") + F("in_kind_value")))
        )
        for row in grouped:
            kind, source, month_value, n, value = row[-5:]
            month = _month(month_value)
            cuts = ["", f"assistance_type={kind}", f"fund_source={source or NO_FUND}"]
            union_id = row[0] if by_union else None
            yield union_id, [("assistance_times", cut, month) for cut in cuts], n
            yield union_id, [("assistance_amount", cut, month) for cut in cuts], fen(value)

    def per_union(self, union_ids: Collection[int] | None = None) -> Own:
        queryset = Assistance.objects.all()
        if union_ids is not None:
            queryset = queryset.filter(file__union_id__in=list(union_ids))
        return _collect(self._rows(queryset, True))

    def subtree(self, node: Union) -> Any:
        queryset = Assistance.objects.filter(
            counted_q(node, union_field="file__union", path_field="union_path")
        )
        return _total(self._rows(queryset, False))


class FundFamily(StockFamily):
    """Relief fund balances, on the union holding each fund, by the fund's source."""

    def __init__(self) -> None:
        super().__init__("funds", ("fund_balance",))

    def _rows(self, queryset: QuerySet[Fund], by_union: bool) -> Iterator[Any]:
        anchor = ["union_id"] if by_union else []
        grouped = (
            queryset.order_by().values_list(*anchor, "source").annotate(balance=Sum("balance"))
        )
        for row in grouped:
            source, balance = row[-2:]
            keys: list[Key] = [
                ("fund_balance", "", ""),
                ("fund_balance", f"fund_source={source}", ""),
            ]
            yield (row[0] if by_union else None), keys, fen(balance)

    def per_union(self, union_ids: Collection[int] | None = None) -> Own:
        queryset = Fund.objects.all()
        if union_ids is not None:
            queryset = queryset.filter(union_id__in=list(union_ids))
        return _collect(self._rows(queryset, True))

    def subtree(self, node: Union) -> Any:
        return _total(self._rows(Fund.objects.filter(counted_q(node, union_field="union")), False))


def register() -> None:
    for family in (HardshipFileFamily(), HardshipFlowFamily(), AssistanceFamily(), FundFamily()):
        register_family(family)
