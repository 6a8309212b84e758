"""Writes of the organisation registry. Each is one transaction with its audit row."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import diff, record, snapshot
from niangjia.orgs.choices import UnionKind, UnionStatus
from niangjia.orgs.models import Employer, Region, Union
from niangjia.orgs.rules import check_placement, deletion_blockers
from niangjia.orgs.validators import normalize_uscc, validate_uscc
from niangjia.utilities.scoping import allowed, require

UNION_EDITABLE_FIELDS = (
    "name",
    "uscc",
    "region",
    "industry_union",
    "established_on",
    "address",
    "contact_phone",
)

# Left out of change diffs: they change on every save, and the audit row has its own time.
_TIMESTAMPS = ("created_at", "updated_at")


def _locked(union: Union) -> Union:
    return Union.objects.select_for_update().get(pk=union.pk)


def _check_industry_scope(acting_user: User, industry_union: Union | None) -> None:
    if industry_union is not None and not allowed(acting_user, Action.VIEW, industry_union):
        raise ValidationError({"industry_union": "所选产业工会不在您的管辖范围内"})


@transaction.atomic
def union_create(
    *,
    acting_user: User,
    parent: Union,
    name: str,
    level: str,
    kind: str,
    region: Region | None = None,
    industry_union: Union | None = None,
    uscc: str | None = None,
    established_on: datetime.date | None = None,
    address: str = "",
    contact_phone: str = "",
) -> Union:
    require(acting_user, Action.ADD, parent)
    parent = _locked(parent)
    _check_industry_scope(acting_user, industry_union)
    check_placement(
        parent=parent, level=level, kind=kind, region=region, industry_union=industry_union
    )
    union = Union(
        name=name.strip(),
        level=level,
        kind=kind,
        region=region,
        industry_union=industry_union,
        uscc=normalize_uscc(uscc) if uscc else None,
        established_on=established_on,
        address=address,
        contact_phone=contact_phone,
    )
    union.full_clean(exclude=["path", "depth", "numchild"])
    union = Union.objects.add_child(parent, instance=union)
    record(action=AuditAction.CREATE, actor=acting_user, obj=union, after=snapshot(union))
    return union


@transaction.atomic
def union_update(*, acting_user: User, union: Union, **changes: Any) -> Union:
    require(acting_user, Action.CHANGE, union)
    unknown = set(changes) - set(UNION_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    union = _locked(union)
    before = snapshot(union, exclude=_TIMESTAMPS)
    for field, value in changes.items():
        if field == "uscc":
            value = normalize_uscc(value) if value else None
        if field == "name":
            value = value.strip()
        setattr(union, field, value)
    if "industry_union" in changes:
        _check_industry_scope(acting_user, union.industry_union)
    check_placement(
        parent=Union.objects.get_parent(union),
        level=union.level,
        kind=union.kind,
        region=union.region,
        industry_union=union.industry_union,
        union=union,
    )
    union.full_clean(exclude=["path", "depth", "numchild"])
    union.save()
    old, new = diff(before, snapshot(union, exclude=_TIMESTAMPS))
    if new:
        record(action=AuditAction.CHANGE, actor=acting_user, obj=union, before=old, after=new)
    return union


# Later modules that keep a copy of a union's tree path (members' union_path …) register a step
# called with the old and new path prefix whenever a subtree moves.
PATH_CHANGE_STEPS: list[Callable[[str, str], int]] = []


def _move_subtree(union: Union, new_parent: Union) -> str:
    """Move ``union`` with its subtree under ``new_parent``; returns the new path."""
    old_path = union.path
    Union.objects.move(union, new_parent, pos="last-child")
    new_path = Union.objects.values_list("path", flat=True).get(pk=union.pk)
    for step in PATH_CHANGE_STEPS:
        step(old_path, new_path)
    return new_path


@transaction.atomic
def union_move(*, acting_user: User, union: Union, new_parent: Union) -> Union:
    """Move a union with its whole subtree under another parent within one's scope."""
    require(acting_user, Action.CHANGE, union)
    require(acting_user, Action.ADD, new_parent)
    union = _locked(union)
    new_parent = _locked(new_parent)
    old_parent = Union.objects.get_parent(union)
    if old_parent is None:
        raise ValidationError({"parent": "全国总工会不能移动"})
    check_placement(
        parent=new_parent,
        level=union.level,
        kind=union.kind,
        region=union.region,
        industry_union=union.industry_union,
        union=union,
    )
    old_path = union.path
    _move_subtree(union, new_parent)
    union.refresh_from_db()
    record(
        action=AuditAction.MOVE,
        actor=acting_user,
        obj=union,
        before={"parent": old_parent.pk, "path": old_path},
        after={"parent": new_parent.pk, "path": union.path},
        detail={"from": old_parent.name, "to": new_parent.name},
    )
    return union


