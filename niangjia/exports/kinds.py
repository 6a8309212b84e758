"""What can be exported: the member list and the employer list, each with its list's filters.

A kind turns the list's query parameters into a ``Selection`` (the rows the user may export,
the filters as kept, shown and audited, the union the export covers) and a selection into
rows for the writer. The rows and the rights are the apps' own (``niangjia.members.exports``,
``niangjia.orgs.exports``); this module only speaks for them to the export service.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse

from niangjia.exports.choices import ExportKind
from niangjia.orgs.models import Union

Stream = Callable[[QuerySet[Any]], Iterator[tuple[Any, ...]]]

# Query parameters that are never filters (paging, pickers' search boxes, the form token).
_NOT_FILTERS = ("after", "before", "count", "page", "within_q", "covering_union_q")


def clean_query(data: QueryDict | dict[str, str]) -> dict[str, str]:
    """The filters of a list's query string as a plain dict, without paging or blanks."""
    items = data.items() if isinstance(data, dict) else ((k, data.get(k, "")) for k in data)
    return {
        str(k): str(v).strip()
        for k, v in items
        if k not in _NOT_FILTERS and k != "csrfmiddlewaretoken" and str(v).strip()
    }


def as_query_dict(filters: dict[str, str]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in filters.items():
        data[key] = value
    return data


@dataclass
class Selection:
    """The rows one user may export under one set of filters."""

    kind: str
    rows: QuerySet[Any]
    filters: dict[str, str]  # the list's query parameters (searches by keyed hash only)
    display: list[list[str]]  # the filters in words, for people
    audit_filters: dict[str, str]  # the filters for the audit row
    union: Union | None  # the union the filters narrow to, if any
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Kind:
    name: str
    title: str  # the sheet's title and the file name's stem
    headers: tuple[str, ...]
    widths: tuple[int, ...]
    may_unmask: bool  # has personal data shown masked unless revealed
    select: Callable[..., Selection]
    rows: Callable[..., Iterator[tuple[Any, ...]]]  # (selection, unmasked, stream)
    list_url: str  # URL name of the list page the filters come from


def _display(form: forms.Form, names: list[str]) -> list[list[str]]:
    shown: list[list[str]] = []
    data = form.cleaned_data
    for name in names:
        value = data.get(name)
        if value in (None, ""):
            continue
        field = form.fields[name]
        if isinstance(value, Union):
            text = value.name
        elif isinstance(value, datetime.date):
            text = value.isoformat()
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            text = str(dict(field.choices).get(value, value))
        else:
            text = str(form.data.get(name, value)) if name == "region" else str(value)
        shown.append([str(field.label), text])
    return shown


# --- Members


def _select_members(*, acting_user: Any, filters: dict[str, str], unmasked: bool) -> Selection:
    from niangjia.members.exports import member_export_queryset
    from niangjia.members.forms_cadre import SEARCH_KEYS, MemberFilterForm

    form = MemberFilterForm(as_query_dict(filters), user=acting_user)
    _valid(form)
    member_filters = form.filters()
    rows = member_export_queryset(
        acting_user=acting_user, filters=member_filters, unmasked=unmasked
    )
    display = _display(form, [n for n in form.fields if n not in SEARCH_KEYS])
    if form.search_label():
        display.append(["查找", form.search_label()])
    return Selection(
        kind=ExportKind.MEMBERS,
        rows=rows,
        filters={k: v for k, v in filters.items() if k in form.fields},
        display=display,
        audit_filters=member_filters.describe(),
        union=member_filters.within,
    )


def _member_rows(
    selection: Selection, unmasked: bool, stream: Stream | None = None
) -> Iterator[tuple[Any, ...]]:
    from niangjia.members.exports import member_rows

    return member_rows(selection.rows, unmasked=unmasked, stream=stream)


# --- Employers


def _select_employers(*, acting_user: Any, filters: dict[str, str], unmasked: bool) -> Selection:
    from niangjia.orgs.exports import employer_export_queryset
    from niangjia.orgs.filtersets import EmployerFilterForm

    form = EmployerFilterForm(as_query_dict(filters), user=acting_user)
    _valid(form)
    rows = employer_export_queryset(acting_user=acting_user, form=form)
    within = form.cleaned_data.get("within") or form.cleaned_data.get("covering_union")
    return Selection(
        kind=ExportKind.EMPLOYERS,
        rows=rows,
        filters={k: v for k, v in filters.items() if k in form.fields},
        display=_display(form, list(form.fields)),
        audit_filters=form.active_filters(),
        union=within,
    )


def _employer_rows(
    selection: Selection, unmasked: bool, stream: Stream | None = None
) -> Iterator[tuple[Any, ...]]:
    from niangjia.orgs.exports import employer_rows

    return employer_rows(selection.rows, stream=stream)


def _valid(form: forms.Form) -> None:
    from django.core.exceptions import ValidationError

    if not form.is_valid():
        errors = "；".join(e for errs in form.errors.values() for e in errs)
        raise ValidationError({"filters": f"筛选条件有误，未导出：{errors}"})


def _kinds() -> dict[str, Kind]:
    from niangjia.members import exports as member_exports
    from niangjia.orgs import exports as org_exports

    return {
        ExportKind.MEMBERS: Kind(
            name=ExportKind.MEMBERS,
            title=member_exports.TITLE,
            headers=member_exports.HEADERS,
            widths=member_exports.WIDTHS,
            may_unmask=True,
            select=_select_members,
            rows=_member_rows,
            list_url="members:member_list",
        ),
        ExportKind.EMPLOYERS: Kind(
            name=ExportKind.EMPLOYERS,
            title="用人单位",
            headers=org_exports.EMPLOYER_HEADERS,
            widths=org_exports.EMPLOYER_WIDTHS,
            may_unmask=False,
            select=_select_employers,
            rows=_employer_rows,
            list_url="orgs:employer_list",
        ),
    }


def get_kind(name: str) -> Kind:
    """The kind called ``name``; KeyError for any other name."""
    return _kinds()[name]


def list_url(kind: Kind, filters: dict[str, str]) -> str:
    query = as_query_dict(filters).urlencode()
    return reverse(kind.list_url) + (f"?{query}" if query else "")
