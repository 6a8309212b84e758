"""The household file (困难职工档案) and what hangs on it: household members, the people of
open files, the timeline, attachments and publicity objections.

How a file goes (services in ``niangjia.relief.services.files``; states in
``niangjia.relief.choices.FileState``):

1. ``file_apply``: a worker on the phone page (after the eligibility self-check) or a cadre
   submits the household's data → ``applied``. The worker is taken from their ``Member`` record
   when they are one, else entered with their ID number (encrypted, keyed hash, masked copy).
2. ``file_first_check`` by the grassroots union → ``first_checked``.
3. ``file_survey``: the household visit; the worker's signed consent to check the household's
   finances must be recorded → ``surveyed``.
4. ``file_review`` by the county worker service centre; the category is proposed from the
   numbers (``category_proposed``) and chosen (``category``, with a reason when it differs)
   → ``reviewed``.
5. ``publicity_start`` for N days → ``publicity``; ``objection_add``/``objection_resolve``.
6. ``file_file`` after the publicity end with no open objection → ``filed``: assistance may
   be paid, the annual review falls due in 12 months (``review_due_on``).
7. ``exit_confirm`` (after the system's proposal from income checks) → ``exited``, a
   ``RelapseWatch`` starts; ``file_close`` within 30 working days → ``closed``.

Every step writes a ``FileEvent`` (the timeline) and an audit row. Edits of the household's
data carry ``version`` (optimistic locking): a stale edit is refused with a conflict message.
One person (by ID number) may be in one open file only: ``FilePerson`` enforces it with a
partial unique index over open files.
"""

from __future__ import annotations

import os
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q

