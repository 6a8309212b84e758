"""Membership transfers (会籍转接) seen from either side: the queue, and the receiving union's
acceptance or refusal, or the sending union's withdrawal."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router

from niangjia.accounts.choices import Action
from niangjia.api.auth import acting_user
from niangjia.api.errors import labelled
from niangjia.api.schemas import MAX_ID, offset_page, responses
from niangjia.members import selectors, services
from niangjia.members.api.schemas import RefuseIn, TransferFilters, TransferOut, TransferPage
from niangjia.members.models import Transfer
from niangjia.utilities.scoping import get_scoped_or_404

router = Router(tags=["会籍转接"])

TransferId = Annotated[int, Path(ge=1, le=MAX_ID, title="转接编号")]


def _transfer(request: HttpRequest, transfer_id: int) -> Transfer:
    # Either side may change a transfer; which side may do what the services decide (403).
    return get_scoped_or_404(Transfer, acting_user(request), Action.CHANGE, pk=transfer_id)


def _reread(transfer: Transfer) -> Transfer:
    return Transfer.objects.select_related(
        "member", "from_union", "to_union", "new_employer", "released_by", "decided_by"
    ).get(pk=transfer.pk)


@router.get(
    "",
    response=responses({200: TransferPage}),
    summary="会籍转接列表",
    description="direction=incoming 列出转入本辖区的，outgoing 列出从本辖区转出的；不填则都列出。",
)
def transfer_list(request: HttpRequest, filters: Query[TransferFilters]) -> dict[str, Any]:
    rows = selectors.transfer_list(
        user=acting_user(request), direction=filters.direction, status=filters.status
    )
    return offset_page(rows, filters)


@router.post(
    "/{transfer_id}/accept",
    response=responses({200: TransferOut}),
    summary="接收转入的会员",
    description="只有转入工会（或其上级）可以接收。",
)
def transfer_accept(request: HttpRequest, transfer_id: TransferId) -> Transfer:
    transfer = _transfer(request, transfer_id)
    with labelled(source="path"):
        services.transfer_accept(transfer=transfer, acting_user=acting_user(request))
    return _reread(transfer)


@router.post(
    "/{transfer_id}/refuse",
    response=responses({200: TransferOut}),
    summary="拒收转入的会员",
    description="只有转入工会（或其上级）可以拒收，须说明原因；会员回到原工会。",
)
def transfer_refuse(request: HttpRequest, transfer_id: TransferId, payload: RefuseIn) -> Transfer:
    transfer = _transfer(request, transfer_id)
    with labelled(RefuseIn):
        services.transfer_refuse(
            transfer=transfer, acting_user=acting_user(request), reason=payload.reason
        )
    return _reread(transfer)


@router.post(
    "/{transfer_id}/cancel",
    response=responses({200: TransferOut}),
    summary="撤销转出",
    description="只有转出工会（或其上级）可以撤销尚未接收的转接。",
)
def transfer_cancel(request: HttpRequest, transfer_id: TransferId) -> Transfer:
    transfer = _transfer(request, transfer_id)
    with labelled(source="path"):
        services.transfer_cancel(transfer=transfer, acting_user=acting_user(request))
    return _reread(transfer)
