"""What the statistics pages show, built from the figure selectors (``niangjia.stats.selectors``).

A dashboard is one union node and one period: its key figures with the change from the
previous period (环比) and from a year before (同比), the trend of a few indicators over the
recent periods, breakdowns by the indicators' dimensions, the map of its area coloured by
one indicator (China by province at the national root, a province by prefecture, a prefecture
by county), and its child unions with the same figures. ``build`` returns the template's
context and the same figures as one JSON document (``payload``), which the charts draw and the
big screen fetches again every few seconds. Every number of the payload is also in a table of
the page, so nothing depends on the charts.

The caller has checked that the user may see ``node``; the children and breakdowns lie inside
its counted subtree.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.orgs.choices import UnionKind, UnionLevel
from niangjia.orgs.models import Union
from niangjia.stats import registry, selectors
from niangjia.stats.periods import KIND_LABELS, MONTH, QUARTER, STAT_YEAR, YEAR, Period, recent

# The key figures, in the order shown (codes missing from the registry are skipped).
KEY_FIGURES = (
    "members",
    "membership_rate",
    "formation_rate",
    "grassroots_unions",
    "unions",
    "employers",
    "employers_organised",
    "migrant_members",
    "gig_members",
    "joins",
    "leavings",
    "members_net",
    "applications_pending",
    "applications_overdue",
    # Hardship relief, when its indicators are registered.
    "hardship_files",
    "hardship_exits",
    "exit_rate",
    "hardship_filed",
    "hardship_relapses",
    "assistance_amount",
    "assistance_times",
    "fund_balance",
)
# Columns of the child list (and of its export).
CHILD_COLUMNS = (
    "members",
    "membership_rate",
    "formation_rate",
    "grassroots_unions",
    "employers_organised",
    "migrant_members",
    "gig_members",
    "joins",
)
TREND_INDICATORS = ("members", "joins", "leavings", "members_net")
# (indicator, dimension): the breakdowns shown, in order.
BREAKDOWNS = (
    ("members", "employment_form"),
    ("gig_members", "gig_occupation"),
    ("members", "household"),
    ("members", "status"),
    ("unions", "level"),
    ("unions", "kind"),
    ("employers", "section"),
)
MAP_INDICATORS = (
    "members",
    "membership_rate",
    "formation_rate",
    "grassroots_unions",
    "gig_members",
)
# Groups of the registry that the lists above already cover; indicators that other modules
# register (hardship relief …) are added after them.
CORE_GROUPS = (registry.GROUP_ORGS, registry.GROUP_MEMBERS, registry.GROUP_JOINING)
EXTRA_KEY_FIGURES = 6
TREND_LENGTH = {MONTH: 12, QUARTER: 8, YEAR: 5, STAT_YEAR: 5}
PERIOD_OPTIONS = {MONTH: 36, QUARTER: 12, YEAR: 10, STAT_YEAR: 10}
CHILDREN_PER_PAGE = 50
SCREEN_CHILDREN = 12
COUNTRY_MAP = "100000"
GEO_STATIC = "vendor/geo/{code}.json"


# --- Picking the period


@dataclass
class PeriodChoice:
    kind: str
    period: Period
    options: list[Period]
    error: str = ""

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return list(KIND_LABELS.items())


def choose_period(params: Mapping[str, str]) -> PeriodChoice:
    """The period asked for by ``kind`` and ``period`` (a period code), else the current one
    of the kind; a malformed or future period is named in ``error`` and the current one used."""
    kind = params.get("kind") or ""
    code = (params.get("period") or "").strip()
    error = ""
    period: Period | None = None
    if code:
        try:
            period = Period.parse(code)
        except ValidationError as exc:
            error = "；".join(exc.messages)
        else:
            if period.is_future():
                error = f"期间“{period.label}”尚未开始，已改为显示当前期间"
                period = None
            elif kind and kind in KIND_LABELS and period.kind != kind:
                period = None  # the kind was changed: its current period
    if kind not in KIND_LABELS:
        if kind:
            error = error or "期间类型不正确：请选择月度、季度、年度或统计年度"
        kind = period.kind if period is not None else MONTH
    if period is None:
        period = Period.current(kind)
    options = recent(kind, PERIOD_OPTIONS[kind])
    if period not in options:
        options.insert(0, period)
    return PeriodChoice(kind=kind, period=period, options=list(reversed(options)), error=error)


def period_query(period: Period, **extra: str) -> str:
    return urlencode({"kind": period.kind, "period": period.code, **extra})


# --- Formatting


def available(codes: Iterable[str]) -> list[str]:
    return [code for code in codes if code in registry.BY_CODE]


def extra_indicators() -> list[registry.Indicator]:
    """Indicators registered by other modules (outside the core groups), in registry order."""
    return [i for i in registry.INDICATORS if i.group not in CORE_GROUPS]


def extra_key_figures() -> list[str]:
    """Key figures of modules none of whose indicators KEY_FIGURES names (a module named
    there has its key figures chosen there)."""
    named = {registry.BY_CODE[code].group for code in available(KEY_FIGURES)}
    codes = [i.code for i in extra_indicators() if i.group not in named]
    return codes[:EXTRA_KEY_FIGURES]


def display(value: Any, unit: str = "") -> str:
    """A figure as the pages print it: thousands separated, a rate with one decimal and %."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "元":
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def _signed(value: float | int, unit: str) -> str:
    if unit == "%":
        return f"{value:+.1f} 个百分点"
    if unit == "元":
        return f"{value:+,.2f}"
    if isinstance(value, float):
        return f"{value:+,.1f}"
    return f"{value:+,}"


