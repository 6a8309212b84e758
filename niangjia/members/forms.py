"""Forms of the worker-facing joining pages and of the mass joining ceremonies.

The joining forms parse what a worker types on a phone into a ``services.JoinData``; the rules
(one membership per person, pending applications) stay in ``services``. Every message names
the field and the reason, in Chinese. The cadre pages' forms are in ``forms_cadre``.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.members import services
from niangjia.members.choices import (
    ETHNIC_GROUPS,
    Education,
    EmploymentForm,
    GigOccupation,
    Household,
    IdType,
)
from niangjia.members.identity import Identity, normalize_phone, parse_id
from niangjia.members.models import JoinCeremony
from niangjia.orgs.forms import RegistryForm, UnionPickerField
from niangjia.orgs.models import Employer, Union
from niangjia.orgs.queries import Purpose

CODE_LENGTH = 6


class _LightCopy:
    """Each form copies its fields from the class's; this copy is what Field.__deepcopy__
    does — own widget, messages and validators — without the generic copy protocol, and
    with the widget's choices (if any) shared instead of set again, which Django normalises
    on every set. The join forms' fields are copied thousands of times a minute at a
    ceremony; nothing changes their choices."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        result = self.light_copy()
        memo[id(self)] = result
        return result

    def light_copy(self) -> Any:
        field: Any = self
        widget = field.widget
        widget_copy = object.__new__(type(widget))
        widget_state = widget.__dict__.copy()
        widget_state["attrs"] = widget.attrs.copy()
        widget_copy.__dict__ = widget_state
        result = object.__new__(type(self))
        state = field.__dict__.copy()
        state["widget"] = widget_copy
        state["error_messages"] = field.error_messages.copy()
        state["validators"] = field.validators[:]
        result.__dict__ = state
        return result


class _LightFields(dict[str, Any]):
    """The ``base_fields`` of a form whose fields all copy lightly: the deep copy every form
    makes of them in ``__init__`` calls each field's ``light_copy`` directly, without
    ``copy.deepcopy``'s dispatch and memo for the dict and each field (28 µs → 12 µs for
    the join form)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {name: field.light_copy() for name, field in self.items()}


class FixedChoiceField(_LightCopy, forms.ChoiceField):
    """A choice field whose choices are the same for every form (shared, not copied)."""


class LightCharField(_LightCopy, forms.CharField):
    pass


def _chinese(form_class: type[forms.Form]) -> type[forms.Form]:
    """Chinese messages naming the field, set once on the class's fields (every form copies
    its fields' messages and validators from them). The fields, all light copies, are copied
    as ``_LightFields`` (subclasses declare their own ``base_fields`` and copy as usual)."""
    for field in form_class.base_fields.values():
        RegistryForm._chinese_messages(field)
        # A worker has no jurisdiction: the cadre forms' wording would puzzle them.
        field.error_messages["invalid_choice"] = f"“{field.label}”的选择无效，请从列表中选择"
    if all(isinstance(field, _LightCopy) for field in form_class.base_fields.values()):
        form_class.base_fields = _LightFields(form_class.base_fields)
    return form_class


def _put_errors(form: forms.Form, exc: ValidationError) -> None:
    """A ValidationError keyed by field (from ``identity`` or ``services``) onto ``form``."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        form.add_error(key if key in form.fields else None, errors)


@_chinese
class PhoneCodeForm(forms.Form):
    """A phone number and the code texted to it (application status, member card)."""

    phone = LightCharField(
        label="手机号码",
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "11 位手机号码"}
        ),
    )
    code = LightCharField(
        label="短信验证码",
        max_length=10,
        required=False,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "placeholder": f"{CODE_LENGTH} 位数字",
            }
        ),
    )

    def __init__(self, *args: Any, need_code: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.need_code = need_code

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["phone"]) from exc

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data.get("code", "").split())
        if not self.need_code:
            return code
        if not code:
            raise ValidationError("请填写短信验证码，如未收到请点“获取验证码”")
        if len(code) != CODE_LENGTH or not code.isdigit():
            raise ValidationError(f"短信验证码应为 {CODE_LENGTH} 位数字")
        return code


