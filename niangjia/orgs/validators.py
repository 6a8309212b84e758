"""Checks of the codes used in the organisation registry, with Chinese messages."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

_REGION_CODE_RE = re.compile(r"^\d{6}(\d{3})?$")


def normalize_uscc(value: str) -> str:
    return "".join(value.split()).upper()


def validate_uscc(value: str) -> None:
    """GB 32100: 18 characters and the check character must match."""
    code = normalize_uscc(value)
    try:
        stdnum_uscc.validate(code)
    except InvalidLength as exc:
        raise ValidationError(
            "统一社会信用代码应为 18 位，当前为 %(n)s 位",
            code="uscc_length",
            params={"n": len(code)},
        ) from exc
    except InvalidFormat as exc:
        raise ValidationError(
            "统一社会信用代码含有不允许的字符（不得使用 I、O、Z、S、V）", code="uscc_format"
        ) from exc
    except InvalidChecksum as exc:
        raise ValidationError(
            "统一社会信用代码校验位不正确（第 18 位应为 %(c)s）",
            code="uscc_checksum",
            params={"c": stdnum_uscc.calc_check_digit(code[:17])},
        ) from exc
    except InvalidComponent as exc:
        raise ValidationError(
            "统一社会信用代码的登记管理部门或机构类别代码无效", code="uscc_component"
        ) from exc


def validate_union_uscc(value: str) -> None:
    validate_uscc(value)
    if not normalize_uscc(value).startswith("81"):
        raise ValidationError("工会的统一社会信用代码应以 81 开头", code="union_uscc_prefix")


def validate_region_code(value: str) -> None:
    if not _REGION_CODE_RE.match(value):
        raise ValidationError("行政区划代码应为 6 位或 9 位数字", code="region_code")
