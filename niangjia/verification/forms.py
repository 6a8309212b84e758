"""Forms of the verification pages: they parse and offer choices; the rules are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.orgs.choices import EmployerStatus, IndustrySection, OwnershipType
from niangjia.orgs.forms import RegionField, RegistryForm, UnionPickerField
from niangjia.orgs.models import Union
from niangjia.orgs.queries import Purpose, scope_roots
from niangjia.verification.choices import SplitMode, VerificationResult
from niangjia.verification.selectors import EmployerFilters, StaffMember

ANY = ("", "不限")
ORGANISED_CHOICES = [ANY, ("yes", "已建会"), ("no", "未建会")]
UNASSIGNED = "none"


class CampaignForm(RegistryForm):
    name = forms.CharField(label="核查名称", max_length=100)
    union = UnionPickerField(
        purpose=Purpose.WITHIN,
        label="核查范围",
        help_text="核查该工会及其全部下级工会登记或覆盖的用人单位。",
    )
    region = RegionField(
        label="所在行政区划", required=False, help_text="只核查该区划（含其下级区划）内的单位。"
    )
    employer_status = forms.ChoiceField(
        label="登记状态",
        choices=[ANY, *EmployerStatus.choices],
        required=False,
        initial=EmployerStatus.ACTIVE,
    )
    industry_section = forms.ChoiceField(
        label="行业门类", choices=[ANY, *IndustrySection.choices], required=False
    )
    ownership = forms.ChoiceField(
        label="经济类型", choices=[ANY, *OwnershipType.choices], required=False
    )
    min_headcount = forms.IntegerField(label="职工人数不少于", min_value=0, required=False)
    organised = forms.ChoiceField(label="建会情况", choices=ORGANISED_CHOICES, required=False)
    due_date = forms.DateField(
        label="完成期限", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    FILTER_FIELDS = (
        "union",
        "region",
        "employer_status",
        "industry_section",
        "ownership",
        "min_headcount",
        "organised",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        if not args or args[0] is None:
            initial = kwargs.setdefault("initial", {})
            initial.setdefault("name", f"{timezone.localdate():%Y}年用人单位存续情况核查")
            roots = scope_roots(user, Action.CHANGE)
            if len(roots) == 1:
                initial.setdefault("union", roots[0].pk)
        super().__init__(*args, user=user, **kwargs)
        self.setup_picker(
            "union", Union.objects.restrict(user, Action.CHANGE).active(), purpose=Purpose.WITHIN
        )
        for name in self.FILTER_FIELDS:
            self.fields[name].widget.attrs["data-preview-field"] = ""

    def employer_filters(self) -> EmployerFilters:
        data = self.cleaned_data
        organised = {"yes": True, "no": False}.get(data.get("organised") or "")
        return EmployerFilters(
            region=data.get("region"),
            status=data.get("employer_status") or "",
            industry_section=data.get("industry_section") or "",
            ownership=data.get("ownership") or "",
            min_headcount=data.get("min_headcount") or None,
            organised=organised,
        )


class SplitForm(forms.Form):
    """Who gets the pending items, evenly or by count (one ``count_<user id>`` per person)."""

    staff = forms.MultipleChoiceField(
        label="核查人员", widget=forms.CheckboxSelectMultiple, required=True
    )
    mode = forms.ChoiceField(
        label="分配方式",
        choices=SplitMode.choices,
        initial=SplitMode.EVEN,
        widget=forms.RadioSelect,
    )
    include_assigned = forms.BooleanField(
        label="重新分配已分配的待核查单位",
        required=False,
        help_text="不勾选时只分配尚未分配的单位；已标记的单位不会改动。",
    )

    def __init__(self, *args: Any, staff: list[StaffMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = staff
        self.fields["staff"].choices = [(str(s.user.pk), s.name) for s in staff]
        self.fields["staff"].error_messages.update(
            {
                "required": "请至少选择一名核查人员",
                "invalid_choice": "所选人员不是本次核查可分配的工作人员",
            }
        )
        self.fields["mode"].error_messages["invalid_choice"] = "“分配方式”的选择无效"
        for member in staff:
            field = forms.IntegerField(
                label=f"{member.name}的分配数量", min_value=0, max_value=100_000, required=False
            )
            field.error_messages.update(
                {
                    "invalid": f"“{member.name}的分配数量”应为整数",
                    "min_value": f"“{member.name}的分配数量”不能小于 0",
                    "max_value": f"“{member.name}的分配数量”太大",
                }
            )
            field.widget.attrs.update({"inputmode": "numeric", "class": "count-input"})
            self.fields[f"count_{member.user.pk}"] = field

    def rows(self) -> list[dict[str, Any]]:
        """One row per person for the template: the checkbox, the count input, the person."""
        boxes = {str(w.data["value"]): w for w in self["staff"]}
        return [
            {"member": m, "box": boxes[str(m.user.pk)], "count": self[f"count_{m.user.pk}"]}
            for m in self.staff
        ]

    def chosen(self) -> list[StaffMember]:
        wanted = set(self.cleaned_data["staff"])
        return [m for m in self.staff if str(m.user.pk) in wanted]

    def counts(self) -> dict[int, int] | None:
        if self.cleaned_data["mode"] != SplitMode.COUNTS:
            return None
        return {m.user.pk: self.cleaned_data.get(f"count_{m.user.pk}") or 0 for m in self.chosen()}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        by_count = data.get("mode") == SplitMode.COUNTS and data.get("staff")
        if by_count and not any(data.get(f"count_{pk}") for pk in data["staff"]):
            raise ValidationError("按数量分配时，请给选中的人员填写分配数量")
        return data


class ItemFilterForm(forms.Form):
    q = forms.CharField(label="单位名称或信用代码", max_length=100, required=False)
    assignee = forms.ChoiceField(label="核查人", required=False)
    result = forms.ChoiceField(
        label="核查结果", choices=[("", "全部结果"), *VerificationResult.choices], required=False
    )

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "单位名称或信用代码"
        self.fields["assignee"].choices = [
            ("", "全部核查人"),
            (UNASSIGNED, "未分配"),
            *[(str(pk), name) for pk, name in people],
        ]
        for name, field in self.fields.items():
            field.error_messages["invalid_choice"] = f"“{field.label}”的选择无效"
            field.widget.attrs.setdefault("id", f"filter-{name}")

    def values(self) -> dict[str, Any]:
        if not self.is_valid():
            return {"q": "", "assignee": "", "result": ""}
        return self.cleaned_data


class MarkForm(forms.Form):
    result = forms.ChoiceField(label="核查结果", choices=VerificationResult.choices)
    note = forms.CharField(label="备注", max_length=500, required=False)
    version = forms.IntegerField(label="版本", min_value=1, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["result"].error_messages.update(
            {
                "required": "请选择“核查结果”",
                "invalid_choice": "“核查结果”应为存续、迁出、注销之一",
            }
        )
        self.fields["note"].error_messages["max_length"] = "“备注”最多 500 个字"
        self.fields["version"].error_messages.update(
            {"invalid": "页面数据有误，请刷新后重试", "min_value": "页面数据有误，请刷新后重试"}
        )


def parse_selection(values: list[str]) -> tuple[list[int], dict[int, int]]:
    """Ticked items sent as ``<id>.<version>``: the ids, and the version each was seen at.
    Anything else is ignored."""
    ids: list[int] = []
    versions: dict[int, int] = {}
    for raw in values:
        pk, _, version = raw.partition(".")
        if not pk.isdigit() or len(pk) > 18:
            continue
        ids.append(int(pk))
        if version.isdigit() and len(version) <= 9:
            versions[int(pk)] = int(version)
    return ids, versions