def change_text(change: Any, rate: Any, unit: str) -> str:
    if change is None:
        return "—"
    text = _signed(change, unit)
    if rate is not None and unit != "%":
        text += f"（{rate:+.1f}%）"
    return text


def direction(change: Any) -> str:
    if change is None or change == 0:
        return "flat"
    return "up" if change > 0 else "down"


@dataclass
class Figure:
    code: str
    name: str
    unit: str
    kind: str
    value: Any
    display: str
    previous: Any
    previous_display: str
    change: Any
    change_text: str
    direction: str
    year_ago_display: str
    year_change_text: str


def figure(item: Mapping[str, Any]) -> Figure:
    unit = item["unit"]
    return Figure(
        code=item["code"],
        name=item["name"],
        unit=unit,
        kind=item["kind"],
        value=item["value"],
        display=display(item["value"], unit),
        previous=item["previous"],
        previous_display=display(item["previous"], unit),
        change=item["change"],
        change_text=change_text(item["change"], item["change_rate"], unit),
        direction=direction(item["change"]),
        year_ago_display=display(item["year_ago"], unit),
        year_change_text=change_text(item["year_change"], item["year_change_rate"], unit),
    )


# --- The map


@lru_cache(maxsize=512)
def geo_url(code: str) -> str | None:
    """The static address of the boundary map of area ``code``, or None when no map of it is
    installed (a county, or the assets not set up: see scripts/vendor_static.py)."""
    path = GEO_STATIC.format(code=code)
    if not finders.find(path):
        return None
    try:
        return static(path)
    except ValueError:  # not in the manifest of the collected files
        return None


def map_area(node: Union) -> str | None:
    """The GB/T 2260 code of the area whose map the node's dashboard shows, or None."""
    if node.depth == 1 or node.level == UnionLevel.NATIONAL:
        return COUNTRY_MAP
    region = node.region if node.region_id is not None else None
    if node.kind != UnionKind.FEDERATION or region is None:
        return None
    if node.level not in (UnionLevel.PROVINCE, UnionLevel.CITY):
        return None
    return region.code


# --- The dashboard


def dashboard_url(union_id: int, period: Period, **extra: str) -> str:
    return f"{reverse('stats:dashboard', args=[union_id])}?{period_query(period, **extra)}"


@dataclass
class ChildRow:
    id: int
    name: str
    level_label: str
    kind_label: str
    region_name: str
    url: str
    cells: list[str]
    values: dict[str, Any]
    codes: list[str] = field(default_factory=list)

    @property
    def coded_cells(self) -> list[tuple[str, str]]:
        return list(zip(self.codes, self.cells, strict=True))


@dataclass
class Dashboard:
    node: Union
    period: Period
    previous_label: str
    year_ago_label: str
    figures: list[Figure]
    columns: list[registry.Indicator]
    children: list[ChildRow]
    total_cells: list[str]
    children_count: int
    page: int
    pages: int
    trend: dict[str, Any]
    breakdowns: list[dict[str, Any]]
    map: dict[str, Any] | None
    map_indicators: list[registry.Indicator]
    as_of: datetime.datetime | None
    generated: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def shown_breakdowns(self) -> list[dict[str, Any]]:
        return [b for b in self.breakdowns if not b["empty"]]

    @property
    def empty_breakdowns(self) -> list[dict[str, Any]]:
        return [b for b in self.breakdowns if b["empty"]]

    @property
    def child_page_numbers(self) -> list[int]:
        return list(range(1, self.pages + 1))


