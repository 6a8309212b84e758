"""The columns of a roster and how a file's header row is recognised.

A ``Column`` describes one import field: its key (the name the importer uses), the label the
template prints, other headers people write for it, whether it must be present, the coded
values it takes (from the registry's own choices) and a note and example for the template's
instructions sheet.

``detect_header`` finds the header row among the first rows of a sheet (title rows, blank
rows and merged title cells above it are common) and proposes which column holds which field;
the cadre confirms or corrects the proposal, then ``row_extractor`` turns each row into a dict
of raw values for the confirmed mapping.

Headers are compared after normalising both sides: NFKC (full-width letters and brackets
become half-width), case folded, spaces, punctuation and asterisks dropped; "身份证号码（必填）"
is compared first with its bracketed note, then without it. An exact match of the label or a
synonym beats a header that merely contains one (the longest contained name wins).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import Any

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
from niangjia.orgs.choices import EmployerStatus, IndustrySection, OwnershipType

# How many rows from the top of a sheet are searched for the header.
HEADER_SCAN_ROWS = 30


class ColumnKind(enum.StrEnum):
    TEXT = "text"
    CODE = "code"  # digits and letters typed as text: ID numbers, phones, credit codes
    CHOICE = "choice"
    DATE = "date"
    INTEGER = "integer"


@dataclass(frozen=True)
class Column:
    """One field of a roster. ``choices`` are (code, label) pairs as in the registry's
    ``TextChoices``; ``exact`` are synonyms too generic to be recognised inside a longer header
    (a header "工会" is the union, a header "工会会员证号" is not)."""

    key: str
    label: str
    synonyms: tuple[str, ...] = ()
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    note: str = ""
    example: str = ""
    kind: ColumnKind = ColumnKind.TEXT
    exact: tuple[str, ...] = ()
    width: int = 14

    @property
    def header(self) -> str:
        """The template's header: required columns are marked with an asterisk."""
        return f"*{self.label}" if self.required else self.label

    @property
    def labels(self) -> list[str]:
        return [label for _code, label in self.choices]

    @cached_property
    def codes_by_label(self) -> dict[str, str]:
        return {label: code for code, label in self.choices}

    @property
    def names(self) -> tuple[str, ...]:
        """Every header recognised for this column."""
        return (self.label, *self.synonyms, *self.exact)


def _choices(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(code), str(label)) for code, label in pairs)


