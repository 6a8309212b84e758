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
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class CellError(ValueError):
    """A cell that cannot be used as it is; the message is Chinese, for the person who typed it."""


_SPACES = re.compile(r"\s+")
# A tuple, not ``int | float``: that union would be built anew at every call.
_NUMBERS = (int, float)
_NAME_SEPARATORS = str.maketrans({"．": "·", ".": "·", "•": "·", "‧": "·", "・": "·"})
_ANY_NAME_SEPARATOR = re.compile("[．.•‧・]")


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
        if _ANY_NAME_SEPARATOR.search(name):  # translate costs more than the search
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
# Birth dates by their eight digits: a million numbers hold a few tens of thousands of days.
_BIRTHS: dict[str, datetime.date] = {}
LOST_DIGITS = (
    "身份证号码被 Excel 存成了数字（显示为科学计数法），后几位已经丢失，无法恢复；"
    "请把该列设为“文本”格式后重新填写这一行"
)


def ric_check(first17: str) -> str:
    """The check character of GB 11643 for the first 17 digits.

    The weights are 2^17 … 2^1 modulo 11, and 13 ≡ 2 (mod 11): the weighted sum is congruent
    to twice the digits read as a base-13 number, which ``int`` computes in C (an eighth of
    the time of the loop below, which stays for anything but 17 ASCII digits)."""
    if len(first17) == 17 and first17.isascii() and first17.isdigit():
        return _RIC_CHECK[2 * int(first17, 13) % 11]
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
    if type(value) is str and value.isascii() and value.isalnum():
        number = value.upper()  # what ``compact`` gives for it, without its steps
    elif isinstance(value, bool):
        raise CellError("证件号码不能是“是/否”")
    elif isinstance(value, _NUMBERS):
        if isinstance(value, float) and not value.is_integer():
            raise CellError(LOST_DIGITS)
        digits = str(int(value))
        if len(digits) == 15:
            return digits
        raise CellError(LOST_DIGITS)
    else:
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
    # ``ric_check``'s arithmetic, without the call, for the usual ASCII digits.
    expected = _RIC_CHECK[2 * int(first17, 13) % 11] if first17.isascii() else ric_check(first17)
    if number[17] != expected:
        raise CellError(f"身份证号码校验位不正确（最后一位应为 {expected}），请核对是否抄错")
    digits = number[6:14]
    birth = _BIRTHS.get(digits)
    if birth is None:
        try:
            birth = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            raise CellError("身份证号码中的出生日期无效") from None
        if len(_BIRTHS) >= 100_000:
            _BIRTHS.clear()
        _BIRTHS[digits] = birth
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
    if type(value) is str and value.isascii() and value.isdigit() and value[:1] == "1":
        phone = value  # as typed: ``compact`` and the prefixes below leave it so
    elif isinstance(value, _NUMBERS) and not isinstance(value, bool):
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

_EXCEL_EPOCH_ORDINAL = datetime.date(1899, 12, 30).toordinal()
_DATE_PARTS = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH_ONLY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")


def date(value: Any) -> datetime.date | None:
    """A date from a date cell, an Excel serial number or the common spellings:
    2024/1/5, 2024-01-05, 2024.1.5, 20240105, 2024年1月5日 (a month alone means its first day).
    Empty gives None."""
    if type(value) is str:  # the common case first: the checks below are all false for it
        return _spelled_date(value) if value else None
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, _NUMBERS) and not isinstance(value, bool):
        serial = float(value)
        if 20_000_000 <= serial <= 21_001_231 and serial.is_integer():
            return date(str(int(serial)))
        if not 1 <= serial < 2_958_466:
            raise CellError("不是有效的日期")
        # Excel's day 60 is the 29 February 1900 that never was; serials after it are right.
        return datetime.date.fromordinal(_EXCEL_EPOCH_ORDINAL + int(serial))
    return _spelled_date(value)


def _spelled_date(value: Any) -> datetime.date | None:
    spelled = text(value)
    if not spelled:
        return None
    match = _DATE_PARTS.match(spelled) or _DATE_COMPACT.match(spelled)
    day = 1
    if match:
        year, month, day = map(int, match.groups())
    else:
        month_match = _MONTH_ONLY.match(spelled)
        if not month_match:
            raise CellError("日期格式无法识别，请写成 2024-01-05 或 2024年1月5日")
        year, month = map(int, month_match.groups())
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


# --- Remembered results -----------------------------------------------------------------------

_UNSEEN = object()


class _Refusal:
    """A remembered ``CellError``: its arguments, raised afresh each time (an exception
    instance raised again would grow its traceback)."""

    __slots__ = ("args",)

    def __init__(self, args: tuple[Any, ...]) -> None:
        self.args = args


class CellCache(Generic[T]):
    """``clean`` remembered by cell, for columns whose values repeat over a big file (join
    dates, unions, employers: a million rows hold a few thousand of each).

    ``clean`` must depend on the cell alone and give equal cells equal results: a refusal
    (``CellError``) is remembered too and raised again with the same message. Only text and
    float cells are remembered (1, 1.0 and True are one dict key, and give different results);
    other cells are cleaned every time. At ``limit`` entries it starts afresh, so that memory
    stays flat whatever the file.
    """

    __slots__ = ("_clean", "_found", "_limit")

    def __init__(self, clean: Callable[[Any], T], *, limit: int = 50_000) -> None:
        self._clean = clean
        self._found: dict[Any, Any] = {}
        self._limit = limit

    def __len__(self) -> int:
        return len(self._found)

    def __call__(self, value: Any) -> T:
        kind = type(value)
        if kind is not str and kind is not float:
            return self._clean(value)
        found = self._found.get(value, _UNSEEN)
        if found is _UNSEEN:
            try:
                found = self._clean(value)
            except CellError as exc:
                found = _Refusal(exc.args)
            if len(self._found) >= self._limit:
                self._found.clear()
            self._found[value] = found
        if type(found) is _Refusal:
            raise CellError(*found.args)
        return found  # type: ignore[no-any-return]
