"""Mass joining ceremonies (集中入会仪式) with their venues' counters."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router

from niangjia.accounts.choices import Action
from niangjia.api.auth import acting_user
from niangjia.api.schemas import MAX_ID, PageParams, offset_page, responses
from niangjia.members import selectors
from niangjia.members.api.schemas import CeremonyDetailOut, CeremonyPage
from niangjia.members.models import JoinCeremony
from niangjia.utilities.scoping import get_scoped_or_404

router = Router(tags=["集中入会仪式"])

CeremonyId = Annotated[int, Path(ge=1, le=MAX_ID, title="仪式编号")]


@router.get(
    "",
    response=responses({200: CeremonyPage}),
    summary="集中入会仪式列表",
    description="由近到远排列（按开始时间）。",
)
def ceremony_list(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    return offset_page(selectors.ceremony_list(user=acting_user(request)), params)


@router.get(
    "/{ceremony_id}",
    response=responses({200: CeremonyDetailOut}),
    summary="集中入会仪式详情",
    description="含各会场的入会人数。",
)
def ceremony_detail(request: HttpRequest, ceremony_id: CeremonyId) -> JoinCeremony:
    return get_scoped_or_404(JoinCeremony, acting_user(request), Action.VIEW, pk=ceremony_id)
