"""Join applications (入会申请): the approval queue, one-by-one and bulk decisions, and the
paper forms a cadre enters for a union (channel "cadre").

Cadres of the target union or above it decide; each decision is audited by the services.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from niangjia.accounts.choices import Action
from niangjia.api.auth import acting_user
from niangjia.api.errors import labelled
from niangjia.api.schemas import MAX_ID, offset_page, responses
from niangjia.members import selectors, services
from niangjia.members.api.schemas import (
    ApplicationFilters,
    ApplicationOut,
    ApplicationPage,
    ApproveIn,
    BulkIn,
    BulkOut,
    JoinIn,
    RejectIn,
)
from niangjia.members.choices import ApplicationChannel
from niangjia.members.models import JoinApplication
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.scoping import get_scoped_or_404, require

router = Router(tags=["入会申请"])
# Mounted under /unions: the applications a cadre enters for one union.
union_router = Router(tags=["入会申请"])

ApplicationId = Annotated[int, Path(ge=1, le=MAX_ID, title="申请编号")]
UnionId = Annotated[int, Path(ge=1, le=MAX_ID, title="工会编号")]

NOT_VISIBLE = "申请不存在或不在您的管辖范围内"


def _application(request: HttpRequest, application_id: int, action: str) -> JoinApplication:
    return get_scoped_or_404(JoinApplication, acting_user(request), action, pk=application_id)


@router.get(
    "",
    response=responses({200: ApplicationPage}),
    summary="入会申请列表",
    description="待审批的按办理期限由近到远排列；overdue=true 只列出已超期的。",
)
def application_list(request: HttpRequest, filters: Query[ApplicationFilters]) -> dict[str, Any]:
    rows = selectors.application_list(
        user=acting_user(request), status=filters.status, overdue=filters.overdue
    )
    return offset_page(rows, filters)


# Before "/{application_id}": the path converter would take "bulk" for an id.
@router.post(
    "/bulk",
    response=responses({200: BulkOut}),
    summary="批量批准或驳回",
    description=(
        "逐条办理，一条失败不影响其他各条；results 按 ids 的顺序给出每条的结果。"
        "不在管辖范围内的编号记为失败；范围内但无权审批的，整个请求返回 403。"
    ),
)
def application_bulk(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    user = acting_user(request)
    approve = payload.decision == "approve"
    with labelled(BulkIn):
        if not approve and not payload.reason:
            raise ValidationError({"reason": "驳回申请必须填写原因"})
    ids = list(dict.fromkeys(payload.ids))
    visible = {a.pk: a for a in selectors.application_list(user=user).filter(pk__in=ids).order_by()}
    for application in visible.values():
        require(user, Action.CHANGE, application)
    decisions = services.applications_decide(
        applications=[visible[pk] for pk in ids if pk in visible],
        acting_user=user,
        approve=approve,
        reason=payload.reason,
    )
    outcome = {d.application.pk: d for d in decisions}
    results = []
    for pk in ids:
        decision = outcome.get(pk)
        if decision is None:
            results.append({"id": pk, "ok": False, "name": None, "error": NOT_VISIBLE})
        else:
            results.append(
                {
                    "id": pk,
                    "ok": not decision.error,
                    "name": decision.application.name,
                    "error": decision.error,
                }
            )
    done = sum(1 for r in results if r["ok"])
    return {"done": done, "failed": len(results) - done, "results": results}


@router.get("/{application_id}", response=responses({200: ApplicationOut}), summary="入会申请详情")
def application_detail(request: HttpRequest, application_id: ApplicationId) -> JoinApplication:
    return _application(request, application_id, Action.VIEW)


@router.post(
    "/{application_id}/approve",
    response=responses({200: ApplicationOut}),
    summary="批准入会",
    description="申请人成为会员；已是其他工会会员的，不能批准。",
)
def application_approve(
    request: HttpRequest, application_id: ApplicationId, payload: ApproveIn
) -> JoinApplication:
    application = _application(request, application_id, Action.CHANGE)
    with labelled(ApproveIn):
        services.application_approve(
            application=application, acting_user=acting_user(request), reason=payload.reason
        )
    application.refresh_from_db()
    return application


@router.post(
    "/{application_id}/reject",
    response=responses({200: ApplicationOut}),
    summary="驳回入会申请",
)
def application_reject(
    request: HttpRequest, application_id: ApplicationId, payload: RejectIn
) -> JoinApplication:
    application = _application(request, application_id, Action.CHANGE)
    with labelled(RejectIn):
        return services.application_reject(
            application=application, acting_user=acting_user(request), reason=payload.reason
        )


@union_router.post(
    "/{union_id}/join-applications",
    response=responses({201: ApplicationOut}),
    summary="代录入会申请",
    description=(
        "工会干部代职工录入纸质入会申请（渠道“工会代录”），进入该工会的审批队列。"
        "须对该工会有新建权限。已是会员或已有待审批申请的，返回 422 并说明所在工会（脱敏）。"
    ),
)
def union_join_application_create(
    request: HttpRequest, union_id: UnionId, payload: JoinIn
) -> Status[JoinApplication]:
    user = acting_user(request)
    union = get_scoped_or_404(Union, user, Action.ADD, pk=union_id)
    with labelled(JoinIn):
        employer = None
        if payload.employer is not None:
            employer = (
                Employer.objects.restrict(user, Action.VIEW).filter(pk=payload.employer).first()
            )
            if employer is None:
                raise ValidationError(
                    {"employer": f"编号为 {payload.employer} 的用人单位不存在或不在您的管辖范围内"}
                )
        data = services.JoinData(
            name=payload.name,
            id_type=payload.id_type,
            id_number=payload.id_number,
            phone=payload.phone,
            employer=employer,
            employer_name=payload.employer_name,
            occupation=payload.occupation,
            employment_form=payload.employment_form,
            gig_occupation=payload.gig_occupation or "",
            household=payload.household,
            ethnic_group=payload.ethnic_group,
            education=payload.education or "",
        )
        application = services.application_submit(
            union=union, data=data, channel=ApplicationChannel.CADRE, acting_user=user
        )
    return Status(201, application)
