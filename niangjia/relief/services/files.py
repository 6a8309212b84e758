"""Writes about household files: application, the steps of the workflow up to filing, edits
with optimistic locking, attachments, notes, reveals, the annual review and closing.

The workflow (see ``niangjia.relief.choices.FileState``)::

    file_apply ─▶ file_first_check ─▶ file_survey ─▶ file_review ─▶ publicity_start
        ─▶ (objection_add / objection_resolve) ─▶ file_file ─▶ … ─▶ exit_confirm ─▶ file_close

Every function is one transaction, writes a timeline line (``FileEvent``) and an audit row.
Steps that edit the household's data take the ``version`` the editor started from; a stale
version is refused with a conflict message (``common.Conflict``).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import diff, record, snapshot
from niangjia.members.choices import HOLDING_STATUSES, EmploymentForm, Household, IdType
from niangjia.members.identity import normalize_phone, parse_id
from niangjia.members.models import PERSONAL_FIELDS, Member
from niangjia.members.services import accepts_members
from niangjia.orgs.choices import IndustrySection, OwnershipType, RegionLevel
from niangjia.orgs.models import Employer, Region, Union
from niangjia.relief.choices import (
    EDITABLE_STATES,
    OPEN_STATES,
    ArchiveLevel,
    AttachmentKind,
    Category,
    DisabilityCategory,
    DisabilityGrade,
    EmployerState,
    EventKind,
    FileChannel,
    FileState,
    FloorAreaBand,
    HardshipCause,
    Health,
    HousingType,
    MaritalStatus,
    MedicalInsurance,
    ModelWorkerType,
    ObjectionState,
    PoliticalStatus,
    Relation,
    WorkStatus,
)
from niangjia.relief.models import (
    Attachment,
    FilePerson,
    HardshipFile,
    HouseholdMember,
    Objection,
)
from niangjia.relief.services.common import (
    add_months,
    bump,
    check_version,
    event,
    locked,
    money,
    require_review_level,
    today,
)
from niangjia.relief.services.rules import (
    category_rule_for,
    city_of,
    propose_category,
    require_threshold,
    threshold_for,
)
from niangjia.utilities.masking import mask_name
from niangjia.utilities.scoping import require

# Audit rows never carry the ciphertexts or keyed hashes.
_SECRET_FIELDS = (
    "id_number_enc",
    "phone_enc",
    "bank_account_enc",
    "id_hash",
    "phone_hash",
    "created_at",
    "updated_at",
)
MAX_MONEY = Decimal("9999999999.99")
MAX_HOUSEHOLD = 20
REVIEW_MONTHS = 12
PUBLICITY_DAYS = (3, 30)


class AlreadyOnFile(ValidationError):
    """A person of the household is in another open file already."""

    def __init__(self, name: str, other: HardshipFile | None) -> None:
        where = f"“{other.union.name}”的" if other is not None else ""
        super().__init__(
            {
                "id_number": f"{mask_name(name)}已在{where}另一份未办结的困难职工档案中，"
                "同一人只能在一份在档档案中，请核实后再办理"
            },
            code="already_on_file",
        )


@dataclass
class PersonData:
    """A member of the household (the worker excluded)."""

    name: str
    relation: str
    id_number: str = ""
    birth_date: datetime.date | None = None
    monthly_income: Decimal = Decimal(0)
    health: str = Health.HEALTHY
    medical_insurance: str = MedicalInsurance.NONE
    school_or_employer: str = ""


@dataclass
class FileData:
    """The fields of the national form. The worker's identity fields (``name`` …
    ``occupation``) are ignored when the file is opened from a member record; on an edit an
    empty ``id_number`` or ``bank_account`` keeps the stored one."""

    # The worker, when not taken from a member
    name: str = ""
    id_type: str = IdType.RESIDENT
    id_number: str = ""
    phone: str = ""
    ethnic_group: str = "01"
    household: str = Household.URBAN
    education: str = ""
    employer: Employer | None = None
    employer_name: str = ""
    occupation: str = ""
    # The form
    political_status: str = PoliticalStatus.MASSES
    health: str = Health.HEALTHY
    disability_category: str = ""
    disability_grade: str = ""
    work_status: str = WorkStatus.ON_POST
    marital_status: str = ""
    single_parent: bool = False
    zero_employment: bool = False
    medical_insurance: str = MedicalInsurance.NONE
    model_worker: str = ModelWorkerType.NONE
    housing_type: str = HousingType.OWNED
    floor_area_band: str = ""
    industry: str = ""
    employer_type: str = ""
    employer_state: str = ""
    address: str = ""
    monthly_wage: Decimal = Decimal(0)
    other_income_year: Decimal = Decimal(0)
    household_size: int = 1
    accident_loss_year: Decimal = Decimal(0)
    main_cause: str = ""
    secondary_causes: list[str] = field(default_factory=list)
    bank_name: str = ""
    bank_account: str = ""
    archive_level: str = ArchiveLevel.COUNTY
    household_members: list[PersonData] = field(default_factory=list)


def _choice(value: str, choices: Any, name: str, label: str, *, blank: bool = False) -> str:
    if blank and not value:
        return ""
    if value not in choices.values:
        raise ValidationError({name: f"{label}：请从列表中选择"})
    return value


def _amount(value: Decimal | int | str, name: str, label: str) -> Decimal:
    try:
        amount = money(value)
    except ArithmeticError as exc:
        raise ValidationError({name: f"{label}应为金额（元）"}) from exc
    if amount < 0:
        raise ValidationError({name: f"{label}不能为负数"})
    if amount > MAX_MONEY:
        raise ValidationError({name: f"{label}超出可填写的范围"})
    return amount


def _text(value: str, name: str, label: str, limit: int, *, required: bool = False) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise ValidationError({name: f"请填写{label}"})
    if len(text) > limit:
        raise ValidationError({name: f"{label}不能超过 {limit} 个字"})
    return text


def _fill_identity(file: HardshipFile, data: FileData, *, editing: bool) -> None:
    file.name = _text(data.name, "name", "姓名", 50, required=True)
    if data.id_type not in IdType.values:
        raise ValidationError({"id_type": "证件类型：请从列表中选择"})
    if data.id_number or not editing:
        identity = parse_id(data.id_type, data.id_number)
        file.id_type = identity.id_type
        file.set_id_number(identity.number)
        file.sex = identity.sex or ""
        file.birth_date = identity.birth_date
    if data.phone or not editing:
        file.set_phone(normalize_phone(data.phone))
    file.ethnic_group = data.ethnic_group or "01"
    file.household = _choice(data.household, Household, "household", "户籍类型")
    file.education = data.education
    file.employer = data.employer
    file.employer_name = (
        "" if data.employer else _text(data.employer_name, "employer_name", "工作单位", 200)
    )
    file.occupation = _text(data.occupation, "occupation", "职业/岗位", 50)
    file.employment_form = EmploymentForm.STANDARD


def _fill_from_member(file: HardshipFile, member: Member) -> None:
    for name in PERSONAL_FIELDS:
        setattr(file, name, getattr(member, name))
    file.member = member


def _fill_form(file: HardshipFile, data: FileData) -> None:
    file.political_status = _choice(
        data.political_status, PoliticalStatus, "political_status", "政治面貌"
    )
    file.health = _choice(data.health, Health, "health", "健康状况")
    file.disability_category = _choice(
        data.disability_category, DisabilityCategory, "disability_category", "残疾类别", blank=True
    )
    file.disability_grade = _choice(
        data.disability_grade, DisabilityGrade, "disability_grade", "残疾等级", blank=True
    )
    if bool(file.disability_category) != bool(file.disability_grade):
        raise ValidationError({"disability_grade": "残疾类别和残疾等级须同时填写"})
    file.work_status = _choice(data.work_status, WorkStatus, "work_status", "工作状况")
    file.marital_status = _choice(
        data.marital_status, MaritalStatus, "marital_status", "婚姻状况", blank=True
    )
    file.single_parent = bool(data.single_parent)
    file.zero_employment = bool(data.zero_employment)
    file.medical_insurance = _choice(
        data.medical_insurance, MedicalInsurance, "medical_insurance", "医疗保险"
    )
    file.model_worker = _choice(data.model_worker, ModelWorkerType, "model_worker", "劳模类型")
    file.housing_type = _choice(data.housing_type, HousingType, "housing_type", "住房类型")
    file.floor_area_band = _choice(
        data.floor_area_band, FloorAreaBand, "floor_area_band", "人均住房面积", blank=True
    )
    file.industry = _choice(data.industry, IndustrySection, "industry", "所在行业", blank=True)
    file.employer_type = _choice(
        data.employer_type, OwnershipType, "employer_type", "单位类型", blank=True
    )
    file.employer_state = _choice(
        data.employer_state, EmployerState, "employer_state", "单位状况", blank=True
    )
    file.address = _text(data.address, "address", "家庭住址", 200)
    file.monthly_wage = _amount(data.monthly_wage, "monthly_wage", "本人月工资")
    file.other_income_year = _amount(data.other_income_year, "other_income_year", "家庭其他年收入")
    file.accident_loss_year = _amount(
        data.accident_loss_year, "accident_loss_year", "本年度意外损失"
    )
    size = data.household_size
    if not isinstance(size, int) or not 1 <= size <= MAX_HOUSEHOLD:
        raise ValidationError({"household_size": f"家庭人口应为 1 至 {MAX_HOUSEHOLD} 人"})
    if size < 1 + len(data.household_members):
        raise ValidationError(
            {
                "household_size": f"家庭人口（{size} 人）少于职工本人加登记的家庭成员"
                f"（{1 + len(data.household_members)} 人）"
            }
        )
    file.household_size = size
    file.main_cause = _choice(data.main_cause, HardshipCause, "main_cause", "主要致困原因")
    secondary = [c for c in data.secondary_causes if c]
    if len(secondary) > 3:
        raise ValidationError({"secondary_causes": "次要致困原因最多选择 3 项"})
    for code in secondary:
        _choice(code, HardshipCause, "secondary_causes", "次要致困原因")
    if file.main_cause in secondary or len(set(secondary)) != len(secondary):
        raise ValidationError({"secondary_causes": "次要致困原因不能重复，也不能与主要原因相同"})
    padded = [*secondary, "", "", ""]
    file.cause_2, file.cause_3, file.cause_4 = padded[0], padded[1], padded[2]
    file.bank_name = _text(data.bank_name, "bank_name", "开户银行", 60)
    account = "".join((data.bank_account or "").split())
    if account:
        if not account.isdigit() or not 8 <= len(account) <= 30:
            raise ValidationError({"bank_account": "银行账号应为 8 至 30 位数字"})
        file.set_bank_account(account)
    if file.bank_account_masked and not file.bank_name:
        raise ValidationError({"bank_name": "填写了银行账号，请同时填写开户银行"})
    file.archive_level = _choice(data.archive_level, ArchiveLevel, "archive_level", "档案级别")
    _compute_income(file)


def _compute_income(file: HardshipFile) -> None:
    """Yearly household total and monthly income per head, from the form's numbers."""
    file.household_income_year = money(file.monthly_wage * 12 + file.other_income_year)
    file.income_per_head = money(file.household_income_year / 12 / file.household_size)