MEMBER_COLUMNS: tuple[Column, ...] = (
    Column(
        key="name",
        label="姓名",
        synonyms=("会员姓名", "职工姓名", "姓名全称"),
        exact=("名字",),
        required=True,
        note="与身份证件上的姓名一致；少数民族和外国人姓名中的间隔点写作“·”。",
        example="张三",
        width=10,
    ),
    Column(
        key="id_type",
        label="证件类型",
        synonyms=("证件种类", "身份证件类型", "证件名称"),
        choices=_choices(IdType.choices),
        note="不填时为居民身份证；港澳台居民填居住证，外籍人员填护照。",
        example=IdType.RESIDENT.label,
        kind=ColumnKind.CHOICE,
        width=14,
    ),
    Column(
        key="id_number",
        label="身份证号码",
        synonyms=(
            "身份证号",
            "公民身份号码",
            "公民身份证号码",
            "居民身份证号码",
            "身份证件号码",
            "证件号码",
            "证件号",
            "身份号码",
            "身份证号码18位",
        ),
        exact=("身份证", "证件"),
        required=True,
        note=(
            "18 位，最后一位可以是 X（旧版 15 位号码也可）。本列已设为“文本”格式，请勿改为数字，"
            "否则 Excel 会把号码显示为科学计数法并丢失最后几位。"
        ),
        example="11010519491231002X",
        kind=ColumnKind.CODE,
        width=22,
    ),
    Column(
        key="phone",
        label="手机号码",
        synonyms=("手机号", "手机", "联系电话", "移动电话", "手机号码11位", "电话号码"),
        exact=("电话", "联系方式"),
        required=True,
        note="11 位中国大陆手机号码。",
        example="13800138000",
        kind=ColumnKind.CODE,
        width=15,
    ),
    Column(
        key="sex",
        label="性别",
        choices=_choices(Sex.choices),
        note="可不填：按身份证号码自动判断；填写时须与号码一致。",
        example=Sex.MALE.label,
        kind=ColumnKind.CHOICE,
        width=8,
    ),
    Column(
        key="ethnic_group",
        label="民族",
        synonyms=("民族名称",),
        choices=_choices(ETHNIC_GROUPS),
        note="按《中国各民族名称的罗马字母拼写法和代码》（GB/T 3304）填写民族全称；不填时记为汉族。",
        example="汉族",
        kind=ColumnKind.CHOICE,
        width=10,
    ),
    Column(
        key="education",
        label="学历",
        synonyms=("文化程度", "最高学历"),
        choices=_choices(Education.choices),
        note="最高学历。",
        example=Education.BACHELOR.label,
        kind=ColumnKind.CHOICE,
        width=14,
    ),
    Column(
        key="household",
        label="户籍类型",
        synonyms=("户口性质", "户籍性质", "户口类型", "户口类别"),
        exact=("户籍", "户口"),
        choices=_choices(Household.choices),
        note="农村户籍的职工计为农民工；不填时记为城镇户籍。",
        example=Household.URBAN.label,
        kind=ColumnKind.CHOICE,
        width=12,
    ),
    Column(
        key="employment_form",
        label="就业形态",
        synonyms=("用工形式", "就业类型", "用工类型", "就业方式"),
        choices=_choices(EmploymentForm.choices),
        note="快递员、外卖配送员、网约车司机、货车司机等选“新就业形态”；不填时为标准劳动关系。",
        example=EmploymentForm.STANDARD.label,
        kind=ColumnKind.CHOICE,
        width=14,
    ),
    Column(
        key="gig_occupation",
        label="新就业形态职业",
        synonyms=("新业态职业", "新就业形态类型", "新就业形态劳动者类别", "新业态类别"),
        choices=_choices(GigOccupation.choices),
        note="只有新就业形态劳动者填写。",
        example="",
        kind=ColumnKind.CHOICE,
        width=16,
    ),
    Column(
        key="occupation",
        label="职业/岗位",
        synonyms=("职业", "岗位", "工作岗位", "工种", "岗位名称"),
        exact=("职务",),
        note="最多 50 个字。",
        example="仓储管理员",
        width=14,
    ),
    Column(
        key="employer_name",
        label="工作单位",
        synonyms=("工作单位名称", "单位名称", "所在单位", "用人单位", "就职单位", "企业名称"),
        exact=("单位",),
        note="单位全称；单位已在本系统登记时按名称对应，未登记的照录名称。",
        example="武汉大智物流有限公司",
        width=28,
    ),
    Column(
        key="employer_uscc",
        label="工作单位统一社会信用代码",
        synonyms=(
            "单位统一社会信用代码",
            "统一社会信用代码",
            "社会信用代码",
            "信用代码",
            "单位信用代码",
        ),
        note="18 位；填写时按代码对应已登记的单位（须在本工会范围内）。",
        example="",
        kind=ColumnKind.CODE,
        width=22,
    ),
    Column(
        key="union",
        label="所在工会",
        synonyms=("所属工会", "所在基层工会", "基层工会名称", "工会名称", "会籍所在工会"),
        exact=("工会", "基层工会"),
        note=(
            "工会全称，或工会的统一社会信用代码（81 开头的 18 位代码）；不填时归入导入时选定的工会。"
            "有同名工会时请填代码。"
        ),
        example="武汉大智物流有限公司工会委员会",
        width=28,
    ),
    Column(
        key="join_date",
        label="入会日期",
        synonyms=("入会时间", "加入工会日期", "入会年月"),
        note="如 2024-05-01；也可写 2024年5月1日、2024/5/1。不填时为导入当日。",
        example="2024-05-01",
        kind=ColumnKind.DATE,
        width=12,
    ),
    Column(
        key="status",
        label="会员状态",
        synonyms=("会籍状态",),
        choices=((MemberStatus.ACTIVE.value, MemberStatus.ACTIVE.label),),
        note="可不填。名册只能登记在会会员；退会、保留会籍等请在会员页面办理。",
        example=MemberStatus.ACTIVE.label,
        kind=ColumnKind.CHOICE,
        width=10,
    ),
)

