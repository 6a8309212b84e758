"""Forms of the member registry's cadre pages.

Forms parse and offer choices; the rules are in ``niangjia.members.services``, whose
``ValidationError`` goes back onto the fields (``niangjia.orgs.forms.add_service_errors``).
Union pickers start from the user's scope, except the target of a transfer: transfers go
to any union of the country that takes members (names and regions only).

A phone or ID number searched for is turned into its keyed hash here and never travels in
clear: the search box posts, and the list's address carries only the hash.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse

from niangjia.members import selectors
from niangjia.members.choices import (
    ApplicationChannel,
    ApplicationStatus,
    EmploymentForm,
    GigOccupation,
    IdType,
    MemberStatus,
    ReserveReason,
)
from niangjia.members.identity import normalize_phone, parse_id
from niangjia.members.models import Member, id_hash_of, parse_member_number, phone_hash_of
from niangjia.members.services import REVEALABLE
from niangjia.orgs import queries
from niangjia.orgs.forms import RegistryForm, UnionPickerField
from niangjia.orgs.models import Union
from niangjia.orgs.queries import Purpose

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_DIGITS_RE = re.compile(r"^\+?[0-9]+X?$")
_PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,17}$")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# Query parameters of the member list (and its export) that carry a search, not a filter.
SEARCH_KEYS = ("name", "match", "phone_hash", "id_hash", "number")
# Query parameters of the pages themselves, never filters.
PAGING_KEYS = ("after", "before", "count")


class MemberFilterForm(RegistryForm):
    """The filters of the member list (GET), and the searches the search box put there."""

    status = forms.ChoiceField(
        label="会籍状态", required=False, choices=[("", "全部"), *MemberStatus.choices]
    )
    employment_form = forms.ChoiceField(
        label="就业形态", required=False, choices=[("", "全部"), *EmploymentForm.choices]
    )
    gig_occupation = forms.ChoiceField(
        label="新就业形态职业", required=False, choices=[("", "全部"), *GigOccupation.choices]
    )
    migrant = forms.ChoiceField(
        label="户籍",
        required=False,
        choices=[("", "全部"), ("yes", "农村户籍（农民工）"), ("no", "城镇户籍")],
    )
    joined_from = forms.DateField(label="入会日期自", required=False, widget=DATE_INPUT)
    joined_to = forms.DateField(label="入会日期至", required=False, widget=DATE_INPUT)
    within = UnionPickerField(purpose=Purpose.WITHIN, label="工会（含下级）", required=False)
    employer = forms.CharField(label="工作单位", required=False, max_length=100)
    # Put here by the search box; kept as hidden fields while filtering.
    name = forms.CharField(required=False, max_length=50, widget=forms.HiddenInput)
    match = forms.ChoiceField(
        required=False,
        choices=[("", "开头"), ("contains", "包含")],
        widget=forms.HiddenInput,
    )
    phone_hash = forms.CharField(required=False, widget=forms.HiddenInput)
    id_hash = forms.CharField(required=False, widget=forms.HiddenInput)
    number = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.setup_picker(
            "within", queries.picker_queryset(user, Purpose.WITHIN), purpose=Purpose.WITHIN
        )

    def _clean_hash(self, name: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip()
        if value and not _HASH_RE.match(value):
            raise ValidationError("搜索条件已失效，请重新搜索", code="invalid")
        return value

    def clean_phone_hash(self) -> str:
        return self._clean_hash("phone_hash")

    def clean_id_hash(self) -> str:
        return self._clean_hash("id_hash")

    def clean_number(self) -> str:
        value = (self.cleaned_data.get("number") or "").strip()
        if value and parse_member_number(value) is None:
            raise ValidationError(f"会员编号“{value[:20]}”无效", code="invalid")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("joined_from"), data.get("joined_to")
        if start and end and start > end:
            self.add_error("joined_to", "“入会日期至”不能早于“入会日期自”")
        return data

    def filters(self) -> selectors.MemberFilters:
        """The valid filters (an invalid one is shown with its error and left out)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        number = data.get("number") or ""
        return selectors.MemberFilters(
            status=data.get("status") or "",
            employment_form=data.get("employment_form") or "",
            gig_occupation=data.get("gig_occupation") or "",
            migrant={"yes": True, "no": False}.get(data.get("migrant") or ""),
            joined_from=data.get("joined_from"),
            joined_to=data.get("joined_to"),
            within=data.get("within"),
            employer=(data.get("employer") or "").strip(),
            name=(data.get("name") or "").strip(),
            name_contains=data.get("match") == "contains",
            phone_hash=data.get("phone_hash") or "",
            id_hash=data.get("id_hash") or "",
            member_pk=parse_member_number(number) if number else None,
        )

    @property
    def filter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in SEARCH_KEYS]

    @property
    def search_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SEARCH_KEYS]

    def search_label(self) -> str:
        """What the search in force looks for, in words (never the clear number)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        if data.get("phone_hash"):
            return "按手机号码精确查找"
        if data.get("id_hash"):
            return "按证件号码精确查找"
        if data.get("number"):
            return f"会员编号 {data['number']}"
        if data.get("name"):
            how = "包含" if data.get("match") == "contains" else "开头为"
            return f"姓名{how}“{data['name']}”"
        return ""


def filter_query(data: QueryDict, *, drop: tuple[str, ...] = ()) -> QueryDict:
    """A copy of the list's query string without paging (and without ``drop``)."""
    query = data.copy()
    for key in (*PAGING_KEYS, *drop, "within_q", "csrfmiddlewaretoken"):
        query.pop(key, None)
    for key in list(query):
        if not any(v.strip() for v in query.getlist(key)):
            del query[key]
    return query


