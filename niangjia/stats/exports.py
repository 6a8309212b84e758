"""Spreadsheet exports of the statistics pages: every figure and table, and the annual return.

Each export checks ``Action.EXPORT`` on the node, builds the same figures the page shows
(``niangjia.stats.dashboard``, ``niangjia.stats.annual_return``), streams them into an xlsx file
(``niangjia.utilities.xlsx``) and writes one audit row with the table, the period, the row
count and the file's SHA-256, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.models import Union
from niangjia.stats import annual_return, dashboard, registry, selectors
from niangjia.stats.periods import Period
from niangjia.utilities.scoping import require
from niangjia.utilities.xlsx import XlsxFile, write_xlsx

# The tables of a dashboard that can be exported, with their Chinese names.
TABLES = {
    "figures": "主要指标",
    "trend": "趋势",
    "breakdowns": "分类构成",
    "children": "下级工会",
    "map": "地区分布",
}


def _raw(value: Any) -> Any:
    return "—" if value is None else value


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M%S")


def _figures(node: Union, period: Period) -> tuple[list[str], list[int], Iterator[Sequence[Any]]]:
    figures, result = dashboard.key_figures(node, period)
    headers = [
        "指标",
        "单位",
        period.label,
        result["previous_period"]["label"],
        "环比",
        result["year_ago_period"]["label"],
        "同比",
    ]
    by_code = {item["code"]: item for item in result["figures"]}

    def rows() -> Iterator[Sequence[Any]]:
        for f in figures:
            item = by_code[f.code]
            yield (
                f.name,
                f.unit,
                _raw(item["value"]),
                _raw(item["previous"]),
                f.change_text,
                _raw(item["year_ago"]),
                f.year_change_text,
            )

    return headers, [28, 8, 16, 16, 22, 16, 22], rows()


def _trend(node: Union, period: Period) -> tuple[list[str], list[int], Iterator[Sequence[Any]]]:
    trend = dashboard.trend(node, period)
    headers = ["期间", *(f"{s['name']}（{s['unit']}）" for s in trend["series"])]

    def rows() -> Iterator[Sequence[Any]]:
        for index, label in enumerate(trend["labels"]):
            yield (label, *(_raw(s["values"][index]) for s in trend["series"]))

    return headers, [24, *([16] * len(trend["series"]))], rows()


def _breakdowns(
    node: Union, period: Period
) -> tuple[list[str], list[int], Iterator[Sequence[Any]]]:
    parts = dashboard.breakdowns(node, period)

    def rows() -> Iterator[Sequence[Any]]:
        for part in parts:
            for item in part["items"]:
                yield (part["title"], item["name"], _raw(item["value"]), part["unit"])
            yield (part["title"], "合计", _raw(part["total"]), part["unit"])

    return ["分类", "项目", "数值", "单位"], [36, 24, 14, 8], rows()


def _children(node: Union, period: Period) -> tuple[list[str], list[int], Iterator[Sequence[Any]]]:
    columns = [registry.get(code) for code in dashboard.available(dashboard.CHILD_COLUMNS)]
    children, totals, _count = dashboard.children_table(
        node, period, [c.code for c in columns], limit=None
    )
    headers = ["工会", "层级", "类型", "所在行政区划", *(f"{c.name}（{c.unit}）" for c in columns)]

    def rows() -> Iterator[Sequence[Any]]:
        for child in children:
            yield (
                child["name"],
                child["level_label"],
                child["kind_label"],
                child["region_name"] or "",
                *(_raw(child["values"].get(c.code)) for c in columns),
            )
        yield (
            f"{node.name}（合计）",
            node.get_level_display(),
            node.get_kind_display(),
            node.region.name if node.region is not None else "",
            *(_raw(totals.get(c.code)) for c in columns),
        )

    return headers, [36, 10, 14, 20, *([14] * len(columns))], rows()


def _map(
    node: Union, period: Period, indicator: str
) -> tuple[list[str], list[int], Iterator[Sequence[Any]]]:
    choices = dashboard.available(dashboard.MAP_INDICATORS)
    code = indicator if indicator in choices else (choices[0] if choices else "")
    if not code:
        return ["行政区划代码", "地区", "工会", "数值"], [14, 20, 36, 14], iter(())
    chosen = registry.get(code)
    result = selectors.children_breakdown(node=node, indicator=code, period=period)

    def rows() -> Iterator[Sequence[Any]]:
        for child in result["children"]:
            if child["region_code"]:
                yield (
                    child["region_code"],
                    child["region_name"],
                    child["name"],
                    _raw(child["value"]),
                )

    headers = ["行政区划代码", "地区", "工会", f"{chosen.name}（{chosen.unit}）"]
    return headers, [14, 20, 36, 16], rows()


@transaction.atomic
def export_table(
    *, acting_user: Any, node: Union, period: Period, table: str, indicator: str = ""
) -> tuple[XlsxFile, str]:
    """One table of ``node``'s dashboard for ``period`` as a spreadsheet."""
    require(acting_user, Action.EXPORT, node)
    if table == "figures":
        headers, widths, rows = _figures(node, period)
    elif table == "trend":
        headers, widths, rows = _trend(node, period)
    elif table == "breakdowns":
        headers, widths, rows = _breakdowns(node, period)
    elif table == "children":
        headers, widths, rows = _children(node, period)
    elif table == "map":
        headers, widths, rows = _map(node, period, indicator)
    else:
        raise ValueError(f"unknown table {table!r}")
    name = TABLES[table]
    xfile = write_xlsx(title=name, headers=headers, rows=rows, widths=widths)
    filename = f"{node.name}-{name}-{period.code}-{_stamp()}.xlsx"
    record(
        action=AuditAction.EXPORT,
        actor=acting_user,
        obj=node,
        detail={
            "export": f"stats_{table}",
            "period": period.code,
            "indicator": indicator,
            "rows": xfile.rows,
            "sha256": xfile.sha256,
            "bytes": xfile.size,
            "filename": filename,
        },
    )
    return xfile, filename


@transaction.atomic
def export_annual_return(
    *, acting_user: Any, node: Union, period: Period
) -> tuple[XlsxFile, str, annual_return.AnnualReturn]:
    """The annual statistical return of ``node`` for the statistical year ``period``."""
    require(acting_user, Action.EXPORT, node)
    result = annual_return.build(node=node, period=period)
    headers, rows = annual_return.sheet_rows(result)
    widths = [36, 12, *([14] * (len(headers) - 2))]
    xfile = write_xlsx(title=f"{period.year}统计年报", headers=headers, rows=rows, widths=widths)
    filename = f"{node.name}-{period.year}统计年度工会统计年报-{_stamp()}.xlsx"
    record(
        action=AuditAction.EXPORT,
        actor=acting_user,
        obj=node,
        detail={
            "export": "stats_annual_return",
            "period": period.code,
            "checks_failed": len(result.checks),
            "rows": xfile.rows,
            "sha256": xfile.sha256,
            "bytes": xfile.size,
            "filename": filename,
        },
    )
    return xfile, filename, result
