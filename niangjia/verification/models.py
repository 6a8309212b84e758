"""Employer verification campaigns (用人单位核查).

A cadre of a federation checks the employers of its subtree: a campaign fixes the list when it
is created (one item per employer), staff split the items, mark each one as found (active,
moved away, deregistered) with a note, and closing the campaign writes the findings to the
employer registry, each change with its audit row (the employer's history).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from niangjia.orgs.choices import EmployerStatus, IndustrySection, OwnershipType
from niangjia.utilities.querysets import RestrictedQuerySet
from niangjia.verification.choices import CampaignState, VerificationResult


class VerificationCampaignQuerySet(RestrictedQuerySet["VerificationCampaign"]):
    pass


class VerificationCampaign(models.Model):
    """One verification of the employers in the subtree of ``union``, selected by the filters
    below when the campaign was created (kept to show how the list was made)."""

    name = models.CharField("核查名称", max_length=100)
    union = models.ForeignKey(
        "orgs.Union",
        verbose_name="核查范围",
        on_delete=models.PROTECT,
        related_name="verification_campaigns",
        help_text="核查该工会及其全部下级工会登记或覆盖的用人单位",
    )
    # The filters the employers were selected by; empty means "any".
    region = models.ForeignKey(
        "orgs.Region",
        verbose_name="所在行政区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    employer_status = models.CharField(
        "登记状态", max_length=16, choices=EmployerStatus.choices, blank=True
    )
    industry_section = models.CharField(
        "行业门类", max_length=1, choices=IndustrySection.choices, blank=True
    )
    ownership = models.CharField(
        "经济类型", max_length=16, choices=OwnershipType.choices, blank=True
    )
    min_headcount = models.PositiveIntegerField("职工人数不少于", null=True, blank=True)
    organised = models.BooleanField("建会情况", null=True, blank=True)

    due_date = models.DateField("完成期限", null=True, blank=True)
    state = models.CharField(
        "状态",
        max_length=16,
        choices=CampaignState.choices,
        default=CampaignState.DRAFT,
        db_index=True,
    )
    # The list is fixed when the campaign is created, so its size is kept here.
    item_count = models.PositiveIntegerField("核查单位数", default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    opened_at = models.DateTimeField("开始时间", null=True, blank=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="结束人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = VerificationCampaignQuerySet.as_manager()
    scope_path_lookups = ("union__path",)

    class Meta:
        verbose_name = "用人单位核查"
        verbose_name_plural = "用人单位核查"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.state == CampaignState.OPEN

    @property
    def is_draft(self) -> bool:
        return self.state == CampaignState.DRAFT

    @property
    def is_closed(self) -> bool:
        return self.state == CampaignState.CLOSED


class VerificationItemQuerySet(RestrictedQuerySet["VerificationItem"]):
    pass


class VerificationItem(models.Model):
    """One employer to check in one campaign.

    ``version`` grows with every change of the finding: a mark sent with an older version is
    refused (two people marking the same employer at once), never silently overwritten.
    """

    campaign = models.ForeignKey(
        VerificationCampaign, verbose_name="核查", on_delete=models.CASCADE, related_name="items"
    )
    employer = models.ForeignKey(
        "orgs.Employer",
        verbose_name="用人单位",
        on_delete=models.PROTECT,
        related_name="verification_items",
    )
    status_before = models.CharField(
        "核查前登记状态", max_length=16, choices=EmployerStatus.choices, editable=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核查人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="verification_items",
    )
    result = models.CharField(
        "核查结果",
        max_length=16,
        choices=VerificationResult.choices,
        default=VerificationResult.PENDING,
    )
    note = models.CharField("备注", max_length=500, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="标记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    checked_at = models.DateTimeField("标记时间", null=True, blank=True)
    applied = models.BooleanField("已更新登记", default=False)
    version = models.PositiveIntegerField("版本", default=1)

    objects = VerificationItemQuerySet.as_manager()
    # Seen by the cadres of the campaign's union, and by those of the employer (a township's
    # staff checking the employers of their own street in a county's campaign).
    scope_path_lookups = (
        "campaign__union__path",
        "employer__owner__path",
        "employer__covering_union__path",
    )

    class Meta:
        verbose_name = "核查单位"
        verbose_name_plural = "核查单位"
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "employer"], name="verification_item_once_per_campaign"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "assignee", "result"], name="verif_item_progress"),
            models.Index(fields=["assignee", "result"], name="verif_item_mine"),
        ]

    def __str__(self) -> str:
        return self.employer.name

    @property
    def is_done(self) -> bool:
        return self.result != VerificationResult.PENDING