def _squash(value: str) -> str:
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value)).upper()


class MemberSearchForm(forms.Form):
    """The list's search box (POST): a name, a phone, an ID number or a member number.

    ``search_params()`` gives what goes into the list's address: the name as typed, a member
    number, or the keyed hash of the phone or ID number."""

    q = forms.CharField(label="姓名、手机号、证件号码或会员编号", max_length=50, required=False)
    match = forms.ChoiceField(
        label="姓名匹配",
        required=False,
        choices=[("", "开头"), ("contains", "包含")],
    )
    keep = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_q(self) -> str:
        return " ".join((self.cleaned_data.get("q") or "").split())

    def search_params(self) -> dict[str, str]:
        text = self.cleaned_data.get("q") or ""
        if not text:
            return {}
        squashed = _squash(text)
        if _DIGITS_RE.match(squashed):
            return self._number_params(squashed)
        if _PASSPORT_RE.match(squashed) and any(c.isdigit() for c in squashed):
            return {"id_hash": id_hash_of(parse_id(IdType.PASSPORT, squashed).number)}
        params = {"name": text}
        if self.cleaned_data.get("match") == "contains":
            params["match"] = "contains"
        return params

    def _number_params(self, digits: str) -> dict[str, str]:
        """A string of digits: a member number (12), a phone (11, or +86…), an ID number."""
        try:
            if len(digits) == 12 and digits.isdigit() and parse_member_number(digits):
                return {"number": digits}
            if (
                digits.startswith(("+", "0086"))
                or (len(digits) == 11 and digits.startswith("1"))
                or (len(digits) == 13 and digits.startswith("86"))
            ):
                return {"phone_hash": phone_hash_of(normalize_phone(digits))}
            if digits.startswith(("81", "82")) and len(digits) == 18:
                identity = parse_id(IdType.HK_MACAU_PERMIT, digits)
            elif digits.startswith("83") and len(digits) == 18:
                identity = parse_id(IdType.TAIWAN_PERMIT, digits)
            else:
                identity = parse_id(IdType.RESIDENT, digits)
        except ValidationError as exc:
            messages = exc.messages
            raise ValidationError(
                {"q": [f"未能查找：{m}" for m in messages]}, code="invalid"
            ) from exc
        return {"id_hash": id_hash_of(identity.number)}

    def kept_filters(self) -> QueryDict:
        """The list's filters the search was made under (the ``keep`` field), searches left out."""
        return filter_query(
            QueryDict(self.cleaned_data.get("keep") or "", mutable=True), drop=SEARCH_KEYS
        )


