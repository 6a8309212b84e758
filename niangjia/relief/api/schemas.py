"""Shapes of hardship relief on the API. ID numbers, phones and bank accounts leave masked."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from niangjia.api.schemas import Id, Text, UnionRef
from niangjia.members.choices import ETHNIC_GROUPS, Household, IdType
from niangjia.relief.choices import (
    ArchiveLevel,
    AssistanceState,
    AssistanceType,
    BatchState,
    Category,
    DisabilityCategory,
    DisabilityGrade,
    EmployerState,
    EventKind,
    FileState,
    FloorAreaBand,
    FundSource,
    HardshipCause,
    Health,
    HousingType,
    MaritalStatus,
    MedicalInsurance,
    ModelWorkerType,
    PoliticalStatus,
    Relation,
    WorkStatus,
)
from niangjia.relief.models import Assistance, DisbursementBatch, FileEvent, Fund, HardshipFile

Money = Decimal


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# --- Files


class FileFiltersIn(Schema):
    category: Category | None = Field(None, title="困难类别")
    cause: HardshipCause | None = Field(None, title="主要致困原因")
    level: ArchiveLevel | None = Field(None, title="档案级别")
    state: FileState | None = Field(None, title="档案状态")
    overdue_review: bool = Field(False, title="年度复核逾期")
    relapse: bool = Field(False, title="返困重新建档")
    within: Id | None = Field(None, title="所属范围", description="该工会及其全部下级的档案")
    limit: int = Field(50, ge=1, le=200, title="每页条数")
    offset: int = Field(0, ge=0, le=100_000, title="起始位置")


class FileOut(Schema):
    id: int
    file_number: str
    name: str
    id_masked: str = Field(description="证件号码（脱敏）")
    union: UnionRef
    state: FileState
    state_label: str
    category: str
    category_label: str
    main_cause: HardshipCause
    main_cause_label: str
    archive_level: ArchiveLevel
    household_size: int
    income_per_head: Money = Field(description="家庭月人均收入（元）")
    filed_on: datetime.date | None
    review_due_on: datetime.date | None
    relapse_of: int | None = Field(None, description="返困前档案编号")

    @staticmethod
    def resolve_state_label(obj: HardshipFile) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_category_label(obj: HardshipFile) -> str:
        return obj.get_category_display() if obj.category else ""

    @staticmethod
    def resolve_main_cause_label(obj: HardshipFile) -> str:
        return obj.get_main_cause_display()

    @staticmethod
    def resolve_relapse_of(obj: HardshipFile) -> int | None:
        return obj.relapse_of_id


class FilePage(Schema):
    count: int
    count_capped: bool = Field(description="为真时实际条数多于 count，请缩小筛选范围")
    limit: int
    offset: int
    items: list[FileOut]


class HouseholdMemberOut(Schema):
    id: int
    name: str
    relation: Relation
    id_masked: str
    monthly_income: Money
    health: Health
    medical_insurance: MedicalInsurance
    school_or_employer: str


class EventOut(Schema):
    id: int
    kind: EventKind
    kind_label: str
    date: datetime.date
    text: str
    from_state: str
    to_state: str
    amount: Money | None
    assistance: int | None
    actor_name: str

    @staticmethod
    def resolve_kind_label(obj: FileEvent) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_assistance(obj: FileEvent) -> int | None:
        return obj.assistance_id


class FileDetailOut(FileOut):
    phone_masked: str
    sex: str
    birth_date: datetime.date | None
    ethnic_group: str
    household: Household
    political_status: PoliticalStatus
    health: Health
    disability_category: str
    disability_grade: str
    work_status: WorkStatus
    marital_status: str
    single_parent: bool
    zero_employment: bool
    medical_insurance: MedicalInsurance
    model_worker: ModelWorkerType
    housing_type: HousingType
    floor_area_band: str
    industry: str
    employer_type: str
    employer_state: str
    employer_name: str
    address: str
    monthly_wage: Money
    other_income_year: Money
    household_income_year: Money
    accident_loss_year: Money
    causes: list[str] = Field(description="主要及次要致困原因代码")
    bank_name: str
    bank_account_masked: str
    category_proposed: str
    category_reason: str
    city_region: str = Field(description="所在城市的行政区划代码")
    version: int = Field(description="修改时原样带回，用于防止覆盖他人的修改")
    applied_on: datetime.date | None
    first_checked_on: datetime.date | None
    surveyed_on: datetime.date | None
    consent_on: datetime.date | None
    reviewed_on: datetime.date | None
    publicity_starts_on: datetime.date | None
    publicity_ends_on: datetime.date | None
    exit_proposed_kind: str
    exit_kind: str
    exited_on: datetime.date | None
    close_due_on: datetime.date | None
    closed_on: datetime.date | None
    household_members: list[HouseholdMemberOut]
    timeline: list[EventOut]

    @staticmethod
    def resolve_employer_name(obj: HardshipFile) -> str:
        return obj.employer_display

    @staticmethod
    def resolve_city_region(obj: HardshipFile) -> str:
        return obj.city_region.code

    @staticmethod
    def resolve_household_members(obj: HardshipFile) -> list[Any]:
        return list(obj.household_members.all())

    @staticmethod
    def resolve_timeline(obj: HardshipFile, context: Any) -> list[Any]:
        return list(getattr(obj, "timeline", []))


class PersonIn(InputSchema):
    name: Text = Field(max_length=50, title="姓名")
    relation: Relation = Field(title="与职工关系")
    id_number: Text = Field("", max_length=40, title="身份证号码")
    monthly_income: Decimal = Field(Decimal(0), ge=0, le=Decimal("99999999"), title="月收入")
    health: Health = Field(Health.HEALTHY, title="健康状况")
    medical_insurance: MedicalInsurance = Field(MedicalInsurance.NONE, title="医疗保险")
    school_or_employer: Text = Field("", max_length=100, title="就读学校或工作单位")


class FileIn(InputSchema):
    union: Id = Field(title="所在工会", description="办理初审的基层工会")
    member: Id | None = Field(
        None, title="会员", description="职工已是会员时填写，身份信息取自会员"
    )
    name: Text = Field("", max_length=50, title="姓名")
    id_type: IdType = Field(IdType.RESIDENT, title="证件类型")
    id_number: Text = Field("", max_length=40, title="证件号码")
    phone: Text = Field("", max_length=30, title="手机号码")
    ethnic_group: str = Field("01", title="民族", pattern=r"^\d{2}$")
    household: Household = Field(Household.URBAN, title="户籍类型")
    employer_name: Text = Field("", max_length=200, title="工作单位")
    political_status: PoliticalStatus = Field(PoliticalStatus.MASSES, title="政治面貌")
    health: Health = Field(Health.HEALTHY, title="健康状况")
    disability_category: DisabilityCategory | None = Field(None, title="残疾类别")
    disability_grade: DisabilityGrade | None = Field(None, title="残疾等级")
    work_status: WorkStatus = Field(title="工作状况")
    marital_status: MaritalStatus | None = Field(None, title="婚姻状况")
    single_parent: bool = Field(False, title="单亲家庭")
    zero_employment: bool = Field(False, title="零就业家庭")
    medical_insurance: MedicalInsurance = Field(MedicalInsurance.NONE, title="医疗保险")
    model_worker: ModelWorkerType = Field(ModelWorkerType.NONE, title="劳模类型")
    housing_type: HousingType = Field(title="住房类型")
    floor_area_band: FloorAreaBand | None = Field(None, title="人均住房面积")
    employer_state: EmployerState | None = Field(None, title="单位状况")
    address: Text = Field("", max_length=200, title="家庭住址")
    monthly_wage: Decimal = Field(ge=0, le=Decimal("99999999"), title="本人月工资")
    other_income_year: Decimal = Field(
        Decimal(0), ge=0, le=Decimal("99999999"), title="家庭其他年收入"
    )
    household_size: int = Field(ge=1, le=20, title="家庭人口")
    accident_loss_year: Decimal = Field(
        Decimal(0), ge=0, le=Decimal("99999999"), title="本年度意外损失"
    )
    main_cause: HardshipCause = Field(title="主要致困原因")
    secondary_causes: list[HardshipCause] = Field(
        default_factory=list, max_length=3, title="次要致困原因"
    )
    bank_name: Text = Field("", max_length=60, title="开户银行")
    bank_account: Text = Field("", max_length=40, title="银行账号")
    archive_level: ArchiveLevel = Field(ArchiveLevel.COUNTY, title="档案级别")
    household_members: list[PersonIn] = Field(default_factory=list, max_length=19, title="家庭成员")


# --- Assistance


class AssistanceFiltersIn(Schema):
    state: AssistanceState | None = Field(None, title="状态")
    assistance_type: AssistanceType | None = Field(None, title="帮扶类型")
    file: Id | None = Field(None, title="档案")
    limit: int = Field(50, ge=1, le=200, title="每页条数")
    offset: int = Field(0, ge=0, le=100_000, title="起始位置")


class AssistanceOut(Schema):
    id: int
    file: int
    assistance_type: AssistanceType
    assistance_type_label: str
    amount: Money
    in_kind_value: Money
    goods: str
    date: datetime.date
    cycle_key: str
    fund: int | None
    state: AssistanceState
    state_label: str
    version: int
    needs_second_approval: bool

    @staticmethod
    def resolve_file(obj: Assistance) -> int:
        return obj.file_id

    @staticmethod
    def resolve_fund(obj: Assistance) -> int | None:
        return obj.fund_id

    @staticmethod
    def resolve_assistance_type_label(obj: Assistance) -> str:
        return obj.get_assistance_type_display()

    @staticmethod
    def resolve_state_label(obj: Assistance) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_needs_second_approval(obj: Assistance) -> bool:
        return obj.state == AssistanceState.SECOND_PENDING


class AssistancePage(Schema):
    count: int
    count_capped: bool
    limit: int
    offset: int
    items: list[AssistanceOut]


class AssistanceIn(InputSchema):
    assistance_type: AssistanceType = Field(title="帮扶类型")
    amount: Decimal = Field(Decimal(0), ge=0, le=Decimal("9999999999"), title="金额")
    in_kind_value: Decimal = Field(Decimal(0), ge=0, le=Decimal("9999999999"), title="实物折价")
    goods: Text = Field("", max_length=200, title="实物内容")
    date: datetime.date | None = Field(None, title="帮扶日期")
    fund: Id | None = Field(None, title="资金来源")
    note: Text = Field("", max_length=200, title="说明")


class VersionIn(InputSchema):
    version: int | None = Field(
        None, ge=1, title="版本", description="所依据的记录版本，防止覆盖他人的修改"
    )


# --- Funds and batches


class FundOut(Schema):
    id: int
    name: str
    source: FundSource
    source_label: str
    year: int
    union: UnionRef
    parent: int | None
    balance: Money

    @staticmethod
    def resolve_source_label(obj: Fund) -> str:
        return obj.get_source_display()

    @staticmethod
    def resolve_parent(obj: Fund) -> int | None:
        return obj.parent_id


class FundUsageOut(Schema):
    fund_id: int
    union_id: int
    union_name: str
    depth: int
    received: Money
    allocated: Money
    paid: Money
    balance: Money


class BatchOut(Schema):
    id: int
    name: str
    fund: int
    assistance_type: AssistanceType
    year: int
    cycle_key: str
    amount: Money
    state: BatchState
    state_label: str
    payment_count: int
    total_amount: Money
    version: int
    criteria: dict[str, Any]

    @staticmethod
    def resolve_fund(obj: DisbursementBatch) -> int:
        return obj.fund_id

    @staticmethod
    def resolve_state_label(obj: DisbursementBatch) -> str:
        return obj.get_state_display()


class BatchDetailOut(BatchOut):
    payments_by_state: dict[str, dict[str, Any]]

    @staticmethod
    def resolve_payments_by_state(obj: DisbursementBatch, context: Any) -> dict[str, Any]:
        return getattr(obj, "summary", {})


class BatchIn(InputSchema):
    fund: Id = Field(title="资金")
    name: Text = Field(min_length=1, max_length=120, title="批次名称")
    assistance_type: AssistanceType = Field(title="帮扶类型")
    amount: Decimal = Field(gt=0, le=Decimal("9999999999"), title="每户金额")
    categories: list[Category] = Field(default_factory=list, title="困难类别")
    causes: list[HardshipCause] = Field(default_factory=list, title="致困原因")
    levels: list[ArchiveLevel] = Field(default_factory=list, title="档案级别")
    within: Id | None = Field(None, title="发放范围")


class BatchPostOut(Schema):
    paid: int
    total: Money
    failed: int
    balance_after: Money


ETHNIC_CODES = {code for code, _ in ETHNIC_GROUPS}


# --- Rules, plans, income checks, relapse checks, objections


class ThresholdOut(Schema):
    id: int
    region: str
    region_name: str
    year: int
    monthly_amount: Money
    version: int

    @staticmethod
    def resolve_region(obj: Any) -> str:
        return obj.region.code

    @staticmethod
    def resolve_region_name(obj: Any) -> str:
        return obj.region.name


class CategoryRuleOut(Schema):
    id: int
    province: str | None
    valid_from: datetime.date
    deep_multiple: Decimal
    relative_multiple: Decimal
    accident_loss_ratio: Decimal

    @staticmethod
    def resolve_province(obj: Any) -> str | None:
        return obj.province.code if obj.province_id else None


class AssistanceRuleOut(Schema):
    id: int
    province: str | None
    year: int
    assistance_type: AssistanceType
    cap_per_year: Money | None
    cycle: str
    second_approval_above: Money | None

    @staticmethod
    def resolve_province(obj: Any) -> str | None:
        return obj.province.code if obj.province_id else None


class RulesOut(Schema):
    category_rules: list[CategoryRuleOut]
    assistance_rules: list[AssistanceRuleOut]


class MeasureOut(Schema):
    id: int
    assistance_type: AssistanceType
    description: str
    responsible_union: UnionRef
    deadline: datetime.date
    state: str
    progress: str
    overdue: bool
    version: int

    @staticmethod
    def resolve_overdue(obj: Any) -> bool:
        import django.utils.timezone as tz

        return bool(obj.is_overdue(tz.localdate()))


class PlanOut(Schema):
    id: int
    file: int
    goal: str
    version: int
    measures: list[MeasureOut]

    @staticmethod
    def resolve_file(obj: Any) -> int:
        return int(obj.file_id)

    @staticmethod
    def resolve_measures(obj: Any) -> list[Any]:
        return list(obj.measures.select_related("responsible_union"))


class IncomeCheckIn(InputSchema):
    month: datetime.date = Field(title="月份", description="该月任一日期")
    income_per_head: Decimal = Field(ge=0, le=Decimal("99999999"), title="月人均收入")
    public_support_per_head: Decimal = Field(
        Decimal(0), ge=0, le=Decimal("99999999"), title="人均政府救助"
    )
    union_aid_per_head: Decimal = Field(
        Decimal(0), ge=0, le=Decimal("99999999"), title="人均工会常态化帮扶"
    )
    note: Text = Field("", max_length=200, title="说明")


class IncomeCheckOut(Schema):
    id: int
    file: int
    month: datetime.date
    income_per_head: Money
    public_support_per_head: Money
    union_aid_per_head: Money
    threshold: Money
    exit_proposed_kind: str = Field(description="系统建议：out 脱困、relieved 解困，空为暂无")

    @staticmethod
    def resolve_file(obj: Any) -> int:
        return int(obj.file_id)

    @staticmethod
    def resolve_exit_proposed_kind(obj: Any) -> str:
        return str(obj.file.exit_proposed_kind)


class RelapseCheckOut(Schema):
    id: int
    file: int
    file_number: str
    name: str
    due_on: datetime.date
    watch_ends_on: datetime.date

    @staticmethod
    def resolve_file(obj: Any) -> int:
        return int(obj.watch.file_id)

    @staticmethod
    def resolve_file_number(obj: Any) -> str:
        return str(obj.watch.file.file_number)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.watch.file.name)

    @staticmethod
    def resolve_watch_ends_on(obj: Any) -> datetime.date:
        return obj.watch.ends_on  # type: ignore[no-any-return]


class ObjectionIn(InputSchema):
    content: Text = Field(min_length=1, max_length=500, title="异议内容")
    raised_by: Text = Field("", max_length=50, title="异议人")
    received_on: datetime.date | None = Field(None, title="收到日期")


class ObjectionOut(Schema):
    id: int
    file: int
    received_on: datetime.date
    raised_by: str
    content: str
    state: str

    @staticmethod
    def resolve_file(obj: Any) -> int:
        return int(obj.file_id)
