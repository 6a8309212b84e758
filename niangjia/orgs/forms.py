"""Forms of the organisation registry's cadre pages.

Forms only parse and offer choices; the writes and their rules are in ``services`` (whose
``ValidationError`` is put back onto the fields by ``add_service_errors``). Every union
drop-down starts from ``queries.picker_queryset`` (the user's scope for the action the pick
leads to) and renders at most ``PICKER_LIMIT`` options: a search box narrows them, by script
(``/orgs/unions/lookup/``) or, without script, by a "搜索" button that re-renders the form.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.urls import reverse

from niangjia.orgs import queries
from niangjia.orgs.choices import (
    KIND_LEVELS,
    LEVEL_RANK,
    EmployerStatus,
    IndustrySection,
    OwnershipType,
    UnionKind,
    UnionLevel,
)
from niangjia.orgs.models import Region, Union
from niangjia.orgs.queries import PICKER_LIMIT, Purpose
from niangjia.orgs.validators import normalize_uscc, validate_uscc

_REGION_CODE_RE = re.compile(r"^\d{6}(\d{3})?$")
PICKER_SEARCH = "_picker_search"


# --- Widgets and fields


class RegionPickerWidget(forms.TextInput):
    """A text input for the 6- or 9-digit code; the script turns it into cascading selects
    (province → city → county → township) fed by ``/orgs/regions/children/``."""

    template_name = "orgs/widgets/region_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        base = {
            "inputmode": "numeric",
            "maxlength": "9",
            "autocomplete": "off",
            "placeholder": "6 位或 9 位行政区划代码",
            "class": "region-code",
        }
        super().__init__({**base, **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Region):
            return value.code
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        code = self.format_value(value) or ""
        region = None
        if code.isdigit() and len(code) in (2, 4):  # a filter's prefix: 42 → 420000
            code = code.ljust(6, "0")
        if _REGION_CODE_RE.match(code):
            region = (
                Region.objects.select_related("parent__parent__parent").filter(code=code).first()
            )
        chain = [r.code for r in region.ancestors()] + [region.code] if region else []
        context["widget"].update(
            {
                "children_url": reverse("orgs:region_children"),
                "chain": ",".join(chain),
                "region_name": region.full_name if region else "",
            }
        )
        return context


class RegionField(forms.CharField):
    """A region given by its GB/T 2260 code; cleans to a ``Region`` (or None when empty)."""

    widget = RegionPickerWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", None)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return value.code if isinstance(value, Region) else value

    def to_python(self, value: Any) -> Region | None:  # type: ignore[override]
        if isinstance(value, Region):
            return value
        code = (super().to_python(value) or "").strip()
        if not code:
            return None
        label = self.label or "行政区划"
        if not _REGION_CODE_RE.match(code):
            raise ValidationError(
                f"“{label}”应为 6 位或 9 位数字的行政区划代码，“{code}”不是", code="invalid"
            )
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise ValidationError(
                f"“{label}”：行政区划代码“{code}”不存在，请从列表中选择", code="invalid"
            )
        return region


class UnionPickerWidget(forms.Select):
    template_name = "orgs/widgets/union_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.lookup_url = ""
        self.search = ""
        self.truncated = False

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"].update(
            {
                "lookup_url": self.lookup_url,
                "search": self.search,
                "truncated": self.truncated,
                "limit": PICKER_LIMIT,
                "search_button": PICKER_SEARCH,
            }
        )
        return context


class UnionPickerField(forms.ModelChoiceField):
    """A union from the user's scope; the queryset is set by the form for its user."""

    widget = UnionPickerWidget

    def __init__(self, *, purpose: str, **kwargs: Any) -> None:
        super().__init__(queryset=Union.objects.none(), **kwargs)
        self.purpose = purpose

    def label_from_instance(self, obj: Union) -> str:  # type: ignore[override]
        return queries.union_label(obj)


# --- Shared behaviour


def _is_choice(field: forms.Field) -> bool:
    return isinstance(field, forms.ChoiceField | forms.ModelChoiceField | RegionField)


