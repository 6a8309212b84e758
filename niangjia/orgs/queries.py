"""Reads for the cadre pages of the organisation registry, beyond ``selectors``.

Like the selectors, every function acting for a user starts from
``Model.objects.restrict(user, action)``. What lives here is page-shaped: the user's scope
roots, breadcrumbs, the union pickers of the forms, search hits with their paths, the
figures of a union's detail page and the change history of one object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Substr

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs.choices import LEVEL_RANK, EmployerStatus, UnionKind, UnionLevel, UnionStatus
from niangjia.orgs.models import Employer, Union, UnionQuerySet
from niangjia.orgs.selectors import union_child_counts
from niangjia.orgs.validators import normalize_uscc
from niangjia.utilities.paging import OffsetPage, offset_page

PICKER_LIMIT = 50
LOOKUP_LIMIT = 20


class Purpose:
    """What a union picker chooses; decides which unions it may offer."""

    COVER = "cover"  # the grassroots union covering an employer
    OWNER = "owner"  # the union keeping an employer's registry
    WITHIN = "within"  # a subtree to filter by
    INDUSTRY = "industry"  # the industry union a grassroots union also belongs to
    PARENT = "parent"  # the new parent of a union being moved
    TARGET = "target"  # the union another is merged into

    ALL = (COVER, OWNER, WITHIN, INDUSTRY, PARENT, TARGET)
    NEEDS_UNION = (PARENT, TARGET)


def picker_queryset(user: Any, purpose: str, *, union: Union | None = None) -> UnionQuerySet:
    """The unions ``user`` may pick for ``purpose``: always a subset of their scope for the
    action the pick leads to. ``union`` is the union being moved or merged."""
    if purpose == Purpose.COVER:
        return (
            Union.objects.restrict(user, Action.VIEW)
            .active()
            .filter(kind__in=[UnionKind.GRASSROOTS, UnionKind.JOINT])
        )
    if purpose == Purpose.OWNER:
        return Union.objects.restrict(user, Action.ADD).active()
    if purpose == Purpose.WITHIN:
        return Union.objects.restrict(user, Action.VIEW)
    if purpose == Purpose.INDUSTRY:
        return Union.objects.restrict(user, Action.VIEW).active().filter(kind=UnionKind.INDUSTRY)
    if union is None:
        raise ValueError(f"picker purpose {purpose!r} needs the union acted on")
    if purpose == Purpose.PARENT:
        rank = LEVEL_RANK[UnionLevel(union.level)]
        levels = [level for level, r in LEVEL_RANK.items() if r <= rank]
        return (
            Union.objects.restrict(user, Action.ADD)
            .active()
            .filter(level__in=levels)
            .exclude(kind=UnionKind.GRASSROOTS)
            .exclude(path__startswith=union.path)
            .exclude(path=union.path[: -Union.steplen])
        )
    if purpose == Purpose.TARGET:
        return (
            Union.objects.restrict(user, Action.CHANGE)
            .active()
            .filter(level=union.level, kind=union.kind)
            .exclude(path__startswith=union.path)
        )
    raise ValueError(f"unknown picker purpose {purpose!r}")


def with_parent_name(unions: UnionQuerySet) -> UnionQuerySet:
    """Annotate ``parent_name``: the name of each union's parent, in the same query."""
    parent = Union.objects.filter(
        path=Substr(OuterRef("path"), 1, (OuterRef("depth") - 1) * Union.steplen)
    ).order_by()
    return unions.annotate(parent_name=Subquery(parent.values("name")[:1]))


def search_condition(q: str) -> Q:
    """Name (any case, any part) or credit code (from its start)."""
    q = q.strip()
    condition = Q(name__icontains=q)
    code = normalize_uscc(q)
    if code:
        condition |= Q(uscc__startswith=code)
    return condition


def picker_candidates(
    unions: UnionQuerySet, *, q: str = "", limit: int = PICKER_LIMIT
) -> list[Union]:
    """At most ``limit`` unions of ``unions`` matching ``q``, higher levels first; without
    ``q``, the first ones in tree order (an index walk, however large the scope)."""
    if q.strip():
        ordered = unions.filter(search_condition(q)).order_by("depth", "name", "path")
    else:
        ordered = unions.order_by("path")
    return list(with_parent_name(ordered)[:limit])


def union_label(union: Union) -> str:
    """How a union reads in a picker: name, level and, when known, its parent."""
    parent = getattr(union, "parent_name", None)
    kind = union.get_kind_display()
    if union.level != UnionLevel.GRASSROOTS:
        kind = f"{union.get_level_display()}{kind}"
    text = f"{union.name}（{kind}"
    return text + (f"，上级：{parent}）" if parent else "）")


# --- The user's place in the tree


def scope_roots(user: Any, action: str = Action.VIEW) -> list[Union]:
    """The unions at the top of the user's scope (where their roles are held)."""
    paths = paths_for(user, action)
    if not paths:
        return []
    return list(
        Union.objects.restrict(user, action).filter(path__in=paths).select_related("region")
    )


@dataclass(frozen=True)
class Crumb:
    pk: int
    name: str
    linked: bool  # within the user's scope: shown as a link


def ancestor_crumbs(user: Any, unions: list[Union]) -> dict[int, list[Crumb]]:
    """For each union of ``unions``, its ancestors from the root down, in one query.
    An ancestor is a link only when it lies inside the user's scope."""
    wanted: set[str] = set()
    for union in unions:
        wanted.update(
            union.path[:end] for end in range(Union.steplen, len(union.path), Union.steplen)
        )
    if not wanted:
        return {union.pk: [] for union in unions}
    named = {
        row["path"]: row
        for row in Union.objects.filter(path__in=wanted).order_by().values("pk", "path", "name")
    }
    scope = paths_for(user, Action.VIEW)
    trails: dict[int, list[Crumb]] = {}
    for union in unions:
        trail = []
        for end in range(Union.steplen, len(union.path), Union.steplen):
            row = named.get(union.path[:end])
            if row is not None:
                linked = any(row["path"].startswith(p) for p in scope)
                trail.append(Crumb(pk=row["pk"], name=row["name"], linked=linked))
        trails[union.pk] = trail
    return trails


