"""Relief funds, their append-only ledger, and disbursement batches.

A ``Fund`` has a source, a year and an owner union; allocations go down the tree (province →
city → county) into child funds (``parent``). Every movement is a ``LedgerEntry`` (signed
amount, the balance after it); ``Fund.balance`` is the running balance, changed only with the
fund row locked (``select_for_update``) in the transaction that writes the entry, and a
CHECK constraint keeps it from ever going negative, also under concurrent payments.

A ``DisbursementBatch`` pays many households at once (services.batches)::

    draft ─▶ approved ─▶ paid ─▶ reconciled
      (cancelled from draft or approved)

``batch_create`` selects the eligible files by its criteria into ``BatchPayment`` rows;
``batch_approve`` (a second person) freezes it; ``batch_post`` pays every pending row in a few
set-based statements (one fund-row lock, one ledger entry, one balance update); a payment the
bank returns is marked ``failed`` with a reason (``batch_payment_fail``: the money is written
back to the fund) and may be posted again after the account is corrected; ``batch_reconcile``
closes the batch when nothing is pending.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from niangjia.relief.choices import (
    AssistanceType,
    BatchState,
    FundSource,
    LedgerKind,
    PaymentState,
)
from niangjia.utilities.querysets import RestrictedQuerySet

BALANCE = {"max_digits": 16, "decimal_places": 2}
MONEY = {"max_digits": 12, "decimal_places": 2}


class FundQuerySet(RestrictedQuerySet["Fund"]):
    pass


class Fund(models.Model):
    """A relief fund (帮扶资金) held by one union for one year."""

    name = models.CharField("资金名称", max_length=120)
    source = models.CharField("资金来源", max_length=10, choices=FundSource.choices)
    year = models.PositiveSmallIntegerField("年度")
    union = models.ForeignKey(
        "orgs.Union", verbose_name="管理工会", on_delete=models.PROTECT, related_name="relief_funds"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级资金",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    balance = models.DecimalField("余额（元）", default=Decimal(0), editable=False, **BALANCE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FundQuerySet.as_manager()
    scope_path_lookups = ("union__path",)

    class Meta:
        verbose_name = "帮扶资金"
        verbose_name_plural = "帮扶资金"
        ordering = ["-year", "union", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="relief_fund_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.name}"


class LedgerEntryQuerySet(RestrictedQuerySet["LedgerEntry"]):
    pass


class LedgerEntry(models.Model):
    """One movement of a fund. Append-only: never updated or deleted (a PostgreSQL trigger
    enforces it); a mistake is corrected by a reversal. References to assistance, batches
    and users carry no database constraint, so that purging a file after ten years keeps the
    ledger whole."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField("类型", max_length=16, choices=LedgerKind.choices)
    amount = models.DecimalField("金额（元，支出为负）", **BALANCE)
    balance_after = models.DecimalField("余额（元）", **BALANCE)
    counterpart = models.ForeignKey(
        Fund,
        verbose_name="对方资金",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assistance = models.ForeignKey(
        "relief.Assistance",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="ledger_entries",
    )
    batch = models.ForeignKey(
        "relief.DisbursementBatch",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="ledger_entries",
    )
    note = models.CharField("摘要", max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField("经办人", max_length=150, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    objects = LedgerEntryQuerySet.as_manager()
    scope_path_lookups = ("fund__union__path",)

    class Meta:
        verbose_name = "资金台账"
        verbose_name_plural = "资金台账"
        ordering = ["fund", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="relief_ledger_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund_id} {self.get_kind_display()} {self.amount}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("ledger entries are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class DisbursementBatchQuerySet(RestrictedQuerySet["DisbursementBatch"]):
    pass


class DisbursementBatch(models.Model):
    """Many households paid at once from one fund, selected by criteria (``criteria``: the
    category, causes, archive level and subtree the batch was drawn with)."""

    name = models.CharField("批次名称", max_length=120)
    union = models.ForeignKey(
        "orgs.Union", verbose_name="发放工会", on_delete=models.PROTECT, related_name="+"
    )
    fund = models.ForeignKey(
        Fund, verbose_name="资金", on_delete=models.PROTECT, related_name="batches"
    )
    assistance_type = models.CharField("帮扶类型", max_length=12, choices=AssistanceType.choices)
    year = models.PositiveSmallIntegerField("年度")
    cycle_key = models.CharField("发放周期", max_length=10, blank=True)
    amount = models.DecimalField("每户金额（元）", **MONEY)
    criteria = models.JSONField("选取条件", default=dict, blank=True)
    state = models.CharField(
        "状态", max_length=12, choices=BatchState.choices, default=BatchState.DRAFT
    )
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    payment_count = models.PositiveIntegerField("户数", default=0, editable=False)
    total_amount = models.DecimalField(
        "总金额（元）", default=Decimal(0), editable=False, **BALANCE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    posted_at = models.DateTimeField("发放时间", null=True, blank=True)
    reconciled_at = models.DateTimeField("对账时间", null=True, blank=True)

    objects = DisbursementBatchQuerySet.as_manager()
    scope_path_lookups = ("union__path",)

    class Meta:
        verbose_name = "批量发放"
        verbose_name_plural = "批量发放"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="relief_batch_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class BatchPaymentQuerySet(RestrictedQuerySet["BatchPayment"]):
    pass


class BatchPayment(models.Model):
    """One household's payment in a batch."""

    batch = models.ForeignKey(DisbursementBatch, on_delete=models.CASCADE, related_name="payments")
    file = models.ForeignKey(
        "relief.HardshipFile", on_delete=models.PROTECT, related_name="batch_payments"
    )
    amount = models.DecimalField("金额（元）", **MONEY)
    state = models.CharField(
        "状态", max_length=10, choices=PaymentState.choices, default=PaymentState.PENDING
    )
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField("发放次数", default=0)
    paid_at = models.DateTimeField("发放时间", null=True, blank=True)

    objects = BatchPaymentQuerySet.as_manager()
    scope_path_lookups = ("batch__union__path",)

    class Meta:
        verbose_name = "发放明细"
        verbose_name_plural = "发放明细"
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "file"], name="relief_batch_once_per_file"),
        ]
        indexes = [models.Index(fields=["batch", "state"], name="relief_payment_batch_state")]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.file_id} {self.amount}"
