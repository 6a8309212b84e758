"""Filters of the employer list, shared by the page and its spreadsheet export."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from niangjia.accounts.choices import Action
from niangjia.orgs import queries, selectors
from niangjia.orgs.choices import EmployerStatus
from niangjia.orgs.forms import RegionField, RegistryForm, UnionPickerField
from niangjia.orgs.models import EmployerQuerySet, Region
from niangjia.orgs.queries import Purpose

_PREFIX_RE = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{9})$")


class RegionPrefixField(RegionField):
    """A region code or the start of one: 2 digits (province), 4 (city), 6 (county) or 9
    (township). Cleans to the code prefix shared by everything inside that region."""

    def to_python(self, value: Any) -> str | None:  # type: ignore[override]
        code = (forms.CharField.to_python(self, value) or "").strip()
        if not code:
            return None
        if not _PREFIX_RE.match(code):
            raise ValidationError(
                f"“{self.label}”应为 2、4、6 或 9 位数字（省 2 位、市 4 位、县 6 位），“{code}”不是",
                code="invalid",
            )
        if len(code) >= 6:
            region = Region.objects.filter(code=code).first()
            if region is None:
                raise ValidationError(f"“{self.label}”：行政区划代码“{code}”不存在", code="invalid")
            return selectors.region_code_prefix(region)
        return code


class EmployerFilterForm(RegistryForm):
    q = forms.CharField(label="名称或信用代码", required=False, max_length=100)
    region = RegionPrefixField(label="行政区划", required=False)
    status = forms.ChoiceField(
        label="登记状态", required=False, choices=[("", "全部"), *EmployerStatus.choices]
    )
    organised = forms.ChoiceField(
        label="建会情况",
        required=False,
        choices=[("", "全部"), ("yes", "已建会"), ("no", "未建会")],
    )
    covering_union = UnionPickerField(purpose=Purpose.COVER, label="所属基层工会", required=False)
    within = UnionPickerField(purpose=Purpose.WITHIN, label="工会及其下级", required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.setup_picker(
            "covering_union", queries.picker_queryset(user, Purpose.COVER), purpose=Purpose.COVER
        )
        self.setup_picker(
            "within", queries.picker_queryset(user, Purpose.WITHIN), purpose=Purpose.WITHIN
        )

    def employers(self, action: str = Action.VIEW) -> EmployerQuerySet:
        """The employers the user may ``action``, narrowed by the valid filters."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        organised = {"yes": True, "no": False}.get(data.get("organised") or "")
        employers = selectors.employer_list(
            user=self.user,
            action=action,
            q=data.get("q") or None,
            status=data.get("status") or None,
            organised=organised,
            covering_union=data.get("covering_union"),
            within=data.get("within"),
        )
        if data.get("region"):
            employers = employers.filter(region__code__startswith=data["region"])
        return employers

    def active_filters(self) -> dict[str, str]:
        """The filters in use, as plain text (for the export's audit row)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        result: dict[str, str] = {}
        for name in self.fields:
            value = data.get(name)
            if value in (None, ""):
                continue
            result[name] = str(getattr(value, "pk", value))
        return result
