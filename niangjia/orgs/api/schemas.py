"""Shapes of regions, unions and employers on the API."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from niangjia.api.schemas import Id, LongText, PageParams, RegionCode, RegionRef, Text, UnionRef
from niangjia.orgs.choices import (
    EmployerStatus,
    IndustrySection,
    OwnershipType,
    RegionLevel,
    UnionKind,
    UnionLevel,
    UnionStatus,
)
from niangjia.orgs.models import Employer, Region, Union
from niangjia.orgs.selectors import union_child_counts

# Free-form codes are checked by the services; this only bounds what reaches them.
_USCC_INPUT_MAX = 30
_HEADCOUNT_MAX = 2_147_483_647  # PositiveIntegerField


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# --- Regions


class RegionFilters(PageParams):
    parent: RegionCode | None = Field(None, title="上级区划代码")
    level: RegionLevel | None = Field(None, title="区划级别")
    q: Text | None = Field(None, max_length=50, title="搜索词")


class RegionOut(Schema):
    code: str
    name: str
    full_name: str
    level: RegionLevel
    level_label: str
    parent: RegionRef | None
    revision: str

    @staticmethod
    def resolve_level_label(obj: Region) -> str:
        return obj.get_level_display()


class RegionDetailOut(RegionOut):
    children_count: int

    @staticmethod
    def resolve_children_count(obj: Region) -> int:
        return obj.children.count()


class RegionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[RegionOut]


# --- Unions


class UnionFilters(PageParams):
    q: Text | None = Field(
        None, max_length=100, title="搜索词", description="名称或统一社会信用代码"
    )
    level: UnionLevel | None = Field(None, title="层级")
    kind: UnionKind | None = Field(None, title="类型")
    status: UnionStatus | None = Field(None, title="状态")
    parent: Id | None = Field(None, title="上级工会", description="只列出该工会的直属下级")
    within: Id | None = Field(None, title="所属范围", description="列出该工会及其全部下级")


class UnionOut(Schema):
    id: int
    name: str
    uscc: str | None
    level: UnionLevel
    level_label: str
    kind: UnionKind
    kind_label: str
    status: UnionStatus
    status_label: str
    region: RegionRef | None
    industry_union: UnionRef | None
    merged_into: UnionRef | None
    depth: int
    children_count: int = Field(description="直属下级工会数")
    established_on: datetime.date | None
    closed_on: datetime.date | None
    address: str
    contact_phone: str
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_level_label(obj: Union) -> str:
        return obj.get_level_display()

    @staticmethod
    def resolve_kind_label(obj: Union) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_status_label(obj: Union) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_children_count(obj: Union) -> int:
        return obj.numchild


class UnionCountsOut(Schema):
    children: int
    children_by_level: dict[str, int]
    children_by_kind: dict[str, int]
    children_by_status: dict[str, int]
    employers_registered: int = Field(description="登记在该工会的用人单位数")
    employers_covered: int = Field(description="该工会覆盖的用人单位数")


class UnionDetailOut(UnionOut):
    parent: UnionRef | None
    counts: UnionCountsOut

    @staticmethod
    def resolve_parent(obj: Union) -> Union | None:
        return Union.objects.get_parent(obj, update=True)

    @staticmethod
    def resolve_counts(obj: Union) -> dict[str, Any]:
        return union_child_counts(obj)


class UnionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[UnionOut]


class UnionChildrenPage(Schema):
    total: int = Field(description="直属下级工会总数")
    next_cursor: str | None = Field(description="下一页的游标；最后一页为 null")
    items: list[UnionOut]


class ChildrenParams(Schema):
    cursor: Text | None = Field(None, max_length=255, title="翻页游标")
    limit: int | None = Field(None, ge=1, le=500, title="每页条数")


class UnionCreateIn(InputSchema):
    parent: Id = Field(title="上级工会")
    name: Text = Field(min_length=1, max_length=120, title="名称")
    level: UnionLevel = Field(title="层级")
    kind: UnionKind = Field(title="类型")
    region: RegionCode | None = Field(None, title="所在行政区划")
    industry_union: Id | None = Field(None, title="所属产业工会")
    uscc: Text | None = Field(None, max_length=_USCC_INPUT_MAX, title="统一社会信用代码")
    established_on: datetime.date | None = Field(None, title="成立日期")
    address: Text = Field("", max_length=200, title="地址")
    contact_phone: Text = Field("", max_length=30, title="联系电话")


class UnionUpdateIn(InputSchema):
    # Only the fields sent are changed; ``null`` clears a field that may be empty.

    name: Text = Field(None, min_length=1, max_length=120, title="名称")
    region: RegionCode | None = Field(None, title="所在行政区划")
    industry_union: Id | None = Field(None, title="所属产业工会")
    uscc: Text | None = Field(None, max_length=_USCC_INPUT_MAX, title="统一社会信用代码")
    established_on: datetime.date | None = Field(None, title="成立日期")
    address: Text = Field(None, max_length=200, title="地址")
    contact_phone: Text = Field(None, max_length=30, title="联系电话")


class UnionMoveIn(InputSchema):
    parent: Id = Field(title="新上级工会")


class UnionMergeIn(InputSchema):
    target: Id = Field(title="并入的工会")


class UnionDissolveIn(InputSchema):
    reason: LongText = Field(min_length=1, max_length=500, title="撤销原因")


# --- Employers


class EmployerFilters(PageParams):
    q: Text | None = Field(
        None, max_length=100, title="搜索词", description="名称或统一社会信用代码"
    )
    region: RegionCode | None = Field(None, title="所在行政区划", description="含其下级区划")
    status: EmployerStatus | None = Field(None, title="登记状态")
    organised: bool | None = Field(None, title="是否已建会")
    owner: Id | None = Field(None, title="管理工会")
    covering_union: Id | None = Field(None, title="所属基层工会")
    within: Id | None = Field(None, title="所属范围", description="登记或覆盖在该工会及其下级")


class EmployerOut(Schema):
    id: int
    name: str
    uscc: str | None
    uscc_override: bool
    uscc_override_reason: str
    region: RegionRef
    industry_section: IndustrySection
    industry_section_label: str
    ownership: OwnershipType
    ownership_label: str
    headcount: int
    status: EmployerStatus
    status_label: str
    owner: UnionRef
    covering_union: UnionRef | None
    is_organised: bool
    address: str
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_industry_section_label(obj: Employer) -> str:
        return obj.get_industry_section_display()

    @staticmethod
    def resolve_ownership_label(obj: Employer) -> str:
        return obj.get_ownership_display()

    @staticmethod
    def resolve_status_label(obj: Employer) -> str:
        return obj.get_status_display()


class EmployerPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EmployerOut]


class EmployerCreateIn(InputSchema):
    name: Text = Field(min_length=1, max_length=200, title="单位名称")
    uscc: Text | None = Field(None, max_length=_USCC_INPUT_MAX, title="统一社会信用代码")
    uscc_override: bool = Field(False, title="校验位例外（历史代码）")
    uscc_override_reason: Text = Field("", max_length=200, title="例外原因")
    region: RegionCode = Field(title="所在行政区划")
    industry_section: IndustrySection = Field(title="行业门类")
    ownership: OwnershipType = Field(title="经济类型")
    headcount: int = Field(0, ge=0, le=_HEADCOUNT_MAX, title="职工人数")
    status: EmployerStatus = Field(EmployerStatus.ACTIVE, title="登记状态")
    owner: Id = Field(title="管理工会")
    covering_union: Id | None = Field(None, title="所属基层工会")
    address: Text = Field("", max_length=200, title="地址")


class EmployerUpdateIn(InputSchema):
    # Only the fields sent are changed; ``null`` clears a field that may be empty.

    name: Text = Field(None, min_length=1, max_length=200, title="单位名称")
    uscc: Text | None = Field(None, max_length=_USCC_INPUT_MAX, title="统一社会信用代码")
    uscc_override: bool = Field(None, title="校验位例外（历史代码）")
    uscc_override_reason: Text = Field(None, max_length=200, title="例外原因")
    region: RegionCode = Field(None, title="所在行政区划")
    industry_section: IndustrySection = Field(None, title="行业门类")
    ownership: OwnershipType = Field(None, title="经济类型")
    headcount: int = Field(None, ge=0, le=_HEADCOUNT_MAX, title="职工人数")
    status: EmployerStatus = Field(None, title="登记状态")
    owner: Id = Field(None, title="管理工会")
    covering_union: Id | None = Field(None, title="所属基层工会")
    address: Text = Field(None, max_length=200, title="地址")
