"""Thresholds and rules as data: the minimum-living threshold per city and year, the category
rules per province (versioned), and the assistance rules per province, year and type.

A province without rules of its own uses the national ones (``province`` empty, kept by the
national federation). Rules are never edited in place: a new ``CategoryRule`` with a later
``valid_from`` supersedes the previous one, so a file's category can always be explained by
the rule in force on the day it was proposed.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from niangjia.relief.choices import AssistanceType, Cycle
from niangjia.utilities.querysets import RestrictedQuerySet

MONEY = {"max_digits": 12, "decimal_places": 2}


class LivingThresholdQuerySet(RestrictedQuerySet["LivingThreshold"]):
    pass


class LivingThreshold(models.Model):
    """The city's minimum-living threshold (低保标准) for a year, in yuan per head per month;
    edited by the city federation (``union``)."""

    region = models.ForeignKey(
        "orgs.Region", verbose_name="城市", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    monthly_amount = models.DecimalField("月人均标准（元）", **MONEY)
    union = models.ForeignKey(
        "orgs.Union", verbose_name="维护工会", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = LivingThresholdQuerySet.as_manager()
    scope_path_lookups = ("union__path",)

    class Meta:
        verbose_name = "最低生活保障标准"
        verbose_name_plural = "最低生活保障标准"
        ordering = ["region", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="relief_threshold_per_year"),
            models.CheckConstraint(
                condition=Q(monthly_amount__gt=0), name="relief_threshold_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year}：{self.monthly_amount} 元/人·月"


class CategoryRuleQuerySet(RestrictedQuerySet["CategoryRule"]):
    pass


class CategoryRule(models.Model):
    """How the category is proposed, from ``valid_from`` on, in one province (or nationally):
    deep hardship below ``deep_multiple`` × threshold, relative below ``relative_multiple`` ×
    threshold, accident-caused when this year's loss exceeds ``accident_loss_ratio`` of the
    household's yearly income."""

    province = models.ForeignKey(
        "orgs.Region",
        verbose_name="省份",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="为空表示全国默认规则",
    )
    union = models.ForeignKey(
        "orgs.Union", verbose_name="制定工会", on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateField("施行日期")
    deep_multiple = models.DecimalField(
        "深度困难倍数", max_digits=4, decimal_places=2, default=Decimal("1.00")
    )
    relative_multiple = models.DecimalField(
        "相对困难倍数", max_digits=4, decimal_places=2, default=Decimal("2.00")
    )
    accident_loss_ratio = models.DecimalField(
        "意外致困损失比例", max_digits=4, decimal_places=2, default=Decimal("0.80")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CategoryRuleQuerySet.as_manager()
    scope_path_lookups = ("union__path",)

    class Meta:
        verbose_name = "困难类别认定规则"
        verbose_name_plural = "困难类别认定规则"
        ordering = ["union", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["union", "valid_from"], name="relief_category_rule_version"
            ),
            models.CheckConstraint(
                condition=Q(deep_multiple__gt=0)
                & Q(relative_multiple__gte=models.F("deep_multiple"))
                & Q(accident_loss_ratio__gt=0),
                name="relief_category_rule_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.union_id} {self.valid_from}"


class AssistanceRuleQuerySet(RestrictedQuerySet["AssistanceRule"]):
    pass


class AssistanceRule(models.Model):
    """For one type of assistance in one province (or nationally) and year: the cap per
    household per year, how often it may be given (the cycle), and the amount above which a
    second approval by a finance officer is needed. Empty amounts mean no cap / no second
    approval."""

    province = models.ForeignKey(
        "orgs.Region",
        verbose_name="省份",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="为空表示全国默认规则",
    )
    union = models.ForeignKey(
        "orgs.Union", verbose_name="制定工会", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    assistance_type = models.CharField("帮扶类型", max_length=12, choices=AssistanceType.choices)
    cap_per_year = models.DecimalField("每户每年上限（元）", null=True, blank=True, **MONEY)
    cycle = models.CharField("发放周期", max_length=10, choices=Cycle.choices, default=Cycle.YEAR)
    second_approval_above = models.DecimalField(
        "超过此金额须财务复核（元）", null=True, blank=True, **MONEY
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssistanceRuleQuerySet.as_manager()
    scope_path_lookups = ("union__path",)

    class Meta:
        verbose_name = "帮扶标准"
        verbose_name_plural = "帮扶标准"
        ordering = ["union", "-year", "assistance_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["union", "year", "assistance_type"], name="relief_assistance_rule_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_assistance_type_display()}"
