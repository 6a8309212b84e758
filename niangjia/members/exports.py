"""The member list as spreadsheet rows: the current filters, masked unless revealed.

What is exported: ``member_export_queryset`` starts from ``selectors.member_search`` acting
with ``Action.EXPORT`` and, for an unmasked file, keeps only the members the user may also
reveal. How it is read (``member_rows``): plain values in chunks from one statement in the
``(union_path, id)`` order of the list (a server-side cursor on PostgreSQL, inside the caller's
transaction), no model instances; codes become labels through dicts; the names of the holding
unions and employers come from small per-export caches filled a chunk at a time; clear ID
numbers and phones are decrypted only for an unmasked file.

Writing the file, the approval of unmasked exports and the audit row are the export service's
(``niangjia.exports.services``), for members and employers alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import QueryDict

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
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
from niangjia.members.models import ID_PURPOSE, PHONE_PURPOSE, Member
from niangjia.members.selectors import MemberFilters, member_search
from niangjia.orgs.models import Employer, Union
from niangjia.utilities import crypto

CHUNK = 5000

TITLE = "会员名册"
HEADERS = (
    "会员编号",
    "姓名",
    "性别",
    "出生日期",
    "证件类型",
    "证件号码",
    "手机号码",
    "民族",
    "学历",
    "户籍类型",
    "就业形态",
    "新就业形态职业",
    "职业/岗位",
    "工作单位",
    "所在工会",
    "入会日期",
    "会籍状态",
    "状态变更日期",
)
WIDTHS = (14, 10, 6, 12, 14, 22, 14, 8, 14, 10, 14, 14, 14, 36, 36, 12, 10, 12)

_FIELDS = (
    "pk",
    "legacy_number",
    "name",
    "sex",
    "birth_date",
    "id_type",
    "ethnic_group",
    "education",
    "household",
    "employment_form",
    "gig_occupation",
    "occupation",
    "employer_id",
    "employer_name",
    "union_id",
    "join_date",
    "status",
    "status_changed_on",
)
_LABELS: dict[str, dict[str, str]] = {
    "sex": dict(Sex.choices),
    "id_type": dict(IdType.choices),
    "ethnic_group": dict(ETHNIC_GROUPS),
    "education": dict(Education.choices),
    "household": dict(Household.choices),
    "employment_form": dict(EmploymentForm.choices),
    "gig_occupation": dict(GigOccupation.choices),
    "status": dict(MemberStatus.choices),
}
for _labels in _LABELS.values():
    _labels[""] = ""


def member_filters(*, acting_user: Any, query: dict[str, str] | QueryDict) -> MemberFilters:
    """The member list's filters from its query string (as the list page reads them).
    Raises ValidationError naming every filter that is wrong."""
    from niangjia.members.forms_cadre import MemberFilterForm, filter_query

    data = query if isinstance(query, QueryDict) else _query_dict(query)
    form = MemberFilterForm(filter_query(data), user=acting_user)
    if not form.is_valid():
        errors = "；".join(e for errs in form.errors.values() for e in errs)
        raise ValidationError({"filters": f"筛选条件有误：{errors}"})
    return form.filters()


def _query_dict(values: dict[str, str]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in values.items():
        data[key] = value
    return data


def member_export_queryset(
    *, acting_user: Any, filters: MemberFilters, unmasked: bool = False
) -> QuerySet[Member]:
    """The members ``acting_user`` may export under ``filters``; unmasked, only those they may
    also reveal. Raises PermissionDenied without the export (or, unmasked, reveal) right."""
    if not paths_for(acting_user, Action.EXPORT):
        raise PermissionDenied("您没有导出会员名册的权限")
    if unmasked and not paths_for(acting_user, Action.REVEAL):
        raise PermissionDenied("导出明文须有查看明文个人信息的权限")
    members = member_search(user=acting_user, filters=filters, action=Action.EXPORT)
    if unmasked:
        members = members & Member.objects.restrict(acting_user, Action.REVEAL)
    return members


class _Names:
    """Names of the unions and employers met so far, read a chunk's missing ids at a time."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.names: dict[int | None, str] = {None: ""}

    def fill(self, ids: Iterable[int | None]) -> dict[int | None, str]:
        missing = set(ids).difference(self.names)
        if missing:
            # The names of the rows' own union and employer, whatever the user's scope:
            # the member row in scope is what is exported.
            found = self.model._base_manager.filter(pk__in=missing).values_list("pk", "name")
            self.names.update(found)
            self.names.update(dict.fromkeys(missing.difference(self.names), ""))
        return self.names


