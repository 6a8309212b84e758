"""Reads of the audit log, always through ``AuditEntry.objects.restrict(user, VIEW_AUDIT)``.

The list pages by keyset on (time, id), newest first: each page is one index range scan of
``audit_time_id`` however many millions of rows lie behind it, and nothing is counted.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from niangjia.accounts.choices import Action
from niangjia.audit.models import AuditEntry

PAGE_SIZE = 50
# Columns the list shows; before/after/detail (JSON, possibly large) wait for the detail page.
LIST_FIELDS = (
    "id",
    "time",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "union_path",
    "client_ip",
    "request_id",
)


def visible_entries(viewer: Any) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.restrict(viewer, Action.VIEW_AUDIT)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


def encode_cursor(entry: AuditEntry) -> str:
    micros = (entry.time - _EPOCH) // _MICROSECOND
    return f"{micros}-{entry.pk}"


def decode_cursor(raw: str) -> tuple[datetime.datetime, int] | None:
    """The (time, id) a cursor points after; None for anything unreadable."""
    try:
        micros_text, id_text = raw.split("-", 1)
        micros, pk = int(micros_text), int(id_text)
        moment = _EPOCH + micros * _MICROSECOND
    except (ValueError, OverflowError, OSError):
        return None
    return moment, pk


@dataclass(frozen=True)
class EntryPage:
    items: list[AuditEntry]
    next_cursor: str | None
    is_first: bool


def entry_page(entries: QuerySet[AuditEntry], *, cursor: str = "") -> EntryPage:
    """One page of ``entries`` (already restricted and filtered), newest first, starting
    after ``cursor``."""
    position = decode_cursor(cursor) if cursor else None
    if position is not None:
        moment, pk = position
        # time <= t AND NOT (time = t AND id >= pk): a range on the (time, id) index.
        entries = entries.filter(time__lte=moment).exclude(Q(time=moment) & Q(id__gte=pk))
    rows = list(entries.only(*LIST_FIELDS).order_by("-time", "-id")[: PAGE_SIZE + 1])
    has_more = len(rows) > PAGE_SIZE
    items = rows[:PAGE_SIZE]
    return EntryPage(
        items=items,
        next_cursor=encode_cursor(items[-1]) if has_more else None,
        is_first=position is None,
    )
