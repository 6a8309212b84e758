from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

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
    Sex,
    TransferStatus,
)
from niangjia.utilities import crypto
from niangjia.utilities.querysets import RestrictedQuerySet

ID_PURPOSE = "members.id_number"
PHONE_PURPOSE = "members.phone"


def employer_field(**options: Any) -> models.ForeignKey:
    """The registered employer a person names (optional; a name alone is kept as text), with
    the index and constraint options of the model that holds it."""
    return models.ForeignKey(
        "orgs.Employer",
        verbose_name="工作单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **options,
    )


class PersonalData(models.Model):
    """The identity fields shared by a member and a join application.

    The ID number and phone are stored encrypted (AES-GCM, key outside the database), found
    by a keyed hash, and shown masked; the clear text is read only through ``reveal_*``.
    """

    name = models.CharField("姓名", max_length=50)
    id_type = models.CharField(
        "证件类型", max_length=20, choices=IdType.choices, default=IdType.RESIDENT
    )
    id_number_enc = models.BinaryField("证件号码（密文）", editable=False)
    id_hash = models.CharField("证件号码索引", max_length=64, editable=False)
    id_masked = models.CharField("证件号码", max_length=24, editable=False)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    phone_enc = models.BinaryField("手机号码（密文）", editable=False)
    phone_hash = models.CharField("手机号码索引", max_length=64, editable=False, db_index=True)
    phone_masked = models.CharField("手机号码", max_length=16, editable=False)
    ethnic_group = models.CharField("民族", max_length=2, choices=ETHNIC_GROUPS, default="01")
    education = models.CharField("学历", max_length=16, choices=Education.choices, blank=True)
    household = models.CharField(
        "户籍类型", max_length=8, choices=Household.choices, default=Household.URBAN
    )
    employment_form = models.CharField(
        "就业形态", max_length=10, choices=EmploymentForm.choices, default=EmploymentForm.STANDARD
    )
    gig_occupation = models.CharField(
        "新就业形态职业", max_length=16, choices=GigOccupation.choices, blank=True
    )
    occupation = models.CharField("职业/岗位", max_length=50, blank=True)
    employer = employer_field()
    employer_name = models.CharField(
        "工作单位名称", max_length=200, blank=True, help_text="单位尚未登记时填写"
    )

    class Meta:
        abstract = True

    @property
    def is_migrant(self) -> bool:
        return self.household == Household.RURAL

    def set_id_number(self, number: str) -> None:
        from niangjia.utilities.masking import mask_id_number

        self.id_number_enc = crypto.encrypt(number, purpose=ID_PURPOSE)
        self.id_hash = crypto.keyed_hash(number, purpose=ID_PURPOSE)
        self.id_masked = mask_id_number(number)

    def set_phone(self, phone: str) -> None:
        from niangjia.utilities.masking import mask_phone

        self.phone_enc = crypto.encrypt(phone, purpose=PHONE_PURPOSE)
        self.phone_hash = crypto.keyed_hash(phone, purpose=PHONE_PURPOSE)
        self.phone_masked = mask_phone(phone)

    def reveal_id_number(self) -> str:
        """Clear text; callers must have audited the reveal (members.services.member_reveal)."""
        return crypto.decrypt(self.id_number_enc, purpose=ID_PURPOSE)

    def reveal_phone(self) -> str:
        return crypto.decrypt(self.phone_enc, purpose=PHONE_PURPOSE)

    @property
    def employer_display(self) -> str:
        return self.employer.name if self.employer_id and self.employer else self.employer_name


# The fields a join application hands over to the member record it creates.
PERSONAL_FIELDS = (
    "name",
    "id_type",
    "id_number_enc",
    "id_hash",
    "id_masked",
    "sex",
    "birth_date",
    "phone_enc",
    "phone_hash",
    "phone_masked",
    "ethnic_group",
    "education",
    "household",
    "employment_form",
    "gig_occupation",
    "occupation",
    "employer",
    "employer_name",
)


def id_hash_of(number: str) -> str:
    return crypto.keyed_hash(number, purpose=ID_PURPOSE)


def phone_hash_of(phone: str) -> str:
    return crypto.keyed_hash(phone, purpose=PHONE_PURPOSE)


class MemberQuerySet(RestrictedQuerySet["Member"]):
    pass


