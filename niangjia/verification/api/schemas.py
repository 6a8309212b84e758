"""Shapes of verification campaigns and their items on the API."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from niangjia.api.schemas import Id, LongText, PageParams, Text, UnionRef
from niangjia.verification.choices import CampaignState, VerificationResult
from niangjia.verification.models import VerificationCampaign, VerificationItem
from niangjia.verification.selectors import Tally, campaign_progress


class UserRef(Schema):
    id: int
    name: str


def _user(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.display_name} if user is not None else None


class CampaignFilters(PageParams):
    state: CampaignState | None = Field(None, title="状态")
    q: Text | None = Field(None, max_length=100, title="核查名称")


class CampaignOut(Schema):
    id: int
    name: str
    union: UnionRef
    state: CampaignState
    state_label: str
    due_date: datetime.date | None
    item_count: int = Field(description="核查单位数")
    created_by: UserRef | None
    created_at: datetime.datetime
    opened_at: datetime.datetime | None
    closed_at: datetime.datetime | None

    @staticmethod
    def resolve_state_label(obj: VerificationCampaign) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_created_by(obj: VerificationCampaign) -> dict[str, Any] | None:
        return _user(obj.created_by)


class CampaignPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CampaignOut]


class TallyOut(Schema):
    assignee: UserRef | None = Field(description="核查人；合计和未分配时为 null")
    assigned: int
    done: int
    pending: int
    active: int = Field(description="存续")
    moved_away: int = Field(description="迁出")
    deregistered: int = Field(description="注销")


def tally_out(tally: Tally, name: str | None = None) -> dict[str, Any]:
    return {
        "assignee": {"id": tally.user_id, "name": name or tally.name}
        if tally.user_id is not None
        else None,
        "assigned": tally.assigned,
        "done": tally.done,
        "pending": tally.pending,
        **{r: tally.count(r) for r in ("active", "moved_away", "deregistered")},
    }


class ProgressOut(Schema):
    overall: TallyOut
    people: list[TallyOut]
    unassigned: TallyOut


class CampaignDetailOut(CampaignOut):
    progress: ProgressOut

    @staticmethod
    def resolve_progress(obj: VerificationCampaign) -> dict[str, Any]:
        progress = campaign_progress(obj)
        return {
            "overall": tally_out(progress.overall),
            "people": [tally_out(t) for t in progress.people],
            "unassigned": tally_out(progress.unassigned),
        }


class ItemFilters(Schema):
    assignee: Id | None = Field(None, title="核查人", description="账号编号")
    unassigned: bool | None = Field(None, title="只看未分配的")
    result: VerificationResult | None = Field(None, title="核查结果")
    q: Text | None = Field(None, max_length=100, title="单位名称或信用代码")
    after: Id | None = Field(None, title="翻页游标", description="上一页返回的 next_after")
    limit: int = Field(50, ge=1, le=200, title="每页条数")


class EmployerBrief(Schema):
    id: int
    name: str
    uscc: str | None
    status: str = Field(description="当前登记状态")
    address: str


class ItemOut(Schema):
    id: int
    campaign_id: int
    employer: EmployerBrief
    status_before: str = Field(description="核查前登记状态")
    assignee: UserRef | None
    result: VerificationResult
    result_label: str
    note: str
    checked_by: UserRef | None
    checked_at: datetime.datetime | None
    applied: bool = Field(description="结果已写入用人单位登记")
    version: int = Field(description="标记时原样传回，用于发现他人同时作出的修改")

    @staticmethod
    def resolve_result_label(obj: VerificationItem) -> str:
        return obj.get_result_display()

    @staticmethod
    def resolve_assignee(obj: VerificationItem) -> dict[str, Any] | None:
        return _user(obj.assignee)

    @staticmethod
    def resolve_checked_by(obj: VerificationItem) -> dict[str, Any] | None:
        return _user(obj.checked_by)


class ItemPage(Schema):
    limit: int
    next_after: int | None = Field(description="下一页的游标；最后一页为 null")
    items: list[ItemOut]


class MarkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    result: VerificationResult = Field(title="核查结果", description="pending 表示撤销标记")
    note: LongText = Field("", max_length=500, title="备注")
    version: int = Field(ge=1, le=2**31 - 1, title="版本", description="读取该单位时得到的 version")
