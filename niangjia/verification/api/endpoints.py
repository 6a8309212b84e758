"""Employer verification campaigns (用人单位核查): campaigns, their items, and marking one.

A campaign is seen by the cadres of its union and above; an item also by the cadres of its
employer. Marking follows the pages' rule: the person it is given to, or a cadre of the
campaign's union; a mark sent with an old ``version`` is answered 409 with who changed it.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from niangjia.accounts.choices import Action
from niangjia.api.auth import acting_user
from niangjia.api.errors import labelled
from niangjia.api.schemas import MAX_ID, ErrorOut, offset_page, responses
from niangjia.utilities.scoping import get_scoped_or_404
from niangjia.verification import selectors, services
from niangjia.verification.api.schemas import (
    CampaignDetailOut,
    CampaignFilters,
    CampaignPage,
    ItemFilters,
    ItemOut,
    ItemPage,
    MarkIn,
)
from niangjia.verification.models import VerificationCampaign, VerificationItem

router = Router(tags=["用人单位核查"])

CampaignId = Annotated[int, Path(ge=1, le=MAX_ID, title="核查编号")]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, title="核查单位编号")]


def _item(item_id: int) -> VerificationItem:
    return VerificationItem.objects.select_related(
        "campaign__union", "employer", "assignee", "checked_by"
    ).get(pk=item_id)


@router.get("/campaigns", response=responses({200: CampaignPage}), summary="核查列表")
def campaign_list(request: HttpRequest, filters: Query[CampaignFilters]) -> dict[str, Any]:
    rows = selectors.campaign_list(user=acting_user(request), state=filters.state, q=filters.q)
    return offset_page(rows, filters)


@router.get(
    "/campaigns/{campaign_id}",
    response=responses({200: CampaignDetailOut}),
    summary="核查详情与进度",
    description="progress 给出合计、各核查人和未分配单位的数量，按结果分列。",
)
def campaign_detail(request: HttpRequest, campaign_id: CampaignId) -> VerificationCampaign:
    campaign = get_scoped_or_404(
        VerificationCampaign, acting_user(request), Action.VIEW, pk=campaign_id
    )
    return VerificationCampaign.objects.select_related("union", "created_by").get(pk=campaign.pk)


@router.get(
    "/campaigns/{campaign_id}/items",
    response=responses({200: ItemPage}),
    summary="核查单位列表",
    description="按编号排列，键集分页：把上一页返回的 next_after 作为 after 传回即得下一页。",
)
def item_list(
    request: HttpRequest, campaign_id: CampaignId, filters: Query[ItemFilters]
) -> dict[str, Any]:
    user = acting_user(request)
    campaign = get_scoped_or_404(VerificationCampaign, user, Action.VIEW, pk=campaign_id)
    rows = selectors.campaign_items(
        user=user,
        campaign=campaign,
        filters=selectors.ItemFilters(
            assignee=filters.assignee,
            unassigned=bool(filters.unassigned),
            result=filters.result or "",
            pending_only=False,
            q=filters.q or "",
        ),
    ).order_by("id")
    if filters.after:
        rows = rows.filter(pk__gt=filters.after)
    items = list(rows[: filters.limit + 1])
    more = len(items) > filters.limit
    items = items[: filters.limit]
    return {
        "limit": filters.limit,
        "next_after": items[-1].pk if more and items else None,
        "items": items,
    }


@router.post(
    "/items/{item_id}/mark",
    response=responses({200: ItemOut, 409: ErrorOut}),
    summary="标记核查结果",
    description=(
        "只有分配给的核查人或核查所属工会的干部可以标记，核查须在进行中。version 须为读取时"
        "得到的值：其间已被他人修改时返回 409，说明由谁改成了什么，本次标记不保存。"
    ),
)
def item_mark(
    request: HttpRequest, item_id: ItemId, payload: MarkIn
) -> VerificationItem | Status[dict[str, str]]:
    user = acting_user(request)
    item = get_scoped_or_404(VerificationItem, user, Action.VIEW, pk=item_id)
    with labelled(MarkIn):
        try:
            services.item_mark(
                acting_user=user,
                item=_item(item.pk),
                result=payload.result,
                note=payload.note,
                version=payload.version,
            )
        except services.VersionConflict as exc:
            return Status(409, {"detail": "；".join(exc.messages)})
    return _item(item.pk)
