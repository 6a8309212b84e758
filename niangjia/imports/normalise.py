"""Cleaning spreadsheet cells before they are checked: the hot path of a million-row import.

Every function takes a raw cell (as the reader returns it: str, int, float, bool, date,
datetime or None) and returns the cleaned value, raising ``CellError`` with a Chinese reason
(without the column name: the caller names the column). The common case — a plain ASCII or
already-clean string — is handled before any costly step (NFKC only for non-ASCII text).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable
from typing import Any


class CellError(ValueError):
    """A cell that cannot be used as it is; the message is Chinese, for the person who typed it."""


_SPACES = re.compile(r"\s+")
_NAME_SEPARATORS = str.maketrans({"．": "·", ".": "·", "•": "·", "‧": "·", "・": "·"})


def text(value: Any) -> str:
    """A cell as clean text: half-width (NFKC), no stray spaces, runs of spaces as one."""
    if value is None:
        return ""
    if isinstance(value, str):
        if not value.isascii():
            value = unicodedata.normalize("NFKC", value)
        value = value.strip()
        if value.startswith("'"):
            # Typed before a number to keep it as text in Excel, or added by a spreadsheet
            # export's formula guard: never part of the value.
            value = value[1:].lstrip()
        if "  " in value or "\t" in value or "\n" in value or "\r" in value:
            value = _SPACES.sub(" ", value)
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else str(value)
    return str(value)


def person_name(value: Any) -> str:
    """A person's name: Chinese names lose every space (张 三 → 张三); the middle dot of
    ethnic-minority and foreign names is unified (·)."""
    name = text(value)
    if not name:
        return ""
    if not name.isascii():
        name = name.translate(_NAME_SEPARATORS)
        if " " in name and all(not ch.isascii() or ch == " " for ch in name):
            name = name.replace(" ", "")
    return name


def compact(value: Any) -> str:
    """Text with every space and dash removed, upper case: codes and numbers typed by hand."""
    cleaned = text(value)
    if " " in cleaned or "-" in cleaned:
        cleaned = cleaned.replace(" ", "").replace("-", "")
    return cleaned.upper()


# --- ID numbers -----------------------------------------------------------------------------

_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$")
LOST_DIGITS = (
    "身份证号码被 Excel 存成了数字（显示为科学计数法），后几位已经丢失，无法恢复；"
    "请把该列设为“文本”格式后重新填写这一行"
)


def ric_check(first17: str) -> str:
    total = 0
    for weight, digit in zip(_RIC_WEIGHTS, first17, strict=True):
        total += weight * (ord(digit) - 48)
    return _RIC_CHECK[total % 11]


def id_number_text(value: Any) -> str:
    """The ID number as text, or ``CellError`` when Excel has stored it as a number.

    An 18-digit number cannot survive as a spreadsheet number (15 significant digits): a
    number cell of 16 digits or more, or any text in scientific notation, lost digits. A
    15-digit first-generation number fits exactly, and is kept.
    """
    if isinstance(value, bool):
        raise CellError("证件号码不能是“是/否”")
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            raise CellError(LOST_DIGITS)
        digits = str(int(value))
        if len(digits) == 15:
            return digits
        raise CellError(LOST_DIGITS)
    number = compact(value)
    if "E" in number and _SCIENTIFIC.match(number):
        raise CellError(LOST_DIGITS)
    return number


def resident_id(
    number: str, *, today: datetime.date, permit_prefixes: tuple[str, ...] = ()
) -> tuple[str, str, datetime.date]:
    """A checked 18-character resident ID (15-digit numbers converted), its sex and birth date.

    With ``permit_prefixes`` the number is a Hong Kong/Macau/Taiwan residence permit: same
    layout and check character, and it must start with one of the prefixes."""
    if len(number) == 15 and number.isdigit():
        body = number[:6] + "19" + number[6:]
        number = body + ric_check(body)
    if len(number) != 18:
        raise CellError(f"身份证号码应为 18 位（旧版 15 位也可），当前为 {len(number)} 位")
    first17 = number[:17]
    if not first17.isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise CellError("身份证号码前 17 位应为数字，最后一位为数字或 X")
    expected = ric_check(first17)
    if number[17] != expected:
        raise CellError(f"身份证号码校验位不正确（最后一位应为 {expected}），请核对是否抄错")
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise CellError("身份证号码中的出生日期无效") from None
    if birth > today or birth.year < 1900:
        raise CellError("身份证号码中的出生日期无效")
    if permit_prefixes:
        if not number.startswith(permit_prefixes):
            raise CellError(f"居住证号码应以 {' 或 '.join(permit_prefixes)} 开头")
    elif number.startswith(("81", "82", "83")):
        raise CellError("这是港澳台居民居住证号码，请在“证件类型”列注明")
    sex = "M" if (ord(number[16]) - 48) % 2 else "F"
    return number, sex, birth


# --- Phones ---------------------------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def mobile_phone(value: Any) -> str:
    """A mainland mobile number: 11 digits; +86 / 0086 / 86, spaces and dashes dropped."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        phone = str(int(value))
    else:
        phone = compact(value)
        if phone.startswith("+"):
            phone = phone[1:]
        if phone.startswith("0086"):
            phone = phone[4:]
        elif phone.startswith("86") and len(phone) == 13:
            phone = phone[2:]
        if "(" in phone or ")" in phone:
            phone = phone.replace("(", "").replace(")", "")
    if not phone:
        raise CellError("未填写")
    if not _MOBILE.match(phone):
        raise CellError("应为 11 位、以 1 开头的中国大陆手机号码")
    return phone


