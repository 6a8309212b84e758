"""Exit from hardship and relapse monitoring.

``IncomeCheck`` rows record the household's monthly income per head (and public support and
regular union aid per head). ``services.exits.exit_scan`` proposes 脱困 when income per head has
been above the city's threshold for 6 consecutive months, 解困 when income plus support and
aid reach it; a cadre confirms (``exit_confirm``). The exited file enters a ``RelapseWatch``
with scheduled ``RelapseCheck`` re-checks; a re-check below the threshold
(``relapse_check``) opens a new file linked to the old one (``HardshipFile.relapse_of``).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from niangjia.relief.choices import WatchState
from niangjia.utilities.querysets import RestrictedQuerySet

MONEY = {"max_digits": 12, "decimal_places": 2}


class IncomeCheckQuerySet(RestrictedQuerySet["IncomeCheck"]):
    pass


class IncomeCheck(models.Model):
    """The household's income in one month, per head (yuan)."""

    file = models.ForeignKey(
        "relief.HardshipFile", on_delete=models.CASCADE, related_name="income_checks"
    )
    month = models.DateField("月份", help_text="该月第一天")
    income_per_head = models.DecimalField("月人均收入", **MONEY)
    public_support_per_head = models.DecimalField(
        "人均政府救助", default=Decimal(0), help_text="低保金等政府救助", **MONEY
    )
    union_aid_per_head = models.DecimalField("人均工会常态化帮扶", default=Decimal(0), **MONEY)
    threshold = models.DecimalField("当月低保标准", **MONEY)
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IncomeCheckQuerySet.as_manager()
    scope_path_lookups = ("file__union_path",)

    class Meta:
        verbose_name = "收入核查"
        verbose_name_plural = "收入核查"
        ordering = ["file", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["file", "month"], name="relief_income_once_a_month"),
        ]

    def __str__(self) -> str:
        return f"{self.file_id} {self.month:%Y-%m}：{self.income_per_head}"


class RelapseWatchQuerySet(RestrictedQuerySet["RelapseWatch"]):
    pass


class RelapseWatch(models.Model):
    """The relapse register (返困监测): an exited household watched until ``ends_on``."""

    file = models.OneToOneField(
        "relief.HardshipFile",
        verbose_name="已解困脱困档案",
        on_delete=models.CASCADE,
        related_name="relapse_watch",
    )
    started_on = models.DateField("开始日期")
    ends_on = models.DateField("监测截止")
    state = models.CharField(
        "状态", max_length=10, choices=WatchState.choices, default=WatchState.WATCHING
    )
    relapse_file = models.ForeignKey(
        "relief.HardshipFile",
        verbose_name="返困后新档案",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RelapseWatchQuerySet.as_manager()
    scope_path_lookups = ("file__union_path",)

    class Meta:
        verbose_name = "返困监测"
        verbose_name_plural = "返困监测"
        ordering = ["-started_on", "-id"]

    def __str__(self) -> str:
        return f"{self.file_id} {self.get_state_display()}"


class RelapseCheckQuerySet(RestrictedQuerySet["RelapseCheck"]):
    pass


class RelapseCheck(models.Model):
    """A scheduled re-check of an exited household (every 6 months by default)."""

    watch = models.ForeignKey(RelapseWatch, on_delete=models.CASCADE, related_name="checks")
    due_on = models.DateField("计划回访日期")
    checked_on = models.DateField("回访日期", null=True, blank=True)
    income_per_head = models.DecimalField("月人均收入", null=True, blank=True, **MONEY)
    threshold = models.DecimalField("低保标准", null=True, blank=True, **MONEY)
    relapsed = models.BooleanField("返困", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RelapseCheckQuerySet.as_manager()
    scope_path_lookups = ("watch__file__union_path",)

    class Meta:
        verbose_name = "返困监测回访"
        verbose_name_plural = "返困监测回访"
        ordering = ["watch", "due_on"]

    def __str__(self) -> str:
        return f"{self.watch_id} {self.due_on}"