EMPLOYER_COLUMNS: tuple[Column, ...] = (
    Column(
        key="name",
        label="单位名称",
        synonyms=("用人单位名称", "企业名称", "单位全称", "用人单位", "企业全称"),
        exact=("单位", "企业", "名称"),
        required=True,
        note="与营业执照或登记证书上的名称一致。",
        example="武汉大智物流有限公司",
        width=30,
    ),
    Column(
        key="uscc",
        label="统一社会信用代码",
        synonyms=("社会信用代码", "信用代码", "单位统一社会信用代码", "纳税人识别号"),
        required=True,
        note="18 位，见营业执照；本列已设为“文本”格式。用于识别同一单位：已登记的单位按代码更新。",
        example="91420102MA4K0000X1",
        kind=ColumnKind.CODE,
        width=22,
    ),
    Column(
        key="region",
        label="所在行政区划",
        synonyms=(
            "行政区划",
            "行政区划代码",
            "区划代码",
            "所在地区",
            "所属地区",
            "所在区县",
            "所属区县",
            "注册地",
        ),
        exact=("区县", "所在地"),
        required=True,
        note="6 位行政区划代码（如 420102），或县级行政区的全称（如 湖北省武汉市江岸区）。",
        example="420102",
        kind=ColumnKind.CODE,
        width=16,
    ),
    Column(
        key="industry_section",
        label="行业",
        synonyms=("行业门类", "所属行业", "行业类别", "行业分类", "国民经济行业"),
        required=True,
        choices=_choices(IndustrySection.choices),
        note="按《国民经济行业分类》（GB/T 4754）门类填写，可只写字母（如 G）或门类名称。",
        example=IndustrySection.G.label,
        kind=ColumnKind.CHOICE,
        width=24,
    ),
    Column(
        key="ownership",
        label="经济类型",
        synonyms=(
            "企业类型",
            "单位类型",
            "经济性质",
            "企业性质",
            "单位性质",
            "登记注册类型",
            "所有制性质",
        ),
        required=True,
        choices=_choices(OwnershipType.choices),
        note="按单位的登记注册类型选择。",
        example=OwnershipType.PRIVATE.label,
        kind=ColumnKind.CHOICE,
        width=16,
    ),
    Column(
        key="headcount",
        label="职工人数",
        synonyms=("从业人数", "员工人数", "职工总数", "在岗职工人数", "用工人数", "从业人员数"),
        exact=("人数",),
        note="整数；不填时为 0。",
        example="120",
        kind=ColumnKind.INTEGER,
        width=10,
    ),
    Column(
        key="status",
        label="单位状态",
        synonyms=("登记状态", "经营状态", "企业状态"),
        exact=("状态",),
        choices=_choices(EmployerStatus.choices),
        note="不填时为存续。",
        example=EmployerStatus.ACTIVE.label,
        kind=ColumnKind.CHOICE,
        width=10,
    ),
    Column(
        key="owner",
        label="管理工会",
        synonyms=("登记工会", "管理单位工会", "所属总工会"),
        note="管理该单位登记信息的工会（一般为所在地的总工会）；不填时为导入时选定的工会。",
        example="",
        width=24,
    ),
    Column(
        key="covering_union",
        label="所属基层工会",
        synonyms=("覆盖工会", "所属工会", "单位工会", "已建工会名称", "基层工会名称", "工会名称"),
        exact=("工会", "基层工会"),
        note=(
            "单位已建会或已加入联合工会时，填写该基层工会的全称或统一社会信用代码（81 开头）；"
            "尚未建会的不填。"
        ),
        example="武汉大智物流有限公司工会委员会",
        width=28,
    ),
)

COLUMN_SETS: dict[str, tuple[Column, ...]] = {
    "members": MEMBER_COLUMNS,
    "employers": EMPLOYER_COLUMNS,
}


def columns_by_key(columns: Sequence[Column]) -> dict[str, Column]:
    return {column.key: column for column in columns}


# --- Normalising header text ---------------------------------------------------------------

_BRACKETED = re.compile(r"[(\[{【〔《<（［｛][^)\]}】〕》>）］｝]*[)\]}】〕》>）］｝]")
_NOISE = re.compile(r"[\W_]+")


def _cell_label(value: Any) -> str:
    if isinstance(value, str):
        return value
    return ""


def normalize_label(text: str, *, keep_notes: bool = False) -> str:
    """A header as compared: half-width, case folded, without spaces, punctuation or
    asterisks; without its bracketed notes unless ``keep_notes``."""
    text = unicodedata.normalize("NFKC", text)
    if not keep_notes:
        text = _BRACKETED.sub("", text)
    return _NOISE.sub("", text).casefold()