def key_figures(node: Union, period: Period) -> tuple[list[Figure], dict[str, Any]]:
    codes = available(KEY_FIGURES) + extra_key_figures()
    result = selectors.figures(node=node, period=period, indicators=codes)
    return [figure(item) for item in result["figures"]], result


def trend(node: Union, period: Period) -> dict[str, Any]:
    periods = recent(period.kind, TREND_LENGTH[period.kind], until=period)
    series = []
    for code in available(TREND_INDICATORS):
        points = selectors.trend(node=node, indicator=code, periods=periods)
        indicator = points["indicator"]
        series.append(
            {
                "code": code,
                "name": indicator["name"],
                "unit": indicator["unit"],
                "kind": indicator["kind"],
                "values": [p["value"] for p in points["points"]],
                "cells": [display(p["value"], indicator["unit"]) for p in points["points"]],
            }
        )
    labels = [_short_label(p) for p in periods]
    return {
        "title": f"近 {len(periods)} 个{_UNIT_NAMES[period.kind]}",
        "labels": labels,
        "codes": [p.code for p in periods],
        "series": series,
        "rows": [
            {"label": label, "cells": [s["cells"][index] for s in series]}
            for index, label in enumerate(labels)
        ],
    }


_UNIT_NAMES = {MONTH: "月", QUARTER: "季度", YEAR: "年度", STAT_YEAR: "统计年度"}


def _short_label(period: Period) -> str:
    if period.kind == STAT_YEAR:
        return f"{period.year}统计年度"
    return period.label


def breakdowns(node: Union, period: Period) -> list[dict[str, Any]]:
    wanted = [(i, d) for i, d in BREAKDOWNS if i in registry.BY_CODE]
    wanted += [(i.code, d) for i in extra_indicators() for d in i.dimensions]
    codes = list(dict.fromkeys(i for i, _ in wanted))
    if not codes:
        return []
    result = selectors.figures(node=node, period=period, indicators=codes, dims=True)
    by_code = {item["code"]: item for item in result["figures"]}
    out = []
    for code, dimension in wanted:
        item = by_code[code]
        cuts = [c for c in item.get("breakdown", []) if c["dimension"] == dimension]
        if not cuts:
            continue
        items = [
            {"key": c["key"], "name": c["label"], "value": c["value"]}
            for c in cuts
            if c["value"] is not None
        ]
        out.append(
            {
                "code": f"{code}.{dimension}",
                "title": f"{item['name']}（按{cuts[0]['dimension_name']}）",
                "unit": item["unit"],
                "total": item["value"],
                "total_display": display(item["value"], item["unit"]),
                "items": [{**i, "display": display(i["value"], item["unit"])} for i in items],
                "empty": not any(i["value"] for i in items),
            }
        )
    return out


def children_table(
    node: Union, period: Period, columns: Sequence[str], *, offset: int = 0, limit: int | None
) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    """The child unions of ``node`` with one value per column, the node's totals, and how
    many children there are. One selector call per column."""
    rows: dict[int, dict[str, Any]] = {}
    totals: dict[str, Any] = {}
    count = 0
    for code in columns:
        result = selectors.children_breakdown(
            node=node, indicator=code, period=period, offset=offset, limit=limit
        )
        totals[code] = result["total"]
        count = result["count"]
        for child in result["children"]:
            row = rows.setdefault(child["id"], {**child, "values": {}})
            row["values"][code] = child["value"]
    return list(rows.values()), totals, count


def map_data(node: Union, period: Period, indicator_code: str) -> dict[str, Any] | None:
    area = map_area(node)
    url = geo_url(area) if area else None
    if area is None or url is None:
        return None
    indicator = registry.get(indicator_code)
    result = selectors.children_breakdown(node=node, indicator=indicator_code, period=period)
    regions = []
    for child in result["children"]:
        if child["kind"] != UnionKind.FEDERATION or not child["region_code"]:
            continue
        regions.append(
            {
                "code": child["region_code"],
                "region": child["region_name"],
                "name": child["name"],
                "id": child["id"],
                "value": child["value"],
                "display": display(child["value"], indicator.unit),
                "url": dashboard_url(child["id"], period, map=indicator_code),
            }
        )
    return {
        "area": area,
        "geo": url,
        "indicator": indicator.name,
        "indicator_code": indicator.code,
        "unit": indicator.unit,
        "labels": area != COUNTRY_MAP,
        "regions": regions,
    }


