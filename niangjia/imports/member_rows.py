"""Checking one member row: cleaned, validated and turned into the values the registry stores.

``MemberRowChecker`` is built once per run in the process that reads the file, then forked
into the validating processes: it holds no database connection, only look-up tables of the
unions the run may write to. Employers are resolved afterwards, a batch at a time, by the
engine (the table of a province's employers would be too big to copy into every process).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from niangjia.imports import normalise
from niangjia.imports.normalise import CellCache, CellError, Codes
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
    line: str = ""


@dataclass
class RowProblem:
    row_no: int
    messages: list[str]
    raw: list[Any]


# The fields a row is read for, in the order ``MemberRowChecker.check`` unpacks them.
ROW_KEYS = (
    "name",
    "id_type",
    "id_number",
    "phone",
    "sex",
    "ethnic_group",
    "education",
    "household",
    "employment_form",
    "gig_occupation",
    "occupation",
    "employer_name",
    "employer_uscc",
    "union",
    "join_date",
    "status",
)
_RESIDENT = str(IdType.RESIDENT)
_PASSPORT = str(IdType.PASSPORT)
_URBAN = str(Household.URBAN)
_STANDARD = str(EmploymentForm.STANDARD)
_GIG = str(EmploymentForm.GIG)
_OTHER_GIG = str(GigOccupation.OTHER)
_ACTIVE_SPELLINGS = frozenset({str(MemberStatus.ACTIVE), "在会", "在职", "正常"})
_EMPTY = (None, "")


@dataclass
class MemberRowChecker:
    """Turns raw rows into ``CheckedRow`` or ``RowProblem``; see the module docstring.

    ``columns`` maps a field key to (column index, the header as the file writes it): the
    messages name the column by the header the cadre sees. With ``copy_lines`` a checked row
    also carries its staged values as a line of PostgreSQL COPY text, made here (in the
    checking processes) rather than in the process that writes them.
    """

    columns: dict[str, tuple[int, str]]
    default_union: UnionTarget | None
    unions_by_name: dict[str, list[UnionTarget]]
    unions_by_code: dict[str, UnionTarget]
    today: datetime.date
    copy_lines: bool = False
    _positions: list[int] = field(init=False, repr=False)
    _width: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._positions = [self.columns[key][0] if key in self.columns else -1 for key in ROW_KEYS]
        self._width = max(self._positions) + 1
        # The cells of a row, from the row with a None appended: an absent column's position
        # is -1, that None.
        self._cells = itemgetter(*self._positions)
        self._has_uscc = "employer_uscc" in self.columns
        self._id_hash = crypto.hasher(purpose=ID_PURPOSE)
        self._phone_hash = crypto.hasher(purpose=PHONE_PURPOSE)
        self._seal_id = crypto.sealer(purpose=ID_PURPOSE)
        self._seal_phone = crypto.sealer(purpose=PHONE_PURPOSE)
        # Columns whose cells repeat over a big file are cleaned once per spelling. Join dates
        # over decades in six spellings make some 80,000 keys in a million rows (10 MB or so
        # at the limit): a smaller limit would start afresh before most came again.
        self._text = CellCache(normalise.text)
        self._date = CellCache(normalise.date, limit=100_000)
        self._union_of = CellCache(self._find_union)

    def __getstate__(self) -> dict[str, Any]:
        # The bound crypto closures and the caches are rebuilt where the checker is unpickled.
        state = self.__dict__.copy()
        for name in _UNPICKLED:
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def header(self, key: str) -> str:
        return self.columns[key][1] if key in self.columns else key

    def check(self, row_no: int, raw: list[Any]) -> CheckedRow | RowProblem:
        if len(raw) < self._width:
            raw = [*raw, *([None] * (self._width - len(raw)))]
        cached_text = self._text
        (
            name_cell,
            type_cell,
            id_cell,
            phone_cell,
            sex_cell,
            ethnic_cell,
            education_cell,
            household_cell,
            form_cell,
            gig_cell,
            occupation_cell,
            employer_cell,
            uscc_cell,
            union_cell,
            join_cell,
            status_cell,
        ) = self._cells((*raw, None))
        problems: list[str] = []
        header = self.header

        name = normalise.person_name(name_cell)
        if not name:
            problems.append(f"「{header('name')}」未填写")
        elif len(name) > NAME_MAX:
            problems.append(f"「{header('name')}」超过 {NAME_MAX} 个字")

        id_type = _RESIDENT
        if type_cell not in _EMPTY:
            try:
                id_type = ID_TYPES(type_cell)
            except CellError as exc:
                problems.append(f"「{header('id_type')}」{exc}")
        number = ""
        sex = ""
        birth: datetime.date | None = None
        try:
            number = normalise.id_number_text(id_cell)
            if not number:
                raise CellError("未填写")
            if id_type == _PASSPORT:
                if not (5 <= len(number) <= 17 and number.isalnum() and number.isascii()):
                    raise CellError("护照号码应为 5 至 17 位字母或数字")
            else:
                number, sex, birth = normalise.resident_id(
                    number, today=self.today, permit_prefixes=PERMIT_PREFIXES.get(id_type, ())
                )
        except CellError as exc:
            number = ""
            problems.append(f"「{header('id_number')}」{exc}")

        if sex_cell not in _EMPTY:
            try:
                given = SEXES(sex_cell)
            except CellError as exc:
                problems.append(f"「{header('sex')}」{exc}")
            else:
                if sex and given != sex:
                    problems.append(
                        f"「{header('sex')}」与身份证号码不符（号码表明为{Sex(sex).label}）"
                    )
                sex = given

        phone = ""
        try:
            phone = normalise.mobile_phone(phone_cell)
        except CellError as exc:
            problems.append(f"「{header('phone')}」{exc}")

        ethnic = "01"
        if ethnic_cell not in _EMPTY:
            try:
                ethnic = ETHNIC(ethnic_cell)
            except CellError as exc:
                problems.append(f"「{header('ethnic_group')}」{exc}")
        education = ""
        if education_cell not in _EMPTY:
            try:
                education = EDUCATION(education_cell)
            except CellError as exc:
                problems.append(f"「{header('education')}」{exc}")
        household = _URBAN
        if household_cell not in _EMPTY:
            try:
                household = HOUSEHOLDS(household_cell)
            except CellError as exc:
                problems.append(f"「{header('household')}」{exc}")
        gig = ""
        if gig_cell not in _EMPTY:
            try:
                gig = GIG_OCCUPATIONS(gig_cell)
            except CellError as exc:
                problems.append(f"「{header('gig_occupation')}」{exc}")
        form = _GIG if gig else _STANDARD
        if form_cell not in _EMPTY:
            try:
                form = EMPLOYMENT_FORMS(form_cell)
            except CellError as exc:
                problems.append(f"「{header('employment_form')}」{exc}")
        if form == _GIG and not gig:
            gig = _OTHER_GIG
        if form == _STANDARD and gig:
            problems.append(f"「{header('gig_occupation')}」只有新就业形态劳动者填写此列")

        occupation = cached_text(occupation_cell) if occupation_cell not in _EMPTY else ""
        if len(occupation) > OCCUPATION_MAX:
            problems.append(f"「{header('occupation')}」超过 {OCCUPATION_MAX} 个字")
        employer_name = cached_text(employer_cell) if employer_cell not in _EMPTY else ""
        if len(employer_name) > EMPLOYER_NAME_MAX:
            problems.append(f"「{header('employer_name')}」超过 {EMPLOYER_NAME_MAX} 个字")
        employer_uscc = ""
        if self._has_uscc and uscc_cell not in _EMPTY:
            employer_uscc = normalise.compact(uscc_cell)
            if employer_uscc and len(employer_uscc) != 18:
                problems.append(f"「{header('employer_uscc')}」统一社会信用代码应为 18 位")

        union: UnionTarget | None = None
        try:
            union = self._union_of(union_cell)
        except CellError as exc:
            problems.append(f"「{header('union')}」{exc}")

        join_date: datetime.date | None = None
        try:
            join_date = self._date(join_cell)
        except CellError as exc:
            problems.append(f"「{header('join_date')}」{exc}")
        else:
            if join_date is None:
                join_date = self.today
            elif join_date > self.today:
                problems.append(f"「{header('join_date')}」不能晚于今天")
            elif birth is not None and join_date < birth:
                problems.append(f"「{header('join_date')}」早于出生日期")

        if status_cell not in _EMPTY and cached_text(status_cell) not in _ACTIVE_SPELLINGS:
            problems.append(
                f"「{header('status')}」名册只能登记在会会员；退会、保留会籍等请在会员页面办理"
            )

        if problems:
            return RowProblem(row_no, problems, raw)
        assert union is not None and join_date is not None
        id_number_enc = self._seal_id(number)
        id_hash = self._id_hash(number)
        id_masked = mask_id_number(number)
        phone_enc = self._seal_phone(phone)
        phone_hash = self._phone_hash(phone)
        phone_masked = mask_phone(phone)
        union_id = union.id
        union_path = union.path
        values = [
            name,
            id_type,
            id_number_enc,
            id_hash,
            id_masked,
            sex,
            birth,
            phone_enc,
            phone_hash,
            phone_masked,
            ethnic,
            education,
            household,
            form,
            gig,
            occupation,
            employer_name,
            union_id,
            union_path,
            join_date,
        ]
        line = ""
        if self.copy_lines:
            # ``copy_line(values)`` in one join, knowing which values are not text. Text needs
            # escaping only if it holds a backslash, tab, newline or carriage return: the line
            # without escaping is kept only when it shows none beyond its own (19 tabs, two
            # backslashes before the x of each ciphertext, one in the \N of a missing birth
            # date); else ``copy_line`` makes it.
            try:
                line = "\t".join(
                    (
                        name,
                        id_type,
                        "\\\\x" + id_number_enc.hex(),
                        id_hash,
                        id_masked,
                        sex,
                        "\\N" if birth is None else birth.isoformat(),
                        "\\\\x" + phone_enc.hex(),
                        phone_hash,
                        phone_masked,
                        ethnic,
                        education,
                        household,
                        form,
                        gig,
                        occupation,
                        employer_name,
                        str(union_id) if type(union_id) is int else _copy_value(union_id),
                        union_path,
                        join_date.isoformat(),
                    )
                )
            except TypeError:  # a value that is not text after all
                line = copy_line(values)
            else:
                if (
                    line.count("\\") != (5 if birth is None else 4)
                    or line.count("\t") != _TABS
                    or "\n" in line
                    or "\r" in line
                ):
                    line = copy_line(values)
        return CheckedRow(row_no, values, employer_uscc, employer_name, raw, line)

    def _find_union(self, value: Any) -> UnionTarget:
        """The union a cell names (``CellError`` if none): a pure function of the cell, for
        ``CellCache``."""
        spelled = normalise.text(value) if value not in _EMPTY else ""
        if not spelled:
            if self.default_union is None:
                raise CellError("未填写（本次导入的工会下有多个基层工会，须逐行注明）")
            return self.default_union
        if len(spelled) == 18:
            found_code = self.unions_by_code.get(spelled.upper())
            if found_code is not None:
                return found_code
        found = self.unions_by_name.get(union_key(spelled))
        if not found:
            raise CellError(f"“{spelled}”不是本次导入范围内可接收会员的工会")
        if len(found) > 1:
            raise CellError(f"“{spelled}”在导入范围内有同名工会，请改填工会的统一社会信用代码")
        return found[0]


_TABS = len(STAGED_FIELDS) - 1
_UNPICKLED = (
    "_cells",
    "_id_hash",
    "_phone_hash",
    "_seal_id",
    "_seal_phone",
    "_text",
    "_date",
    "_union_of",
)


_DATE = datetime.date


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def copy_line(values: list[Any]) -> str:
    """The staged values as the tail of a line of PostgreSQL COPY text (no newline).

    ``_copy_value`` of each value: the usual types are spelled in the loop, without a call per
    value; any other type (subclasses included) and text that needs escaping go to it."""
    parts: list[str] = []
    append = parts.append
    for value in values:
        kind = type(value)
        if kind is str:
            if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
                value = _copy_value(value)
            append(value)
        elif kind is int:
            append(str(value))
        elif value is None:
            append("\\N")
        elif kind is bytes:
            append("\\\\x" + value.hex())
        elif kind is _DATE:
            append(value.isoformat())
        else:
            append(_copy_value(value))
    return "\t".join(parts)


def union_key(name: str) -> str:
    return normalise.text(name).replace(" ", "")