def _propose(file: HardshipFile, on: datetime.date, *, required: bool) -> str:
    threshold = (
        require_threshold(file.city_region, on.year)
        if required
        else threshold_for(file.city_region, on.year)
    )
    if threshold is None:
        file.category_proposed = ""
        return ""
    file.category_proposed = propose_category(
        income_per_head=file.income_per_head,
        household_income_year=file.household_income_year,
        accident_loss_year=file.accident_loss_year,
        threshold=threshold,
        multiples=category_rule_for(file.city_region, on),
    )
    return file.category_proposed


def _household(file: HardshipFile, people: list[PersonData]) -> list[HouseholdMember]:
    rows: list[HouseholdMember] = []
    for index, person in enumerate(people, start=1):
        where = f"第 {index} 位家庭成员"
        row = HouseholdMember(
            file=file,
            name=_text(person.name, "household_members", f"{where}的姓名", 50, required=True),
            relation=_choice(person.relation, Relation, "household_members", f"{where}的关系"),
            birth_date=person.birth_date,
            monthly_income=_amount(person.monthly_income, "household_members", f"{where}的月收入"),
            health=_choice(person.health, Health, "household_members", f"{where}的健康状况"),
            medical_insurance=_choice(
                person.medical_insurance,
                MedicalInsurance,
                "household_members",
                f"{where}的医疗保险",
            ),
            school_or_employer=_text(
                person.school_or_employer, "household_members", f"{where}的学校或单位", 100
            ),
        )
        if person.id_number:
            try:
                identity = parse_id(IdType.RESIDENT, person.id_number)
            except ValidationError as exc:
                raise ValidationError(
                    {
                        "household_members": f"{where}（{row.name}）的身份证号码有误：{exc.messages[0]}"
                    }
                ) from exc
            row.set_id_number(identity.number)
            row.birth_date = row.birth_date or identity.birth_date
        rows.append(row)
    hashes = [file.id_hash] + [r.id_hash for r in rows if r.id_hash]
    if len(hashes) != len(set(hashes)):
        raise ValidationError(
            {"household_members": "家庭成员中有重复的身份证号码（或与职工本人相同）"}
        )
    return rows


