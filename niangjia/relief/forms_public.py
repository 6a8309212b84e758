"""Forms of the worker's phone pages: the eligibility self-check and the application.

Numbers are checked here for what a phone keyboard gets wrong (blank, letters, a negative
amount); the rules (thresholds, the category, one open file per person) are the services'.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from niangjia.members.choices import IdType
from niangjia.members.forms import PhoneCodeForm
from niangjia.relief.choices import HardshipCause, Health, HousingType, WorkStatus
from niangjia.relief.forms import chinese_messages
from niangjia.relief.services.files import FileData

MONEY = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "元"})


def _money(label: str, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        required=required,
        widget=MONEY,
        help_text=help_text,
    )


class SelfCheckForm(forms.Form):
    """Household income and size: may the household qualify under the city's threshold?"""

    city = forms.ChoiceField(label="所在城市", choices=[])
    monthly_wage = _money("本人月工资（元）", help_text="扣除社保、公积金后实际到手的金额")
    other_income_year = _money(
        "家庭其他成员全年收入合计（元）",
        help_text="配偶、子女等的工资，养老金、租金等，没有填 0",
    )
    household_size = forms.IntegerField(
        label="家庭人口（人）",
        min_value=1,
        max_value=20,
        help_text="共同生活的家庭成员，含本人",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1", "max": "20"}),
    )
    accident_loss_year = _money(
        "今年因灾、因意外的损失（元）",
        required=False,
        help_text="没有可不填",
    )

    def __init__(
        self, *args: Any, cities: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if cities is None:
            del self.fields["city"]
        else:
            self.fields["city"].choices = [("", "——请选择——"), *cities]
        chinese_messages(self)

    @property
    def household_income_year(self) -> Decimal:
        d = self.cleaned_data
        return d["monthly_wage"] * 12 + d["other_income_year"]


class ApplyForm(PhoneCodeForm):
    """The worker's application: identity, phone (with its code), work, household, income and
    the main cause. The household's members are recorded at the survey."""

    name = forms.CharField(
        label="姓名",
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": "与身份证一致"}),
    )
    id_number = forms.CharField(
        label="身份证号码",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    employer_name = forms.CharField(
        label="工作单位",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    work_status = forms.ChoiceField(
        label="工作状况", choices=[("", "——请选择——"), *WorkStatus.choices]
    )
    health = forms.ChoiceField(label="本人健康状况", choices=[("", "——请选择——"), *Health.choices])
    housing_type = forms.ChoiceField(
        label="住房情况", choices=[("", "——请选择——"), *HousingType.choices]
    )
    address = forms.CharField(
        label="家庭住址",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    household_size = forms.IntegerField(
        label="家庭人口（人）",
        min_value=1,
        max_value=20,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1", "max": "20"}),
    )
    monthly_wage = _money("本人月工资（元）")
    other_income_year = _money("家庭其他成员全年收入合计（元）")
    main_cause = forms.ChoiceField(
        label="主要困难原因", choices=[("", "——请选择——"), *HardshipCause.choices]
    )
    agree = forms.BooleanField(
        label="本人承诺所填情况属实，同意工会入户调查、核对家庭经济状况",
        error_messages={"required": "请阅读并勾选承诺，方可提交申请"},
    )

    field_order = [
        "name",
        "id_number",
        "phone",
        "code",
        "employer_name",
        "work_status",
        "health",
        "household_size",
        "monthly_wage",
        "other_income_year",
        "housing_type",
        "address",
        "main_cause",
        "agree",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chinese_messages(self)
        self.fields["agree"].error_messages["required"] = "请阅读并勾选承诺，方可提交申请"

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("请填写“姓名”")
        return name

    def file_data(self) -> FileData:
        d = self.cleaned_data
        return FileData(
            name=d["name"],
            id_type=IdType.RESIDENT,
            id_number=d["id_number"],
            phone=d["phone"],
            employer_name=d.get("employer_name") or "",
            work_status=d["work_status"],
            health=d["health"],
            housing_type=d["housing_type"],
            address=d["address"],
            household_size=d["household_size"],
            monthly_wage=d["monthly_wage"],
            other_income_year=d["other_income_year"],
            main_cause=d["main_cause"],
        )
