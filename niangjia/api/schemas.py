"""Pieces every API module shares: input types that never reach the database malformed,
error bodies, references to other objects and offset paging."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import AfterValidator, StringConstraints

MAX_ID = 2**63 - 1
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def _no_bad_characters(value: str, *, allow_newlines: bool) -> str:
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    for char in value:
        if char in allowed:
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError("含有不允许的控制字符")
    return value


def _single_line(value: str) -> str:
    return _no_bad_characters(value, allow_newlines=False)


def _multi_line(value: str) -> str:
    return _no_bad_characters(value, allow_newlines=True)


# A database id: positive and within a 64-bit integer.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# One line of text, surrounding spaces removed.
Text = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_single_line)]
# Free text that may span lines.
LongText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_multi_line)]
REGION_CODE_PATTERN = r"^\d{6}(\d{3})?$"
RegionCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=REGION_CODE_PATTERN),
    Field(description="6 位或 9 位数字的行政区划代码"),
]


class ErrorOut(Schema):
    detail: str


class ErrorItem(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[ErrorItem]


# Error answers every authenticated operation may give; documented on each operation
# (400: a body that is not JSON at all).
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}


def responses(ok: dict[int, Any]) -> dict[int, Any]:
    return {**ok, **ERRORS}


class UnionRef(Schema):
    id: int
    name: str
    level: str


class RegionRef(Schema):
    code: str
    name: str
    level: str


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, title="每页条数")
    offset: int = Field(0, ge=0, le=10**9, title="起始位置")


def offset_page(rows: QuerySet[Any], params: PageParams) -> dict[str, Any]:
    """``count`` rows in all, ``items`` from ``offset``: the body of every paged list."""
    return {
        "count": rows.count(),
        "limit": params.limit,
        "offset": params.offset,
        "items": list(rows[params.offset : params.offset + params.limit]),
    }