# ISO 7064 mod 11,10 (``models.format_member_number``): the state after the first eight
# digits is kept per thousand ids; the last three digits and the check digit, for each state,
# come from a table.
_STEP = [[(((state + digit) % 10 or 10) * 2) % 11 for digit in range(10)] for state in range(11)]


def _tail(state: int, tail: int) -> str:
    digits = f"{tail:03d}"
    for char in digits:
        state = _STEP[state][int(char)]
    return digits + str((11 - state) % 10)


_TAILS = [[_tail(state, tail) for tail in range(1000)] for state in range(11)]


def _head_state(head: int) -> int:
    state = 10
    for char in f"{head:08d}":
        state = _STEP[state][int(char)]
    return state


def _member_numbers(pks: Iterable[int], head_states: dict[int, int]) -> list[str]:
    numbers = []
    for pk in pks:
        head, tail = divmod(pk, 1000)
        state = head_states.get(head)
        if state is None:
            state = head_states[head] = _head_state(head)
        numbers.append(f"{head:08d}{_TAILS[state][tail]}")
    return numbers


def member_rows(
    members: QuerySet[Member],
    *,
    unmasked: bool = False,
    stream: Callable[[QuerySet[Any]], Iterator[tuple[Any, ...]]] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``HEADERS`` for ``members``, in the list's order. ``stream`` reads the
    value rows of a queryset (default: ``iterator()``, which on PostgreSQL inside a
    transaction is a server-side cursor)."""
    personal = ("id_number_enc", "phone_enc") if unmasked else ("id_masked", "phone_masked")
    values = members.order_by("union_path", "id").values_list(*_FIELDS, *personal)
    rows = stream(values) if stream is not None else values.iterator(chunk_size=CHUNK)
    unions, employers = _Names(Union), _Names(Employer)
    head_states: dict[int, int] = {}
    sex, id_type, ethnic, education = (
        _LABELS["sex"],
        _LABELS["id_type"],
        _LABELS["ethnic_group"],
        _LABELS["education"],
    )
    household, form, gig, status = (
        _LABELS["household"],
        _LABELS["employment_form"],
        _LABELS["gig_occupation"],
        _LABELS["status"],
    )
    if unmasked:
        open_id = crypto.opener(purpose=ID_PURPOSE)
        open_phone = crypto.opener(purpose=PHONE_PURPOSE)
    while chunk := list(islice(rows, CHUNK)):
        union_names = unions.fill(row[14] for row in chunk)
        employer_names = employers.fill(row[12] for row in chunk)
        numbers = _member_numbers((row[0] for row in chunk), head_states)
        for row, number in zip(chunk, numbers, strict=True):
            if unmasked:
                id_number, phone = open_id(row[18]), open_phone(row[19])
            else:
                id_number, phone = row[18], row[19]
            yield (
                row[1] or number,
                row[2],
                sex.get(row[3], row[3]),
                row[4],
                id_type.get(row[5], row[5]),
                id_number,
                phone,
                ethnic.get(row[6], row[6]),
                education.get(row[7], row[7]),
                household.get(row[8], row[8]),
                form.get(row[9], row[9]),
                gig.get(row[10], row[10]),
                row[11],
                employer_names[row[12]] or row[13],
                union_names[row[14]],
                row[15],
                status.get(row[16], row[16]),
                row[17],
            )