from niangjia.members.models import ID_PURPOSE, PersonalData
from niangjia.orgs.choices import IndustrySection, OwnershipType
from niangjia.relief.choices import (
    OPEN_STATES,
    ArchiveLevel,
    AttachmentKind,
    Category,
    DisabilityCategory,
    DisabilityGrade,
    EmployerState,
    EventKind,
    ExitKind,
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
from niangjia.utilities import crypto
from niangjia.utilities.masking import mask_id_number
from niangjia.utilities.querysets import RestrictedQuerySet

BANK_PURPOSE = "relief.bank_account"
MONEY = {"max_digits": 12, "decimal_places": 2}


def mask_bank_account(number: str) -> str:
    """``6222021234567890123`` → ``**** 0123``: the last four digits only."""
    return f"**** {number[-4:]}" if len(number) > 4 else "*" * len(number)


class HardshipFileQuerySet(RestrictedQuerySet["HardshipFile"]):
    def open(self) -> HardshipFileQuerySet:
        return self.filter(state__in=OPEN_STATES)


class HardshipFile(PersonalData):
    """One household's hardship file (困难职工档案), the fields of the national form.

    The worker's identity (name, ID number, phone, ethnic group, household registration,
    employer …) comes from ``PersonalData``: copied from the ``member`` when the worker is one,
    entered otherwise. Money is in yuan; ``household_income_year`` is the monthly wage × 12
    plus the other yearly income, and ``income_per_head`` (monthly) is that total ÷ 12 ÷
    household size, stored so that lists can filter on it.
    """

    member = models.ForeignKey(
        "members.Member",
        verbose_name="会员",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hardship_files",
    )
    union = models.ForeignKey(
        "orgs.Union",
        verbose_name="所在工会",
        on_delete=models.PROTECT,
        related_name="hardship_files",
        help_text="办理初审的基层工会（或县级、乡镇总工会）",
    )
    # The union's tree path, kept in step by moves and merges (services.hooks): the subtree
    # filter of every list. On PostgreSQL it has the "C" collation (migration 0002).
    union_path = models.CharField(max_length=255, editable=False)
    city_region = models.ForeignKey(
        "orgs.Region",
        verbose_name="所在城市",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="按该市的最低生活保障标准认定困难类别",
    )
    channel = models.CharField("来源", max_length=10, choices=FileChannel.choices)
    state = models.CharField(
        "档案状态", max_length=16, choices=FileState.choices, default=FileState.APPLIED
    )
    version = models.PositiveIntegerField("版本", default=1, editable=False)

    # Worker (beyond PersonalData)
    political_status = models.CharField(
        "政治面貌", max_length=2, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    health = models.CharField("健康状况", max_length=16, choices=Health.choices)
    disability_category = models.CharField(
        "残疾类别", max_length=16, choices=DisabilityCategory.choices, blank=True
    )
    disability_grade = models.CharField(
        "残疾等级", max_length=1, choices=DisabilityGrade.choices, blank=True
    )
    work_status = models.CharField("工作状况", max_length=16, choices=WorkStatus.choices)
    marital_status = models.CharField(
        "婚姻状况", max_length=10, choices=MaritalStatus.choices, blank=True
    )
    single_parent = models.BooleanField("单亲家庭", default=False)
    zero_employment = models.BooleanField("零就业家庭", default=False)
    medical_insurance = models.CharField(
        "医疗保险", max_length=10, choices=MedicalInsurance.choices, default=MedicalInsurance.NONE
    )
    model_worker = models.CharField(
        "劳模类型", max_length=12, choices=ModelWorkerType.choices, default=ModelWorkerType.NONE
    )
    housing_type = models.CharField("住房类型", max_length=16, choices=HousingType.choices)
    floor_area_band = models.CharField(
        "人均住房面积", max_length=6, choices=FloorAreaBand.choices, blank=True
    )
    industry = models.CharField(
        "所在行业", max_length=1, choices=IndustrySection.choices, blank=True
    )
    employer_type = models.CharField(
        "单位类型", max_length=16, choices=OwnershipType.choices, blank=True
    )
    employer_state = models.CharField(
        "单位状况", max_length=16, choices=EmployerState.choices, blank=True
    )
    address = models.CharField("家庭住址", max_length=200, blank=True)

    # Income
    monthly_wage = models.DecimalField("本人月工资", default=Decimal(0), **MONEY)
    other_income_year = models.DecimalField("家庭其他年收入", default=Decimal(0), **MONEY)
    household_income_year = models.DecimalField(
        "家庭年总收入", default=Decimal(0), editable=False, **MONEY
    )
    household_size = models.PositiveSmallIntegerField("家庭人口", default=1)
    income_per_head = models.DecimalField(
        "家庭月人均收入", default=Decimal(0), editable=False, **MONEY
    )
    accident_loss_year = models.DecimalField(
        "本年度意外损失", default=Decimal(0), help_text="意外致困时填写", **MONEY
    )

    # Causes: one main, up to three secondary (the ten national codes)
    main_cause = models.CharField("主要致困原因", max_length=2, choices=HardshipCause.choices)
    cause_2 = models.CharField(
        "次要致困原因一", max_length=2, choices=HardshipCause.choices, blank=True
    )
    cause_3 = models.CharField(
        "次要致困原因二", max_length=2, choices=HardshipCause.choices, blank=True
    )
    cause_4 = models.CharField(
        "次要致困原因三", max_length=2, choices=HardshipCause.choices, blank=True
    )

    # Bank account for payments (encrypted; shown masked; reveal audited)
    bank_name = models.CharField("开户银行", max_length=60, blank=True)
    bank_account_enc = models.BinaryField("银行账号（密文）", editable=False, null=True)
    bank_account_masked = models.CharField("银行账号", max_length=24, editable=False, blank=True)

    # Category and level
    category_proposed = models.CharField(
        "系统建议类别", max_length=10, choices=Category.choices, blank=True, editable=False
    )
    category = models.CharField("困难类别", max_length=10, choices=Category.choices, blank=True)
    category_reason = models.CharField(
        "类别调整理由", max_length=200, blank=True, help_text="与系统建议不同时必填"
    )
    archive_level = models.CharField(
        "档案级别", max_length=10, choices=ArchiveLevel.choices, default=ArchiveLevel.COUNTY
    )

    # The steps, by date
    applied_on = models.DateField("申请日期", null=True, blank=True)
    first_checked_on = models.DateField("初审日期", null=True, blank=True)
    surveyed_on = models.DateField("入户调查日期", null=True, blank=True)
    consent_on = models.DateField("签署核对授权日期", null=True, blank=True)
    reviewed_on = models.DateField("县级审核日期", null=True, blank=True)
    publicity_starts_on = models.DateField("公示开始", null=True, blank=True)
    publicity_ends_on = models.DateField("公示结束", null=True, blank=True)
    filed_on = models.DateField("建档日期", null=True, blank=True)
    last_reviewed_on = models.DateField("上次年度复核", null=True, blank=True)
    review_due_on = models.DateField("年度复核期限", null=True, blank=True)
    exit_proposed_kind = models.CharField(
        "系统建议", max_length=10, choices=ExitKind.choices, blank=True, editable=False
    )
    exit_proposed_on = models.DateField("建议日期", null=True, blank=True, editable=False)
    exit_kind = models.CharField(
        "解困脱困类型", max_length=10, choices=ExitKind.choices, blank=True
    )
    exited_on = models.DateField("解困脱困日期", null=True, blank=True)
    close_due_on = models.DateField("销档期限", null=True, blank=True)
    closed_on = models.DateField("销档日期", null=True, blank=True)
    rejected_on = models.DateField("未通过日期", null=True, blank=True)
    rejection_reason = models.CharField("未通过原因", max_length=200, blank=True)

    relapse_of = models.ForeignKey(
        "self",
        verbose_name="返困前档案",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="relapses",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = HardshipFileQuerySet.as_manager()
    scope_path_lookups = ("union_path",)

    class Meta:
        verbose_name = "困难职工档案"
        verbose_name_plural = "困难职工档案"
        ordering = ["-id"]
        indexes = [
            # On PostgreSQL both carry the list's filter columns (migration 0003), so that a
            # subtree's filtered list and its count are read from the index alone.
            models.Index(fields=["union_path", "id"], name="relief_file_path_id"),
            models.Index(fields=["state", "union_path"], name="relief_file_state_path"),
            models.Index(fields=["id_hash"], name="relief_file_id_hash"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(household_size__gte=1), name="relief_file_household_size_positive"
            ),
            models.CheckConstraint(
                condition=~Q(state="exited") | ~Q(exit_kind=""),
                name="relief_file_exit_has_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.file_number}）"

    @property
    def file_number(self) -> str:
        return "" if self.pk is None else f"KN{self.pk:010d}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def causes(self) -> list[str]:
        return [c for c in (self.main_cause, self.cause_2, self.cause_3, self.cause_4) if c]

    def set_bank_account(self, number: str) -> None:
        self.bank_account_enc = crypto.encrypt(number, purpose=BANK_PURPOSE)
        self.bank_account_masked = mask_bank_account(number)

    def reveal_bank_account(self) -> str:
        """Clear text; callers audit the reveal (services.files.file_reveal)."""
        if not self.bank_account_enc:
            return ""
        return crypto.decrypt(self.bank_account_enc, purpose=BANK_PURPOSE)


class HouseholdMemberQuerySet(RestrictedQuerySet["HouseholdMember"]):
    pass


class HouseholdMember(models.Model):
    """A member of the worker's household (家庭成员), the worker excluded."""

    file = models.ForeignKey(
        HardshipFile,
        verbose_name="档案",
        on_delete=models.CASCADE,
        related_name="household_members",
    )
    name = models.CharField("姓名", max_length=50)
    relation = models.CharField("与职工关系", max_length=16, choices=Relation.choices)
    id_number_enc = models.BinaryField("身份证号（密文）", editable=False, null=True)
    id_hash = models.CharField("身份证号索引", max_length=64, editable=False, blank=True)
    id_masked = models.CharField("身份证号", max_length=24, editable=False, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    monthly_income = models.DecimalField("月收入", default=Decimal(0), **MONEY)
    health = models.CharField("健康状况", max_length=16, choices=Health.choices, default="healthy")
    medical_insurance = models.CharField(
        "医疗保险", max_length=10, choices=MedicalInsurance.choices, default=MedicalInsurance.NONE
    )
    school_or_employer = models.CharField("就读学校或工作单位", max_length=100, blank=True)

    objects = HouseholdMemberQuerySet.as_manager()
    scope_path_lookups = ("file__union_path",)

    class Meta:
        verbose_name = "家庭成员"
        verbose_name_plural = "家庭成员"
        ordering = ["file", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_relation_display()}）"

    def set_id_number(self, number: str) -> None:
        # The members' purpose: the same person has the same keyed hash as worker or member.
        self.id_number_enc = crypto.encrypt(number, purpose=ID_PURPOSE)
        self.id_hash = crypto.keyed_hash(number, purpose=ID_PURPOSE)
        self.id_masked = mask_id_number(number)

    def reveal_id_number(self) -> str:
        if not self.id_number_enc:
            return ""
        return crypto.decrypt(self.id_number_enc, purpose=ID_PURPOSE)


class FilePersonQuerySet(RestrictedQuerySet["FilePerson"]):
    pass


class FilePerson(models.Model):
    """Every person of a file by the keyed hash of their ID number: the worker
    (``household_member`` empty) and each household member with an ID number. ``is_open``
    follows the file's state; the partial unique index lets a person be in one open file
    only, whatever the concurrency."""

    id_hash = models.CharField(max_length=64)
    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="people")
    household_member = models.OneToOneField(
        HouseholdMember, null=True, blank=True, on_delete=models.CASCADE, related_name="person"
    )
    is_open = models.BooleanField(default=True)

    objects = FilePersonQuerySet.as_manager()
    scope_path_lookups = ("file__union_path",)

    class Meta:
        verbose_name = "档案人员"
        verbose_name_plural = "档案人员"
        constraints = [
            models.UniqueConstraint(
                fields=["id_hash"],
                condition=Q(is_open=True),
                name="relief_one_open_file_per_person",
            ),
        ]
        indexes = [models.Index(fields=["file"], name="relief_person_file")]

    def __str__(self) -> str:
        return f"{self.file_id}: {self.id_hash[:8]}"


class FileEventQuerySet(RestrictedQuerySet["FileEvent"]):
    pass


class FileEvent(models.Model):
    """One line of a file's timeline: each step, assistance, payment, income check, note."""

    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事项", max_length=20, choices=EventKind.choices)
    date = models.DateField("日期")
    text = models.CharField("说明", max_length=500, blank=True)
    from_state = models.CharField("原状态", max_length=16, choices=FileState.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=FileState.choices, blank=True)
    amount = models.DecimalField("金额", null=True, blank=True, **MONEY)
    assistance = models.ForeignKey(
        "relief.Assistance", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="办理人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("办理人姓名", max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FileEventQuerySet.as_manager()
    scope_path_lookups = ("file__union_path",)

    class Meta:
        verbose_name = "档案记录"
        verbose_name_plural = "档案记录"
        ordering = ["file", "created_at", "id"]
        indexes = [models.Index(fields=["file", "created_at"], name="relief_event_file_time")]

    def __str__(self) -> str:
        return f"{self.file_id} {self.get_kind_display()} {self.date}"


class PrivateStorage(FileSystemStorage):
    """Files under MEDIA_ROOT/private: never served by the static or media handlers, only
    through the scoped attachment view. The location follows the setting (tests move it)."""

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return os.path.join(settings.MEDIA_ROOT, "private")

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)


_PRIVATE = PrivateStorage()


def private_storage() -> PrivateStorage:
    """The storage of attachments (a callable, so migrations name it rather than a path)."""
    return _PRIVATE


def _attachment_path(instance: Attachment, filename: str) -> str:
    return f"relief/{instance.file_id}/{filename}"


class AttachmentQuerySet(RestrictedQuerySet["Attachment"]):
    pass


class Attachment(models.Model):
    """An image or PDF of a file (survey sheet, consent, proof). Its type is decided by its
    content, not its name (services.files.attachment_add); stored under MEDIA_ROOT/private."""

    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField("材料类型", max_length=16, choices=AttachmentKind.choices)
    content = models.FileField("文件", storage=private_storage, upload_to=_attachment_path)
    original_name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("文件类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()
    scope_path_lookups = ("file__union_path",)

    class Meta:
        verbose_name = "档案材料"
        verbose_name_plural = "档案材料"
        ordering = ["file", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.original_name}"


class ObjectionQuerySet(RestrictedQuerySet["Objection"]):
    pass


class Objection(models.Model):
    """An objection received during the publicity period; the file is filed only when none
    is open, and an upheld objection sends the file back to the review."""

    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="objections")
    received_on = models.DateField("收到日期")
    raised_by = models.CharField("异议人", max_length=50, blank=True)
    content = models.CharField("异议内容", max_length=500)
    state = models.CharField(
        "处理状态", max_length=10, choices=ObjectionState.choices, default=ObjectionState.OPEN
    )
    resolution = models.CharField("处理意见", max_length=500, blank=True)
    resolved_on = models.DateField("处理日期", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ObjectionQuerySet.as_manager()
    scope_path_lookups = ("file__union_path",)

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ["file", "received_on", "id"]

    def __str__(self) -> str:
        return f"{self.file_id} {self.received_on} {self.get_state_display()}"


__all__ = [
    "BANK_PURPOSE",
    "Attachment",
    "FileEvent",
    "FilePerson",
    "HardshipFile",
    "HouseholdMember",
    "Objection",
]