# Later modules register steps that carry their own rows (members …) from source to target.
MERGE_STEPS: list[Callable[[Union, Union, User], dict[str, int]]] = []


@transaction.atomic
def union_merge(*, acting_user: User, source: Union, target: Union) -> Union:
    """Merge ``source`` into ``target``: children, employers and later modules' rows move to
    ``target``; ``source`` is kept as merged, with a link to where it went."""
    require(acting_user, Action.CHANGE, source)
    require(acting_user, Action.CHANGE, target)
    source = _locked(source)
    target = _locked(target)
    if source.pk == target.pk:
        raise ValidationError({"target": "不能与自身合并"})
    if source.status != UnionStatus.ACTIVE or target.status != UnionStatus.ACTIVE:
        raise ValidationError({"target": "只能合并两个存续的工会"})
    if target.path.startswith(source.path):
        raise ValidationError({"target": "不能并入自己的下级工会"})
    if source.level != target.level or source.kind != target.kind:
        raise ValidationError({"target": "只能合并同层级、同类型的工会"})
    counts: dict[str, int] = {"children": 0}
    for child in list(Union.objects.get_children(source)):
        _move_subtree(child, target)
        counts["children"] += 1
    counts["covered_employers"] = Employer.objects.filter(covering_union=source).update(
        covering_union=target
    )
    counts["registered_employers"] = Employer.objects.filter(owner=source).update(owner=target)
    counts["industry_members"] = Union.objects.filter(industry_union=source).update(
        industry_union=target
    )
    for step in MERGE_STEPS:
        counts.update(step(source, target, acting_user))
    source.refresh_from_db()
    source.status = UnionStatus.MERGED
    source.merged_into = target
    source.closed_on = timezone.localdate()
    source.save(update_fields=["status", "merged_into", "closed_on", "updated_at"])
    record(
        action=AuditAction.MERGE,
        actor=acting_user,
        obj=source,
        after={"status": source.status, "merged_into": target.pk},
        detail={"target": target.name, "moved": counts},
    )
    return target


@transaction.atomic
def union_dissolve(*, acting_user: User, union: Union, reason: str) -> Union:
    require(acting_user, Action.CHANGE, union)
    union = _locked(union)
    if not reason.strip():
        raise ValidationError({"reason": "请填写撤销原因"})
    if Union.objects.get_parent(union) is None:
        raise ValidationError({"reason": "全国总工会不能撤销"})
    if union.status != UnionStatus.ACTIVE:
        raise ValidationError({"reason": f"该工会{union.get_status_display()}"})
    active_children = Union.objects.get_children(union).filter(status=UnionStatus.ACTIVE).count()
    if active_children:
        raise ValidationError(
            {"reason": f"该工会还有 {active_children} 个存续的下级工会，请先移走、合并或撤销"}
        )
    uncovered = Employer.objects.filter(covering_union=union).update(covering_union=None)
    union.status = UnionStatus.DISSOLVED
    union.closed_on = timezone.localdate()
    union.save(update_fields=["status", "closed_on", "updated_at"])
    record(
        action=AuditAction.DISSOLVE,
        actor=acting_user,
        obj=union,
        after={"status": union.status},
        detail={"reason": reason.strip(), "employers_uncovered": uncovered},
    )
    return union