def _save_people(file: HardshipFile, rows: list[HouseholdMember]) -> None:
    """Household members and the FilePerson rows of the worker and every member with an ID:
    the unique index over open files refuses a person already in another open file."""
    HouseholdMember.objects.filter(file=file).delete()
    FilePerson.objects.filter(file=file).delete()
    for row in rows:
        row.file = file
        row.save(force_insert=True)
    people = [(file.name, file.id_hash, None)] + [(r.name, r.id_hash, r) for r in rows if r.id_hash]
    is_open = file.state in OPEN_STATES
    for name, id_hash, member in people:
        try:
            with transaction.atomic():
                FilePerson.objects.create(
                    id_hash=id_hash, file=file, household_member=member, is_open=is_open
                )
        except IntegrityError as exc:
            other = (
                FilePerson.objects.filter(id_hash=id_hash, is_open=True)
                .exclude(file=file)
                .select_related("file__union")
                .first()
            )
            raise AlreadyOnFile(name, other.file if other else None) from exc


def _close_people(file: HardshipFile) -> None:
    FilePerson.objects.filter(file=file).update(is_open=False)


def _audit_snapshot(file: HardshipFile) -> dict[str, Any]:
    return snapshot(file, exclude=_SECRET_FIELDS)


def _resolve_city(union: Union, city_region: Region | None) -> Region:
    region = city_region or (city_of(union.region) if union.region is not None else None)
    if region is None:
        raise ValidationError({"city_region": "请选择职工家庭所在的市（按该市低保标准认定）"})
    if region.level != RegionLevel.CITY:
        raise ValidationError({"city_region": "请选择地级市（按该市低保标准认定）"})
    return region


