"""The union tree: search, detail with figures, paged children, and the registry's writes.

Reads start from ``Union.objects.restrict``; writes call the services in
``niangjia.orgs.services``. The union in the path is looked up with the action the
operation needs: outside the caller's scope it is 404, inside but not allowed 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from niangjia.accounts.choices import Action
from niangjia.api.auth import acting_user
from niangjia.api.errors import labelled
from niangjia.api.schemas import MAX_ID, offset_page, responses
from niangjia.orgs import selectors, services
from niangjia.orgs.api.lookups import region_by_code, visible_union
from niangjia.orgs.api.schemas import (
    ChildrenParams,
    UnionChildrenPage,
    UnionCreateIn,
    UnionDetailOut,
    UnionDissolveIn,
    UnionFilters,
    UnionMergeIn,
    UnionMoveIn,
    UnionPage,
    UnionUpdateIn,
)
from niangjia.orgs.models import Union
from niangjia.utilities.scoping import get_scoped_or_404

router = Router(tags=["工会"])

UnionId = Annotated[int, Path(ge=1, le=MAX_ID, title="工会编号")]


def _union(request: HttpRequest, union_id: int, action: str) -> Union:
    return get_scoped_or_404(Union, acting_user(request), action, pk=union_id)


@router.get("", response=responses({200: UnionPage}), summary="工会列表与搜索")
def union_list(request: HttpRequest, filters: Query[UnionFilters]) -> dict[str, Any]:
    user = acting_user(request)
    with labelled(UnionFilters, source="query"):
        parent = visible_union(user, filters.parent, field="parent") if filters.parent else None
        within = visible_union(user, filters.within, field="within") if filters.within else None
    rows = selectors.union_list(
        user=user,
        q=filters.q,
        level=filters.level,
        kind=filters.kind,
        status=filters.status,
        parent=parent,
        within=within,
    )
    return offset_page(rows, filters)


@router.get("/{union_id}", response=responses({200: UnionDetailOut}), summary="工会详情")
def union_detail(request: HttpRequest, union_id: UnionId) -> Union:
    return _union(request, union_id, Action.VIEW)


@router.get(
    "/{union_id}/children",
    response=responses({200: UnionChildrenPage}),
    summary="直属下级工会",
    description="按树序分页列出直属下级；把上一页返回的 next_cursor 作为 cursor 传回即得下一页。",
)
def union_children(
    request: HttpRequest, union_id: UnionId, params: Query[ChildrenParams]
) -> dict[str, Any]:
    parent = _union(request, union_id, Action.VIEW)
    with labelled(ChildrenParams, source="query"):
        page = selectors.union_children(
            user=acting_user(request), parent=parent, cursor=params.cursor, limit=params.limit
        )
    return {"total": page.total, "next_cursor": page.next_cursor, "items": page.items}


@router.post("", response=responses({201: UnionDetailOut}), summary="新建下级工会")
def union_create(request: HttpRequest, payload: UnionCreateIn) -> Status[Union]:
    user = acting_user(request)
    parent = _union(request, payload.parent, Action.ADD)
    with labelled(UnionCreateIn):
        region = region_by_code(payload.region, field="region") if payload.region else None
        industry_union = (
            visible_union(user, payload.industry_union, field="industry_union")
            if payload.industry_union
            else None
        )
        union = services.union_create(
            acting_user=user,
            parent=parent,
            name=payload.name,
            level=payload.level,
            kind=payload.kind,
            region=region,
            industry_union=industry_union,
            uscc=payload.uscc,
            established_on=payload.established_on,
            address=payload.address,
            contact_phone=payload.contact_phone,
        )
    return Status(201, union)


@router.patch(
    "/{union_id}",
    response=responses({200: UnionDetailOut}),
    summary="修改工会信息",
    description="只修改请求中出现的字段；可为空的字段传 null 即清空。",
)
def union_update(request: HttpRequest, union_id: UnionId, payload: UnionUpdateIn) -> Union:
    user = acting_user(request)
    union = _union(request, union_id, Action.CHANGE)
    changes = payload.model_dump(exclude_unset=True)
    with labelled(UnionUpdateIn):
        if changes.get("region"):
            changes["region"] = region_by_code(changes["region"], field="region")
        if changes.get("industry_union"):
            changes["industry_union"] = visible_union(
                user, changes["industry_union"], field="industry_union"
            )
        return services.union_update(acting_user=user, union=union, **changes)


@router.post(
    "/{union_id}/move",
    response=responses({200: UnionDetailOut}),
    summary="移动工会",
    description="把工会连同其全部下级移到新的上级工会之下。",
)
def union_move(request: HttpRequest, union_id: UnionId, payload: UnionMoveIn) -> Union:
    user = acting_user(request)
    union = _union(request, union_id, Action.CHANGE)
    with labelled(UnionMoveIn):
        new_parent = visible_union(user, payload.parent, field="parent")
        return services.union_move(acting_user=user, union=union, new_parent=new_parent)


@router.post(
    "/{union_id}/merge",
    response=responses({200: UnionDetailOut}),
    summary="合并工会",
    description="把该工会并入 target：下级工会、用人单位随之转入；返回并入后的工会。",
)
def union_merge(request: HttpRequest, union_id: UnionId, payload: UnionMergeIn) -> Union:
    user = acting_user(request)
    source = _union(request, union_id, Action.CHANGE)
    with labelled(UnionMergeIn):
        target = visible_union(user, payload.target, field="target")
        return services.union_merge(acting_user=user, source=source, target=target)


@router.post("/{union_id}/dissolve", response=responses({200: UnionDetailOut}), summary="撤销工会")
def union_dissolve(request: HttpRequest, union_id: UnionId, payload: UnionDissolveIn) -> Union:
    user = acting_user(request)
    union = _union(request, union_id, Action.CHANGE)
    with labelled(UnionDissolveIn):
        return services.union_dissolve(acting_user=user, union=union, reason=payload.reason)


@router.delete(
    "/{union_id}",
    response=responses({204: None}),
    summary="删除工会",
    description="只能删除没有下级、没有用人单位、没有任职账号的工会；其他情况请合并或撤销。",
)
def union_delete(request: HttpRequest, union_id: UnionId) -> Status[None]:
    union = _union(request, union_id, Action.DELETE)
    with labelled(source="path"):
        services.union_delete(acting_user=acting_user(request), union=union)
    return Status(204, None)
