"""Forms of the household plan (一户一策), assistance records, funds, batches and the rules
pages. They parse and offer choices from the user's scope; the services decide."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.orgs import queries
from niangjia.orgs.forms import RegistryForm, UnionPickerField
from niangjia.orgs.models import Region, Union
from niangjia.orgs.queries import Purpose
from niangjia.relief.choices import (
    ArchiveLevel,
    AssistanceType,
    Category,
    Cycle,
    FundSource,
    HardshipCause,
    MeasureState,
)
from niangjia.relief.forms import DATE_INPUT, chinese_messages_for, money_field
from niangjia.relief.models import Fund, HardshipFile, PlanMeasure, ReliefPlan
from niangjia.relief.services.plans import ALLOWED_MEASURE_STATES


def _chinese(form: RegistryForm) -> None:
    for field in form.fields.values():
        if isinstance(field, forms.DecimalField):
            chinese_messages_for(field)


class VersionedForm(RegistryForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        _chinese(self)


# --- The household plan


class PlanGoalForm(VersionedForm):
    goal = forms.CharField(
        label="帮扶目标",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="例如：子女完成学业，家庭成员实现稳定就业，年内家庭月人均收入达到当地低保标准以上",
    )


class MeasureAddForm(VersionedForm):
    assistance_type = forms.ChoiceField(
        label="帮扶类型", choices=[("", "——请选择——"), *AssistanceType.choices]
    )
    description = forms.CharField(label="措施内容", max_length=300)
    responsible_union = UnionPickerField(
        purpose=Purpose.WITHIN,
        label="责任工会",
        help_text="本户所在工会或其上级，或您管辖范围内的工会",
    )
    deadline = forms.DateField(label="完成期限", widget=DATE_INPUT)

    def __init__(self, *args: Any, user: Any, file: HardshipFile, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        ancestors = [file.union_path[:i] for i in range(4, len(file.union_path) + 1, 4)]
        queryset = (
            Union.objects.restrict(user, Action.VIEW) | Union.objects.filter(path__in=ancestors)
        ).active()
        self.setup_picker("responsible_union", queryset, purpose=Purpose.WITHIN)
        if not self.is_bound and not self.initial.get("responsible_union"):
            self.initial["responsible_union"] = file.union_id


class MeasureUpdateForm(VersionedForm):
    state = forms.ChoiceField(label="进展", choices=MeasureState.choices)
    progress = forms.CharField(
        label="进展情况", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    deadline = forms.DateField(
        label="完成期限", widget=DATE_INPUT, required=False, help_text="调整期限须说明原因"
    )

    def __init__(self, *args: Any, user: Any, measure: PlanMeasure, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("state", measure.state)
        kwargs["initial"].setdefault("deadline", measure.deadline)
        kwargs["initial"].setdefault("version", measure.version)
        super().__init__(*args, user=user, **kwargs)
        allowed = [measure.state, *sorted(ALLOWED_MEASURE_STATES.get(measure.state, set()))]
        self.fields["state"].choices = [
            (value, label) for value, label in MeasureState.choices if value in allowed
        ]
        self.fields["progress"].initial = ""
        self.prefix = f"m{measure.pk}"


def plan_version(plan: ReliefPlan | None) -> int | None:
    return plan.version if plan is not None else None


# --- Assistance


class AssistanceForm(VersionedForm):
    assistance_type = forms.ChoiceField(
        label="帮扶类型", choices=[("", "——请选择——"), *AssistanceType.choices]
    )
    amount = money_field(
        "发放金额（元）", required=False, help_text="发放现金的填写；只送实物的留空"
    )
    fund = forms.ModelChoiceField(
        label="资金来源",
        queryset=Fund.objects.none(),
        required=False,
        empty_label="——发放现金时必选——",
    )
    in_kind_value = money_field("实物折价（元）", required=False)
    goods = forms.CharField(
        label="实物内容", max_length=200, required=False, help_text="如：米、油、棉被；送温暖慰问品"
    )
    date = forms.DateField(
        label="帮扶日期", widget=DATE_INPUT, required=False, help_text="留空为今天"
    )
    measure = forms.ModelChoiceField(
        label="对应帮扶措施",
        queryset=PlanMeasure.objects.none(),
        required=False,
        empty_label="——不对应具体措施——",
    )
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(
        self, *args: Any, user: Any, file: HardshipFile, funds: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, user=user, **kwargs)
        fund_field: forms.ModelChoiceField = self.fields["fund"]  # type: ignore[assignment]
        fund_field.queryset = funds
        fund_field.label_from_instance = lambda f: (  # type: ignore[method-assign]
            f"{f.year}年 {f.name}（{f.union.name}，余额 {f.balance:,.2f} 元）"
        )
        measure_field: forms.ModelChoiceField = self.fields["measure"]  # type: ignore[assignment]
        measure_field.queryset = PlanMeasure.objects.filter(plan__file=file).exclude(
            state=MeasureState.CANCELLED
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not (data.get("amount") or data.get("in_kind_value")) and not self.errors:
            self.add_error("amount", "请填写发放金额或实物折价")
        return data


class DecisionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label="理由", max_length=200, required=False)


# --- Funds


class FundForm(RegistryForm):
    union = UnionPickerField(purpose=Purpose.OWNER, label="管理工会")
    name = forms.CharField(
        label="资金名称", max_length=120, help_text="如：2026 年困难职工帮扶专项资金"
    )
    source = forms.ChoiceField(label="资金来源", choices=FundSource.choices)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    amount = money_field("初始到账金额（元）", required=False, help_text="可留空，之后再登记到账")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("year", timezone.localdate().year)
        super().__init__(*args, user=user, **kwargs)
        _chinese(self)
        queryset = Union.objects.restrict(user, Action.ADD).active()
        self.setup_picker("union", queryset, purpose=Purpose.OWNER)


class FundReceiveForm(RegistryForm):
    amount = money_field("到账金额（元）")
    note = forms.CharField(label="摘要", max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, prefix="receive", **kwargs)
        _chinese(self)


class FundAllocateForm(RegistryForm):
    union = UnionPickerField(purpose=Purpose.WITHIN, label="下拨给")
    amount = money_field("下拨金额（元）")
    note = forms.CharField(label="摘要", max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, fund: Fund, **kwargs: Any) -> None:
        super().__init__(*args, user=user, prefix="allocate", **kwargs)
        _chinese(self)
        queryset = (
            Union.objects.restrict(user, Action.VIEW)
            .active()
            .filter(path__startswith=fund.union.path, depth__gt=fund.union.depth)
            .filter(depth__lte=fund.union.depth + 2)
        )
        self.setup_picker("union", queryset, purpose=Purpose.WITHIN)


class UsageForm(RegistryForm):
    within = UnionPickerField(purpose=Purpose.WITHIN, label="工会（含下级）", required=False)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.setup_picker(
            "within", queries.picker_queryset(user, Purpose.WITHIN), purpose=Purpose.WITHIN
        )


# --- Batches


class BatchForm(RegistryForm):
    fund = forms.ModelChoiceField(
        label="资金", queryset=Fund.objects.none(), empty_label="——请选择——"
    )
    name = forms.CharField(label="批次名称", max_length=120, help_text="如：2026 年春节送温暖")
    assistance_type = forms.ChoiceField(label="帮扶类型", choices=AssistanceType.choices)
    amount = money_field("每户金额（元）")
    categories = forms.MultipleChoiceField(
        label="困难类别",
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="不选为全部",
    )
    causes = forms.MultipleChoiceField(
        label="主要致困原因",
        choices=HardshipCause.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="不选为全部",
    )
    levels = forms.MultipleChoiceField(
        label="档案级别",
        choices=ArchiveLevel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="不选为全部",
    )
    within = UnionPickerField(
        purpose=Purpose.WITHIN,
        label="发放范围（含下级）",
        required=False,
        help_text="留空为资金管理工会的全部下级",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        _chinese(self)
        self.fields["amount"].initial = None
        fund_field: forms.ModelChoiceField = self.fields["fund"]  # type: ignore[assignment]
        fund_field.queryset = (
            Fund.objects.restrict(user, Action.CHANGE)
            .select_related("union")
            .order_by("-year", "union__path", "name")
        )
        fund_field.label_from_instance = lambda f: (  # type: ignore[method-assign]
            f"{f.year}年 {f.name}（{f.union.name}，余额 {f.balance:,.2f} 元）"
        )
        self.setup_picker(
            "within", queries.picker_queryset(user, Purpose.WITHIN), purpose=Purpose.WITHIN
        )


class PaymentFailForm(forms.Form):
    reason = forms.CharField(
        label="失败原因", max_length=200, help_text="如：账户已销户、户名与账号不符"
    )


# --- Thresholds and rules


def _city_choices(user: Any) -> list[tuple[str, str]]:
    """Cities whose federation ``user`` may change (threshold editing)."""
    from niangjia.orgs.choices import RegionLevel, UnionKind

    federations = (
        Union.objects.restrict(user, Action.CHANGE)
        .filter(kind=UnionKind.FEDERATION, region__level=RegionLevel.CITY)
        .select_related("region")
        .order_by("region__code")
    )
    return [("", "——请选择——")] + [
        (u.region.code, u.region.full_name) for u in federations if u.region is not None
    ]


def _province_choices(user: Any, *, national: bool) -> list[tuple[str, str]]:
    from niangjia.orgs.choices import RegionLevel, UnionKind

    federations = (
        Union.objects.restrict(user, Action.CHANGE)
        .filter(kind=UnionKind.FEDERATION, region__level=RegionLevel.PROVINCE)
        .select_related("region")
        .order_by("region__code")
    )
    choices = [(u.region.code, u.region.name) for u in federations if u.region is not None]
    if national:
        choices = [("national", "全国（默认规则）"), *choices]
    return [("", "——请选择——"), *choices]


def _region(code: str) -> Region | None:
    return Region.objects.filter(code=code).first() if code and code != "national" else None


class ThresholdForm(RegistryForm):
    region = forms.ChoiceField(label="城市")
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    monthly_amount = money_field("月人均标准（元）")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("year", timezone.localdate().year)
        super().__init__(*args, user=user, prefix="threshold", **kwargs)
        _chinese(self)
        self.fields["region"].choices = _city_choices(user)

    @property
    def usable(self) -> bool:
        return len(self.fields["region"].choices) > 1  # type: ignore[attr-defined]

    def region_obj(self) -> Region | None:
        return _region(self.cleaned_data["region"])


class CategoryRuleForm(RegistryForm):
    province = forms.ChoiceField(label="适用范围")
    valid_from = forms.DateField(label="施行日期", widget=DATE_INPUT)
    deep_multiple = forms.DecimalField(
        label="深度困难：低于低保标准的倍数",
        max_digits=4,
        decimal_places=2,
        initial=Decimal("1.00"),
    )
    relative_multiple = forms.DecimalField(
        label="相对困难：低于低保标准的倍数",
        max_digits=4,
        decimal_places=2,
        initial=Decimal("2.00"),
    )
    accident_loss_ratio = forms.DecimalField(
        label="意外致困：本年损失超过家庭年收入的比例",
        max_digits=4,
        decimal_places=2,
        initial=Decimal("0.80"),
        help_text="0.80 即 80%",
    )

    def __init__(self, *args: Any, user: Any, national: bool, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("valid_from", timezone.localdate())
        super().__init__(*args, user=user, prefix="category", **kwargs)
        _chinese(self)
        self.fields["province"].choices = _province_choices(user, national=national)

    @property
    def usable(self) -> bool:
        return len(self.fields["province"].choices) > 1  # type: ignore[attr-defined]

    def region_obj(self) -> Region | None:
        return _region(self.cleaned_data["province"])


class AssistanceRuleForm(RegistryForm):
    province = forms.ChoiceField(label="适用范围")
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    assistance_type = forms.ChoiceField(label="帮扶类型", choices=AssistanceType.choices)
    cap_per_year = money_field("每户每年上限（元）", required=False, help_text="留空为不设上限")
    cycle = forms.ChoiceField(label="发放周期", choices=Cycle.choices, initial=Cycle.YEAR)
    second_approval_above = money_field(
        "超过此金额须财务复核（元）", required=False, help_text="留空为不需财务复核"
    )

    def __init__(self, *args: Any, user: Any, national: bool, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("year", timezone.localdate().year)
        super().__init__(*args, user=user, prefix="rule", **kwargs)
        _chinese(self)
        self.fields["province"].choices = _province_choices(user, national=national)

    @property
    def usable(self) -> bool:
        return len(self.fields["province"].choices) > 1  # type: ignore[attr-defined]

    def region_obj(self) -> Region | None:
        return _region(self.cleaned_data["province"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("province") and "province" not in self.errors:
            raise ValidationError({"province": "请选择适用范围"})
        return data


__all__ = ["datetime"]