@dataclass(frozen=True)
class _Match:
    key: str
    score: int  # 3: exact with notes, 2: exact without notes, 1: contains a name
    length: int  # length of the matched name (longer: more specific)


class _Matcher:
    def __init__(self, columns: tuple[Column, ...]) -> None:
        self.exact: dict[str, str] = {}
        self.contained: list[tuple[str, str]] = []
        for column in columns:
            for name in column.names:
                normal = normalize_label(name, keep_notes=True)
                other = self.exact.setdefault(normal, column.key)
                if other != column.key:
                    raise ValueError(f"header {name!r} is claimed by both {other} and {column.key}")
            for name in (column.label, *column.synonyms):
                normal = normalize_label(name, keep_notes=True)
                if len(normal) >= 2:
                    self.contained.append((normal, column.key))
        # Longest names first: the first one found inside a header is the most specific.
        self.contained.sort(key=lambda item: -len(item[0]))

    def match(self, value: Any) -> _Match | None:
        text = _cell_label(value)
        if not text or not text.strip():
            return None
        full = normalize_label(text, keep_notes=True)
        if not full:
            return None
        key = self.exact.get(full)
        if key is not None:
            return _Match(key, 3, len(full))
        bare = normalize_label(text) or full
        key = self.exact.get(bare)
        if key is not None:
            return _Match(key, 2, len(bare))
        found: _Match | None = None
        for name, key in self.contained:
            if found is not None and len(name) < found.length:
                break
            if name in bare:
                if found is not None and found.key != key:
                    return None  # two fields' names of the same length: ambiguous
                found = _Match(key, 1, len(name))
        return found


@lru_cache(maxsize=8)
def _matcher(columns: tuple[Column, ...]) -> _Matcher:
    return _Matcher(columns)


def match_header(value: Any, columns: Sequence[Column]) -> str | None:
    """The key of the column a single header cell names, or None."""
    found = _matcher(tuple(columns)).match(value)
    return found.key if found else None


# --- Header detection ----------------------------------------------------------------------


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def header_text(value: Any) -> str:
    """A header cell as shown to people: text, numbers without a trailing .0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


@dataclass(frozen=True)
class Duplicate:
    """Several columns name the same field: ``kept`` is used, ``dropped`` ignored."""

    key: str
    kept: int
    dropped: tuple[int, ...]


@dataclass(frozen=True)
class HeaderGuess:
    """The proposed header of a sheet.

    ``row`` is the header's index in the rows given (0-based; None when no row has any
    recognised header), ``mapping`` column index → field key, ``unmapped`` the other non-empty
    header cells (index → text; kept in the file, not imported), ``missing`` the keys of
    required fields without a column, ``duplicates`` fields named by more than one column.
    """

    row: int | None
    mapping: dict[int, str]
    unmapped: dict[int, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()
    headers: tuple[str, ...] = ()

    @property
    def row_number(self) -> int | None:
        """The header's row number as the spreadsheet shows it (1-based)."""
        return None if self.row is None else self.row + 1

    @property
    def ok(self) -> bool:
        return self.row is not None and not self.missing

    def describe(self, index: int) -> str:
        text = self.headers[index] if index < len(self.headers) else ""
        return f"{column_letter(index)} 列“{text}”" if text else f"{column_letter(index)} 列"

    def messages(self, columns: Sequence[Column]) -> list[str]:
        """What the cadre should know about the proposal, in Chinese."""
        labels = {column.key: column.label for column in columns}
        if self.row is None:
            return [
                f"前 {HEADER_SCAN_ROWS} 行中没有找到可识别的表头（如“姓名”“身份证号码”），"
                "请使用导入模板，或检查表头是否填写正确。"
            ]
        out = []
        if self.missing:
            out.append("缺少必填列：" + "、".join(labels[key] for key in self.missing) + "。")
        for duplicate in self.duplicates:
            dropped = "、".join(self.describe(index) for index in duplicate.dropped)
            out.append(
                f"“{labels[duplicate.key]}”对应了多列：使用 {self.describe(duplicate.kept)}，"
                f"忽略 {dropped}。"
            )
        dropped_all = {index for duplicate in self.duplicates for index in duplicate.dropped}
        extra = sorted(index for index in self.unmapped if index not in dropped_all)
        if extra:
            ignored = "、".join(self.describe(index) for index in extra)
            out.append(f"以下列不导入：{ignored}。")
        return out


