"""Statistics (统计): the indicator registry and the figures of any union the caller sees.

A node outside the caller's scope is 404 (a county cadre cannot read a sibling county's
figures); its children and breakdowns lie inside it. Figures come from
``niangjia.stats.selectors``, which read the stored rollups (a few index rows per node).
"""

from __future__ import annotations

from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Path, Query, Router

from niangjia.accounts.choices import Action
from niangjia.api.auth import acting_user
from niangjia.api.errors import labelled
from niangjia.api.schemas import MAX_ID, responses
from niangjia.orgs.models import Union
from niangjia.stats import registry, selectors
from niangjia.stats.api.schemas import (
    ChildrenOut,
    ChildrenParams,
    FiguresOut,
    FiguresParams,
    IndicatorOut,
    TrendOut,
    TrendParams,
)
from niangjia.stats.periods import STAT_YEAR, Period, recent
from niangjia.utilities.scoping import get_scoped_or_404

router = Router(tags=["统计"])

NodeId = Annotated[int, Path(ge=1, le=MAX_ID, title="工会编号")]


def _node(request: HttpRequest, node_id: int) -> Union:
    return get_scoped_or_404(Union, acting_user(request), Action.VIEW, pk=node_id)


def _period(code: str | None, field: str = "period") -> Period:
    if not code:
        return Period.current(STAT_YEAR)
    try:
        return Period.parse(code)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def _indicator(code: str, field: str = "indicator") -> str:
    if code not in registry.BY_CODE:
        raise ValidationError(
            {field: f"没有代码为“{code[:60]}”的指标，可用的指标见 /stats/indicators"}
        )
    return code


@router.get(
    "/indicators",
    response=responses({200: list[IndicatorOut]}),
    summary="指标说明",
    description="每个指标的代码、名称、单位、定义、计算方法和可细分的维度。",
)
def indicator_list(request: HttpRequest) -> list[Any]:
    acting_user(request)
    return list(selectors.indicator_list())


@router.get(
    "/nodes/{node_id}/figures",
    response=responses({200: FiguresOut}),
    summary="工会的统计数据",
    description=(
        "本工会及全部下级（产业工会含另属于它的基层工会，同一工会只计一次）在一个期间的指标值，"
        "附上期（环比）和上年同期（同比）。时点数为期末数（当前期为当前数），时期数为期间内合计。"
    ),
)
def node_figures(
    request: HttpRequest, node_id: NodeId, params: Query[FiguresParams]
) -> dict[str, Any]:
    node = _node(request, node_id)
    with labelled(FiguresParams, source="query"):
        period = _period(params.period)
        codes = [c.strip() for c in (params.indicators or "").split(",") if c.strip()]
        for code in codes:
            _indicator(code, "indicators")
    return selectors.figures(node=node, period=period, indicators=codes or None, dims=params.dims)


@router.get(
    "/nodes/{node_id}/children",
    response=responses({200: ChildrenOut}),
    summary="下级工会的统计数据",
    description=(
        "一个指标在每个直属下级工会（产业工会另含另属于它的基层工会）的值，按树序；"
        "下级地方总工会带所在行政区划代码，供地图着色和逐级下钻。"
    ),
)
def node_children(
    request: HttpRequest, node_id: NodeId, params: Query[ChildrenParams]
) -> dict[str, Any]:
    node = _node(request, node_id)
    with labelled(ChildrenParams, source="query"):
        indicator = _indicator(params.indicator)
        period = _period(params.period)
    return selectors.children_breakdown(
        node=node, indicator=indicator, period=period, offset=params.offset, limit=params.limit
    )


@router.get(
    "/nodes/{node_id}/trend",
    response=responses({200: TrendOut}),
    summary="统计数据的趋势",
    description="一个指标在连续若干期（月、季、年或统计年度）的值，由远及近。",
)
def node_trend(request: HttpRequest, node_id: NodeId, params: Query[TrendParams]) -> dict[str, Any]:
    node = _node(request, node_id)
    with labelled(TrendParams, source="query"):
        indicator = _indicator(params.indicator)
        until = _period(params.until, "until") if params.until else None
        if until is not None and until.kind != params.kind:
            raise ValidationError({"until": "截至期间应与期间类型一致"})
    periods = recent(params.kind, params.count, until=until)
    return selectors.trend(node=node, indicator=indicator, periods=periods)
