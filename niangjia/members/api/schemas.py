"""Shapes of members, join applications, transfers and ceremonies on the API.

ID numbers and phones leave the API masked (``id_masked``, ``phone_masked``); the clear text
only through ``POST /members/{id}/reveal``.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import ConfigDict

from niangjia.api.schemas import Id, PageParams, Text, UnionRef
from niangjia.members.choices import (
    ETHNIC_GROUPS,
    ApplicationChannel,
    ApplicationStatus,
    Education,
    EmploymentForm,
    GigOccupation,
    Household,
    IdType,
    MemberStatus,
    TransferStatus,
)
from niangjia.members.models import (
    CeremonyVenue,
    JoinApplication,
    JoinCeremony,
    Member,
    MemberEvent,
    Transfer,
)
from niangjia.members.public_links import venue_join_url

EthnicGroup = Literal[tuple(code for code, _ in ETHNIC_GROUPS)]  # type: ignore[valid-type]
# Bounds only what reaches the services, which check the numbers themselves.
_ID_INPUT_MAX = 40
_PHONE_INPUT_MAX = 30
BULK_MAX = 200


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


def _user_name(user: Any) -> str | None:
    return user.display_name if user is not None else None


class EmployerRef(Schema):
    id: int
    name: str


class MemberRef(Schema):
    id: int
    member_number: str
    name: str
    id_masked: str


class VenueRef(Schema):
    id: int
    name: str


# --- Members


class MemberFilters(Schema):
    status: MemberStatus | None = Field(None, title="会籍状态")
    employment_form: EmploymentForm | None = Field(None, title="就业形态")
    migrant: bool | None = Field(
        None, title="农民工", description="true：农村户籍；false：城镇户籍"
    )
    joined_from: datetime.date | None = Field(None, title="入会日期起")
    joined_to: datetime.date | None = Field(None, title="入会日期止")
    within: Id | None = Field(None, title="所属范围", description="该工会及其全部下级的会员")
    employer: Id | None = Field(None, title="工作单位")
    cursor: Text | None = Field(None, max_length=300, title="翻页游标")
    limit: int = Field(50, ge=1, le=200, title="每页条数")


class MemberOut(Schema):
    id: int
    member_number: str
    name: str
    id_type: IdType
    id_type_label: str
    id_masked: str = Field(description="证件号码（脱敏）")
    phone_masked: str = Field(description="手机号码（脱敏）")
    sex: str
    birth_date: datetime.date | None
    ethnic_group: str
    ethnic_group_label: str
    education: str
    household: Household
    is_migrant: bool
    employment_form: EmploymentForm
    employment_form_label: str
    gig_occupation: str
    occupation: str
    employer: EmployerRef | None
    employer_name: str = Field(description="工作单位名称（已登记的单位取其登记名称）")
    union: UnionRef
    join_date: datetime.date
    status: MemberStatus
    status_label: str
    status_changed_on: datetime.date | None

    @staticmethod
    def resolve_id_type_label(obj: Member) -> str:
        return obj.get_id_type_display()

    @staticmethod
    def resolve_ethnic_group_label(obj: Member) -> str:
        return obj.get_ethnic_group_display()

    @staticmethod
    def resolve_employment_form_label(obj: Member) -> str:
        return obj.get_employment_form_display()

    @staticmethod
    def resolve_employer_name(obj: Member) -> str:
        return obj.employer_display

    @staticmethod
    def resolve_status_label(obj: Member) -> str:
        return obj.get_status_display()


class MemberEventOut(Schema):
    kind: str
    kind_label: str
    from_status: str
    to_status: str
    union: UnionRef
    date: datetime.date
    reason: str
    actor: str | None = Field(description="经办人")
    created_at: datetime.datetime

    @staticmethod
    def resolve_kind_label(obj: MemberEvent) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_actor(obj: MemberEvent) -> str | None:
        return _user_name(obj.actor)


class MemberDetailOut(MemberOut):
    history: list[MemberEventOut] = Field(description="会籍记录，由早到晚")

    @staticmethod
    def resolve_history(obj: Member) -> list[MemberEvent]:
        return list(obj.events.select_related("union", "actor").order_by("created_at", "id"))


class MemberPage(Schema):
    limit: int
    next_cursor: str | None = Field(description="下一页的游标；最后一页为 null")
    items: list[MemberOut]


class MemberSearchIn(InputSchema):
    id_type: IdType = Field(IdType.RESIDENT, title="证件类型")
    id_number: Text | None = Field(None, max_length=_ID_INPUT_MAX, title="证件号码")
    phone: Text | None = Field(None, max_length=_PHONE_INPUT_MAX, title="手机号码")


class MemberSearchOut(Schema):
    items: list[MemberOut]


class RevealIn(InputSchema):
    field: Literal["id_number", "phone"] = Field(title="查看的信息")
    reason: Text = Field(max_length=200, title="查看理由")


class RevealOut(Schema):
    field: str
    value: str


class StatusIn(InputSchema):
    to_status: MemberStatus = Field(title="新状态")
    reason: Text = Field(max_length=200, title="变更原因")
    date: datetime.date | None = Field(None, title="变更日期", description="不填为今天")


class TransferIn(InputSchema):
    to_union: Id = Field(title="转入工会", description="全国任一接收会员的工会")
    reason: Text = Field(max_length=200, title="转出原因")
    new_employer: Id | None = Field(
        None, title="新工作单位", description="转入工会登记或覆盖的用人单位"
    )
    new_employer_name: Text = Field("", max_length=200, title="新工作单位名称")


# --- Transfers


class TransferOut(Schema):
    id: int
    member: MemberRef
    from_union: UnionRef
    to_union: UnionRef
    new_employer: EmployerRef | None
    new_employer_name: str
    status: TransferStatus
    status_label: str
    reason: str
    released_at: datetime.datetime
    released_by: str | None
    decided_at: datetime.datetime | None
    decided_by: str | None
    refusal_reason: str

    @staticmethod
    def resolve_status_label(obj: Transfer) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_released_by(obj: Transfer) -> str | None:
        return _user_name(obj.released_by)

    @staticmethod
    def resolve_decided_by(obj: Transfer) -> str | None:
        return _user_name(obj.decided_by)


class TransferFilters(PageParams):
    direction: Literal["incoming", "outgoing"] | None = Field(
        None, title="方向", description="incoming：转入本辖区；outgoing：从本辖区转出"
    )
    status: TransferStatus | None = Field(None, title="状态")


class TransferPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TransferOut]


class RefuseIn(InputSchema):
    reason: Text = Field(min_length=1, max_length=200, title="拒收原因")


# --- Join applications


class ApplicationFilters(PageParams):
    status: ApplicationStatus | None = Field(None, title="状态")
    overdue: bool | None = Field(
        None, title="是否超期", description="true：待审批且已过 15 个工作日的办理期限"
    )


class ApplicationOut(Schema):
    id: int
    name: str
    id_type: IdType
    id_masked: str = Field(description="证件号码（脱敏）")
    phone_masked: str = Field(description="手机号码（脱敏）")
    sex: str
    birth_date: datetime.date | None
    household: Household
    is_migrant: bool
    employment_form: EmploymentForm
    gig_occupation: str
    occupation: str
    employer: EmployerRef | None
    employer_name: str
    union: UnionRef
    channel: ApplicationChannel
    channel_label: str
    venue: VenueRef | None
    phone_verified: bool
    status: ApplicationStatus
    status_label: str
    submitted_at: datetime.datetime
    due_date: datetime.date = Field(description="办理期限（提交后第 15 个工作日）")
    overdue: bool = Field(description="待审批且已过办理期限")
    decided_at: datetime.datetime | None
    decided_by: str | None
    decision_reason: str
    member: int | None = Field(description="批准后成为的会员编号（id）")

    @staticmethod
    def resolve_employer_name(obj: JoinApplication) -> str:
        return obj.employer_display

    @staticmethod
    def resolve_channel_label(obj: JoinApplication) -> str:
        return obj.get_channel_display()

    @staticmethod
    def resolve_status_label(obj: JoinApplication) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_overdue(obj: JoinApplication) -> bool:
        return obj.status == ApplicationStatus.SUBMITTED and obj.due_date < timezone.localdate()

    @staticmethod
    def resolve_decided_by(obj: JoinApplication) -> str | None:
        return _user_name(obj.decided_by)

    @staticmethod
    def resolve_member(obj: JoinApplication) -> int | None:
        return obj.member_id


class ApplicationPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ApplicationOut]


class ApproveIn(InputSchema):
    reason: Text = Field("", max_length=200, title="审批意见")


class RejectIn(InputSchema):
    reason: Text = Field(min_length=1, max_length=200, title="驳回原因")


class BulkIn(InputSchema):
    ids: list[Id] = Field(min_length=1, max_length=BULK_MAX, title="申请编号")
    decision: Literal["approve", "reject"] = Field(title="办理决定")
    reason: Text = Field("", max_length=200, title="意见或驳回原因")


class BulkItemOut(Schema):
    id: int
    ok: bool
    name: str | None = Field(description="申请人姓名；不在管辖范围内的申请为 null")
    error: str = Field(description="未办成的原因；办成为空")


class BulkOut(Schema):
    done: int
    failed: int
    results: list[BulkItemOut]


class JoinIn(InputSchema):
    name: Text = Field(min_length=1, max_length=50, title="姓名")
    id_type: IdType = Field(IdType.RESIDENT, title="证件类型")
    id_number: Text = Field(max_length=_ID_INPUT_MAX, title="证件号码")
    phone: Text = Field(max_length=_PHONE_INPUT_MAX, title="手机号码")
    employer: Id | None = Field(None, title="工作单位", description="已登记的用人单位编号")
    employer_name: Text = Field(
        "", max_length=200, title="工作单位名称", description="单位尚未登记时填写"
    )
    occupation: Text = Field("", max_length=50, title="职业/岗位")
    employment_form: EmploymentForm = Field(EmploymentForm.STANDARD, title="就业形态")
    gig_occupation: GigOccupation | None = Field(None, title="新就业形态职业")
    household: Household = Field(Household.URBAN, title="户籍类型")
    ethnic_group: EthnicGroup = Field("01", title="民族", description="GB/T 3304 两位代码")
    education: Education | None = Field(None, title="学历")


# --- Ceremonies


class VenueOut(Schema):
    id: int
    name: str
    union: UnionRef
    joined_count: int = Field(description="本会场入会人数")
    join_url: str = Field(description="本会场入会二维码中的网址")

    @staticmethod
    def resolve_join_url(obj: CeremonyVenue, context: dict[str, Any]) -> str:
        return venue_join_url(context["request"], obj)


class CeremonyOut(Schema):
    id: int
    name: str
    union: UnionRef
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    auto_approve: bool
    require_sms: bool
    joined_count: int = Field(description="入会总人数")


class CeremonyDetailOut(CeremonyOut):
    venues: list[VenueOut]

    @staticmethod
    def resolve_venues(obj: JoinCeremony) -> list[CeremonyVenue]:
        return list(obj.venues.select_related("union").order_by("id"))


class CeremonyPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CeremonyOut]
