"""Identity documents and phone numbers: normalised, checked, with Chinese messages."""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from stdnum.cn import ric

from niangjia.members.choices import IdType, Sex

_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,17}$")
_PERMIT_PREFIX = {IdType.HK_MACAU_PERMIT: ("810000", "820000"), IdType.TAIWAN_PERMIT: ("830000",)}


@dataclass(frozen=True)
class Identity:
    id_type: str
    number: str
    sex: str | None
    birth_date: datetime.date | None


def _squash(value: str) -> str:
    # Full-width digits and letters, stray spaces and dashes are common in typed numbers.
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value)).upper()


def ric_check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits. (stdnum's ``calc_check_digit``
    takes the whole number, check character included, and ignores its last character.)"""
    return ric.calc_check_digit(first17 + "0")


def convert_legacy_ric(number: str) -> str:
    """A 15-digit first-generation ID number as its 18-digit form (born 19xx, check digit)."""
    body = number[:6] + "19" + number[6:]
    return body + ric_check_digit(body)


def parse_id(id_type: str, raw: str) -> Identity:
    number = _squash(raw or "")
    if not number:
        raise ValidationError({"id_number": "请填写证件号码"})
    if id_type == IdType.PASSPORT:
        if not _PASSPORT_RE.match(number):
            raise ValidationError({"id_number": "护照号码应为 5 至 17 位字母或数字"})
        return Identity(id_type, number, None, None)
    if id_type == IdType.RESIDENT and len(number) == 15 and number.isdigit():
        number = convert_legacy_ric(number)
    if len(number) != 18:
        raise ValidationError(
            {"id_number": f"身份证号码应为 18 位（旧版 15 位也可），当前为 {len(number)} 位"}
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError({"id_number": "身份证号码前 17 位应为数字，最后一位为数字或 X"})
    expected = ric_check_digit(number[:17])
    if number[17] != expected:
        raise ValidationError(
            {"id_number": f"身份证号码校验位不正确（最后一位应为 {expected}），请核对是否抄错"}
        )
    try:
        birth = ric.get_birth_date(number)
    except Exception as exc:
        raise ValidationError({"id_number": "身份证号码中的出生日期无效"}) from exc
    if birth > datetime.date.today() or birth.year < 1900:
        raise ValidationError({"id_number": "身份证号码中的出生日期无效"})
    prefixes = _PERMIT_PREFIX.get(id_type)
    if prefixes and not number.startswith(prefixes):
        raise ValidationError(
            {"id_number": f"{IdType(id_type).label}号码应以 {' 或 '.join(prefixes)} 开头"}
        )
    if id_type == IdType.RESIDENT and number.startswith(("81", "82", "83")):
        raise ValidationError({"id_number": "这是港澳台居民居住证号码，请选择对应的证件类型"})
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return Identity(id_type, number, sex, birth)


def normalize_phone(raw: str) -> str:
    phone = _squash(raw or "")
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :]
    if phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    if not phone:
        raise ValidationError({"phone": "请填写手机号码"})
    if not _PHONE_RE.match(phone):
        raise ValidationError({"phone": "手机号码应为 11 位、以 1 开头的中国大陆手机号"})
    return phone