class RevealForm(forms.Form):
    field = forms.ChoiceField(label="查看内容", choices=list(REVEALABLE.items()))
    reason = forms.CharField(
        label="查看理由",
        max_length=200,
        help_text="将记入审计记录，例如：核实会员身份，办理互助保障理赔。",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        RegistryForm._chinese_messages(self.fields["field"])
        RegistryForm._chinese_messages(self.fields["reason"])


class StatusChangeForm(forms.Form):
    to_status = forms.ChoiceField(label="变更为")
    reserve_reason = forms.ChoiceField(
        label="保留会籍原因",
        required=False,
        choices=[("", "——请选择——"), *ReserveReason.choices],
    )
    note = forms.CharField(
        label="原因说明",
        max_length=150,
        required=False,
        help_text="退会、已故、恢复在会须填写；保留会籍可补充说明。",
    )
    date = forms.DateField(
        label="变更日期", required=False, widget=DATE_INPUT, help_text="默认今天"
    )

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member = member
        choices = status_choices(member)
        self.fields["to_status"].choices = [("", "——请选择——"), *choices]
        for field in self.fields.values():
            RegistryForm._chinese_messages(field)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        to_status = data.get("to_status")
        note = (data.get("note") or "").strip()
        data["note"] = note
        if to_status == MemberStatus.RESERVED and not data.get("reserve_reason"):
            self.add_error("reserve_reason", "保留会籍请选择原因：退休、失业或单位关闭")
        elif to_status and to_status != MemberStatus.RESERVED and not note:
            self.add_error("note", "请填写“原因说明”")
        return data

    def reason(self) -> str:
        data = self.cleaned_data
        if data.get("to_status") == MemberStatus.RESERVED and data.get("reserve_reason"):
            label = str(ReserveReason(data["reserve_reason"]).label)
            return f"{label}：{data['note']}" if data["note"] else label
        return str(data.get("note") or "")


def status_choices(member: Member) -> list[tuple[str, str]]:
    """The statuses a member may change to from where they are (services' rules)."""
    from niangjia.members.services import ALLOWED_STATUS_CHANGES

    allowed = ALLOWED_STATUS_CHANGES.get(member.status, set())
    return [(value, str(label)) for value, label in MemberStatus.choices if value in allowed]


def transfer_target_label(union: Union) -> str:
    """A transfer target as offered: its name and its region, nothing else."""
    region = union.region.full_name if union.region_id and union.region else ""
    return f"{union.name}（{region}）" if region else union.name


class TransferTargetField(UnionPickerField):
    """Any union of the country that takes members, shown by name and region only."""

    def label_from_instance(self, obj: Union) -> str:  # type: ignore[override]
        return transfer_target_label(obj)


TRANSFER_PURPOSE = "transfer"


class TransferReleaseForm(RegistryForm):
    to_union = TransferTargetField(
        purpose=TRANSFER_PURPOSE,
        label="转入工会",
        help_text="可选择全国任一接收会员的基层工会、联合工会，或新单位未建会时所在地的县级、乡镇（街道）总工会。",
    )
    new_employer_name = forms.CharField(label="新工作单位", max_length=200, required=False)
    reason = forms.CharField(label="转出原因", max_length=150, help_text="例如：调动工作、跨省就业")

    def __init__(self, *args: Any, user: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.member = member
        self.setup_picker(
            "to_union",
            selectors.transfer_targets().exclude(pk=member.union_id),
            purpose=TRANSFER_PURPOSE,
        )
        widget: Any = self.fields["to_union"].widget
        widget.lookup_url = f"{reverse('members:transfer_targets')}?exclude={member.union_id}"

    def clean_reason(self) -> str:
        reason = (self.cleaned_data.get("reason") or "").strip()
        if not reason:
            raise ValidationError("请填写“转出原因”", code="required")
        return reason


class ApplicationFilterForm(RegistryForm):
    ALL = "all"

    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[*ApplicationStatus.choices, (ALL, "全部")],
        initial=ApplicationStatus.SUBMITTED,
    )
    overdue = forms.BooleanField(label="仅看逾期", required=False)
    channel = forms.ChoiceField(
        label="渠道", required=False, choices=[("", "全部"), *ApplicationChannel.choices]
    )
    within = UnionPickerField(purpose=Purpose.WITHIN, label="工会（含下级）", required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.setup_picker(
            "within", queries.picker_queryset(user, Purpose.WITHIN), purpose=Purpose.WITHIN
        )

    def value(self, name: str) -> Any:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return data.get(name)

    @property
    def listed_status(self) -> str:
        """The status listed: pending unless another (or all) was asked for."""
        value = self.value("status") or ApplicationStatus.SUBMITTED
        return "" if value == self.ALL else str(value)


class DecisionForm(forms.Form):
    APPROVE = "approve"
    REJECT = "reject"

    decision = forms.ChoiceField(
        label="审批结果", choices=[(APPROVE, "批准入会"), (REJECT, "驳回")]
    )
    reason = forms.CharField(
        label="审批意见",
        max_length=200,
        required=False,
        help_text="驳回时必须填写原因，将告知申请人。",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            RegistryForm._chinese_messages(field)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["reason"] = (data.get("reason") or "").strip()
        if data.get("decision") == self.REJECT and not data["reason"]:
            self.add_error("reason", "驳回申请必须填写原因")
        return data

    @property
    def approve(self) -> bool:
        return self.cleaned_data.get("decision") == self.APPROVE


class BulkDecisionForm(DecisionForm):
    ids = forms.TypedMultipleChoiceField(label="申请", coerce=int, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id may be posted; the view admits only those in the user's scope.
        self.fields["ids"].choices = [(i, i) for i in self.selected_ids()]
        self.fields["ids"].error_messages["required"] = "请至少勾选一份申请"
        self.fields["reason"].label = "审批意见（对勾选的全部申请）"

    def clean_ids(self) -> list[int]:
        return list(dict.fromkeys(self.cleaned_data.get("ids") or []))

    def selected_ids(self) -> list[int]:
        """The ids posted, readable even when the form is not valid."""
        ids = []
        for raw in self.data.getlist("ids") if hasattr(self.data, "getlist") else []:
            if str(raw).isdigit():
                ids.append(int(raw))
        return list(dict.fromkeys(ids))


class RefuseForm(forms.Form):
    reason = forms.CharField(label="拒收原因", max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        RegistryForm._chinese_messages(self.fields["reason"])

    def clean_reason(self) -> str:
        reason = (self.cleaned_data.get("reason") or "").strip()
        if not reason:
            raise ValidationError("请填写“拒收原因”", code="required")
        return reason
