"""Checking one member row: cleaned, validated and turned into the values the registry stores.

``MemberRowChecker`` is built once per run in the process that reads the file, then forked
into the validating processes: it holds no database connection, only look-up tables of the
unions the run may write to. Employers are resolved afterwards, a batch at a time, by the
engine (the table of a province's employers would be too big to copy into every process).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from niangjia.imports import normalise
from niangjia.imports.normalise import CellError, Codes
from niangjia.members.choices import (
    ETHNIC_GROUPS,
    Education,
    EmploymentForm,
    GigOccupation,
    Household,
    IdType,
    MemberStatus,
    Sex,
)
from niangjia.members.models import ID_PURPOSE, PHONE_PURPOSE
from niangjia.utilities import crypto
from niangjia.utilities.masking import mask_id_number, mask_phone

# The order of the values a checked row carries (the staged member's columns, after the
# engine's own: run, row number, outcome, member id, employer id).
STAGED_FIELDS = (
    "name",
    "id_type",
    "id_number_enc",
    "id_hash",
    "id_masked",
    "sex",
    "birth_date",
    "phone_enc",
    "phone_hash",
    "phone_masked",
    "ethnic_group",
    "education",
    "household",
    "employment_form",
    "gig_occupation",
    "occupation",
    "employer_name",
    "union_id",
    "union_path",
    "join_date",
)
F = {name: index for index, name in enumerate(STAGED_FIELDS)}

ID_TYPES = Codes(
    IdType.choices,
    {
        "身份证": IdType.RESIDENT,
        "二代身份证": IdType.RESIDENT,
        "居民身份证号码": IdType.RESIDENT,
        "港澳居住证": IdType.HK_MACAU_PERMIT,
        "台湾居住证": IdType.TAIWAN_PERMIT,
        "台胞居住证": IdType.TAIWAN_PERMIT,
    },
)
SEXES = Codes(Sex.choices, {"男性": Sex.MALE, "女性": Sex.FEMALE})
ETHNIC = Codes(
    ETHNIC_GROUPS,
    {label[:-1]: code for code, label in ETHNIC_GROUPS if label.endswith("族") and len(label) > 2},
)
EDUCATION = Codes(
    Education.choices,
    {
        "小学": Education.PRIMARY,
        "文盲": Education.PRIMARY,
        "初中及以下": Education.JUNIOR,
        "高中": Education.SENIOR,
        "中专": Education.SENIOR,
        "技校": Education.SENIOR,
        "职高": Education.SENIOR,
        "大学专科": Education.COLLEGE,
        "专科": Education.COLLEGE,
        "高职": Education.COLLEGE,
        "大学本科": Education.BACHELOR,
        "大学": Education.BACHELOR,
        "硕士": Education.POSTGRADUATE,
        "博士": Education.POSTGRADUATE,
        "硕士研究生": Education.POSTGRADUATE,
        "博士研究生": Education.POSTGRADUATE,
    },
)
HOUSEHOLDS = Codes(
    Household.choices,
    {
        "城镇": Household.URBAN,
        "非农业": Household.URBAN,
        "非农业户口": Household.URBAN,
        "城镇户口": Household.URBAN,
        "居民户口": Household.URBAN,
        "农村": Household.RURAL,
        "农业": Household.RURAL,
        "农业户口": Household.RURAL,
        "农村户口": Household.RURAL,
        "农民工": Household.RURAL,
    },
)
EMPLOYMENT_FORMS = Codes(
    EmploymentForm.choices,
    {
        "标准": EmploymentForm.STANDARD,
        "劳动合同": EmploymentForm.STANDARD,
        "正式职工": EmploymentForm.STANDARD,
        "新业态": EmploymentForm.GIG,
        "灵活就业": EmploymentForm.GIG,
        "新就业形态劳动者": EmploymentForm.GIG,
    },
)
GIG_OCCUPATIONS = Codes(
    GigOccupation.choices,
    {
        "快递": GigOccupation.COURIER,
        "快递小哥": GigOccupation.COURIER,
        "外卖": GigOccupation.DELIVERY_RIDER,
        "外卖骑手": GigOccupation.DELIVERY_RIDER,
        "骑手": GigOccupation.DELIVERY_RIDER,
        "网约车": GigOccupation.RIDE_HAILING,
        "货车": GigOccupation.TRUCK_DRIVER,
        "卡车司机": GigOccupation.TRUCK_DRIVER,
        "家政": GigOccupation.DOMESTIC,
        "家政服务": GigOccupation.DOMESTIC,
        "其他": GigOccupation.OTHER,
    },
)

PERMIT_PREFIXES = {
    IdType.HK_MACAU_PERMIT: ("810000", "820000"),
    IdType.TAIWAN_PERMIT: ("830000",),
}
NAME_MAX = 50
OCCUPATION_MAX = 50
EMPLOYER_NAME_MAX = 200


@dataclass
class UnionTarget:
    id: int
    path: str
    name: str


@dataclass
class CheckedRow:
    """A row that passed: the staged values, and the employer as the file names it."""

    row_no: int
    values: list[Any]
    employer_uscc: str
    employer_name: str
    raw: list[Any]


@dataclass
class RowProblem:
    row_no: int
    messages: list[str]
    raw: list[Any]


@dataclass
class MemberRowChecker:
    """Turns raw rows into ``CheckedRow`` or ``RowProblem``; see the module docstring.

    ``columns`` maps a field key to (column index, the header as the file writes it): the
    messages name the column by the header the cadre sees.
    """

    columns: dict[str, tuple[int, str]]
    default_union: UnionTarget | None
    unions_by_name: dict[str, list[UnionTarget]]
    unions_by_code: dict[str, UnionTarget]
    today: datetime.date
    _get: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._get = {key: index for key, (index, _header) in self.columns.items()}

    def header(self, key: str) -> str:
        return self.columns[key][1] if key in self.columns else key

    def _cell(self, raw: list[Any], key: str) -> Any:
        index = self._get.get(key)
        if index is None or index >= len(raw):
            return None
        return raw[index]

    def check(self, row_no: int, raw: list[Any]) -> CheckedRow | RowProblem:
        problems: list[str] = []

        def fail(key: str, reason: str) -> None:
            problems.append(f"「{self.header(key)}」{reason}")

        cell = self._cell
        name = normalise.person_name(cell(raw, "name"))
        if not name:
            fail("name", "未填写")
        elif len(name) > NAME_MAX:
            fail("name", f"超过 {NAME_MAX} 个字")

        id_type = IdType.RESIDENT
        raw_type = cell(raw, "id_type")
        if raw_type not in (None, ""):
            try:
                id_type = ID_TYPES(raw_type)
            except CellError as exc:
                fail("id_type", str(exc))
        number = ""
        sex = ""
        birth: datetime.date | None = None
        try:
            number = normalise.id_number_text(cell(raw, "id_number"))
            if not number:
                raise CellError("未填写")
            if id_type == IdType.PASSPORT:
                if not (5 <= len(number) <= 17 and number.isalnum() and number.isascii()):
                    raise CellError("护照号码应为 5 至 17 位字母或数字")
            else:
                number, sex, birth = normalise.resident_id(
                    number, today=self.today, permit_prefixes=PERMIT_PREFIXES.get(id_type, ())
                )
        except CellError as exc:
            number = ""
            fail("id_number", str(exc))

        raw_sex = cell(raw, "sex")
        if raw_sex not in (None, ""):
            try:
                given = SEXES(raw_sex)
                if sex and given != sex:
                    fail("sex", f"与身份证号码不符（号码表明为{Sex(sex).label}）")
                sex = given
            except CellError as exc:
                fail("sex", str(exc))

        phone = ""
        try:
            phone = normalise.mobile_phone(cell(raw, "phone"))
        except CellError as exc:
            fail("phone", str(exc))

        def coded(key: str, codes: Codes, default: str) -> str:
            value = cell(raw, key)
            if value is None or value == "":
                return default
            try:
                return codes(value)
            except CellError as exc:
                fail(key, str(exc))
                return default

        ethnic = coded("ethnic_group", ETHNIC, "01")
        education = coded("education", EDUCATION, "")
        household = coded("household", HOUSEHOLDS, Household.URBAN)
        gig = coded("gig_occupation", GIG_OCCUPATIONS, "")
        form = coded(
            "employment_form",
            EMPLOYMENT_FORMS,
            EmploymentForm.GIG if gig else EmploymentForm.STANDARD,
        )
        if form == EmploymentForm.GIG and not gig:
            gig = GigOccupation.OTHER
        if form == EmploymentForm.STANDARD and gig:
            fail("gig_occupation", "只有新就业形态劳动者填写此列")

        occupation = normalise.text(cell(raw, "occupation"))
        if len(occupation) > OCCUPATION_MAX:
            fail("occupation", f"超过 {OCCUPATION_MAX} 个字")
        employer_name = normalise.text(cell(raw, "employer_name"))
        if len(employer_name) > EMPLOYER_NAME_MAX:
            fail("employer_name", f"超过 {EMPLOYER_NAME_MAX} 个字")
        employer_uscc = ""
        if "employer_uscc" in self._get:
            employer_uscc = normalise.compact(cell(raw, "employer_uscc"))
            if employer_uscc and len(employer_uscc) != 18:
                fail("employer_uscc", "统一社会信用代码应为 18 位")

        union = self._union(cell(raw, "union"), fail)

        join_date: datetime.date | None = None
        try:
            join_date = normalise.date(cell(raw, "join_date"))
        except CellError as exc:
            fail("join_date", str(exc))
        else:
            if join_date is None:
                join_date = self.today
            elif join_date > self.today:
                fail("join_date", "不能晚于今天")
            elif birth is not None and join_date < birth:
                fail("join_date", "早于出生日期")

        status = cell(raw, "status")
        if status not in (None, "") and normalise.text(status) not in (
            MemberStatus.ACTIVE.label,
            MemberStatus.ACTIVE,
            "在职",
            "正常",
        ):
            fail("status", "名册只能登记在会会员；退会、保留会籍等请在会员页面办理")

        if problems:
            return RowProblem(row_no, problems, raw)
        assert union is not None and join_date is not None
        values = [
            name,
            id_type,
            crypto.encrypt(number, purpose=ID_PURPOSE),
            crypto.keyed_hash(number, purpose=ID_PURPOSE),
            mask_id_number(number),
            sex,
            birth,
            crypto.encrypt(phone, purpose=PHONE_PURPOSE),
            crypto.keyed_hash(phone, purpose=PHONE_PURPOSE),
            mask_phone(phone),
            ethnic,
            education,
            household,
            form,
            gig,
            occupation,
            employer_name,
            union.id,
            union.path,
            join_date,
        ]
        return CheckedRow(row_no, values, employer_uscc, employer_name, raw)

    def _union(self, value: Any, fail: Any) -> UnionTarget | None:
        spelled = normalise.text(value)
        if not spelled:
            if self.default_union is None:
                fail("union", "未填写（本次导入的工会下有多个基层工会，须逐行注明）")
            return self.default_union
        code = spelled.upper()
        if len(code) == 18 and code in self.unions_by_code:
            return self.unions_by_code[code]
        found = self.unions_by_name.get(union_key(spelled))
        if not found:
            fail("union", f"“{spelled}”不是本次导入范围内可接收会员的工会")
            return None
        if len(found) > 1:
            fail("union", f"“{spelled}”在导入范围内有同名工会，请改填工会的统一社会信用代码")
            return None
        return found[0]


def union_key(name: str) -> str:
    return normalise.text(name).replace(" ", "")
