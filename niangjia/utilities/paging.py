"""Numbered pages of long lists, with the count capped so huge tables stay cheap to list.

``offset_page`` counts at most ``cap + 1`` rows (``LIMIT`` inside the ``COUNT``); beyond the
cap the page says "more than N" and asks for narrower filters instead of paging on forever.
Lists that must scroll through everything (a federation's children) use keyset paging
(``niangjia.orgs.selectors.union_children``) instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet

T = TypeVar("T")

DEFAULT_COUNT_CAP = 10_000


@dataclass(frozen=True)
class OffsetPage(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int
    capped: bool  # True: there are more than ``total`` rows

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)


def page_number(raw: Any) -> int:
    """The page asked for in a query string; anything unreadable is the first page."""
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return 1
    return max(1, number)


def offset_page(
    queryset: QuerySet[Any], *, page: Any, per_page: int, cap: int = DEFAULT_COUNT_CAP
) -> OffsetPage[Any]:
    """Page ``page`` (1-based; clamped to the last page) of an ordered ``queryset``."""
    counted = queryset.order_by()[: cap + 1].count()
    capped = counted > cap
    total = min(counted, cap)
    number = min(page_number(page), max(1, -(-total // per_page)))
    offset = (number - 1) * per_page
    items = list(queryset[offset : offset + per_page])
    return OffsetPage(items=items, number=number, per_page=per_page, total=total, capped=capped)