class RegistryForm(forms.Form):
    """Chinese error messages naming the field, and union pickers limited to the scope."""

    template_name = "orgs/_form_fields.html"

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            self._chinese_messages(field)

    @staticmethod
    def _chinese_messages(field: forms.Field) -> None:
        label = str(field.label or "")
        verb = "请选择" if _is_choice(field) else "请填写"
        messages = {
            "required": f"{verb}“{label}”",
            "invalid": f"“{label}”格式不正确",
            "invalid_choice": f"“{label}”的选择无效，或不在您的管辖范围内",
            "max_value": f"“{label}”不能大于 %(limit_value)s",
            "min_value": f"“{label}”不能小于 %(limit_value)s",
        }
        if isinstance(field, forms.DateField):
            messages["invalid"] = f"“{label}”不是有效的日期，请按“年-月-日”填写，如 2024-05-01"
        if isinstance(field, forms.IntegerField):
            messages["invalid"] = f"“{label}”应为整数"
        field.error_messages.update(messages)
        field.validators = [
            MaxLengthValidator(
                v.limit_value, message=f"“{label}”最多 %(limit_value)d 个字，当前 %(show_value)d 个"
            )
            if isinstance(v, MaxLengthValidator)
            else v
            for v in field.validators
        ]

    def setup_picker(
        self,
        name: str,
        queryset: Any,
        *,
        purpose: str,
        union: Union | None = None,
        keep: Union | None = None,
    ) -> None:
        """Limit picker ``name`` to ``queryset`` (plus ``keep``, the value already stored);
        render only the first matches of its search box and the chosen union."""
        field = self.fields[name]
        if keep is not None:
            queryset = queryset | Union.objects.filter(pk=keep.pk)
        field.queryset = queryset
        search = str(self._raw(f"{name}_q") or "").strip()
        candidates = queries.picker_candidates(queryset, q=search)
        chosen = self._raw(name)
        chosen_pk = chosen.pk if isinstance(chosen, Union) else chosen
        if chosen_pk not in (None, "") and all(str(u.pk) != str(chosen_pk) for u in candidates):
            try:
                extra = queries.picker_candidates(queryset.filter(pk=chosen_pk), limit=1)
            except (TypeError, ValueError):
                extra = []
            candidates = extra + candidates
        field.choices = [("", "——请选择——")] + [
            (u.pk, field.label_from_instance(u)) for u in candidates
        ]
        params = {"purpose": purpose}
        if union is not None:
            params["union"] = str(union.pk)
        widget: UnionPickerWidget = field.widget  # type: ignore[assignment]
        widget.lookup_url = f"{reverse('orgs:union_lookup')}?{urlencode(params)}"
        widget.search = search
        widget.truncated = len(candidates) >= PICKER_LIMIT

    def _raw(self, name: str) -> Any:
        """A submitted value (bound form) or an initial one (a re-rendered, unbound form)."""
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        value = self.initial.get(name)
        if value is None and name in self.fields:
            value = self.fields[name].initial
        return value


