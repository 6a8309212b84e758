"""Reporting periods: month, quarter, calendar year and the statistical year.

The statistical year of the unions' annual return runs from 1 October to 30 September and is
named by the year it ends in: 统计年度 2024 is 1 October 2023 – 30 September 2024.

Flows are stored by month (``YYYY-MM``); every period is a run of whole months, so a figure for
any period is the sum of its months. Codes: ``2024-05`` (month), ``2024Q2`` (quarter), ``2024``
(calendar year), ``2024S`` (statistical year).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import cached_property

from django.core.exceptions import ValidationError
from django.utils import timezone

MONTH = "month"
QUARTER = "quarter"
YEAR = "year"
STAT_YEAR = "stat_year"

KIND_LABELS = {
    MONTH: "月度",
    QUARTER: "季度",
    YEAR: "年度",
    STAT_YEAR: "统计年度",
}

_QUARTER_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}
_CODE = re.compile(r"^(\d{4})(?:-(\d{2})|Q([1-4])|(S))?$")
# Periods far outside these years are typing mistakes, not history.
MIN_YEAR, MAX_YEAR = 1950, 2100


def month_key(day: datetime.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _add_months(year: int, month: int, count: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + count
    return index // 12, index % 12 + 1


@dataclass(frozen=True, order=True)
class Period:
    """A run of whole months: ``first`` and ``last`` are (year, month)."""

    kind: str
    year: int
    number: int = 0  # month 1–12, quarter 1–4; 0 for the years

    def __post_init__(self) -> None:
        if self.kind not in KIND_LABELS:
            raise ValueError(f"unknown period kind {self.kind!r}")

    # --- building

    @classmethod
    def parse(cls, code: str) -> Period:
        """The period of ``code``; ValidationError with a Chinese message on anything else."""
        text = (code or "").strip()
        match = _CODE.match(text)
        if match is None:
            raise ValidationError(
                f"期间“{text[:20]}”格式不正确：月份写 2024-05，季度写 2024Q2，年度写 2024，"
                "统计年度写 2024S"
            )
        year = int(match.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValidationError(f"期间“{text}”的年份应在 {MIN_YEAR} 到 {MAX_YEAR} 之间")
        if match.group(2):
            month = int(match.group(2))
            if not 1 <= month <= 12:
                raise ValidationError(f"期间“{text}”的月份应在 01 到 12 之间")
            return cls(MONTH, year, month)
        if match.group(3):
            return cls(QUARTER, year, int(match.group(3)))
        if match.group(4):
            return cls(STAT_YEAR, year)
        return cls(YEAR, year)

    @classmethod
    def containing(cls, kind: str, day: datetime.date) -> Period:
        if kind == MONTH:
            return cls(MONTH, day.year, day.month)
        if kind == QUARTER:
            return cls(QUARTER, day.year, (day.month - 1) // 3 + 1)
        if kind == YEAR:
            return cls(YEAR, day.year)
        if kind == STAT_YEAR:
            return cls(STAT_YEAR, day.year + 1 if day.month >= 10 else day.year)
        raise ValueError(f"unknown period kind {kind!r}")

    @classmethod
    def current(cls, kind: str) -> Period:
        return cls.containing(kind, timezone.localdate())

    # --- what it covers

    @property
    def first(self) -> tuple[int, int]:
        if self.kind == MONTH:
            return self.year, self.number
        if self.kind == QUARTER:
            return self.year, (self.number - 1) * 3 + 1
        if self.kind == YEAR:
            return self.year, 1
        return self.year - 1, 10

    @property
    def last(self) -> tuple[int, int]:
        length = {MONTH: 1, QUARTER: 3, YEAR: 12, STAT_YEAR: 12}[self.kind]
        return _add_months(*self.first, length - 1)

    @cached_property
    def first_month(self) -> str:
        return "{:04d}-{:02d}".format(*self.first)

    @cached_property
    def last_month(self) -> str:
        return "{:04d}-{:02d}".format(*self.last)

    @cached_property
    def start(self) -> datetime.date:
        return datetime.date(*self.first, 1)

    @cached_property
    def end(self) -> datetime.date:
        year, month = _add_months(*self.last, 1)
        return datetime.date(year, month, 1) - datetime.timedelta(days=1)

    def months(self) -> list[str]:
        year, month = self.first
        keys = []
        for step in range({MONTH: 1, QUARTER: 3, YEAR: 12, STAT_YEAR: 12}[self.kind]):
            y, m = _add_months(year, month, step)
            keys.append(f"{y:04d}-{m:02d}")
        return keys

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end

    def is_current(self) -> bool:
        return self.contains(timezone.localdate())

    def is_future(self) -> bool:
        return self.start > timezone.localdate()

    # --- neighbours

    def shifted(self, count: int) -> Period:
        """The period ``count`` periods of the same kind later (earlier when negative)."""
        if self.kind == MONTH:
            year, month = _add_months(self.year, self.number, count)
            return Period(MONTH, year, month)
        if self.kind == QUARTER:
            index = self.year * 4 + (self.number - 1) + count
            return Period(QUARTER, index // 4, index % 4 + 1)
        return Period(self.kind, self.year + count)

    def previous(self) -> Period:
        """The period just before (环比)."""
        return self.shifted(-1)

    def year_ago(self) -> Period:
        """The same period a year earlier (同比)."""
        if self.kind == MONTH:
            return self.shifted(-12)
        if self.kind == QUARTER:
            return self.shifted(-4)
        return self.shifted(-1)

    # --- names

    @property
    def code(self) -> str:
        if self.kind == MONTH:
            return f"{self.year:04d}-{self.number:02d}"
        if self.kind == QUARTER:
            return f"{self.year:04d}Q{self.number}"
        if self.kind == YEAR:
            return f"{self.year:04d}"
        return f"{self.year:04d}S"

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return f"{self.year}年{self.number}月"
        if self.kind == QUARTER:
            return f"{self.year}年第{_QUARTER_NAMES[self.number]}季度"
        if self.kind == YEAR:
            return f"{self.year}年"
        return f"{self.year}统计年度（{self.year - 1}年10月1日至{self.year}年9月30日）"

    def __str__(self) -> str:
        return self.code


def recent(kind: str, count: int, *, until: Period | None = None) -> list[Period]:
    """The ``count`` periods of ``kind`` up to ``until`` (default: the current one), oldest
    first."""
    last = until or Period.current(kind)
    return [last.shifted(-step) for step in range(count - 1, -1, -1)]
