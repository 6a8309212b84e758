"""Reading figures: what the dashboards, the annual return and ``/api/v1/stats/…`` call.

Every function reads the stored figures (``StatValue``) of the nodes it is given: a few rows of
one index, as fast at the national root as at a grassroots union. The caller has already
checked that the user may see ``node`` (``Union.objects.restrict``); children and breakdowns
lie inside it.

- ``figures(node=, period=, indicators=, dims=)``: indicator values for one node and period,
  with the previous period (环比), the same period a year earlier (同比) and, on request, the
  cut of each indicator by its dimensions;
- ``children_breakdown(node=, indicator=, period=)``: one indicator for each child union (the
  child list, and the map: a child federation carries its region's code);
- ``trend(node=, indicator=, periods=)``: one indicator over a run of periods;
- ``change(node=, indicator=, period=)``: one indicator with its period-on-period change;
- ``indicator_list()``: the registry, for the "指标说明" page.

A value is ``None`` where it cannot be given: a stock's value at the end of a past period when
it cannot be derived from its flows, a rate whose denominator is 0, a future period.
Percentages are floats with one decimal; everything else is an integer.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from niangjia.orgs.choices import UnionKind
from niangjia.orgs.models import Union
from niangjia.stats import registry
from niangjia.stats.models import FoldState, StatValue
from niangjia.stats.periods import Period, month_key
from niangjia.stats.registry import (
    DIVIDE,
    FLOW,
    OVERDUE,
    SUM,
    Indicator,
)

Number = int | float | None


class NodeFigures:
    """The stored rows of one node: stocks by (measure, dims), flows by (measure, dims, month)."""

    def __init__(self) -> None:
        self.stock: dict[tuple[str, str], int] = {}
        self.flow: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)

    def add(self, measure: str, dims: str, period: str, value: int) -> None:
        if period:
            self.flow[(measure, dims)][period] = value
        else:
            self.stock[(measure, dims)] = value

    def current(self, measure: str, dims: str) -> int:
        return self.stock.get((measure, dims), 0)

    def months(self, measure: str, dims: str, first: str, last: str) -> int:
        by_month = self.flow.get((measure, dims), {})
        return sum(v for month, v in by_month.items() if first <= month <= last)


def _load(
    node_ids: Sequence[int], indicators: Iterable[Indicator], first_month: str
) -> dict[int, NodeFigures]:
    measures: set[str] = set()
    for indicator in indicators:
        measures |= registry.measures_of(indicator)
    result = {pk: NodeFigures() for pk in node_ids}
    rows = StatValue.objects.filter(node_id__in=list(node_ids), measure__in=sorted(measures))
    rows = rows.filter(Q(period="") | Q(period__gte=first_month))
    for node_id, measure, dims, period, value in rows.values_list(
        "node_id", "measure", "dims", "period", "value"
    ):
        result[node_id].add(measure, dims, period, value)
    return result


def _today() -> datetime.date:
    return timezone.localdate()


def _first_needed(periods: Iterable[Period], indicators: Iterable[Indicator]) -> str:
    """The earliest month any of these values needs (a stock's history needs every month
    from its period's end up to now)."""
    return min(p.first_month for p in periods)


def _rate(numerator: Number, denominator: Number) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(100.0 * numerator / denominator, 1)


def evaluate(
    indicator: Indicator,
    data: NodeFigures,
    period: Period | None,
    dims: str = "",
    today: datetime.date | None = None,
) -> Number:
    """The value of ``indicator`` for ``period`` (None: now) and a cut (``dims``), as of
    ``today`` (default: the local date)."""
    today = today or _today()
    if period is not None and period.start > today:
        return None
    if indicator.evaluate == DIVIDE:
        return _rate(
            evaluate(registry.get(indicator.numerator), data, period, dims, today),
            evaluate(registry.get(indicator.denominator), data, period, dims, today),
        )
    if indicator.evaluate == SUM:
        if period is None:
            return None
        parts = [
            (sign, evaluate(registry.get(code), data, period, dims, today))
            for code, sign in indicator.terms
        ]
        if any(part is None for _sign, part in parts):
            return None
        total = sum(sign * (part or 0) for sign, part in parts)  # parts already scaled
        return round(total, 2) if isinstance(total, float) else total
    raw = _stored(indicator, data, period, dims, today)
    return None if raw is None else _scaled(indicator, raw)


def _scaled(indicator: Indicator, raw: int | float) -> int | float:
    if indicator.scale == 1 or isinstance(raw, float):
        return raw
    return round(raw / indicator.scale, 2)


def _stored(
    indicator: Indicator,
    data: NodeFigures,
    period: Period | None,
    dims: str,
    today: datetime.date,
) -> int | None:
    cut = dims or indicator.filter
    if indicator.kind == FLOW:
        if period is None:
            return None
        return data.months(indicator.measure, cut, period.first_month, period.last_month)
    # A stock: the current value, or the value at the end of a past period.
    if period is None or period.end >= today:
        if indicator.evaluate == OVERDUE:
            due_before = f"due={today.isoformat()}"
            return sum(
                value
                for (measure, key), value in data.stock.items()
                if measure == indicator.measure and key.startswith("due=") and key < due_before
            )
        return data.current(indicator.measure, cut)
    if not indicator.history or cut:
        return None
    net = registry.get(indicator.history)
    later = Period.containing("month", period.end + datetime.timedelta(days=1))
    change = sum(
        sign * data.months(registry.get(code).measure, "", later.first_month, month_key(today))
        for code, sign in net.terms
    )
    return data.current(indicator.measure, "") - change


def _breakdown(
    indicator: Indicator, data: NodeFigures, period: Period, today: datetime.date
) -> list[dict[str, Any]]:
    cuts: list[dict[str, Any]] = []
    for dimension in indicator.dimension_list():
        for value, label in dimension.choices.items():
            cuts.append(
                {
                    "dimension": dimension.code,
                    "dimension_name": dimension.name,
                    "key": value,
                    "label": label,
                    "value": evaluate(indicator, data, period, f"{dimension.code}={value}", today),
                }
            )
    return cuts


def _change(value: Number, before: Number) -> tuple[Number, float | None]:
    if value is None or before is None:
        return None, None
    difference = value - before
    if isinstance(difference, float):
        difference = round(difference, 1)
    return difference, (round(100.0 * (value - before) / before, 1) if before else None)


def _indicator_info(indicator: Indicator) -> dict[str, Any]:
    return {
        "code": indicator.code,
        "name": indicator.name,
        "unit": indicator.unit,
        "kind": indicator.kind,
    }


def _resolve(codes: Sequence[str] | None) -> list[Indicator]:
    if not codes:
        return list(registry.INDICATORS)
    return [registry.get(code) for code in codes]


def as_of() -> datetime.datetime | None:
    """When the figures were last brought up to date."""
    state = FoldState.objects.filter(name="main").values_list("folded_at", flat=True).first()
    return state


def figures(
    *,
    node: Union,
    period: Period,
    indicators: Sequence[str] | None = None,
    dims: bool = False,
) -> dict[str, Any]:
    """Every requested indicator (default: the whole registry) of ``node`` for ``period``:
    value, previous period (环比) and the same period a year before (同比), with the change;
    with ``dims``, the cut by each of the indicator's dimensions."""
    chosen = _resolve(indicators)
    previous, year_ago = period.previous(), period.year_ago()
    data = _load([node.pk], chosen, _first_needed([period, previous, year_ago], chosen))[node.pk]
    items: list[dict[str, Any]] = []
    today = _today()
    for indicator in chosen:
        value = evaluate(indicator, data, period, today=today)
        before = evaluate(indicator, data, previous, today=today)
        last_year = evaluate(indicator, data, year_ago, today=today)
        change, change_rate = _change(value, before)
        yoy, yoy_rate = _change(value, last_year)
        item = {
            **_indicator_info(indicator),
            "value": value,
            "previous": before,
            "change": change,
            "change_rate": change_rate,
            "year_ago": last_year,
            "year_change": yoy,
            "year_change_rate": yoy_rate,
        }
        if dims:
            item["breakdown"] = _breakdown(indicator, data, period, today)
        items.append(item)
    return {
        "node": node_info(node),
        "period": period_info(period),
        "previous_period": period_info(previous),
        "year_ago_period": period_info(year_ago),
        "as_of": as_of(),
        "figures": items,
    }


def change(*, node: Union, indicator: str, period: Period) -> dict[str, Any]:
    """One indicator with its previous-period and year-ago values and changes."""
    result = figures(node=node, period=period, indicators=[indicator])
    item: dict[str, Any] = result["figures"][0]
    return item


def trend(*, node: Union, indicator: str, periods: Sequence[Period]) -> dict[str, Any]:
    """``indicator`` of ``node`` for each of ``periods`` (in the order given)."""
    chosen = registry.get(indicator)
    data = _load([node.pk], [chosen], _first_needed(periods, [chosen]))[node.pk]
    return {
        "node": node_info(node),
        "indicator": _indicator_info(chosen),
        "points": [{**period_info(p), "value": evaluate(chosen, data, p)} for p in periods],
    }


def _linked_children(node: Union) -> Any:
    """Grassroots unions linked to industry union ``node`` that lie elsewhere in the tree."""
    return (
        Union.objects.filter(industry_union=node)
        .exclude(path__startswith=node.path)
        .select_related("region")
        .order_by("path")
    )


def counted_children(
    node: Union, *, offset: int = 0, limit: int | None = None
) -> tuple[list[Union], int]:
    """The unions directly counted under ``node`` — its children in the tree, then, for an
    industry union, the grassroots unions linked to it that lie elsewhere — one page of them
    (``offset``/``limit``), and how many there are in all."""
    children = Union.objects.get_children(node).select_related("region")
    in_tree = Union.objects.get_children_count(node)
    linked = _linked_children(node) if node.kind == UnionKind.INDUSTRY else None
    total = in_tree + (linked.count() if linked is not None else 0)
    end = total if limit is None else min(total, offset + limit)
    page = list(children[offset:end]) if offset < in_tree else []
    if linked is not None and end > in_tree:
        page += list(linked[max(0, offset - in_tree) : end - in_tree])
    return page, total


def children_breakdown(
    *,
    node: Union,
    indicator: str,
    period: Period,
    offset: int = 0,
    limit: int | None = None,
) -> dict[str, Any]:
    """``indicator`` for each child union of ``node`` (tree order; a page of them with
    ``offset``/``limit``), and for ``node`` itself. A child federation names its region
    (code and name), for the map."""
    chosen = registry.get(indicator)
    page, total = counted_children(node, offset=offset, limit=limit)
    data = _load([node.pk, *(c.pk for c in page)], [chosen], period.first_month)
    today = _today()
    rows = [
        {**node_info(child), "value": evaluate(chosen, data[child.pk], period, today=today)}
        for child in page
    ]
    return {
        "node": node_info(node),
        "indicator": _indicator_info(chosen),
        "period": period_info(period),
        "total": evaluate(chosen, data[node.pk], period, today=today),
        "count": total,
        "offset": offset,
        "children": rows,
    }


def node_info(node: Union) -> dict[str, Any]:
    region = node.region if node.region_id else None
    return {
        "id": node.pk,
        "name": node.name,
        "level": node.level,
        "level_label": node.get_level_display(),
        "kind": node.kind,
        "kind_label": node.get_kind_display(),
        "region_code": region.code if region else None,
        "region_name": region.name if region else None,
    }


def period_info(period: Period) -> dict[str, Any]:
    return {
        "code": period.code,
        "kind": period.kind,
        "label": period.label,
        "start": period.start,
        "end": period.end,
    }


@dataclass(frozen=True)
class IndicatorEntry:
    code: str
    name: str
    unit: str
    group: str
    kind: str
    kind_label: str
    definition: str
    computation: str
    dimensions: list[dict[str, Any]]


def indicator_list() -> list[IndicatorEntry]:
    """The registry as the "指标说明" page and ``/api/v1/stats/indicators`` show it."""
    return [
        IndicatorEntry(
            code=i.code,
            name=i.name,
            unit=i.unit,
            group=i.group,
            kind=i.kind,
            kind_label=i.kind_label,
            definition=i.definition,
            computation=registry.computation_of(i),
            dimensions=[
                {
                    "code": d.code,
                    "name": d.name,
                    "values": [{"key": k, "label": v} for k, v in d.choices.items()],
                }
                for d in i.dimension_list()
            ],
        )
        for i in registry.INDICATORS
    ]