def add_service_errors(
    form: forms.Form, exc: ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Put a service's ``ValidationError`` onto ``form``: keys naming a form field go next to
    that field (``field_map`` renames service keys), the rest above the form."""
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        target = field_map.get(key, key)
        if target in form.fields:
            form.add_error(target, errors)
        else:
            form.add_error(None, errors if key == NON_FIELD_ERRORS else ValidationError(errors))


def form_state(data: Any) -> dict[str, Any]:
    """A submitted form's values as initial data, to show it again without errors (after the
    "搜索" button of a picker)."""
    return {key: data.get(key) for key in data if key not in ("csrfmiddlewaretoken", PICKER_SEARCH)}


# --- Unions


def placement_options(parent: Union) -> dict[str, list[str]]:
    """The kinds that may stand under ``parent``, each with the levels it may take there."""
    if parent.kind == UnionKind.GRASSROOTS:
        return {}
    rank = LEVEL_RANK[UnionLevel(parent.level)]
    options: dict[str, list[str]] = {}
    for kind in UnionKind.values:
        if kind == UnionKind.FEDERATION and parent.kind == UnionKind.INDUSTRY:
            continue
        levels = []
        for level in UnionLevel.values:
            below = LEVEL_RANK[UnionLevel(level)] > rank
            beside = (
                kind == UnionKind.INDUSTRY
                and parent.kind == UnionKind.FEDERATION
                and level == parent.level
            )
            if level not in KIND_LEVELS[UnionKind(kind)] or not (below or beside):
                continue
            if level == UnionLevel.GRASSROOTS and parent.level == UnionLevel.NATIONAL:
                continue
            levels.append(level)
        if levels:
            options[kind] = levels
    return options


class UnionFieldsMixin(forms.Form):
    name = forms.CharField(label="名称", max_length=120)
    region = RegionField(
        label="所在行政区划",
        required=False,
        help_text="地方总工会必须选择对应的行政区划（省级选省、市级选市、县级选县）。",
    )
    industry_union = UnionPickerField(
        purpose=Purpose.INDUSTRY,
        label="所属产业工会",
        required=False,
        help_text="仅基层工会可另属一个产业工会。",
    )
    uscc = forms.CharField(
        label="统一社会信用代码",
        max_length=18,
        required=False,
        help_text="工会的统一社会信用代码以 81 开头，共 18 位。",
    )
    established_on = forms.DateField(
        label="成立日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    address = forms.CharField(label="地址", max_length=200, required=False)
    contact_phone = forms.CharField(label="联系电话", max_length=30, required=False)

    def clean_uscc(self) -> str | None:
        value = normalize_uscc(self.cleaned_data.get("uscc") or "")
        return value or None


class UnionCreateForm(RegistryForm, UnionFieldsMixin):
    kind = forms.ChoiceField(label="类型", choices=UnionKind.choices)
    level = forms.ChoiceField(label="层级", choices=UnionLevel.choices)

    field_order = [
        "name",
        "kind",
        "level",
        "region",
        "industry_union",
        "uscc",
        "established_on",
        "address",
        "contact_phone",
    ]

    def __init__(self, *args: Any, user: Any, parent: Union, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.parent = parent
        self.options = placement_options(parent)
        # Only what fits under the parent is offered; anything else posted is still parsed so
        # that the tree rules can say precisely why it does not fit.
        levels_offered = {lv for levels in self.options.values() for lv in levels}
        self.fields["kind"].widget.choices = [
            (k, UnionKind(k).label) for k in UnionKind.values if k in self.options
        ]
        self.fields["level"].widget.choices = [
            (lv, UnionLevel(lv).label) for lv in UnionLevel.values if lv in levels_offered
        ]
        self.fields["kind"].widget.attrs["data-kind-levels"] = json.dumps(self.options)
        self.fields["level"].widget.attrs["data-level-select"] = ""
        if not self.is_bound and not self.initial.get("region") and parent.region_id:
            self.initial.setdefault("region", parent.region)
        self.setup_picker(
            "industry_union",
            queries.picker_queryset(user, Purpose.INDUSTRY),
            purpose=Purpose.INDUSTRY,
        )

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "level": data["level"],
            "kind": data["kind"],
            "region": data.get("region"),
            "industry_union": data.get("industry_union"),
            "uscc": data.get("uscc"),
            "established_on": data.get("established_on"),
            "address": data.get("address") or "",
            "contact_phone": data.get("contact_phone") or "",
        }


class UnionEditForm(RegistryForm, UnionFieldsMixin):
    def __init__(self, *args: Any, user: Any, union: Union, **kwargs: Any) -> None:
        initial = kwargs.pop("initial", None) or {
            "name": union.name,
            "region": union.region,
            "industry_union": union.industry_union_id,
            "uscc": union.uscc or "",
            "established_on": union.established_on,
            "address": union.address,
            "contact_phone": union.contact_phone,
        }
        super().__init__(*args, user=user, initial=initial, **kwargs)
        self.union = union
        self.setup_picker(
            "industry_union",
            queries.picker_queryset(user, Purpose.INDUSTRY),
            purpose=Purpose.INDUSTRY,
            keep=union.industry_union,
        )

    def changes(self) -> dict[str, Any]:
        """Only the fields the cadre changed, as the service expects them."""
        current = {
            "name": self.union.name,
            "region": self.union.region,
            "industry_union": self.union.industry_union,
            "uscc": self.union.uscc or None,
            "established_on": self.union.established_on,
            "address": self.union.address,
            "contact_phone": self.union.contact_phone,
        }
        result = {}
        for name, before in current.items():
            after = self.cleaned_data.get(name)
            if name in ("address", "contact_phone"):
                after = after or ""
            if after != before:
                result[name] = after
        return result


class UnionMoveForm(RegistryForm):
    new_parent = UnionPickerField(purpose=Purpose.PARENT, label="新的上级工会")

    def __init__(self, *args: Any, user: Any, union: Union, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.union = union
        self.setup_picker(
            "new_parent",
            queries.picker_queryset(user, Purpose.PARENT, union=union),
            purpose=Purpose.PARENT,
            union=union,
        )


class UnionMergeForm(RegistryForm):
    target = UnionPickerField(purpose=Purpose.TARGET, label="并入的工会")
    confirm = forms.BooleanField(
        label="我已确认：合并后本工会的下级工会和用人单位将转到所选工会，本工会标记为“已合并”，此操作不能撤回",
    )

    def __init__(self, *args: Any, user: Any, union: Union, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.union = union
        self.fields["confirm"].error_messages["required"] = "请勾选确认后再合并"
        self.setup_picker(
            "target",
            queries.picker_queryset(user, Purpose.TARGET, union=union),
            purpose=Purpose.TARGET,
            union=union,
        )


class UnionDissolveForm(RegistryForm):
    reason = forms.CharField(
        label="撤销原因", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("请填写“撤销原因”", code="required")
        return reason


# --- Employers


class EmployerForm(RegistryForm):
    name = forms.CharField(label="单位名称", max_length=200)
    uscc = forms.CharField(
        label="统一社会信用代码",
        max_length=18,
        required=False,
        help_text="18 位，最后一位为校验位。",
    )
    uscc_override = forms.BooleanField(
        label="校验位例外（历史代码）",
        required=False,
        help_text="仅当历史遗留代码无法通过校验位检查时勾选，并填写原因。",
    )
    uscc_override_reason = forms.CharField(label="例外原因", max_length=200, required=False)
    region = RegionField(label="所在行政区划")
    industry_section = forms.ChoiceField(
        label="行业门类（GB/T 4754）", choices=[("", "——请选择——"), *IndustrySection.choices]
    )
    ownership = forms.ChoiceField(
        label="经济类型", choices=[("", "——请选择——"), *OwnershipType.choices]
    )
    headcount = forms.IntegerField(label="职工人数", min_value=0, initial=0)
    status = forms.ChoiceField(
        label="登记状态", choices=EmployerStatus.choices, initial=EmployerStatus.ACTIVE
    )
    owner = UnionPickerField(
        purpose=Purpose.OWNER,
        label="管理工会",
        help_text="保管该单位登记信息的工会，通常为所在地的地方总工会。",
    )
    covering_union = UnionPickerField(
        purpose=Purpose.COVER,
        label="所属基层工会",
        required=False,
        help_text="已建会的单位选择覆盖它的基层工会或联合基层工会；未建会留空。",
    )
    address = forms.CharField(label="地址", max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, employer: Any = None, **kwargs: Any) -> None:
        if employer is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": employer.name,
                "uscc": employer.uscc or "",
                "uscc_override": employer.uscc_override,
                "uscc_override_reason": employer.uscc_override_reason,
                "region": employer.region,
                "industry_section": employer.industry_section,
                "ownership": employer.ownership,
                "headcount": employer.headcount,
                "status": employer.status,
                "owner": employer.owner_id,
                "covering_union": employer.covering_union_id,
                "address": employer.address,
            }
        super().__init__(*args, user=user, **kwargs)
        self.employer = employer
        self.setup_picker(
            "owner",
            queries.picker_queryset(user, Purpose.OWNER),
            purpose=Purpose.OWNER,
            keep=employer.owner if employer is not None else None,
        )
        self.setup_picker(
            "covering_union",
            queries.picker_queryset(user, Purpose.COVER),
            purpose=Purpose.COVER,
            keep=employer.covering_union if employer is not None else None,
        )

    def clean_uscc(self) -> str | None:
        return normalize_uscc(self.cleaned_data.get("uscc") or "") or None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The service decides; checking here too shows the code's error together with the
        # others instead of only after every other field is right.
        if data.get("uscc") and not data.get("uscc_override"):
            try:
                validate_uscc(data["uscc"])
            except ValidationError as exc:
                self.add_error("uscc", exc)
        return data

    def clean_uscc_override_reason(self) -> str:
        return (self.cleaned_data.get("uscc_override_reason") or "").strip()

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["address"] = data.get("address") or ""
        return data

    def changes(self) -> dict[str, Any]:
        employer = self.employer
        data = self.service_data()
        result = {}
        for name, after in data.items():
            before = getattr(employer, name)
            if name == "uscc":
                before = before or None
            if after != before:
                result[name] = after
        return result