def detect_header(
    rows: Sequence[Sequence[Any]], columns: Sequence[Column], *, scan: int = HEADER_SCAN_ROWS
) -> HeaderGuess:
    """Find the header among the first ``scan`` rows: the row naming the most distinct fields
    (then the one with the most exact names; then the first), and map its columns."""
    matcher = _matcher(tuple(columns))
    best: tuple[tuple[int, int], int, dict[int, _Match]] | None = None
    for index, row in enumerate(rows[:scan]):
        matches = {}
        for position, cell in enumerate(row):
            found = matcher.match(cell)
            if found is not None:
                matches[position] = found
        if not matches:
            continue
        rank = (len({m.key for m in matches.values()}), sum(m.score for m in matches.values()))
        if best is None or rank > best[0]:
            best = (rank, index, matches)
    required = tuple(column.key for column in columns if column.required)
    if best is None:
        return HeaderGuess(row=None, mapping={}, missing=required)
    _rank, header_index, matches = best
    row = rows[header_index]
    headers = tuple(header_text(cell) for cell in row)

    by_key: dict[str, list[int]] = {}
    for position, found in matches.items():
        by_key.setdefault(found.key, []).append(position)
    mapping: dict[int, str] = {}
    duplicates = []
    order = {column.key: n for n, column in enumerate(columns)}
    for key in sorted(by_key, key=order.__getitem__):
        positions = sorted(by_key[key], key=lambda p: (-matches[p].score, -matches[p].length, p))
        mapping[positions[0]] = key
        if len(positions) > 1:
            duplicates.append(Duplicate(key, positions[0], tuple(sorted(positions[1:]))))
    mapping = dict(sorted(mapping.items()))
    unmapped = {
        position: text for position, text in enumerate(headers) if text and position not in mapping
    }
    found_keys = set(mapping.values())
    return HeaderGuess(
        row=header_index,
        mapping=mapping,
        unmapped=unmapped,
        missing=tuple(key for key in required if key not in found_keys),
        duplicates=tuple(duplicates),
        headers=headers,
    )


# --- Using a confirmed mapping -------------------------------------------------------------


def mapping_problems(
    mapping: Mapping[int | str, str], columns: Sequence[Column], headers: Sequence[str] = ()
) -> list[str]:
    """Why a mapping the cadre confirmed cannot be used (unknown field, a field chosen for two
    columns, a required field without a column); empty when it can."""
    labels = {column.key: column.label for column in columns}
    problems = []
    seen: dict[str, int] = {}
    for raw_index, key in sorted(mapping.items(), key=lambda item: int(item[0])):
        index = int(raw_index)
        where = column_letter(index) + " 列"
        if index < len(headers) and headers[index]:
            where += f"“{headers[index]}”"
        if key not in labels:
            problems.append(f"{where}对应的字段“{key}”不存在。")
            continue
        if key in seen:
            problems.append(
                f"“{labels[key]}”同时对应了 {column_letter(seen[key])} 列和 {where}，只能选一列。"
            )
            continue
        seen[key] = index
    missing = [labels[c.key] for c in columns if c.required and c.key not in seen]
    if missing:
        problems.append("缺少必填列：" + "、".join(missing) + "。")
    return problems


def row_extractor(mapping: Mapping[int | str, str]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A fast function turning a row (list of raw cells) into {field key: raw value} for the
    mapped columns; cells missing from a short row (CSV lines) are ``""``."""
    items = sorted((int(index), key) for index, key in mapping.items())
    if not items:
        return lambda row: {}
    indices = [index for index, _key in items]
    keys = tuple(key for _index, key in items)
    width = indices[-1] + 1
    getter = itemgetter(*indices)
    if len(indices) == 1:
        only = keys[0]
        position = indices[0]

        def extract_one(row: Sequence[Any]) -> dict[str, Any]:
            return {only: row[position] if len(row) > position else ""}

        return extract_one

    def extract(row: Sequence[Any]) -> dict[str, Any]:
        if len(row) < width:
            row = [*row, *([""] * (width - len(row)))]
        return dict(zip(keys, getter(row), strict=True))

    return extract


def apply_mapping(row: Sequence[Any], mapping: Mapping[int | str, str]) -> dict[str, Any]:
    """One row through ``mapping`` (for many rows, build ``row_extractor`` once)."""
    return row_extractor(mapping)(row)
