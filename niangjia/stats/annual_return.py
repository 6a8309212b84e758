"""The annual statistical return (工会统计年报) of one union node for one statistical year.

The statistical year runs from 1 October to 30 September (``Period`` kind ``stat_year``). The
return has two tables, each with one row per child union of the node and the node's total:

- 表一 基层工会情况: grassroots unions, employers and union formation, members (migrant, gig),
  the membership rate, and the joins and leavings of the year;
- 表二 基层以上工会情况: the unions above grassroots, by level, and the industry unions.

Every column is an indicator of the registry (``niangjia.stats.registry``), read through the
figure selectors; a column may take one cut of its indicator (unions at one level). Stocks are
their values at the end of the statistical year (the current value while the year runs; ``—``
for a past year when the value cannot be derived from the recorded flows).

Totals are checked level by level: no child's figure may exceed the node's total for that
column (a union is counted once at each level, so a part never exceeds its whole), and the
unions above grassroots by level add up to the total above grassroots. A failed check is
listed with the figures involved, marked in the table and written into the spreadsheet: it is
never hidden. Each child row links to the child's own return, where the next level is checked.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from niangjia.orgs.choices import UnionLevel
from niangjia.orgs.models import Union
from niangjia.stats import registry, selectors
from niangjia.stats.dashboard import display
from niangjia.stats.periods import STAT_YEAR, Period


@dataclass(frozen=True)
class Column:
    """One column: an indicator (and optionally one of its cuts) or a difference of two."""

    header: str
    indicator: str = ""
    cut: str = ""  # "dimension=value"
    minus: tuple[str, str] = ("", "")  # (indicator, indicator): the first less the second
    unit: str = ""

    @property
    def key(self) -> str:
        if self.minus[0]:
            return f"{self.minus[0]}-{self.minus[1]}"
        return f"{self.indicator}[{self.cut}]" if self.cut else self.indicator

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c for c in (self.indicator, *self.minus) if c)

    @property
    def additive(self) -> bool:
        """A count that can be compared between a part and its whole (not a rate, not a
        net change that may be negative)."""
        return self.unit != "%" and self.indicator != "members_net"


@dataclass(frozen=True)
class Table:
    code: str
    title: str
    columns: tuple[Column, ...]
    # Only unions above grassroots have rows of their own in this table.
    above_grassroots_only: bool = False


TABLE_ONE = Table(
    "grassroots",
    "表一 基层工会情况",
    (
        Column("基层工会数（个）", "grassroots_unions"),
        Column("用人单位数（家）", "employers"),
        Column("应建会单位数（家）", "employers_sized"),
        Column("应建会单位中已建会（家）", "employers_organised_sized"),
        Column("建会率", "formation_rate", unit="%"),
        Column("已建会单位数（家）", "employers_organised"),
        Column("已建会单位职工数（人）", "covered_headcount"),
        Column("会员数（人）", "members"),
        Column("其中农民工会员（人）", "migrant_members"),
        Column("新就业形态会员（人）", "gig_members"),
        Column("入会率", "membership_rate", unit="%"),
        Column("本年度入会（人）", "joins"),
        Column("本年度退会（人）", "leavings"),
    ),
)

TABLE_TWO = Table(
    "above",
    "表二 基层以上工会情况",
    (
        Column("工会总数（个）", "unions"),
        Column("基层以上工会（个）", minus=("unions", "grassroots_unions")),
        Column("全国级（个）", "unions", cut=f"level={UnionLevel.NATIONAL.value}"),
        Column("省级（个）", "unions", cut=f"level={UnionLevel.PROVINCE.value}"),
        Column("市级（个）", "unions", cut=f"level={UnionLevel.CITY.value}"),
        Column("县级（个）", "unions", cut=f"level={UnionLevel.COUNTY.value}"),
        Column("乡镇（街道）（个）", "unions", cut=f"level={UnionLevel.TOWNSHIP.value}"),
        Column("其中产业工会（个）", "unions", cut="kind=industry"),
    ),
    above_grassroots_only=True,
)

TABLES = (TABLE_ONE, TABLE_TWO)
LEVEL_PARTS = ("全国级（个）", "省级（个）", "市级（个）", "县级（个）", "乡镇（街道）（个）")


def _units(table: Table) -> Table:
    """The table with each column's unit taken from the registry."""
    columns = []
    for column in table.columns:
        code = column.indicator or column.minus[0]
        unit = registry.get(code).unit if code in registry.BY_CODE else column.unit
        columns.append(
            Column(column.header, column.indicator, column.cut, column.minus, unit or column.unit)
        )
    return Table(table.code, table.title, tuple(columns), table.above_grassroots_only)