class Member(PersonalData):
    """A union member: one record per person for life; the membership follows the job."""

    # The phone's keyed hash is matched exactly, never with LIKE: a plain index (Meta), not
    # the pattern-ops twin that ``db_index`` adds on PostgreSQL (every index costs each of the
    # million inserts of a roster import).
    phone_hash = models.CharField("手机号码索引", max_length=64, editable=False)
    # Most members name their employer only as text (an employer not yet registered): the
    # index holds the members linked to a registered employer only (Meta), which is all that
    # the employer's member list and the protection against deleting the employer look for.
    employer = employer_field(db_index=False)
    union = models.ForeignKey(
        "orgs.Union", verbose_name="所在工会", on_delete=models.PROTECT, related_name="members"
    )
    # The holding union's tree path, kept in step by transfers, moves and merges: subtree
    # filters and keyset pages read one index. On PostgreSQL the column has the "C" collation
    # (migration 0002), so that ``LIKE 'path%'`` is a range of that index.
    union_path = models.CharField(max_length=255, editable=False)
    join_date = models.DateField("入会日期")
    status = models.CharField(
        "会籍状态", max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    status_changed_on = models.DateField("状态变更日期", null=True, blank=True)
    legacy_number = models.CharField(
        "原会员编号",
        max_length=32,
        null=True,
        blank=True,
        help_text="从其他系统迁入的会员编号",
    )
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = MemberQuerySet.as_manager()
    scope_path_lookups = ("union_path",)

    class Meta:
        verbose_name = "会员"
        verbose_name_plural = "会员"
        constraints = [
            # One person, one membership record nationwide (keyed hash of the normalised ID).
            models.UniqueConstraint(fields=["id_hash"], name="member_one_per_person"),
            # Only members brought from another system have one: the others are not indexed.
            models.UniqueConstraint(
                fields=["legacy_number"],
                condition=Q(legacy_number__isnull=False),
                name="member_legacy_number",
            ),
        ]
        indexes = [
            models.Index(fields=["union_path", "id"], name="member_union_path_id"),
            models.Index(fields=["phone_hash"], name="member_phone_hash"),
            # Most members are active, and a search for them is served by the other indexes:
            # only the members in another state are indexed by it (what status lists look for).
            models.Index(
                fields=["status"], condition=~Q(status=MemberStatus.ACTIVE), name="member_status"
            ),
            models.Index(
                fields=["employer"], condition=Q(employer__isnull=False), name="member_employer"
            ),
            models.Index(fields=["join_date"], name="member_join_date"),
            # Search by the start of a name (LIKE '王伟%') on PostgreSQL, whatever the collation.
            models.Index(
                fields=["name"], name="member_name_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.member_number}）"

    @property
    def member_number(self) -> str:
        """The legacy number if the member came with one, else a number derived from the id
        with a check digit (ISO 7064 mod 11,10) so a mistyped number is caught."""
        if self.legacy_number:
            return self.legacy_number
        return format_member_number(self.pk)


def format_member_number(pk: int | None) -> str:
    if pk is None:
        return ""
    body = f"{pk:011d}"
    return body + _mod11_10(body)


def parse_member_number(text: str) -> int | None:
    text = text.strip()
    if len(text) != 12 or not text.isdigit() or _mod11_10(text[:11]) != text[11]:
        return None
    return int(text[:11])


def _mod11_10(digits: str) -> str:
    check = 10
    for d in digits:
        check = (((check + int(d)) % 10 or 10) * 2) % 11
    return str((11 - check) % 10)


class MemberEventQuerySet(RestrictedQuerySet["MemberEvent"]):
    pass


class MemberEvent(models.Model):
    """The history of a membership: joining, each status change, transfers."""

    class Kind(models.TextChoices):
        JOINED = "joined", "入会"
        STATUS = "status", "会籍状态变更"
        TRANSFER_OUT = "transfer_out", "转出"
        TRANSFER_IN = "transfer_in", "转入"
        CHANGED = "changed", "信息变更"

    # A history row is written only together with its member's change, in the same
    # transaction, and goes with the member (the ORM cascades): the link needs no database
    # constraint, whose check (one query per row at commit) a roster import of a million
    # members would pay a million times over. The union and the actor at the time are
    # references kept for the record, like the audit log's: no constraint either (the ORM
    # still protects the union and clears a deleted user).
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="events", db_constraint=False
    )
    kind = models.CharField("事项", max_length=16, choices=Kind.choices)
    from_status = models.CharField(
        "原状态", max_length=16, choices=MemberStatus.choices, blank=True
    )
    to_status = models.CharField("新状态", max_length=16, choices=MemberStatus.choices, blank=True)
    union = models.ForeignKey(
        "orgs.Union",
        verbose_name="工会",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    date = models.DateField("日期")
    reason = models.CharField("原因", max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MemberEventQuerySet.as_manager()
    # A member's history goes with the membership: whoever holds the member sees it all.
    scope_path_lookups = ("member__union_path",)

    class Meta:
        verbose_name = "会籍记录"
        verbose_name_plural = "会籍记录"
        ordering = ["member", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.member_id} {self.get_kind_display()} {self.date}"


class JoinCeremonyQuerySet(RestrictedQuerySet["JoinCeremony"]):
    pass


class JoinCeremony(models.Model):
    """A mass joining ceremony: one event, many venues, each with its own QR code."""

    name = models.CharField("仪式名称", max_length=120)
    union = models.ForeignKey(
        "orgs.Union", verbose_name="主办工会", on_delete=models.PROTECT, related_name="ceremonies"
    )
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    auto_approve = models.BooleanField("现场入会自动批准", default=True)
    require_sms = models.BooleanField("需要短信验证", default=False)
    joined_count = models.PositiveIntegerField("入会人数", default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = JoinCeremonyQuerySet.as_manager()
    scope_path_lookups = ("union__path",)

    class Meta:
        verbose_name = "集中入会仪式"
        verbose_name_plural = "集中入会仪式"
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.name


class CeremonyVenueQuerySet(RestrictedQuerySet["CeremonyVenue"]):
    pass


class CeremonyVenue(models.Model):
    ceremony = models.ForeignKey(JoinCeremony, on_delete=models.CASCADE, related_name="venues")
    name = models.CharField("会场名称", max_length=120)
    union = models.ForeignKey(
        "orgs.Union",
        verbose_name="入会工会",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="在本会场入会的职工加入的工会",
    )
    token = models.CharField("二维码标识", max_length=32, unique=True, editable=False)
    joined_count = models.PositiveIntegerField("入会人数", default=0, editable=False)

    objects = CeremonyVenueQuerySet.as_manager()
    scope_path_lookups = ("ceremony__union__path",)

    class Meta:
        verbose_name = "会场"
        verbose_name_plural = "会场"
        ordering = ["ceremony", "id"]

    def __str__(self) -> str:
        return self.name


class JoinApplicationQuerySet(RestrictedQuerySet["JoinApplication"]):
    pass


class JoinApplication(PersonalData):
    # Each column gets one index (Meta), not the pair ``db_index`` makes on PostgreSQL (a plain
    # index and a varchar_pattern_ops twin): every index costs each join of a mass ceremony.
    # The phone's keyed hash and the status are matched exactly, never with LIKE.
    phone_hash = models.CharField("手机号码索引", max_length=64, editable=False)
    # The union, venue and employer an application names are held without database
    # constraints (the ORM protects them, and unions and venues are closed, never deleted): in
    # a joining ceremony every application names the same few rows, and the constraint checks'
    # shared row locks on them cost the burst about a twentieth of its rate.
    union = models.ForeignKey(
        "orgs.Union",
        verbose_name="申请加入的工会",
        on_delete=models.PROTECT,
        related_name="join_applications",
        db_constraint=False,
    )
    # Read by subtree (``LIKE 'path%'``): the pattern-ops index serves that and equality.
    union_path = models.CharField(max_length=255, editable=False)
    channel = models.CharField("渠道", max_length=16, choices=ApplicationChannel.choices)
    venue = models.ForeignKey(
        CeremonyVenue,
        verbose_name="会场",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        db_constraint=False,
    )
    employer = employer_field(db_constraint=False)
    phone_verified = models.BooleanField("手机已验证", default=False)
    status = models.CharField(
        "状态",
        max_length=16,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.SUBMITTED,
    )
    submitted_at = models.DateTimeField("提交时间", auto_now_add=True, db_index=True)
    due_date = models.DateField("办理期限")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_reason = models.CharField("审批意见", max_length=200, blank=True)
    member = models.ForeignKey(
        Member,
        verbose_name="会员",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
    )

    objects = JoinApplicationQuerySet.as_manager()
    scope_path_lookups = ("union_path",)

    class Meta:
        verbose_name = "入会申请"
        verbose_name_plural = "入会申请"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_hash"],
                condition=Q(status=ApplicationStatus.SUBMITTED),
                name="one_pending_application_per_person",
            ),
        ]
        indexes = [
            models.Index(fields=["phone_hash"], name="joinapplication_phone_hash"),
            models.Index(fields=["status"], name="joinapplication_status"),
            models.Index(
                fields=["union_path"],
                name="joinapplication_union_path",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.union_id}"


class TransferQuerySet(RestrictedQuerySet["Transfer"]):
    pass


class Transfer(models.Model):
    """A membership moving from one union to another: released, then accepted or refused."""

    member = models.ForeignKey(
        Member, verbose_name="会员", on_delete=models.PROTECT, related_name="transfers"
    )
    from_union = models.ForeignKey(
        "orgs.Union", verbose_name="转出工会", on_delete=models.PROTECT, related_name="+"
    )
    to_union = models.ForeignKey(
        "orgs.Union", verbose_name="转入工会", on_delete=models.PROTECT, related_name="+"
    )
    new_employer = models.ForeignKey(
        "orgs.Employer",
        verbose_name="新工作单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    new_employer_name = models.CharField("新工作单位名称", max_length=200, blank=True)
    status = models.CharField(
        "状态",
        max_length=16,
        choices=TransferStatus.choices,
        default=TransferStatus.RELEASED,
        db_index=True,
    )
    reason = models.CharField("转出原因", max_length=200)
    released_at = models.DateTimeField("转出时间", auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("办理时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refusal_reason = models.CharField("拒收原因", max_length=200, blank=True)

    objects = TransferQuerySet.as_manager()
    # Both the sending and the receiving side see a transfer.
    scope_path_lookups = ("from_union__path", "to_union__path")

    class Meta:
        verbose_name = "会籍转接"
        verbose_name_plural = "会籍转接"
        ordering = ["-released_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status=TransferStatus.RELEASED),
                name="one_open_transfer_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_union_id} → {self.to_union_id}"


class SmsCode(models.Model):
    """A one-time code sent to a phone (joining, checking an application, the member card)."""

    phone_hash = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(max_length=16)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"