# --- Applying


@transaction.atomic
def file_apply(
    *,
    union: Union,
    data: FileData,
    acting_user: User | None,
    city_region: Region | None = None,
    member: Member | None = None,
    phone_verified: bool = False,
    submit: bool = True,
    applied_on: datetime.date | None = None,
) -> HardshipFile:
    """A household applies: the worker on the phone page (``acting_user`` None, the phone
    proven by a texted code) or a cadre on the worker's behalf (``submit=False`` keeps a
    cadre's draft). The worker is taken from ``member`` (or found as a member by ID number);
    the category is proposed when the city has a threshold."""
    if acting_user is None:
        if not phone_verified:
            raise ValidationError({"phone": "请先通过短信验证码验证手机号码"})
        if not submit:
            raise ValidationError("职工本人提交的申请不能保存为草稿")
    else:
        require(acting_user, Action.ADD, union)
    if not accepts_members(union):
        raise ValidationError(
            {
                "union": f"“{union.name}”不直接办理建档，请选择基层工会、联合工会或县级、乡镇（街道）总工会"
            }
        )
    day = applied_on or today()
    if day > today():
        raise ValidationError({"applied_on": "申请日期不能晚于今天"})
    file = HardshipFile(
        union=union,
        union_path=union.path,
        city_region=_resolve_city(union, city_region),
        channel=FileChannel.WORKER if acting_user is None else FileChannel.CADRE,
        state=FileState.APPLIED if submit else FileState.DRAFT,
        applied_on=day if submit else None,
        created_by=acting_user,
    )
    if member is not None:
        if acting_user is not None:
            require(acting_user, Action.VIEW, member)
        _fill_from_member(file, member)
    else:
        _fill_identity(file, data, editing=False)
        found = Member.objects.filter(id_hash=file.id_hash, status__in=HOLDING_STATUSES).first()
        if found is not None:
            file.member = found
    _fill_form(file, data)
    household = _household(file, data.household_members)
    _propose(file, day, required=False)
    file.save(force_insert=True)
    _save_people(file, household)
    event(
        file,
        EventKind.APPLIED if submit else EventKind.CREATED,
        actor=acting_user,
        to_state=file.state,
        text="职工本人网上申请" if acting_user is None else "工会代为录入",
        date=day,
    )
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        actor_name="" if acting_user else mask_name(file.name),
        obj=file,
        after={"union": union.pk, "state": file.state, "channel": file.channel},
    )
    return file