def columns_available(table: Table) -> Table:
    cols = tuple(c for c in table.columns if all(code in registry.BY_CODE for code in c.codes))
    return _units(Table(table.code, table.title, cols, table.above_grassroots_only))


@dataclass
class Row:
    union_id: int
    name: str
    level_label: str
    values: dict[str, Any]
    is_total: bool = False
    failed: set[str] = field(default_factory=set)
    cells_list: list[tuple[str, bool]] = field(default_factory=list)

    def cells(self, table: Table) -> list[tuple[str, bool]]:
        return [
            (display(self.values.get(c.key), c.unit), c.key in self.failed) for c in table.columns
        ]


@dataclass
class Check:
    table: str
    column: str
    union: str
    value: Any
    total: Any
    message: str


@dataclass
class TableResult:
    table: Table
    rows: list[Row]
    total: Row


@dataclass
class AnnualReturn:
    node: Union
    period: Period
    tables: list[TableResult]
    checks: list[Check]
    checked: int
    generated: datetime.datetime

    @property
    def passed(self) -> bool:
        return not self.checks


def stat_year(year: int) -> Period:
    return Period(STAT_YEAR, year)


def current_stat_year() -> Period:
    return Period.current(STAT_YEAR)


def _cut_values(node: Union, period: Period, cuts: set[tuple[str, str]]) -> dict[str, Any]:
    """Values of indicator cuts for one node: {"unions[level=city]": 3, …}."""
    if not cuts:
        return {}
    codes = sorted({code for code, _ in cuts})
    result = selectors.figures(node=node, period=period, indicators=codes, dims=True)
    out: dict[str, Any] = {}
    for item in result["figures"]:
        for cut in item.get("breakdown", []):
            key = (item["code"], f"{cut['dimension']}={cut['key']}")
            if key in cuts:
                out[f"{key[0]}[{key[1]}]"] = cut["value"]
    return out


def _minus(values: dict[str, Any], column: Column) -> Any:
    first, second = values.get(column.minus[0]), values.get(column.minus[1])
    if first is None or second is None:
        return None
    return first - second


