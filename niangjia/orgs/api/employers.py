"""Employers (用人单位): search, detail and the registry's writes.

An employer is seen by the cadres of its registering union (``owner``) and of its covering
grassroots union, each with their whole upper chain.
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
    EmployerCreateIn,
    EmployerFilters,
    EmployerOut,
    EmployerPage,
    EmployerUpdateIn,
)
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.scoping import get_scoped_or_404

router = Router(tags=["用人单位"])

EmployerId = Annotated[int, Path(ge=1, le=MAX_ID, title="用人单位编号")]


@router.get("", response=responses({200: EmployerPage}), summary="用人单位列表与搜索")
def employer_list(request: HttpRequest, filters: Query[EmployerFilters]) -> dict[str, Any]:
    user = acting_user(request)
    with labelled(EmployerFilters, source="query"):
        region = region_by_code(filters.region, field="region") if filters.region else None
        owner, covering, within = (
            visible_union(user, pk, field=field) if pk else None
            for pk, field in (
                (filters.owner, "owner"),
                (filters.covering_union, "covering_union"),
                (filters.within, "within"),
            )
        )
    rows = selectors.employer_list(
        user=user,
        q=filters.q,
        region=region,
        status=filters.status,
        organised=filters.organised,
        owner=owner,
        covering_union=covering,
        within=within,
    )
    return offset_page(rows, filters)


@router.get("/{employer_id}", response=responses({200: EmployerOut}), summary="用人单位详情")
def employer_detail(request: HttpRequest, employer_id: EmployerId) -> Employer:
    return get_scoped_or_404(Employer, acting_user(request), Action.VIEW, pk=employer_id)


def _resolve(user: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """Codes and ids of the input replaced by the objects they name."""
    if changes.get("region"):
        changes["region"] = region_by_code(changes["region"], field="region")
    if changes.get("owner"):
        changes["owner"] = visible_union(user, changes["owner"], field="owner")
    if changes.get("covering_union"):
        changes["covering_union"] = visible_union(
            user, changes["covering_union"], field="covering_union"
        )
    return changes


@router.post(
    "",
    response=responses({201: EmployerOut}),
    summary="登记用人单位",
    description="登记在 owner（管理工会）名下；该工会须在您的管辖范围内且您有新建权限。",
)
def employer_create(request: HttpRequest, payload: EmployerCreateIn) -> Status[Employer]:
    user = acting_user(request)
    owner = get_scoped_or_404(Union, user, Action.ADD, pk=payload.owner)
    with labelled(EmployerCreateIn):
        data = _resolve(user, payload.model_dump(exclude={"owner"}))
        employer = services.employer_create(acting_user=user, owner=owner, **data)
    return Status(201, employer)


@router.patch(
    "/{employer_id}",
    response=responses({200: EmployerOut}),
    summary="修改用人单位",
    description="只修改请求中出现的字段；可为空的字段传 null 即清空。",
)
def employer_update(
    request: HttpRequest, employer_id: EmployerId, payload: EmployerUpdateIn
) -> Employer:
    user = acting_user(request)
    employer = get_scoped_or_404(Employer, user, Action.CHANGE, pk=employer_id)
    with labelled(EmployerUpdateIn):
        changes = _resolve(user, payload.model_dump(exclude_unset=True))
        return services.employer_update(acting_user=user, employer=employer, **changes)
