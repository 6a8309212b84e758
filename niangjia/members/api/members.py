"""Members (会员): the keyset list, exact search, detail with history, reveal, status changes
and transfers out.

Reads start from ``Member.objects.restrict`` (niangjia.members.selectors); writes call the
services in ``niangjia.members.services``. Full ID numbers and phones travel only in request
bodies, never in a URL, and come back only from the audited reveal.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Status

from niangjia.accounts.choices import Action
from niangjia.api.auth import acting_user
from niangjia.api.errors import labelled
from niangjia.api.schemas import MAX_ID, responses
from niangjia.members import selectors, services
from niangjia.members.api.schemas import (
    MemberDetailOut,
    MemberFilters,
    MemberPage,
    MemberSearchIn,
    MemberSearchOut,
    RevealIn,
    RevealOut,
    StatusIn,
    TransferIn,
    TransferOut,
)
from niangjia.members.identity import normalize_phone, parse_id
from niangjia.members.models import Member, Transfer, id_hash_of, phone_hash_of
from niangjia.orgs.api.lookups import visible_union
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.scoping import get_scoped_or_404

router = Router(tags=["会员"])

MemberId = Annotated[int, Path(ge=1, le=MAX_ID, title="会员编号")]


def _member(request: HttpRequest, member_id: int, action: str) -> Member:
    return get_scoped_or_404(Member, acting_user(request), action, pk=member_id)


@router.get(
    "",
    response=responses({200: MemberPage}),
    summary="会员列表",
    description=(
        "按所在工会的树序、再按编号排列，键集分页：把上一页返回的 next_cursor 作为 cursor "
        "传回即得下一页。证件号码、手机号码均为脱敏显示。"
    ),
)
def member_list(request: HttpRequest, filters: Query[MemberFilters]) -> dict[str, Any]:
    user = acting_user(request)
    with labelled(MemberFilters, source="query"):
        if filters.joined_from and filters.joined_to and filters.joined_from > filters.joined_to:
            raise ValidationError({"joined_to": "不能早于入会日期起"})
        within = visible_union(user, filters.within, field="within") if filters.within else None
        rows = selectors.member_list(
            user=user,
            status=filters.status,
            employment_form=filters.employment_form,
            migrant=filters.migrant,
            joined_from=filters.joined_from,
            joined_to=filters.joined_to,
            within=within,
            employer_id=filters.employer,
        )
        page = selectors.member_keyset_page(rows, after=filters.cursor, limit=filters.limit)
    return {"limit": filters.limit, "next_cursor": page.next_cursor, "items": page.items}


@router.post(
    "/search",
    response=responses({200: MemberSearchOut}),
    summary="按证件号码或手机号码查找会员",
    description="精确匹配（按密文索引），只在您的管辖范围内查找。号码放在请求体中，不进入网址。",
)
def member_search(request: HttpRequest, payload: MemberSearchIn) -> dict[str, Any]:
    with labelled(MemberSearchIn):
        if bool(payload.id_number) == bool(payload.phone):
            raise ValidationError("请填写证件号码或手机号码中的一项")
        if payload.id_number:
            identity = parse_id(payload.id_type, payload.id_number)
            rows = selectors.member_find(
                user=acting_user(request), id_hash=id_hash_of(identity.number)
            )
        else:
            phone = normalize_phone(payload.phone or "")
            rows = selectors.member_find(user=acting_user(request), phone_hash=phone_hash_of(phone))
    return {"items": list(rows[:50])}


@router.get("/{member_id}", response=responses({200: MemberDetailOut}), summary="会员详情")
def member_detail(request: HttpRequest, member_id: MemberId) -> Member:
    return _member(request, member_id, Action.VIEW)


@router.post(
    "/{member_id}/reveal",
    response=responses({200: RevealOut}),
    summary="查看证件号码或手机号码明文",
    description="须有查看明文个人信息的权限并说明理由；每次查看都记入审计日志。",
)
def member_reveal(
    request: HttpRequest, member_id: MemberId, payload: RevealIn, response: HttpResponse
) -> dict[str, str]:
    member = _member(request, member_id, Action.REVEAL)
    with labelled(RevealIn):
        value = services.member_reveal(
            member=member,
            field=payload.field,
            reason=payload.reason,
            acting_user=acting_user(request),
        )
    response["Cache-Control"] = "no-store"
    return {"field": payload.field, "value": value}


@router.post(
    "/{member_id}/status",
    response=responses({200: MemberDetailOut}),
    summary="变更会籍状态",
    description="在会 ⇄ 保留会籍，或退会、已故；须填写原因，记入会籍记录。",
)
def member_status(request: HttpRequest, member_id: MemberId, payload: StatusIn) -> Member:
    member = _member(request, member_id, Action.CHANGE)
    with labelled(StatusIn):
        return services.member_change_status(
            member=member,
            to_status=payload.to_status,
            reason=payload.reason,
            date=payload.date,
            acting_user=acting_user(request),
        )


def _destination(pk: int) -> Union:
    # A transfer may go anywhere in the country, also outside the sender's scope.
    union = Union.objects.filter(pk=pk).first()
    if union is None:
        raise ValidationError({"to_union": f"编号为 {pk} 的工会不存在"})
    return union


def _new_employer(pk: int, to_union: Union) -> Employer:
    employer = Employer.objects.filter(
        Q(owner=to_union) | Q(covering_union=to_union), pk=pk
    ).first()
    if employer is None:
        raise ValidationError(
            {"new_employer": f"编号为 {pk} 的用人单位不存在，或不由转入工会登记或覆盖"}
        )
    return employer


@router.post(
    "/{member_id}/transfer",
    response=responses({201: TransferOut}),
    summary="转出会员（会籍转接）",
    description="由所在工会办理转出，转入工会接收或拒收。新单位未建会的，转往当地的区域性工会。",
)
def member_transfer(
    request: HttpRequest, member_id: MemberId, payload: TransferIn
) -> Status[Transfer]:
    member = _member(request, member_id, Action.CHANGE)
    with labelled(TransferIn):
        to_union = _destination(payload.to_union)
        employer = _new_employer(payload.new_employer, to_union) if payload.new_employer else None
        transfer = services.transfer_release(
            member=member,
            to_union=to_union,
            reason=payload.reason,
            new_employer=employer,
            new_employer_name=payload.new_employer_name,
            acting_user=acting_user(request),
        )
    return Status(201, transfer)