# Which registered employer a typed name (and picked id) means in a union's area, kept per
# process for settings.JOIN_CACHE_SECONDS: a newly registered or renamed employer is
# recognised within that time.
EMPLOYER_MATCH_CACHE_SIZE = 10_000
_employer_matches: dict[tuple[int, int | None, str], tuple[float, Employer | None]] = {}


@_chinese
class JoinForm(PhoneCodeForm):
    """What a worker gives to join: identity, phone (and its code), employer, occupation.

    ``employers`` is the set of registered employers the worker may pick (the union's area);
    a picked id or a name typed exactly as registered links the employer, any other name is
    kept as free text for a cadre to register later.
    """

    name = LightCharField(
        label="姓名",
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": "与证件一致"}),
    )
    id_type = FixedChoiceField(label="证件类型", choices=IdType.choices, initial=IdType.RESIDENT)
    id_number = LightCharField(
        label="证件号码",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    employer_name = LightCharField(
        label="工作单位",
        max_length=200,
        help_text="输入单位名称查找；找不到时照实填写全称",
        widget=forms.TextInput(
            attrs={"autocomplete": "organization", "placeholder": "如：武汉某物流有限公司"}
        ),
    )
    # The id of an employer picked from the search (set by script); checked against the name.
    employer = LightCharField(required=False, max_length=20, widget=forms.HiddenInput)
    employment_form = FixedChoiceField(
        label="就业形态",
        choices=EmploymentForm.choices,
        initial=EmploymentForm.STANDARD,
        widget=forms.RadioSelect,
    )
    gig_occupation = FixedChoiceField(
        label="新就业形态职业",
        choices=[("", "——请选择——"), *GigOccupation.choices],
        required=False,
        help_text="快递员、外卖配送员、网约车司机等请选择",
    )
    occupation = LightCharField(
        label="职业/岗位",
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": "如：装卸工、车工、骑手"}),
    )
    household = FixedChoiceField(
        label="户籍类型",
        choices=Household.choices,
        initial=Household.URBAN,
        widget=forms.RadioSelect,
        help_text="农村户籍的职工按农民工统计",
    )
    ethnic_group = FixedChoiceField(label="民族", choices=ETHNIC_GROUPS, initial="01")
    education = FixedChoiceField(
        label="学历", choices=[("", "——请选择——"), *Education.choices], required=False
    )

    field_order = [
        "name",
        "id_type",
        "id_number",
        "phone",
        "code",
        "employer_name",
        "employer",
        "employment_form",
        "gig_occupation",
        "occupation",
        "household",
        "ethnic_group",
        "education",
    ]

    def __init__(
        self,
        *args: Any,
        employers: QuerySet[Employer] | Callable[[], QuerySet[Employer]] | None = None,
        area_key: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.employers = employers
        self.area_key = area_key
        self.employer_obj: Employer | None = None
        self.identity: Identity | None = None

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("请填写“姓名”")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "id_type" in data and data.get("id_number"):
            try:
                identity = parse_id(data["id_type"], data["id_number"])
            except ValidationError as exc:
                _put_errors(self, exc)
            else:
                data["id_number"] = identity.number
                self.identity = identity
        if data.get("employment_form") == EmploymentForm.GIG and not data.get("gig_occupation"):
            self.add_error("gig_occupation", "选择“新就业形态”时请选择具体职业")
        if data.get("employment_form") != EmploymentForm.GIG:
            data["gig_occupation"] = ""
        name = " ".join(data.get("employer_name", "").split())
        if name:
            data["employer_name"] = name
            self.employer_obj = self._registered_employer(data.get("employer"), name)
        return data

    def _registered_employer(self, picked_id: str | None, name: str) -> Employer | None:
        """The registered employer meant, or None. With ``area_key`` (the union whose area
        ``employers`` is), answers are kept per process for JOIN_CACHE_SECONDS: at a
        ceremony thousands of workers type the same few names."""
        if self.employers is None:
            return None
        pk = int(picked_id) if picked_id and picked_id.isdigit() and len(picked_id) < 19 else None
        seconds = settings.JOIN_CACHE_SECONDS
        key = None if self.area_key is None or not seconds else (self.area_key, pk, name)
        now = time.monotonic()
        if key is not None:
            hit = _employer_matches.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        employers = self.employers() if callable(self.employers) else self.employers
        found = None
        if pk:
            picked = employers.filter(pk=pk).first()
            if picked is not None and picked.name == name:
                found = picked
        if found is None:
            same_name = list(employers.filter(name=name)[:2])
            found = same_name[0] if len(same_name) == 1 else None
        if key is not None:
            if len(_employer_matches) >= EMPLOYER_MATCH_CACHE_SIZE:
                _employer_matches.clear()
            _employer_matches[key] = (now + seconds, found)
        return found

    def join_data(self) -> services.JoinData:
        data = self.cleaned_data
        return services.JoinData(
            name=data["name"],
            id_type=data["id_type"],
            id_number=data["id_number"],
            phone=data["phone"],
            employer=self.employer_obj,
            employer_name="" if self.employer_obj else data["employer_name"],
            occupation=data["occupation"].strip(),
            employment_form=data["employment_form"],
            gig_occupation=data["gig_occupation"],
            household=data["household"],
            ethnic_group=data["ethnic_group"],
            education=data.get("education") or "",
            identity=self.identity,
        )


# --- Ceremonies (cadre side)

_DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format=_DATETIME_FORMAT)


def _datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=[_DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=DateTimeLocalInput(),
    )


class CeremonyForm(RegistryForm):
    """Create (with the host union) or edit a mass joining ceremony."""

    name = forms.CharField(label="仪式名称", max_length=120)
    union = UnionPickerField(purpose=Purpose.OWNER, label="主办工会")
    starts_at = _datetime_field("开始时间")
    ends_at = _datetime_field("结束时间")
    auto_approve = forms.BooleanField(
        label="现场入会自动批准（扫码提交即成为会员）", required=False, initial=True
    )
    require_sms = forms.BooleanField(
        label="需要短信验证（无工作人员在场时开启）", required=False, initial=False
    )

    def __init__(self, *args: Any, ceremony: JoinCeremony | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ceremony = ceremony
        for name in ("starts_at", "ends_at"):
            self.fields[name].error_messages["invalid"] = (
                f"“{self.fields[name].label}”不是有效的时间，请按“年-月-日 时:分”填写"
            )
        if ceremony is not None:
            del self.fields["union"]
        else:
            self.setup_picker(
                "union",
                Union.objects.restrict(self.user, Action.ADD).active(),
                purpose=Purpose.OWNER,
            )

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            "name": data["name"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "auto_approve": data["auto_approve"],
            "require_sms": data["require_sms"],
        }
        if self.ceremony is None:
            values["union"] = data["union"]
        return values

    @staticmethod
    def initial_for(ceremony: JoinCeremony) -> dict[str, Any]:
        return {
            "name": ceremony.name,
            "starts_at": timezone.localtime(ceremony.starts_at),
            "ends_at": timezone.localtime(ceremony.ends_at),
            "auto_approve": ceremony.auto_approve,
            "require_sms": ceremony.require_sms,
        }

    @staticmethod
    def initial_new() -> dict[str, Any]:
        start = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        start += datetime.timedelta(days=1)
        return {
            "starts_at": start.replace(hour=9),
            "ends_at": start.replace(hour=12),
            "auto_approve": True,
        }


class VenueForm(RegistryForm):
    name = forms.CharField(label="会场名称", max_length=120)
    union = UnionPickerField(
        purpose=Purpose.OWNER,
        label="入会工会",
        help_text="在本会场扫码的职工加入的工会：基层工会、联合工会，或县级、乡镇（街道）总工会",
    )

    def __init__(self, *args: Any, ceremony: JoinCeremony, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ceremony = ceremony
        host = ceremony.union
        unions = (
            Union.objects.restrict(self.user, Action.ADD)
            .filter(services.accepting_unions_q())
            .filter(path__startswith=host.path)
        )
        self.setup_picker("union", unions, purpose=Purpose.OWNER)