@transaction.atomic
def file_update(
    *, file: HardshipFile, data: FileData, version: int, acting_user: User
) -> HardshipFile:
    """Edit the household's data from ``version``; a stale version is refused (conflict)."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    check_version(file, version)
    if file.state not in EDITABLE_STATES:
        raise ValidationError(f"档案{file.get_state_display()}，不能修改")
    before = _audit_snapshot(file)
    if file.member_id is None:
        _fill_identity(file, data, editing=True)
    _fill_form(file, data)
    household = _household(file, data.household_members)
    _propose(file, today(), required=False)
    bump(file)
    file.save()
    _save_people(file, household)
    old, new = diff(before, _audit_snapshot(file))
    new.pop("version", None)
    old.pop("version", None)
    labels = [
        str(getattr(HardshipFile._meta.get_field(name.removesuffix("_id")), "verbose_name", name))
        for name in new
        if name not in ("id_masked", "phone_masked", "bank_account_masked")
    ]
    event(file, EventKind.CHANGED, actor=acting_user, text="修改：" + "、".join(labels[:20]))
    record(action=AuditAction.CHANGE, actor=acting_user, obj=file, before=old, after=new)
    return file


# --- The steps


def _step(
    file: HardshipFile,
    acting_user: User,
    *,
    from_states: tuple[str, ...],
    to_state: str,
    kind: str,
    text: str = "",
    version: int | None = None,
    date: datetime.date | None = None,
) -> HardshipFile:
    """Move ``file`` (locked) from one of ``from_states`` to ``to_state`` with its event."""
    if file.state not in from_states:
        raise ValidationError(
            f"档案当前{file.get_state_display()}，不能办理“{EventKind(kind).label}”"
        )
    check_version(file, version)
    previous = file.state
    file.state = to_state
    bump(file)
    file.save()
    event(
        file, kind, actor=acting_user, from_state=previous, to_state=to_state, text=text, date=date
    )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=file,
        before={"state": previous},
        after={"state": to_state},
        detail={"step": kind, "note": text} if text else {"step": kind},
    )
    return file


def _past_or_today(day: datetime.date | None, name: str, label: str) -> datetime.date:
    day = day or today()
    if day > today():
        raise ValidationError({name: f"{label}不能晚于今天"})
    return day


@transaction.atomic
def file_submit(
    *, file: HardshipFile, acting_user: User, version: int | None = None
) -> HardshipFile:
    """A cadre's draft becomes an application."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    file.applied_on = today()
    return _step(
        file,
        acting_user,
        from_states=(FileState.DRAFT,),
        to_state=FileState.APPLIED,
        kind=EventKind.APPLIED,
        version=version,
    )


@transaction.atomic
def file_first_check(
    *, file: HardshipFile, acting_user: User, note: str = "", version: int | None = None
) -> HardshipFile:
    """The grassroots union's first check of an application."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    file.first_checked_on = today()
    return _step(
        file,
        acting_user,
        from_states=(FileState.APPLIED,),
        to_state=FileState.FIRST_CHECKED,
        kind=EventKind.FIRST_CHECKED,
        text=_text(note, "note", "初审意见", 200),
        version=version,
    )


@transaction.atomic
def file_survey(
    *,
    file: HardshipFile,
    acting_user: User,
    consent_signed: bool,
    surveyed_on: datetime.date | None = None,
    consent_on: datetime.date | None = None,
    note: str = "",
    version: int | None = None,
) -> HardshipFile:
    """The household survey. The worker's signed consent to check the household's finances
    (家庭经济状况核对授权) must be recorded, or the survey cannot be completed."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    if not consent_signed:
        raise ValidationError(
            {"consent_signed": "未取得职工签署的家庭经济状况核对授权书，不能完成入户调查"}
        )
    surveyed = _past_or_today(surveyed_on, "surveyed_on", "入户调查日期")
    consented = _past_or_today(consent_on or surveyed, "consent_on", "授权日期")
    if file.first_checked_on and surveyed < file.first_checked_on:
        raise ValidationError({"surveyed_on": "入户调查日期不能早于初审日期"})
    file.surveyed_on = surveyed
    file.consent_on = consented
    file = _step(
        file,
        acting_user,
        from_states=(FileState.FIRST_CHECKED,),
        to_state=FileState.SURVEYED,
        kind=EventKind.SURVEYED,
        text=_text(note, "note", "调查情况", 200),
        version=version,
        date=surveyed,
    )
    event(
        file,
        EventKind.CONSENT,
        actor=acting_user,
        date=consented,
        text="职工已签署家庭经济状况核对授权书",
    )
    return file