def build(*, node: Union, period: Period) -> AnnualReturn:
    tables = [columns_available(t) for t in TABLES]
    plain = sorted({code for t in tables for c in t.columns if not c.cut for code in c.codes})
    cuts = {(c.indicator, c.cut) for t in tables for c in t.columns if c.cut}
    children: dict[int, dict[str, Any]] = {}
    totals: dict[str, Any] = {}
    for code in plain:
        result = selectors.children_breakdown(node=node, indicator=code, period=period)
        totals[code] = result["total"]
        for child in result["children"]:
            entry = children.setdefault(child["id"], {**child, "values": {}})
            entry["values"][code] = child["value"]
    totals.update(_cut_values(node, period, cuts))
    for entry in children.values():
        if entry["level"] == UnionLevel.GRASSROOTS:
            # A grassroots union has no unions above grassroots under it.
            entry["values"].update({f"{code}[{cut}]": 0 for code, cut in cuts})
        else:
            entry["values"].update(_cut_values(_union(entry["id"]), period, cuts))
    for values in [totals, *(e["values"] for e in children.values())]:
        for table in tables:
            for column in table.columns:
                if column.minus[0]:
                    values[column.key] = _minus(values, column)

    results: list[TableResult] = []
    checks: list[Check] = []
    checked = 0
    for table in tables:
        total = Row(node.pk, f"{node.name}（合计）", node.get_level_display(), totals, True)
        rows = []
        for entry in children.values():
            if table.above_grassroots_only and entry["level"] == UnionLevel.GRASSROOTS:
                continue
            rows.append(Row(entry["id"], entry["name"], entry["level_label"], entry["values"]))
        for column in table.columns:
            if not column.additive:
                continue
            whole = totals.get(column.key)
            for row in rows:
                part = row.values.get(column.key)
                if part is None or whole is None:
                    continue
                checked += 1
                if part > whole:
                    row.failed.add(column.key)
                    total.failed.add(column.key)
                    checks.append(
                        Check(
                            table.title,
                            column.header,
                            row.name,
                            part,
                            whole,
                            f"{row.name}的“{column.header}”为 {display(part)}，超过{node.name}"
                            f"合计 {display(whole)}",
                        )
                    )
        ran, failed = _level_sum_check(table, total)
        checked += ran
        checks += failed
        for row in [*rows, total]:
            row.cells_list = row.cells(table)
        results.append(TableResult(table, rows, total))
    return AnnualReturn(
        node=node,
        period=period,
        tables=results,
        checks=checks,
        checked=checked,
        generated=timezone.now(),
    )


def _level_sum_check(table: Table, total: Row) -> tuple[int, list[Check]]:
    """The unions above grassroots, by level, add up to their total: (checks run, failed)."""
    headers = {c.header: c for c in table.columns}
    above = next((c for c in table.columns if c.minus[0]), None)
    if above is None or not all(h in headers for h in LEVEL_PARTS):
        return 0, []
    whole = total.values.get(above.key)
    parts = [total.values.get(headers[h].key) for h in LEVEL_PARTS]
    if whole is None or any(p is None for p in parts):
        return 0, []
    added = sum(p for p in parts if p is not None)
    if added == whole:
        return 1, []
    total.failed.add(above.key)
    return 1, [
        Check(
            table.title,
            above.header,
            total.name,
            added,
            whole,
            f"各层级工会数之和 {display(added)} 与基层以上工会合计 {display(whole)} 不符",
        )
    ]


def _union(pk: int) -> Union:
    return Union.objects.get(pk=pk)


# --- The spreadsheet


def sheet_rows(result: AnnualReturn) -> tuple[list[str], Iterator[Sequence[Any]]]:
    """The header and rows of the return's one worksheet: both tables one under the other,
    then the checks and where the figures come from."""
    first = result.tables[0]
    headers = [f"{first.table.title}：工会", "层级", *(c.header for c in first.table.columns)]

    def raw(value: Any) -> Any:
        return "—" if value is None else value

    def rows() -> Iterator[Sequence[Any]]:
        for index, table_result in enumerate(result.tables):
            columns = table_result.table.columns
            if index:
                yield ()
                yield (table_result.table.title,)
                yield ("工会", "层级", *(c.header for c in columns))
            for row in [*table_result.rows, table_result.total]:
                yield (
                    row.name,
                    row.level_label,
                    *(raw(row.values.get(c.key)) for c in columns),
                )
        yield ()
        if result.passed:
            yield ("逐级校验", f"全部通过（{result.checked} 项：下级数均不超过本级合计）")
        else:
            yield ("逐级校验", f"未通过 {len(result.checks)} 项")
            for check in result.checks:
                yield ("", check.table, check.column, check.union, check.message)
        yield ()
        yield ("填报单位", result.node.name)
        yield ("统计年度", result.period.label)
        yield ("生成时间", timezone.localtime(result.generated).strftime("%Y-%m-%d %H:%M:%S"))
        yield ("说明", "比率单位为 %；“—”表示该期末数无法由已记录的变动推算")

    return headers, rows()
