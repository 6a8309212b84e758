"""Hardship relief on the API (/api/v1/relief/…): files, assistance, funds, batches.

Reads start from ``restrict(user, action)`` (niangjia.relief.selectors); writes call the
services in ``niangjia.relief.services``. Out of scope answers 404, in scope without the
right 403; a stale ``version`` answers 422 with the conflict message.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Path, Query, Router, Status

from niangjia.accounts.choices import Action
from niangjia.api.auth import acting_user
from niangjia.api.errors import labelled
from niangjia.api.schemas import MAX_ID, responses
from niangjia.members.models import Member
from niangjia.orgs.api.lookups import visible_union
from niangjia.relief import selectors, services
from niangjia.relief.api.schemas import (
    AssistanceFiltersIn,
    AssistanceIn,
    AssistanceOut,
    AssistancePage,
    BatchDetailOut,
    BatchIn,
    BatchOut,
    BatchPostOut,
    FileDetailOut,
    FileFiltersIn,
    FileIn,
    FilePage,
    FundOut,
    FundUsageOut,
    IncomeCheckIn,
    IncomeCheckOut,
    ObjectionIn,
    ObjectionOut,
    PlanOut,
    RelapseCheckOut,
    RulesOut,
    ThresholdOut,
    VersionIn,
)
from niangjia.relief.models import (
    Assistance,
    Attachment,
    DisbursementBatch,
    Fund,
    HardshipFile,
    IncomeCheck,
    Objection,
    ReliefPlan,
)
from niangjia.utilities.scoping import get_scoped_or_404

router = Router(tags=["困难职工帮扶"])

FileId = Annotated[int, Path(ge=1, le=MAX_ID, title="档案编号")]
AssistanceId = Annotated[int, Path(ge=1, le=MAX_ID, title="帮扶记录编号")]
FundId = Annotated[int, Path(ge=1, le=MAX_ID, title="资金编号")]
BatchId = Annotated[int, Path(ge=1, le=MAX_ID, title="批次编号")]
AttachmentId = Annotated[int, Path(ge=1, le=MAX_ID, title="材料编号")]


def _page(rows: Any, limit: int, offset: int, *, files: bool = False) -> dict[str, Any]:
    counted = selectors.capped_count(rows)
    items = (
        selectors.file_page(rows, offset=offset, limit=limit)
        if files
        else list(rows[offset : offset + limit])
    )
    return {
        "count": counted.count,
        "count_capped": counted.capped,
        "limit": limit,
        "offset": offset,
        "items": items,
    }


# --- Files


@router.get(
    "/files",
    response=responses({200: FilePage}),
    summary="困难职工档案列表",
    description="按困难类别、致困原因、档案级别、状态、年度复核逾期、返困等筛选；新建的在前。",
)
def relief_file_list(request: HttpRequest, filters: Query[FileFiltersIn]) -> dict[str, Any]:
    user = acting_user(request)
    with labelled(FileFiltersIn, source="query"):
        within = visible_union(user, filters.within, field="within") if filters.within else None
        rows = selectors.file_list(
            user=user,
            filters=selectors.FileFilters(
                category=filters.category or "",
                cause=filters.cause or "",
                level=filters.level or "",
                state=filters.state or "",
                overdue_review=filters.overdue_review,
                relapse=filters.relapse,
                within=within,
            ),
        )
    return _page(rows, filters.limit, filters.offset, files=True)


@router.post(
    "/files",
    response=responses({201: FileDetailOut}),
    summary="代职工建立困难职工档案申请",
    description="工会干部代为录入，提交后进入基层初审。证件号码、银行账号只在请求体中传递。",
)
def relief_file_create(request: HttpRequest, payload: FileIn) -> Status[HardshipFile]:
    user = acting_user(request)
    with labelled(FileIn):
        union = visible_union(user, payload.union, field="union")
        member = None
        if payload.member is not None:
            member = Member.objects.restrict(user, Action.VIEW).filter(pk=payload.member).first()
            if member is None:
                raise ValidationError(
                    {"member": f"编号为 {payload.member} 的会员不存在或不在您的管辖范围内"}
                )
        data = services.FileData(
            name=payload.name,
            id_type=payload.id_type,
            id_number=payload.id_number,
            phone=payload.phone,
            ethnic_group=payload.ethnic_group,
            household=payload.household,
            employer_name=payload.employer_name,
            political_status=payload.political_status,
            health=payload.health,
            disability_category=payload.disability_category or "",
            disability_grade=payload.disability_grade or "",
            work_status=payload.work_status,
            marital_status=payload.marital_status or "",
            single_parent=payload.single_parent,
            zero_employment=payload.zero_employment,
            medical_insurance=payload.medical_insurance,
            model_worker=payload.model_worker,
            housing_type=payload.housing_type,
            floor_area_band=payload.floor_area_band or "",
            employer_state=payload.employer_state or "",
            address=payload.address,
            monthly_wage=payload.monthly_wage,
            other_income_year=payload.other_income_year,
            household_size=payload.household_size,
            accident_loss_year=payload.accident_loss_year,
            main_cause=payload.main_cause,
            secondary_causes=[str(c) for c in payload.secondary_causes],
            bank_name=payload.bank_name,
            bank_account=payload.bank_account,
            archive_level=payload.archive_level,
            household_members=[
                services.PersonData(
                    name=p.name,
                    relation=p.relation,
                    id_number=p.id_number,
                    monthly_income=p.monthly_income,
                    health=p.health,
                    medical_insurance=p.medical_insurance,
                    school_or_employer=p.school_or_employer,
                )
                for p in payload.household_members
            ],
        )
        file = services.file_apply(union=union, data=data, member=member, acting_user=user)
    return Status(201, _detail(file))


def _detail(file: HardshipFile) -> HardshipFile:
    file = (
        HardshipFile.objects.select_related("union", "city_region", "employer")
        .prefetch_related("household_members")
        .get(pk=file.pk)
    )
    file.timeline = list(selectors.file_timeline(file=file))  # type: ignore[attr-defined]
    return file


@router.get(
    "/files/{file_id}",
    response=responses({200: FileDetailOut}),
    summary="困难职工档案详情",
    description="含家庭成员和办理记录（每一步、每一笔帮扶）；个人信息均为脱敏显示。",
)
def relief_file_detail(request: HttpRequest, file_id: FileId) -> HardshipFile:
    return _detail(selectors.file_detail(user=acting_user(request), pk=file_id))


# --- Assistance


@router.get("/assistance", response=responses({200: AssistancePage}), summary="帮扶救助记录")
def relief_assistance_list(
    request: HttpRequest, filters: Query[AssistanceFiltersIn]
) -> dict[str, Any]:
    user = acting_user(request)
    file = None
    if filters.file is not None:
        file = get_scoped_or_404(HardshipFile, user, Action.VIEW, pk=filters.file)
    rows = selectors.assistance_list(
        user=user,
        state=filters.state or "",
        assistance_type=filters.assistance_type or "",
        file=file,
    )
    return _page(rows, filters.limit, filters.offset)


@router.post(
    "/files/{file_id}/assistance",
    response=responses({201: AssistanceOut}),
    summary="登记帮扶救助",
    description="按本省当年帮扶标准检查每户每年上限和发放周期；登记后待经办人以外的人员审批。",
)
def relief_assistance_create(
    request: HttpRequest, file_id: FileId, payload: AssistanceIn
) -> Status[Assistance]:
    user = acting_user(request)
    file = get_scoped_or_404(HardshipFile, user, Action.CHANGE, pk=file_id)
    with labelled(AssistanceIn):
        fund = None
        if payload.fund is not None:
            fund = Fund.objects.filter(pk=payload.fund).first()
            if fund is None:
                raise ValidationError({"fund": f"编号为 {payload.fund} 的资金不存在"})
        record = services.assistance_create(
            file=file,
            assistance_type=payload.assistance_type,
            amount=payload.amount,
            in_kind_value=payload.in_kind_value,
            goods=payload.goods,
            date=payload.date,
            fund=fund,
            note=payload.note,
            acting_user=user,
        )
    return Status(201, record)


def _assistance(request: HttpRequest, pk: int, action: str) -> Assistance:
    return get_scoped_or_404(Assistance, acting_user(request), action, pk=pk)


@router.post(
    "/assistance/{assistance_id}/approve",
    response=responses({200: AssistanceOut}),
    summary="审批帮扶",
    description="超过帮扶标准规定金额的，审批后还须财务人员复核。",
)
def relief_assistance_approve(
    request: HttpRequest, assistance_id: AssistanceId, payload: VersionIn
) -> Assistance:
    record = _assistance(request, assistance_id, Action.CHANGE)
    with labelled(VersionIn):
        return services.assistance_approve(
            assistance=record, acting_user=acting_user(request), version=payload.version
        )


@router.post(
    "/assistance/{assistance_id}/second-approve",
    response=responses({200: AssistanceOut}),
    summary="财务复核帮扶",
    description="须由经办人、审批人以外的财务人员办理。",
)
def relief_assistance_second_approve(
    request: HttpRequest, assistance_id: AssistanceId, payload: VersionIn
) -> Assistance:
    record = _assistance(request, assistance_id, Action.APPROVE_FUNDS)
    with labelled(VersionIn):
        return services.assistance_second_approve(
            assistance=record, acting_user=acting_user(request), version=payload.version
        )


@router.post(
    "/assistance/{assistance_id}/pay",
    response=responses({200: AssistanceOut}),
    summary="发放帮扶",
    description="从所选资金支出并记入资金台账；余额不足的不予发放。",
)
def relief_assistance_pay(
    request: HttpRequest, assistance_id: AssistanceId, payload: VersionIn
) -> Assistance:
    record = _assistance(request, assistance_id, Action.CHANGE)
    with labelled(VersionIn):
        return services.assistance_pay(
            assistance=record, acting_user=acting_user(request), version=payload.version
        )


# --- Funds


@router.get("/funds", response=responses({200: list[FundOut]}), summary="帮扶资金及余额")
def relief_fund_list(request: HttpRequest, year: int | None = None) -> list[Fund]:
    return list(selectors.fund_list(user=acting_user(request), year=year)[:500])


@router.get(
    "/funds/{fund_id}/usage",
    response=responses({200: list[FundUsageOut]}),
    summary="资金使用情况",
    description="本资金及其逐级下拨的资金：到账、下拨、支出和余额。",
)
def relief_fund_usage(request: HttpRequest, fund_id: FundId) -> list[Any]:
    user = acting_user(request)
    fund = get_scoped_or_404(Fund, user, Action.VIEW, pk=fund_id)
    return selectors.fund_usage(user=user, fund=fund)


# --- Batches


@router.get("/batches", response=responses({200: list[BatchOut]}), summary="批量发放批次")
def relief_batch_list(request: HttpRequest) -> list[DisbursementBatch]:
    return list(selectors.batch_list(user=acting_user(request))[:200])


def _batch(request: HttpRequest, pk: int, action: str) -> DisbursementBatch:
    return get_scoped_or_404(DisbursementBatch, acting_user(request), action, pk=pk)


@router.get("/batches/{batch_id}", response=responses({200: BatchDetailOut}), summary="批次详情")
def relief_batch_detail(request: HttpRequest, batch_id: BatchId) -> DisbursementBatch:
    batch = _batch(request, batch_id, Action.VIEW)
    batch.summary = selectors.batch_summary(batch=batch)  # type: ignore[attr-defined]
    return batch


@router.post(
    "/batches",
    response=responses({201: BatchOut}),
    summary="新建批量发放批次",
    description="按条件选取资金管理范围内的在档户：本周期尚未发放同类帮扶、未超每户每年上限。",
)
def relief_batch_create(request: HttpRequest, payload: BatchIn) -> Status[DisbursementBatch]:
    user = acting_user(request)
    with labelled(BatchIn):
        fund = Fund.objects.restrict(user, Action.VIEW).filter(pk=payload.fund).first()
        if fund is None:
            raise ValidationError(
                {"fund": f"编号为 {payload.fund} 的资金不存在或不在您的管辖范围内"}
            )
        within = visible_union(user, payload.within, field="within") if payload.within else None
        batch = services.batch_create(
            fund=fund,
            name=payload.name,
            assistance_type=payload.assistance_type,
            amount=payload.amount,
            criteria=services.BatchCriteria(
                categories=[str(c) for c in payload.categories],
                causes=[str(c) for c in payload.causes],
                levels=[str(c) for c in payload.levels],
                within=within,
            ),
            acting_user=user,
        )
    return Status(201, batch)


@router.post(
    "/batches/{batch_id}/approve",
    response=responses({200: BatchOut}),
    summary="审批批次",
    description="须由制表人以外的人员审批；每户金额超过帮扶标准规定金额的，须由财务人员审批。",
)
def relief_batch_approve(
    request: HttpRequest, batch_id: BatchId, payload: VersionIn
) -> DisbursementBatch:
    batch = _batch(request, batch_id, Action.VIEW)
    with labelled(VersionIn):
        return services.batch_approve(
            batch=batch, acting_user=acting_user(request), version=payload.version
        )


@router.post(
    "/batches/{batch_id}/post",
    response=responses({200: BatchPostOut}),
    summary="发放批次",
    description="一次支出全部待发放明细并记入资金台账；余额不足的整批不予发放。",
)
def relief_batch_post(request: HttpRequest, batch_id: BatchId, payload: VersionIn) -> Any:
    batch = _batch(request, batch_id, Action.CHANGE)
    with labelled(VersionIn):
        return services.batch_post(
            batch=batch, acting_user=acting_user(request), version=payload.version
        )


# --- Rules, plans, income checks, relapse checks, objections, attachments


@router.get(
    "/thresholds",
    response=responses({200: list[ThresholdOut]}),
    summary="最低生活保障标准",
    description="各市历年的月人均标准，由市总工会维护。",
)
def relief_threshold_list(request: HttpRequest) -> list[Any]:
    return list(selectors.threshold_list(user=acting_user(request))[:500])


@router.get(
    "/rules",
    response=responses({200: RulesOut}),
    summary="困难类别认定规则和帮扶标准",
)
def relief_rule_list(request: HttpRequest) -> dict[str, Any]:
    user = acting_user(request)
    return {
        "category_rules": list(selectors.category_rule_list(user=user)[:200]),
        "assistance_rules": list(selectors.assistance_rule_list(user=user)[:500]),
    }


@router.get(
    "/files/{file_id}/plan",
    response=responses({200: PlanOut}),
    summary="一户一策帮扶计划",
    description="帮扶目标和各项措施（责任工会、完成期限、进展，逾期标注）。",
)
def relief_plan_detail(request: HttpRequest, file_id: FileId) -> ReliefPlan:
    file = get_scoped_or_404(HardshipFile, acting_user(request), Action.VIEW, pk=file_id)
    plan = ReliefPlan.objects.filter(file=file).first()
    if plan is None:
        raise Http404("该户尚未制定帮扶计划")
    return plan


@router.post(
    "/files/{file_id}/income-checks",
    response=responses({201: IncomeCheckOut}),
    summary="登记收入核查",
    description="登记（或更正）某月家庭月人均收入；系统据此提示可否脱困、解困。",
)
def relief_income_check_create(
    request: HttpRequest, file_id: FileId, payload: IncomeCheckIn
) -> Status[IncomeCheck]:
    user = acting_user(request)
    file = get_scoped_or_404(HardshipFile, user, Action.CHANGE, pk=file_id)
    with labelled(IncomeCheckIn):
        check = services.income_check_record(
            file=file,
            month=payload.month,
            income_per_head=payload.income_per_head,
            public_support_per_head=payload.public_support_per_head,
            union_aid_per_head=payload.union_aid_per_head,
            note=payload.note,
            acting_user=user,
        )
    check.file.refresh_from_db()
    return Status(201, check)


@router.get(
    "/relapse-checks",
    response=responses({200: list[RelapseCheckOut]}),
    summary="到期的返困监测回访",
)
def relief_relapse_check_list(request: HttpRequest) -> list[Any]:
    return list(selectors.relapse_checks_due(user=acting_user(request))[:500])


@router.post(
    "/files/{file_id}/objections",
    response=responses({201: ObjectionOut}),
    summary="登记公示异议",
)
def relief_objection_create(
    request: HttpRequest, file_id: FileId, payload: ObjectionIn
) -> Status[Objection]:
    user = acting_user(request)
    file = get_scoped_or_404(HardshipFile, user, Action.CHANGE, pk=file_id)
    with labelled(ObjectionIn):
        objection = services.objection_add(
            file=file,
            content=payload.content,
            raised_by=payload.raised_by,
            received_on=payload.received_on,
            acting_user=user,
        )
    return Status(201, objection)


@router.get(
    "/attachments/{attachment_id}",
    response=responses({200: None}),
    summary="下载档案材料",
    description="按内容判定的类型返回原文件；每次查看都记入审计日志。",
)
def relief_attachment_download(request: HttpRequest, attachment_id: AttachmentId) -> HttpResponse:
    user = acting_user(request)
    attachment = get_scoped_or_404(Attachment, user, Action.VIEW, pk=attachment_id)
    handle = services.attachment_open(attachment=attachment, acting_user=user)
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(False, attachment.original_name)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