@transaction.atomic
def file_review(
    *,
    file: HardshipFile,
    acting_user: User,
    category: str,
    archive_level: str,
    category_reason: str = "",
    reviewed_on: datetime.date | None = None,
    note: str = "",
    version: int | None = None,
) -> HardshipFile:
    """The county worker service centre's review: the category is proposed from the numbers
    and chosen; choosing another needs a reason."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    require_review_level(acting_user, file, "县级审核")
    day = _past_or_today(reviewed_on, "reviewed_on", "审核日期")
    if file.surveyed_on and day < file.surveyed_on:
        raise ValidationError({"reviewed_on": "审核日期不能早于入户调查日期"})
    category = _choice(category, Category, "category", "困难类别")
    proposed = _propose(file, day, required=True)
    reason = _text(category_reason, "category_reason", "类别调整理由", 200)
    if category != proposed and len(reason) < 4:
        suggestion = (
            f"系统建议为“{Category(proposed).label}”" if proposed else "按收入测算不符合认定标准"
        )
        raise ValidationError(
            {
                "category_reason": f"{suggestion}，选择“{Category(category).label}”须填写调整理由（至少 4 个字）"
            }
        )
    file.category = category
    file.category_reason = reason if category != proposed else ""
    file.archive_level = _choice(archive_level, ArchiveLevel, "archive_level", "档案级别")
    file.reviewed_on = day
    file = _step(
        file,
        acting_user,
        from_states=(FileState.SURVEYED,),
        to_state=FileState.REVIEWED,
        kind=EventKind.REVIEWED,
        text=_text(note, "note", "审核意见", 200),
        version=version,
        date=day,
    )
    label = Category(category).label
    text = f"认定为{label}" + (
        f"（系统建议{Category(proposed).label if proposed else '不符合'}，理由：{reason}）"
        if file.category_reason
        else ""
    )
    event(file, EventKind.CATEGORY, actor=acting_user, date=day, text=text)
    return file


@transaction.atomic
def file_reject(
    *, file: HardshipFile, acting_user: User, reason: str, version: int | None = None
) -> HardshipFile:
    """Refuse an application at any step before filing, with the reason."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    reason = _text(reason, "reason", "未通过原因", 200, required=True)
    file.rejected_on = today()
    file.rejection_reason = reason
    file = _step(
        file,
        acting_user,
        from_states=(
            FileState.DRAFT,
            FileState.APPLIED,
            FileState.FIRST_CHECKED,
            FileState.SURVEYED,
            FileState.REVIEWED,
            FileState.PUBLICITY,
        ),
        to_state=FileState.REJECTED,
        kind=EventKind.REJECTED,
        text=reason,
        version=version,
    )
    _close_people(file)
    return file


@transaction.atomic
def publicity_start(
    *,
    file: HardshipFile,
    acting_user: User,
    days: int = 7,
    starts_on: datetime.date | None = None,
    version: int | None = None,
) -> HardshipFile:
    """Publish the household for ``days`` days (公示); objections may come in meanwhile."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    require_review_level(acting_user, file, "公示")
    low, high = PUBLICITY_DAYS
    if not low <= days <= high:
        raise ValidationError({"days": f"公示期应为 {low} 至 {high} 天"})
    start = _past_or_today(starts_on, "starts_on", "公示开始日期")
    if file.reviewed_on and start < file.reviewed_on:
        raise ValidationError({"starts_on": "公示开始日期不能早于县级审核日期"})
    file.publicity_starts_on = start
    file.publicity_ends_on = start + datetime.timedelta(days=days)
    return _step(
        file,
        acting_user,
        from_states=(FileState.REVIEWED,),
        to_state=FileState.PUBLICITY,
        kind=EventKind.PUBLICITY,
        text=f"公示 {days} 天，至 {file.publicity_ends_on:%Y-%m-%d}",
        version=version,
        date=start,
    )


@transaction.atomic
def objection_add(
    *,
    file: HardshipFile,
    acting_user: User,
    content: str,
    raised_by: str = "",
    received_on: datetime.date | None = None,
) -> Objection:
    """Record an objection received during the publicity period."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    if file.state != FileState.PUBLICITY:
        raise ValidationError("只有公示中的档案可以登记异议")
    objection = Objection.objects.create(
        file=file,
        received_on=_past_or_today(received_on, "received_on", "收到日期"),
        raised_by=_text(raised_by, "raised_by", "异议人", 50),
        content=_text(content, "content", "异议内容", 500, required=True),
        created_by=acting_user,
    )
    event(file, EventKind.OBJECTION, actor=acting_user, text=objection.content)
    record(action=AuditAction.CREATE, actor=acting_user, obj=objection)
    return objection


@transaction.atomic
def objection_resolve(
    *, objection: Objection, upheld: bool, resolution: str, acting_user: User
) -> Objection:
    """Resolve an objection. Upheld: the file goes back to the review (its publicity ends);
    dismissed: the publicity goes on."""
    require(acting_user, Action.CHANGE, objection)
    objection = locked(objection)
    file = locked(objection.file)
    require_review_level(acting_user, file, "异议处理")
    if objection.state != ObjectionState.OPEN:
        raise ValidationError("该异议已处理")
    objection.state = ObjectionState.UPHELD if upheld else ObjectionState.DISMISSED
    objection.resolution = _text(resolution, "resolution", "处理意见", 500, required=True)
    objection.resolved_on = today()
    objection.resolved_by = acting_user
    objection.save()
    text = f"{objection.get_state_display()}：{objection.resolution}"
    if upheld and file.state == FileState.PUBLICITY:
        file.publicity_starts_on = file.publicity_ends_on = None
        _step(
            file,
            acting_user,
            from_states=(FileState.PUBLICITY,),
            to_state=FileState.SURVEYED,
            kind=EventKind.OBJECTION_RESOLVED,
            text=text + "；退回重新审核",
        )
    else:
        event(file, EventKind.OBJECTION_RESOLVED, actor=acting_user, text=text)
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=objection,
        after={"state": objection.state},
        detail={"resolution": objection.resolution},
    )
    return objection