# --- Dates ----------------------------------------------------------------------------------

_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_DATE_PARTS = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH_ONLY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")


def date(value: Any) -> datetime.date | None:
    """A date from a date cell, an Excel serial number or the common spellings:
    2024/1/5, 2024-01-05, 2024.1.5, 20240105, 2024年1月5日 (a month alone means its first day).
    Empty gives None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        serial = float(value)
        if 20_000_000 <= serial <= 21_001_231 and serial.is_integer():
            return date(str(int(serial)))
        if not 1 <= serial < 2_958_466:
            raise CellError("不是有效的日期")
        # Excel's day 60 is the 29 February 1900 that never was; serials after it are right.
        return _EXCEL_EPOCH + datetime.timedelta(days=int(serial))
    spelled = text(value)
    if not spelled:
        return None
    match = _DATE_PARTS.match(spelled) or _DATE_COMPACT.match(spelled)
    day = 1
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        month_match = _MONTH_ONLY.match(spelled)
        if not month_match:
            raise CellError("日期格式无法识别，请写成 2024-01-05 或 2024年1月5日")
        year, month = (int(part) for part in month_match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise CellError(f"“{spelled}”不是存在的日期") from None


# --- Coded values ---------------------------------------------------------------------------


def _key(label: str) -> str:
    return re.sub(r"[\s（）()、/／·]", "", unicodedata.normalize("NFKC", label)).lower()


class Codes:
    """The accepted spellings of a coded column: the label, the code and listed synonyms."""

    def __init__(
        self, choices: Iterable[tuple[str, str]], synonyms: dict[str, str] | None = None
    ) -> None:
        self.labels: dict[str, str] = {}
        self._lookup: dict[str, str] = {}
        for code, label in choices:
            self.labels[code] = label
            self._lookup[_key(label)] = code
            self._lookup[_key(code)] = code
            # "A 农、林、牧、渔业" is also accepted as "A" and as the name without its letter.
            if " " in label:
                self._lookup[_key(label.split(" ", 1)[1])] = code
        for spelling, code in (synonyms or {}).items():
            self._lookup[_key(spelling)] = code
        self._cache: dict[str, str | None] = {}

    def __call__(self, value: Any) -> str:
        spelled = value if isinstance(value, str) else text(value)
        try:
            found = self._cache[spelled]
        except KeyError:
            found = self._lookup.get(_key(spelled))
            if len(self._cache) < 10_000:
                self._cache[spelled] = found
        if found is None:
            examples = "、".join(list(self.labels.values())[:6])
            raise CellError(f"“{text(value)}”不是可选的值（可填：{examples} 等）")
        return found