def union_search(user: Any, q: str, *, page: Any, per_page: int = 20) -> OffsetPage[Any]:
    """Unions in the user's scope whose name contains ``q`` or whose credit code starts with
    it, in tree order; each hit carries ``crumbs`` (its ancestors)."""
    hits = (
        Union.objects.restrict(user, Action.VIEW)
        .filter(search_condition(q))
        .select_related("region")
        .order_by("path")
    )
    result = offset_page(hits, page=page, per_page=per_page)
    trails = ancestor_crumbs(user, result.items)
    for union in result.items:
        union.crumbs = trails[union.pk]
    return result


def union_actions(user: Any, union: Union) -> set[str]:
    """The actions of ``Action`` that ``user`` may perform on ``union``."""
    possible = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT)
    return {
        str(action)
        for action in possible
        if paths_for(user, action)
        and Union.objects.restrict(user, action).filter(pk=union.pk).exists()
    }


# --- Figures and history of one union


def union_figures(user: Any, union: Union) -> dict[str, Any]:
    """The figures of a union's detail page: direct children by level, grassroots unions and
    employers in its subtree, and the formation rate (organised ÷ active employers)."""
    counts = union_child_counts(union)
    by_level = counts["children_by_level"]
    children_by_level = [
        (UnionLevel(level).label, by_level[level])
        for level in UnionLevel.values
        if level in by_level
    ]
    # Each count is split so that every query is driven by one indexed path prefix: an OR
    # across two joined paths makes PostgreSQL scan the whole table.
    active_grassroots = Union.objects.filter(
        level=UnionLevel.GRASSROOTS, status=UnionStatus.ACTIVE
    ).order_by()
    grassroots = active_grassroots.filter(path__startswith=union.path).count()
    if union.kind == UnionKind.INDUSTRY:
        grassroots += (
            active_grassroots.filter(industry_union__path__startswith=union.path)
            .exclude(path__startswith=union.path)
            .count()
        )
    visible = Employer.objects.restrict(user, Action.VIEW).filter(status=EmployerStatus.ACTIVE)
    registered = (
        visible.filter(owner__path__startswith=union.path)
        .order_by()
        .aggregate(
            total=Count("pk"),
            organised=Count("pk", filter=Q(covering_union__isnull=False)),
        )
    )
    covered_elsewhere = (
        visible.filter(covering_union__path__startswith=union.path)
        .exclude(owner__path__startswith=union.path)
        .order_by()
        .count()
    )
    employers = {
        "total": registered["total"] + covered_elsewhere,
        "organised": registered["organised"] + covered_elsewhere,
    }
    total, organised = employers["total"], employers["organised"]
    return {
        "children": counts["children"],
        "children_by_level": children_by_level,
        "grassroots_in_subtree": grassroots,
        "employers_registered": counts["employers_registered"],
        "employers_covered": counts["employers_covered"],
        "employers_in_subtree": total,
        "employers_organised": organised,
        "formation_rate": (organised / total * 100) if total else None,
    }


@dataclass(frozen=True)
class HistoryRow:
    entry: AuditEntry
    fields: list[str]
    note: str


_UNSHOWN_FIELDS = {"id", "path", "depth", "numchild", "created_at", "updated_at"}


def object_history(model: type[Any], pk: int, *, limit: int = 50) -> list[HistoryRow]:
    """The audit rows about one object, newest first, with the changed fields named."""
    label = model._meta.label_lower
    entries = AuditEntry.objects.filter(object_type=label, object_id=str(pk)).order_by(
        "-time", "-id"
    )[:limit]
    names = {f.attname: str(f.verbose_name) for f in model._meta.concrete_fields}
    names.update({f.name: str(f.verbose_name) for f in model._meta.concrete_fields})
    rows = []
    for entry in entries:
        keys: list[str] = []
        for side in (entry.after, entry.before):
            if isinstance(side, dict):
                keys.extend(k for k in side if k not in keys)
        fields = [names.get(k, k) for k in keys if k not in _UNSHOWN_FIELDS]
        if entry.action == AuditAction.CREATE:
            fields = []
        rows.append(HistoryRow(entry=entry, fields=fields, note=_history_note(entry)))
    return rows


def _history_note(entry: AuditEntry) -> str:
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    if entry.action == AuditAction.MOVE and detail:
        return f"从“{detail.get('from', '')}”移到“{detail.get('to', '')}”之下"
    if entry.action == AuditAction.MERGE and detail:
        return f"并入“{detail.get('target', '')}”"
    if entry.action == AuditAction.DISSOLVE and detail:
        return f"原因：{detail.get('reason', '')}"
    if entry.action == AuditAction.EXPORT and detail:
        return f"导出 {detail.get('rows', 0)} 行"
    if detail.get("uscc_override_reason"):
        return f"校验位例外原因：{detail['uscc_override_reason']}"
    return ""


def industry_members(
    user: Any, union: Union, *, after: str | None, limit: int
) -> tuple[list[Union], str | None]:
    """Grassroots unions linked to the industry union ``union`` (keyset by path)."""
    members = (
        Union.objects.restrict(user, Action.VIEW)
        .filter(industry_union=union)
        .select_related("region")
        .order_by("path")
    )
    if after:
        members = members.filter(path__gt=after)
    rows = list(with_parent_name(members)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].path if more and rows else None)