@transaction.atomic
def file_file(
    *,
    file: HardshipFile,
    acting_user: User,
    filed_on: datetime.date | None = None,
    version: int | None = None,
) -> HardshipFile:
    """File the household at its level (建档立卡) once the publicity has ended without an open
    objection. The annual review falls due 12 months later."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    require_review_level(acting_user, file, "建档")
    day = _past_or_today(filed_on, "filed_on", "建档日期")
    if file.state == FileState.PUBLICITY:
        if file.publicity_ends_on and day < file.publicity_ends_on:
            raise ValidationError(
                f"公示期至 {file.publicity_ends_on:%Y-%m-%d} 结束，期满后方可建档"
            )
        if file.objections.filter(state=ObjectionState.OPEN).exists():
            raise ValidationError("尚有未处理的公示异议，处理完毕后方可建档")
    file.filed_on = day
    file.review_due_on = add_months(day, REVIEW_MONTHS)
    return _step(
        file,
        acting_user,
        from_states=(FileState.PUBLICITY,),
        to_state=FileState.FILED,
        kind=EventKind.FILED,
        text=f"{file.get_archive_level_display()}档案，{file.get_category_display()}",
        version=version,
        date=day,
    )


@transaction.atomic
def file_annual_review(
    *, file: HardshipFile, acting_user: User, note: str = "", version: int | None = None
) -> HardshipFile:
    """The annual review (动态管理) of a filed household: the numbers are re-checked (edit
    them first with ``file_update``), the category proposal recomputed, the next review set
    12 months on."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    if file.state != FileState.FILED:
        raise ValidationError("只有在档档案需要年度复核")
    check_version(file, version)
    day = today()
    proposed = _propose(file, day, required=False)
    file.last_reviewed_on = day
    file.review_due_on = add_months(day, REVIEW_MONTHS)
    bump(file)
    file.save()
    parts = [_text(note, "note", "复核情况", 200)]
    if proposed != file.category:
        parts.append(
            "按最新收入测算"
            + (
                f"建议调整为“{Category(proposed).label}”"
                if proposed
                else "已不符合认定标准，请关注解困脱困"
            )
        )
    event(file, EventKind.REVIEW, actor=acting_user, text="；".join(p for p in parts if p))
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=file,
        after={"last_reviewed_on": day, "review_due_on": file.review_due_on},
        detail={"step": EventKind.REVIEW},
    )
    return file


@transaction.atomic
def file_close(
    *, file: HardshipFile, acting_user: User, version: int | None = None
) -> HardshipFile:
    """Close an exited file (销档); due within 30 working days of the exit. Closed files are
    kept 10 years (``relief_purge``)."""
    require(acting_user, Action.CHANGE, file)
    file = locked(file)
    file.closed_on = today()
    return _step(
        file,
        acting_user,
        from_states=(FileState.EXITED,),
        to_state=FileState.CLOSED,
        kind=EventKind.CLOSED,
        version=version,
    )


@transaction.atomic
def file_note(*, file: HardshipFile, acting_user: User, text: str) -> HardshipFile:
    """A free note on the timeline."""
    require(acting_user, Action.CHANGE, file)
    event(
        file,
        EventKind.NOTE,
        actor=acting_user,
        text=_text(text, "text", "备注", 500, required=True),
    )
    record(action=AuditAction.CHANGE, actor=acting_user, obj=file, detail={"note": True})
    return file


# --- Reveals

REVEALABLE = {"id_number": "证件号码", "phone": "手机号码", "bank_account": "银行账号"}


