"""Shapes of the statistics API."""

from __future__ import annotations

import datetime
from typing import Literal

from ninja import Field, Schema

from niangjia.api.schemas import Text

Value = int | float | None
PeriodKind = Literal["month", "quarter", "year", "stat_year"]

PERIOD_HELP = (
    "月份 2024-05，季度 2024Q2，年度 2024，统计年度 2024S（2023年10月1日至2024年9月30日）；"
    "不填为当前统计年度"
)


class FiguresParams(Schema):
    period: Text | None = Field(None, max_length=20, title="期间", description=PERIOD_HELP)
    indicators: Text | None = Field(
        None,
        max_length=2000,
        title="指标",
        description="逗号分隔的指标代码（见 /stats/indicators）；不填为全部指标",
    )
    dims: bool = Field(False, title="按维度细分", description="同时给出各指标按其维度的细分")


class ChildrenParams(Schema):
    indicator: Text = Field(max_length=60, title="指标")
    period: Text | None = Field(None, max_length=20, title="期间", description=PERIOD_HELP)
    offset: int = Field(0, ge=0, le=10**9, title="起始位置")
    limit: int = Field(500, ge=1, le=2000, title="条数")


class TrendParams(Schema):
    indicator: Text = Field(max_length=60, title="指标")
    kind: PeriodKind = Field("month", title="期间类型")
    count: int = Field(12, ge=1, le=120, title="期数")
    until: Text | None = Field(
        None,
        max_length=20,
        title="截至期间",
        description="最后一期（与期间类型相同）；不填为当前一期",
    )


class DimensionValueOut(Schema):
    key: str
    label: str


class DimensionOut(Schema):
    code: str
    name: str
    values: list[DimensionValueOut]


class IndicatorOut(Schema):
    code: str
    name: str
    unit: str
    group: str
    kind: str
    kind_label: str
    definition: str
    computation: str
    dimensions: list[DimensionOut]


class PeriodOut(Schema):
    code: str
    kind: str
    label: str
    start: datetime.date
    end: datetime.date


class NodeOut(Schema):
    id: int
    name: str
    level: str
    level_label: str
    kind: str
    kind_label: str
    region_code: str | None
    region_name: str | None


class CutOut(Schema):
    dimension: str
    dimension_name: str
    key: str
    label: str
    value: Value


class FigureOut(Schema):
    code: str
    name: str
    unit: str
    kind: str
    value: Value
    previous: Value = Field(title="上期")
    change: Value = Field(title="比上期增减")
    change_rate: float | None = Field(title="比上期增减（%）")
    year_ago: Value = Field(title="上年同期")
    year_change: Value = Field(title="同比增减")
    year_change_rate: float | None = Field(title="同比增减（%）")
    breakdown: list[CutOut] | None = None


class FiguresOut(Schema):
    node: NodeOut
    period: PeriodOut
    previous_period: PeriodOut
    year_ago_period: PeriodOut
    as_of: datetime.datetime | None = Field(title="数据更新时间")
    figures: list[FigureOut]


class IndicatorRefOut(Schema):
    code: str
    name: str
    unit: str
    kind: str


class ChildOut(NodeOut):
    value: Value


class ChildrenOut(Schema):
    node: NodeOut
    indicator: IndicatorRefOut
    period: PeriodOut
    total: Value = Field(title="本工会合计")
    count: int = Field(title="下级工会数")
    offset: int
    children: list[ChildOut]


class PointOut(PeriodOut):
    value: Value


class TrendOut(Schema):
    node: NodeOut
    indicator: IndicatorRefOut
    points: list[PointOut]