@transaction.atomic
def union_delete(*, acting_user: User, union: Union) -> None:
    require(acting_user, Action.DELETE, union)
    union = _locked(union)
    if Union.objects.get_parent(union) is None:
        raise ValidationError("全国总工会不能删除")
    blockers = deletion_blockers(union)
    if union.role_assignments.exists():
        blockers.append("有账号在该工会任职")
    if blockers:
        raise ValidationError(
            "该工会不能删除（" + "；".join(blockers) + "），只能合并或撤销", code="protected"
        )
    record(action=AuditAction.DELETE, actor=acting_user, obj=union, before=snapshot(union))
    union.delete()


# --- Employers

EMPLOYER_FIELDS = (
    "name",
    "uscc",
    "uscc_override",
    "uscc_override_reason",
    "region",
    "industry_section",
    "ownership",
    "headcount",
    "status",
    "owner",
    "covering_union",
    "address",
)


def _check_employer(acting_user: User, employer: Employer, *, owner_changed: bool = True) -> None:
    errors: dict[str, list[str]] = {}
    if employer.uscc:
        employer.uscc = normalize_uscc(employer.uscc)
        try:
            validate_uscc(employer.uscc)
        except ValidationError as exc:
            if not employer.uscc_override:
                errors.setdefault("uscc", []).extend(exc.messages)
            elif not employer.uscc_override_reason.strip():
                errors.setdefault("uscc_override_reason", []).append(
                    "历史代码未通过校验，保存时必须填写例外原因"
                )
        else:
            # A valid code needs no exception: never keep a stale override.
            employer.uscc_override = False
            employer.uscc_override_reason = ""
    else:
        employer.uscc = None
        employer.uscc_override = False
        employer.uscc_override_reason = ""
    # Registering an employer with a union (or moving it there) needs add rights on that union;
    # editing one whose owner stays the same needs only change rights on the employer.
    if owner_changed and employer.owner_id and not allowed(acting_user, Action.ADD, employer.owner):
        errors.setdefault("owner", []).append("管理工会不在您的管辖范围内")
    cover = employer.covering_union
    if cover is not None:
        if cover.kind not in (UnionKind.GRASSROOTS, UnionKind.JOINT):
            errors.setdefault("covering_union", []).append(
                f"“{cover.name}”不是基层工会或联合基层工会"
            )
        elif cover.status != UnionStatus.ACTIVE:
            errors.setdefault("covering_union", []).append(
                f"“{cover.name}”{cover.get_status_display()}"
            )
        elif not allowed(acting_user, Action.VIEW, cover):
            errors.setdefault("covering_union", []).append("所选基层工会不在您的管辖范围内")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def employer_create(*, acting_user: User, **data: Any) -> Employer:
    unknown = set(data) - set(EMPLOYER_FIELDS)
    if unknown:
        raise ValueError(f"unknown employer fields: {sorted(unknown)}")
    employer = Employer(created_by=acting_user, **data)
    if employer.owner_id is None:
        raise ValidationError({"owner": "请选择管理工会"})
    _check_employer(acting_user, employer)
    employer.full_clean()
    employer.save()
    detail = (
        {"uscc_override_reason": employer.uscc_override_reason} if employer.uscc_override else None
    )
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=employer,
        after=snapshot(employer),
        detail=detail,
    )
    return employer


@transaction.atomic
def employer_update(*, acting_user: User, employer: Employer, **changes: Any) -> Employer:
    require(acting_user, Action.CHANGE, employer)
    unknown = set(changes) - set(EMPLOYER_FIELDS)
    if unknown:
        raise ValueError(f"unknown employer fields: {sorted(unknown)}")
    employer = Employer.objects.select_for_update().get(pk=employer.pk)
    before = snapshot(employer, exclude=_TIMESTAMPS)
    for field, value in changes.items():
        setattr(employer, field, value)
    _check_employer(acting_user, employer, owner_changed=employer.owner_id != before["owner_id"])
    employer.full_clean()
    employer.save()
    old, new = diff(before, snapshot(employer, exclude=_TIMESTAMPS))
    if new:
        record(action=AuditAction.CHANGE, actor=acting_user, obj=employer, before=old, after=new)
    return employer