@transaction.atomic
def file_reveal(
    *,
    file: HardshipFile,
    field: str,
    reason: str,
    acting_user: User,
    household_member: HouseholdMember | None = None,
) -> str:
    """The clear ID number, phone or bank account of the worker (or a household member's ID
    number), for a role allowed to reveal, with a reason; audited."""
    if field not in REVEALABLE:
        raise ValidationError({"field": "只能查看证件号码、手机号码或银行账号"})
    require(acting_user, Action.REVEAL, file)
    if len(reason.strip()) < 4:
        raise ValidationError({"reason": "请填写查看明文的理由（至少 4 个字）"})
    if household_member is not None:
        if household_member.file_id != file.pk or field != "id_number":
            raise ValidationError({"field": "只能查看本档案家庭成员的身份证号码"})
        value = household_member.reveal_id_number()
    elif field == "id_number":
        value = file.reveal_id_number()
    elif field == "phone":
        value = file.reveal_phone()
    else:
        value = file.reveal_bank_account()
    record(
        action=AuditAction.REVEAL,
        actor=acting_user,
        obj=file,
        detail={
            "field": field,
            "reason": reason.strip()[:200],
            **({"household_member": household_member.pk} if household_member else {}),
        },
    )
    return value


# --- Attachments

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def sniff(content: bytes) -> tuple[str, str] | None:
    """The content type and extension by the first bytes (never by the name), or None."""
    for magic, content_type, extension in _SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    return None


def _verify_image(content: bytes) -> bool:
    """Pillow's structural check of an image when Pillow is installed; else the signature."""
    try:
        from PIL import Image
    except ImportError:
        return True
    import io

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except Exception:
        return False
    return True


def _read_upload(upload: bytes | IO[bytes]) -> bytes:
    if isinstance(upload, bytes):
        return upload
    data = upload.read(ATTACHMENT_MAX_BYTES + 1)
    return data if isinstance(data, bytes) else bytes(data)


@transaction.atomic
def attachment_add(
    *,
    file: HardshipFile,
    kind: str,
    original_name: str,
    upload: bytes | IO[bytes],
    acting_user: User,
) -> Attachment:
    """Attach an image (JPEG, PNG) or PDF to the file. The type is decided by the content;
    at most 10 MB; stored under MEDIA_ROOT/private under a random name."""
    require(acting_user, Action.CHANGE, file)
    kind = _choice(kind, AttachmentKind, "kind", "材料类型")
    content = _read_upload(upload)
    limit_mb = ATTACHMENT_MAX_BYTES // (1024 * 1024)
    if not content:
        raise ValidationError({"upload": "上传的文件是空的"})
    if len(content) > ATTACHMENT_MAX_BYTES:
        raise ValidationError({"upload": f"文件超过 {limit_mb} MB，请压缩后再上传"})
    sniffed = sniff(content)
    if sniffed is None:
        raise ValidationError({"upload": "只能上传 JPG、PNG 图片或 PDF 文件（按文件内容判断）"})
    content_type, extension = sniffed
    if content_type.startswith("image/") and not _verify_image(content):
        raise ValidationError({"upload": "图片文件已损坏或不完整，请重新拍摄或导出后上传"})
    if content_type == "application/pdf" and b"%%EOF" not in content[-2048:]:
        raise ValidationError({"upload": "PDF 文件不完整，请重新导出后上传"})
    name = _text(original_name, "original_name", "文件名", 200) or f"材料.{extension}"
    attachment = Attachment(
        file=file,
        kind=kind,
        original_name=name,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=acting_user,
    )
    attachment.content.save(
        f"{secrets.token_hex(16)}.{extension}", ContentFile(content), save=False
    )
    try:
        attachment.save(force_insert=True)
        event(
            file,
            EventKind.ATTACHMENT,
            actor=acting_user,
            text=f"{attachment.get_kind_display()}：{name}",
        )
        record(
            action=AuditAction.CREATE,
            actor=acting_user,
            obj=attachment,
            after={"kind": kind, "size": attachment.size, "sha256": attachment.sha256},
        )
    except Exception:
        attachment.content.delete(save=False)
        raise
    return attachment


@transaction.atomic
def attachment_open(*, attachment: Attachment, acting_user: User) -> IO[bytes]:
    """The stored file, opened for reading, for someone who may see the file; the reading is
    audited (the attachment shows personal data unmasked)."""
    require(acting_user, Action.VIEW, attachment)
    record(
        action=AuditAction.REVEAL,
        actor=acting_user,
        obj=attachment,
        detail={"field": "attachment", "file": attachment.file_id},
    )
    handle: IO[bytes] = attachment.content.open("rb")
    return handle


def attachment_delete_stored(attachment: Attachment) -> None:
    """Remove the stored bytes (the purge, after the row is gone)."""
    if attachment.content and attachment.content.name:
        attachment.content.storage.delete(attachment.content.name)


def require_not_self(user: User, other: User | None, message: str) -> None:
    if other is not None and user.pk == other.pk:
        raise PermissionDenied(message)
