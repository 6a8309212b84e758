"""Forms of the household file: the national form for cadres (create and edit, with the
household members as a formset and the version the editor started from), and the filters and
search box of the workbench.

Forms parse and offer choices; the rules are in ``niangjia.relief.services``, whose
``ValidationError`` goes back onto the fields (``niangjia.orgs.forms.add_service_errors``).
An ID number searched for becomes its keyed hash here and never travels in clear.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from niangjia.accounts.choices import Action
from niangjia.members.choices import ETHNIC_GROUPS, Education, Household, IdType
from niangjia.members.identity import parse_id
from niangjia.members.models import id_hash_of
from niangjia.members.services import accepting_unions_q
from niangjia.orgs import queries
from niangjia.orgs.choices import IndustrySection, OwnershipType
from niangjia.orgs.forms import RegistryForm, UnionPickerField
from niangjia.orgs.models import Union
from niangjia.orgs.queries import Purpose
from niangjia.relief.choices import (
    ArchiveLevel,
    Category,
    DisabilityCategory,
    DisabilityGrade,
    EmployerState,
    FileState,
    FloorAreaBand,
    HardshipCause,
    Health,
    HousingType,
    MaritalStatus,
    MedicalInsurance,
    ModelWorkerType,
    PoliticalStatus,
    Relation,
    WorkStatus,
)
from niangjia.relief.models import HardshipFile, HouseholdMember
from niangjia.relief.services.files import FileData, PersonData

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})
BLANK = [("", "——请选择——")]
NONE = [("", "无")]


def money_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        required=required,
        initial=Decimal(0) if required else None,
        widget=MONEY_INPUT,
        help_text=help_text,
    )


def chinese_messages(form: forms.Form) -> None:
    """The Chinese messages of ``RegistryForm`` on a form that is not one (formset rows)."""
    for field in form.fields.values():
        RegistryForm._chinese_messages(field)
        if isinstance(field, forms.DecimalField):
            chinese_messages_for(field)


# --- The file form


class FileForm(RegistryForm):
    """Every field of the national form (困难职工档案). ``editing`` hides the union and
    city and carries the ``version``; a blank ID number or bank account keeps the stored one."""

    GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("所在工会", ("union", "city_region_code", "archive_level")),
        (
            "职工本人",
            (
                "name",
                "id_type",
                "id_number",
                "phone",
                "ethnic_group",
                "political_status",
                "education",
                "household",
                "marital_status",
                "model_worker",
            ),
        ),
        (
            "工作与健康",
            (
                "employer_name",
                "occupation",
                "industry",
                "employer_type",
                "employer_state",
                "work_status",
                "health",
                "disability_category",
                "disability_grade",
                "medical_insurance",
            ),
        ),
        (
            "家庭与住房",
            (
                "household_size",
                "single_parent",
                "zero_employment",
                "housing_type",
                "floor_area_band",
                "address",
            ),
        ),
        ("收入", ("monthly_wage", "other_income_year", "accident_loss_year")),
        ("致困原因", ("main_cause", "secondary_causes")),
        ("发放账户", ("bank_name", "bank_account")),
    )

    union = UnionPickerField(
        purpose=Purpose.OWNER,
        label="所在工会",
        help_text="办理初审的基层工会、联合工会或县级、乡镇（街道）总工会",
    )
    city_region_code = forms.CharField(
        label="按哪个市的低保标准认定",
        required=False,
        max_length=6,
        widget=forms.HiddenInput,
    )
    archive_level = forms.ChoiceField(
        label="档案级别", choices=ArchiveLevel.choices, initial=ArchiveLevel.COUNTY
    )

    name = forms.CharField(label="姓名", max_length=50)
    id_type = forms.ChoiceField(label="证件类型", choices=IdType.choices, initial=IdType.RESIDENT)
    id_number = forms.CharField(
        label="证件号码",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label="手机号码",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    ethnic_group = forms.ChoiceField(label="民族", choices=ETHNIC_GROUPS, initial="01")
    political_status = forms.ChoiceField(
        label="政治面貌", choices=PoliticalStatus.choices, initial=PoliticalStatus.MASSES
    )
    education = forms.ChoiceField(label="学历", choices=BLANK + Education.choices, required=False)
    household = forms.ChoiceField(
        label="户籍类型", choices=Household.choices, initial=Household.URBAN
    )
    marital_status = forms.ChoiceField(
        label="婚姻状况", choices=BLANK + MaritalStatus.choices, required=False
    )
    model_worker = forms.ChoiceField(
        label="劳模类型", choices=ModelWorkerType.choices, initial=ModelWorkerType.NONE
    )

    employer_name = forms.CharField(label="工作单位", max_length=200, required=False)
    occupation = forms.CharField(label="职业/岗位", max_length=50, required=False)
    industry = forms.ChoiceField(
        label="所在行业", choices=BLANK + IndustrySection.choices, required=False
    )
    employer_type = forms.ChoiceField(
        label="单位类型", choices=BLANK + OwnershipType.choices, required=False
    )
    employer_state = forms.ChoiceField(
        label="单位状况", choices=BLANK + EmployerState.choices, required=False
    )
    work_status = forms.ChoiceField(label="工作状况", choices=BLANK + WorkStatus.choices)
    health = forms.ChoiceField(label="健康状况", choices=BLANK + Health.choices)
    disability_category = forms.ChoiceField(
        label="残疾类别", choices=NONE + DisabilityCategory.choices, required=False
    )
    disability_grade = forms.ChoiceField(
        label="残疾等级", choices=NONE + DisabilityGrade.choices, required=False
    )
    medical_insurance = forms.ChoiceField(
        label="医疗保险", choices=MedicalInsurance.choices, initial=MedicalInsurance.EMPLOYEE
    )

    household_size = forms.IntegerField(
        label="家庭人口（人）",
        min_value=1,
        max_value=20,
        initial=1,
        help_text="含职工本人；用于计算家庭月人均收入",
    )
    single_parent = forms.BooleanField(label="单亲家庭", required=False)
    zero_employment = forms.BooleanField(label="零就业家庭", required=False)
    housing_type = forms.ChoiceField(label="住房类型", choices=BLANK + HousingType.choices)
    floor_area_band = forms.ChoiceField(
        label="人均住房面积", choices=BLANK + FloorAreaBand.choices, required=False
    )
    address = forms.CharField(label="家庭住址", max_length=200, required=False)

    monthly_wage = money_field("本人月工资（元）")
    other_income_year = money_field(
        "家庭其他年收入（元）", help_text="家庭成员收入、养老金、租金等全年合计"
    )
    accident_loss_year = money_field(
        "本年度意外损失（元）",
        help_text="因灾、因意外致困时填写；超过家庭年收入 80% 可认定意外致困",
    )

    main_cause = forms.ChoiceField(label="主要致困原因", choices=BLANK + HardshipCause.choices)
    secondary_causes = forms.MultipleChoiceField(
        label="次要致困原因",
        choices=HardshipCause.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="最多 3 项，不要与主要原因重复",
    )

    bank_name = forms.CharField(label="开户银行", max_length=60, required=False)
    bank_account = forms.CharField(
        label="银行账号",
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, user: Any, file: HardshipFile | None = None, **kwargs: Any
    ) -> None:
        self.file = file
        if file is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = file_initial(file)
        super().__init__(*args, user=user, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DecimalField):
                chinese_messages_for(field)
        if file is None:
            queryset = Union.objects.restrict(user, Action.ADD).filter(accepting_unions_q())
            self.setup_picker("union", queryset, purpose=Purpose.OWNER)
        else:
            del self.fields["union"]
            self.fields["version"].required = True
            for name in ("id_number", "phone"):
                self.fields[name].required = False
            masked = {"id_number": file.id_masked, "phone": file.phone_masked}
            for name, shown in masked.items():
                self.fields[name].help_text = f"当前：{shown}。不修改请留空"
            if file.bank_account_masked:
                self.fields[
                    "bank_account"
                ].help_text = f"当前：{file.bank_account_masked}。不修改请留空"
            if file.member_id is not None:
                for name in IDENTITY_FIELDS:
                    self.fields.pop(name, None)

    @property
    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        result = []
        for legend, names in self.GROUPS:
            fields = [self[n] for n in names if n in self.fields and not self[n].is_hidden]
            if fields:
                result.append((legend, fields))
        return result

    def clean_secondary_causes(self) -> list[str]:
        causes: list[str] = self.cleaned_data.get("secondary_causes") or []
        if len(causes) > 3:
            raise ValidationError("次要致困原因最多选择 3 项")
        return causes

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        main = data.get("main_cause")
        if main and main in (data.get("secondary_causes") or []):
            self.add_error("secondary_causes", "次要致困原因不能与主要致困原因相同")
        return data

    def file_data(self, members: list[PersonData]) -> FileData:
        d = self.cleaned_data
        keep = self.file
        return FileData(
            name=d.get("name") or (keep.name if keep else ""),
            id_type=d.get("id_type") or (keep.id_type if keep else IdType.RESIDENT),
            id_number=d.get("id_number") or "",
            phone=d.get("phone") or "",
            ethnic_group=d.get("ethnic_group") or (keep.ethnic_group if keep else "01"),
            household=d.get("household") or (keep.household if keep else Household.URBAN),
            education=d.get("education", keep.education if keep else ""),
            employer=keep.employer
            if keep and keep.employer_id and not d.get("employer_name")
            else None,
            employer_name=d.get("employer_name", keep.employer_name if keep else ""),
            occupation=d.get("occupation", keep.occupation if keep else ""),
            political_status=d["political_status"],
            health=d["health"],
            disability_category=d.get("disability_category") or "",
            disability_grade=d.get("disability_grade") or "",
            work_status=d["work_status"],
            marital_status=d.get("marital_status") or "",
            single_parent=bool(d.get("single_parent")),
            zero_employment=bool(d.get("zero_employment")),
            medical_insurance=d["medical_insurance"],
            model_worker=d["model_worker"],
            housing_type=d["housing_type"],
            floor_area_band=d.get("floor_area_band") or "",
            industry=d.get("industry") or "",
            employer_type=d.get("employer_type") or "",
            employer_state=d.get("employer_state") or "",
            address=d.get("address") or "",
            monthly_wage=d.get("monthly_wage") or Decimal(0),
            other_income_year=d.get("other_income_year") or Decimal(0),
            household_size=d["household_size"],
            accident_loss_year=d.get("accident_loss_year") or Decimal(0),
            main_cause=d["main_cause"],
            secondary_causes=list(d.get("secondary_causes") or []),
            bank_name=d.get("bank_name") or "",
            bank_account=d.get("bank_account") or "",
            archive_level=d["archive_level"],
            household_members=members,
        )


# The worker's identity: taken from the member record when the file was opened from one.
IDENTITY_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "phone",
    "ethnic_group",
    "education",
    "household",
    "employer_name",
    "occupation",
)


def chinese_messages_for(field: forms.DecimalField) -> None:
    label = field.label
    field.error_messages.update(
        {
            "invalid": f"“{label}”应为金额（元），如 1200 或 1200.50",
            "max_decimal_places": f"“{label}”最多两位小数",
            "max_digits": f"“{label}”超出可填写的范围",
            "max_whole_digits": f"“{label}”超出可填写的范围",
        }
    )


def file_initial(file: HardshipFile) -> dict[str, Any]:
    names = [n for _, group in FileForm.GROUPS for n in group]
    initial = {
        n: getattr(file, n)
        for n in names
        if n not in ("union", "city_region_code", "secondary_causes", "id_number", "phone")
        and n not in ("bank_account",)
        and hasattr(file, n)
    }
    initial["employer_name"] = file.employer_display
    initial["secondary_causes"] = [c for c in (file.cause_2, file.cause_3, file.cause_4) if c]
    initial["version"] = file.version
    return initial


class HouseholdMemberForm(forms.Form):
    """One member of the household (the worker excluded). ``existing`` is the stored row the
    line edits: its ID number is kept when the box is left blank."""

    existing = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label="姓名", max_length=50)
    relation = forms.ChoiceField(label="与职工关系", choices=BLANK + Relation.choices)
    id_number = forms.CharField(
        label="身份证号码",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    monthly_income = money_field("月收入（元）")
    health = forms.ChoiceField(label="健康状况", choices=Health.choices, initial=Health.HEALTHY)
    medical_insurance = forms.ChoiceField(
        label="医疗保险", choices=MedicalInsurance.choices, initial=MedicalInsurance.RESIDENT
    )
    school_or_employer = forms.CharField(label="就读学校或工作单位", max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chinese_messages(self)
        existing = self.initial.get("existing_masked")
        if existing:
            self.fields["id_number"].widget.attrs["placeholder"] = f"{existing}（不修改请留空）"


class BaseHouseholdFormSet(forms.BaseFormSet):
    def person_data(self, file: HardshipFile | None) -> list[PersonData]:
        """The rows kept (not deleted, not blank), as the service takes them."""
        stored = (
            {m.pk: m for m in HouseholdMember.objects.filter(file=file)} if file is not None else {}
        )
        people = []
        for form in self.forms:
            if not form.has_changed() and not form.initial:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            d = form.cleaned_data
            if not d:
                continue
            id_number = d.get("id_number") or ""
            previous = stored.get(d.get("existing") or 0)
            if not id_number and previous is not None:
                id_number = previous.reveal_id_number()
            people.append(
                PersonData(
                    name=d["name"],
                    relation=d["relation"],
                    id_number=id_number,
                    birth_date=previous.birth_date if previous is not None else None,
                    monthly_income=d.get("monthly_income") or Decimal(0),
                    health=d["health"],
                    medical_insurance=d["medical_insurance"],
                    school_or_employer=d.get("school_or_employer") or "",
                )
            )
        return people


HouseholdFormSet = forms.formset_factory(
    HouseholdMemberForm,
    formset=BaseHouseholdFormSet,
    extra=1,
    can_delete=True,
    max_num=19,
    validate_max=True,
)


def household_formset(data: Any = None, *, file: HardshipFile | None = None) -> Any:
    initial = []
    if file is not None:
        initial = [
            {
                "existing": m.pk,
                "existing_masked": m.id_masked,
                "name": m.name,
                "relation": m.relation,
                "monthly_income": m.monthly_income,
                "health": m.health,
                "medical_insurance": m.medical_insurance,
                "school_or_employer": m.school_or_employer,
            }
            for m in HouseholdMember.objects.filter(file=file).order_by("id")
        ]
    formset = HouseholdFormSet(data, initial=initial, prefix="hm")
    formset.error_messages = {
        **formset.error_messages,
        "too_many_forms": "家庭成员最多登记 19 人",
    }
    return formset


# --- The workbench: filters and search

SEARCH_KEYS = ("name", "id_hash")
PAGING_KEYS = ("page", "after", "before")
_ID_LIKE = re.compile(r"^[0-9]{15,17}[0-9X]$")


class FileFilterForm(RegistryForm):
    """The filters of the workbench (GET), and the search the search box put there."""

    state = forms.ChoiceField(
        label="档案状态",
        required=False,
        choices=[("", "全部"), ("open", "办理中和在档"), *FileState.choices],
    )
    category = forms.ChoiceField(
        label="困难类别", required=False, choices=[("", "全部"), *Category.choices]
    )
    cause = forms.ChoiceField(
        label="致困原因", required=False, choices=[("", "全部"), *HardshipCause.choices]
    )
    level = forms.ChoiceField(
        label="档案级别", required=False, choices=[("", "全部"), *ArchiveLevel.choices]
    )
    review = forms.ChoiceField(
        label="年度复核",
        required=False,
        choices=[("", "全部"), ("overdue", "已超期未复核"), ("due", "30 天内到期")],
    )
    relapse = forms.ChoiceField(
        label="返困",
        required=False,
        choices=[
            ("", "全部"),
            ("yes", "返困重新建档"),
            ("watch", "返困监测中"),
            ("due", "返困回访已到期"),
        ],
    )
    exit = forms.ChoiceField(
        label="解困脱困",
        required=False,
        choices=[("", "全部"), ("proposed", "系统建议解困脱困"), ("close_overdue", "超期未销档")],
    )
    within = UnionPickerField(purpose=Purpose.WITHIN, label="工会（含下级）", required=False)
    name = forms.CharField(required=False, max_length=50, widget=forms.HiddenInput)
    id_hash = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.setup_picker(
            "within", queries.picker_queryset(user, Purpose.WITHIN), purpose=Purpose.WITHIN
        )

    def clean_id_hash(self) -> str:
        value = (self.cleaned_data.get("id_hash") or "").strip()
        if value and not re.match(r"^[0-9a-f]{64}$", value):
            raise ValidationError("搜索条件已失效，请重新搜索", code="invalid")
        return value

    def value(self, name: str) -> Any:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return data.get(name) or None

    @property
    def filter_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if n not in SEARCH_KEYS]

    @property
    def search_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in SEARCH_KEYS]

    def search_label(self) -> str:
        if self.value("id_hash"):
            return "按证件号码精确查找"
        if self.value("name"):
            return f"姓名开头为“{self.value('name')}”"
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


class FileSearchForm(forms.Form):
    """The workbench's search box (POST): a name, or an ID number (turned into its keyed
    hash; the number itself never enters an address)."""

    q = forms.CharField(label="姓名或证件号码", max_length=50, required=False)
    keep = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_q(self) -> str:
        return " ".join((self.cleaned_data.get("q") or "").split())

    def search_params(self) -> dict[str, str]:
        text = self.cleaned_data.get("q") or ""
        if not text:
            return {}
        squashed = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text)).upper()
        if any(c.isdigit() for c in squashed):
            if not _ID_LIKE.match(squashed):
                raise ValidationError(
                    {"q": "证件号码应为 18 位（末位可为 X），请核对后再查找"}, code="invalid"
                )
            try:
                identity = parse_id(IdType.RESIDENT, squashed)
            except ValidationError as exc:
                raise ValidationError(
                    {"q": [f"未能查找：{m}" for m in exc.messages]}, code="invalid"
                ) from exc
            return {"id_hash": id_hash_of(identity.number)}
        return {"name": text}

    def kept_filters(self) -> QueryDict:
        return filter_query(
            QueryDict(self.cleaned_data.get("keep") or "", mutable=True), drop=SEARCH_KEYS
        )


class RevealForm(forms.Form):
    field = forms.ChoiceField(
        label="查看内容",
        choices=[("id_number", "证件号码"), ("phone", "手机号码"), ("bank_account", "银行账号")],
    )
    household_member = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="查看理由",
        max_length=200,
        help_text="将记入审计记录，例如：核对发放账户，办理医疗救助。",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chinese_messages(self)


class PosterForm(RegistryForm):
    """Which union's application poster to show."""

    union = UnionPickerField(purpose=Purpose.COVER, label="工会")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        queryset = Union.objects.restrict(user, Action.VIEW).filter(accepting_unions_q())
        self.setup_picker("union", queryset, purpose=Purpose.COVER)
