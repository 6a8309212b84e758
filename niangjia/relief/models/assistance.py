"""Assistance given to a household, and the household plan (一户一策) it follows.

An ``Assistance`` record (services.assistance):

1. ``assistance_create`` by a cadre: type, money amount or in-kind value with the goods, the
   fund; the rules of the province and year are checked (cap per household per year, one per
   cycle) → ``pending``.
2. ``assistance_approve`` by a cadre other than the one who entered it → ``approved``, or
   ``second_pending`` when the amount is above the rule's threshold.
3. ``assistance_second_approve`` by a finance officer (Action.APPROVE_FUNDS), a different
   person from the first approver → ``approved``.
4. ``assistance_pay``: the fund row is locked, the ledger written, the balance lowered (a
   CHECK keeps it from going negative) → ``paid``. Batch payments
   (services.batches.batch_post) create ``paid`` records in one set-based statement.

One record per household, type and cycle (``cycle_key``: ``2025``, ``2025H2``, ``2025Q3``,
``2025-07`` or ``once``) among the records that count (not rejected or failed): a partial
unique index decides, whatever the concurrency.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from niangjia.relief.choices import (
    COUNTING_ASSISTANCE_STATES,
    AssistanceState,
    AssistanceType,
    MeasureState,
)
from niangjia.utilities.querysets import RestrictedQuerySet

MONEY = {"max_digits": 12, "decimal_places": 2}


class AssistanceQuerySet(RestrictedQuerySet["Assistance"]):
    pass


class Assistance(models.Model):
    """One act of help (帮扶救助) to a household, in money or in kind."""

    file = models.ForeignKey(
        "relief.HardshipFile",
        verbose_name="档案",
        on_delete=models.PROTECT,
        related_name="assistance",
    )
    # The file's union path (copied, kept in step by moves): figures per subtree read it.
    union_path = models.CharField(max_length=255, editable=False)
    assistance_type = models.CharField("帮扶类型", max_length=12, choices=AssistanceType.choices)
    amount = models.DecimalField("金额（元）", default=Decimal(0), **MONEY)
    in_kind_value = models.DecimalField("实物折价（元）", default=Decimal(0), **MONEY)
    goods = models.CharField("实物内容", max_length=200, blank=True)
    date = models.DateField("帮扶日期")
    year = models.PositiveSmallIntegerField("年度")
    cycle_key = models.CharField("发放周期", max_length=10, blank=True)
    fund = models.ForeignKey(
        "relief.Fund",
        verbose_name="资金来源",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assistance",
    )
    state = models.CharField(
        "状态", max_length=16, choices=AssistanceState.choices, default=AssistanceState.PENDING
    )
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    note = models.CharField("说明", max_length=200, blank=True)
    measure = models.ForeignKey(
        "relief.PlanMeasure",
        verbose_name="帮扶措施",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assistance",
    )
    batch_payment = models.OneToOneField(
        "relief.BatchPayment",
        verbose_name="批量发放",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assistance",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="经办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="财务复核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    second_approved_at = models.DateTimeField("复核时间", null=True, blank=True)
    paid_at = models.DateTimeField("发放时间", null=True, blank=True)
    decision_reason = models.CharField("审批意见", max_length=200, blank=True)

    objects = AssistanceQuerySet.as_manager()
    scope_path_lookups = ("union_path",)

    class Meta:
        verbose_name = "帮扶救助"
        verbose_name_plural = "帮扶救助"
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["file", "assistance_type", "cycle_key"],
                condition=Q(state__in=sorted(COUNTING_ASSISTANCE_STATES)) & ~Q(cycle_key=""),
                name="relief_one_assistance_per_cycle",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(in_kind_value__gte=0),
                name="relief_assistance_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["union_path", "date"], name="relief_assist_path_date"),
            models.Index(fields=["file", "assistance_type", "year"], name="relief_assist_file"),
            models.Index(fields=["fund", "state"], name="relief_assist_fund"),
        ]

    def __str__(self) -> str:
        return f"{self.get_assistance_type_display()} {self.value} 元（{self.date}）"

    @property
    def value(self) -> Decimal:
        """Money plus the value of goods: what counts against the cap."""
        return self.amount + self.in_kind_value


class ReliefPlanQuerySet(RestrictedQuerySet["ReliefPlan"]):
    pass


class ReliefPlan(models.Model):
    """The household plan (一户一策): a goal and the measures toward it."""

    file = models.OneToOneField(
        "relief.HardshipFile", verbose_name="档案", on_delete=models.CASCADE, related_name="plan"
    )
    goal = models.CharField("帮扶目标", max_length=500)
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReliefPlanQuerySet.as_manager()
    scope_path_lookups = ("file__union_path",)

    class Meta:
        verbose_name = "帮扶计划"
        verbose_name_plural = "帮扶计划"

    def __str__(self) -> str:
        return f"{self.file_id}：{self.goal[:30]}"


class PlanMeasureQuerySet(RestrictedQuerySet["PlanMeasure"]):
    def overdue(self, today: object) -> PlanMeasureQuerySet:
        return self.filter(
            deadline__lt=today, state__in=[MeasureState.PLANNED, MeasureState.IN_PROGRESS]
        )


class PlanMeasure(models.Model):
    """One measure of a plan: a type of assistance, the union responsible, a deadline. The
    responsible union sees it too, also when it lies outside the file's subtree."""

    plan = models.ForeignKey(ReliefPlan, on_delete=models.CASCADE, related_name="measures")
    assistance_type = models.CharField("帮扶类型", max_length=12, choices=AssistanceType.choices)
    description = models.CharField("措施内容", max_length=300)
    responsible_union = models.ForeignKey(
        "orgs.Union", verbose_name="责任工会", on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateField("完成期限")
    state = models.CharField(
        "进展", max_length=12, choices=MeasureState.choices, default=MeasureState.PLANNED
    )
    progress = models.CharField("最新进展", max_length=500, blank=True)
    done_on = models.DateField("完成日期", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PlanMeasureQuerySet.as_manager()
    scope_path_lookups = ("plan__file__union_path", "responsible_union__path")

    class Meta:
        verbose_name = "帮扶措施"
        verbose_name_plural = "帮扶措施"
        ordering = ["plan", "deadline", "id"]

    def __str__(self) -> str:
        return f"{self.get_assistance_type_display()}：{self.description[:30]}"

    def is_overdue(self, today: object) -> bool:
        return self.state in (MeasureState.PLANNED, MeasureState.IN_PROGRESS) and bool(
            self.deadline < today  # type: ignore[operator]
        )