def build(
    *, node: Union, period: Period, page: int = 1, map_indicator: str = "", screen: bool = False
) -> Dashboard:
    figures, result = key_figures(node, period)
    columns = [registry.get(code) for code in available(CHILD_COLUMNS)]
    limit = None if screen else CHILDREN_PER_PAGE
    offset = 0 if screen else (max(page, 1) - 1) * CHILDREN_PER_PAGE
    rows, totals, count = children_table(
        node, period, [c.code for c in columns], offset=offset, limit=limit
    )
    if screen and columns:
        # The big screen lists the largest children by the first column.
        first = columns[0].code
        rows.sort(key=lambda r: -(r["values"].get(first) or 0))
        rows = rows[:SCREEN_CHILDREN]
    children = [
        ChildRow(
            id=row["id"],
            name=row["name"],
            level_label=row["level_label"],
            kind_label=row["kind_label"],
            region_name=row["region_name"] or "",
            url=dashboard_url(row["id"], period),
            cells=[display(row["values"].get(c.code), c.unit) for c in columns],
            values=row["values"],
            codes=[c.code for c in columns],
        )
        for row in rows
    ]
    map_choices = [registry.get(code) for code in available(MAP_INDICATORS)]
    map_code = map_indicator if map_indicator in {i.code for i in map_choices} else ""
    map_code = map_code or (map_choices[0].code if map_choices else "")
    dashboard = Dashboard(
        node=node,
        period=period,
        previous_label=result["previous_period"]["label"],
        year_ago_label=result["year_ago_period"]["label"],
        figures=figures,
        columns=columns,
        children=children,
        total_cells=[display(totals.get(c.code), c.unit) for c in columns],
        children_count=count,
        page=max(page, 1),
        pages=max(1, math.ceil(count / CHILDREN_PER_PAGE)),
        trend=trend(node, period),
        breakdowns=breakdowns(node, period),
        map=map_data(node, period, map_code) if map_code else None,
        map_indicators=map_choices,
        as_of=result["as_of"],
        generated=timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
    )
    dashboard.payload = payload(dashboard)
    return dashboard


def payload(dashboard: Dashboard) -> dict[str, Any]:
    """The JSON document the charts draw (and the big screen refreshes)."""
    as_of = dashboard.as_of
    return {
        "node": {"id": dashboard.node.pk, "name": dashboard.node.name},
        "period": {"code": dashboard.period.code, "label": dashboard.period.label},
        "generated": dashboard.generated,
        "as_of": timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M:%S") if as_of else None,
        "figures": [
            {k: v for k, v in asdict(f).items() if k != "previous"} for f in dashboard.figures
        ],
        "trend": dashboard.trend,
        "breakdowns": dashboard.breakdowns,
        "map": dashboard.map,
        "children": [
            {
                "id": c.id,
                "name": c.name,
                "url": c.url,
                "cells": {
                    col.code: cell for col, cell in zip(dashboard.columns, c.cells, strict=True)
                },
            }
            for c in dashboard.children
        ],
    }


# --- Breadcrumbs


def breadcrumbs(user: Any, node: Union, period: Period) -> list[tuple[str, str | None]]:
    """The path from the highest union the user may see down to ``node``: (name, address)."""
    ancestors = list(Union.objects.get_ancestors(node)) if node.depth > 1 else []
    visible = set(
        Union.objects.restrict(user, Action.VIEW)
        .filter(pk__in=[a.pk for a in ancestors])
        .values_list("pk", flat=True)
    )
    crumbs: list[tuple[str, str | None]] = [
        (a.name, dashboard_url(a.pk, period)) for a in ancestors if a.pk in visible
    ]
    crumbs.append((node.name, None))
    return crumbs


def own_node(user: Any) -> Union | None:
    """The highest union whose figures ``user`` may see (the first, if several)."""
    paths = paths_for(user, Action.VIEW)
    if not paths:
        return None
    return Union.objects.select_related("region").filter(path=paths[0]).first()
