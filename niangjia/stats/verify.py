"""``make stats-verify``: recount every figure of a sample of nodes straight from the raw tables
and compare it with what is served.

For each node the recount (``sources.recount``: one query per family over the node's counted
subtree) is compared twice: with every stored figure of the node (each measure, cut and month),
and with every indicator the API serves for it (``selectors.figures``) for the current month,
quarter, year and statistical year, evaluated the same way over the recount. Any difference is
reported; none may exist.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count

from niangjia.orgs.choices import UnionKind, UnionLevel
from niangjia.orgs.models import Union
from niangjia.stats import fold, registry, selectors, sources
from niangjia.stats.models import StatValue
from niangjia.stats.periods import MONTH, QUARTER, STAT_YEAR, YEAR, Period
from niangjia.stats.sources import Key


@dataclass
class Difference:
    node: Union
    what: str
    served: object
    recounted: object

    def __str__(self) -> str:
        return (
            f"{self.node.name}（编号 {self.node.pk}）{self.what}：提供 {self.served}，"
            f"重新统计 {self.recounted}"
        )


@dataclass
class Report:
    nodes: list[Union] = field(default_factory=list)
    figures: int = 0
    indicators: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def stored_figures(node: Union) -> dict[Key, int]:
    return {
        (measure, dims, period): value
        for measure, dims, period, value in StatValue.objects.filter(node_id=node.pk).values_list(
            "measure", "dims", "period", "value"
        )
        if value
    }


def _periods() -> list[Period]:
    return [Period.current(kind) for kind in (MONTH, QUARTER, YEAR, STAT_YEAR)]


def compare(node: Union, report: Report) -> None:
    recounted = dict(sources.recount(node))
    stored = stored_figures(node)
    report.nodes.append(node)
    report.figures += len(recounted.keys() | stored.keys())
    for key in sorted(recounted.keys() | stored.keys()):
        if stored.get(key, 0) != recounted.get(key, 0):
            measure, dims, period = key
            what = f"{measure}[{dims or '合计'}]{'（' + period + '）' if period else ''}"
            report.differences.append(
                Difference(node, what, stored.get(key, 0), recounted.get(key, 0))
            )
    expected = selectors.NodeFigures()
    for (measure, dims, period), value in recounted.items():
        expected.add(measure, dims, period, value)
    for period in _periods():
        served = selectors.figures(node=node, period=period, dims=True)["figures"]
        for item in served:
            indicator = registry.get(item["code"])
            report.indicators += 1
            want = selectors.evaluate(indicator, expected, period)
            if item["value"] != want:
                report.differences.append(
                    Difference(node, f"{indicator.name}（{period.code}）", item["value"], want)
                )
            for cut in item.get("breakdown") or ():
                want = selectors.evaluate(
                    indicator, expected, period, f"{cut['dimension']}={cut['key']}"
                )
                if cut["value"] != want:
                    report.differences.append(
                        Difference(
                            node,
                            f"{indicator.name}·{cut['label']}（{period.code}）",
                            cut["value"],
                            want,
                        )
                    )


def sample(*, seed: int = 2024, size: int = 8) -> list[Union]:
    """The national root, every province, an industry union and ``size`` random cities,
    counties, townships and grassroots unions each (those with members first in line)."""
    rng = random.Random(seed)
    nodes: list[Union] = list(Union.objects.filter(depth=1))
    nodes += list(Union.objects.filter(level=UnionLevel.PROVINCE, kind=UnionKind.FEDERATION))
    industry = (
        Union.objects.filter(kind=UnionKind.INDUSTRY)
        .annotate(linked=Count("industry_members"))
        .order_by("-linked", "pk")
        .first()
    )
    if industry is not None:
        nodes.append(industry)
    for level in (UnionLevel.CITY, UnionLevel.COUNTY, UnionLevel.TOWNSHIP, UnionLevel.GRASSROOTS):
        ids = list(Union.objects.filter(level=level).order_by("pk").values_list("pk", flat=True))
        chosen = rng.sample(ids, min(size, len(ids)))
        nodes += list(Union.objects.filter(pk__in=chosen).order_by("path"))
    seen: set[int] = set()
    return [n for n in nodes if not (n.pk in seen or seen.add(n.pk))]


def verify(nodes: Iterable[Union]) -> Report:
    """Compare each node at one snapshot with nothing left to fold (the folder waits while a
    node is compared), so the check holds while others keep writing."""
    report = Report()
    for node in nodes:
        with fold.up_to_date():
            compare(node, report)
    return report
