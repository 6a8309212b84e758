"""Writes of employer verification campaigns. Each is one transaction with its audit rows.

A campaign goes draft (the list is fixed, staff are given their share) → open (staff mark
items) → closed (the findings are written to the employer registry); a closed campaign may be
reopened. Every write that touches a campaign's items locks the campaign row first, so a mark
never slips past a closing campaign, and two marks of one item are told apart by the item's
``version`` (the later one is refused with a clear message instead of overwriting).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.audit.services import build_entry, record, snapshot
from niangjia.orgs.choices import EmployerStatus, IndustrySection, OwnershipType, UnionStatus
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.scoping import allowed, require
from niangjia.verification import selectors
from niangjia.verification.choices import FINDINGS, CampaignState, VerificationResult
from niangjia.verification.models import VerificationCampaign, VerificationItem
from niangjia.verification.selectors import EmployerFilters, StaffMember

# A campaign checks at most this many employers; a bigger one is split by its filters.
MAX_ITEMS = 20_000
NOTE_MAX = 500
_CHUNK = 500
_FINDING_LABELS = "、".join(str(r.label) for r in FINDINGS)


class VersionConflict(ValidationError):
    """A mark sent against an older version of an item: someone else changed it meanwhile."""


def _lock(campaign: VerificationCampaign) -> VerificationCampaign:
    return (
        VerificationCampaign.objects.select_for_update(of=("self",))
        .select_related("union")
        .get(pk=campaign.pk)
    )


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _state_error(campaign: VerificationCampaign, field: str, doing: str) -> ValidationError:
    return ValidationError({field: f"该核查{campaign.get_state_display()}，不能{doing}"})


# --- Creating and opening


def _check_filters(filters: EmployerFilters, errors: dict[str, list[str]]) -> None:
    for name, value, choices, label in (
        ("employer_status", filters.status, EmployerStatus, "登记状态"),
        ("industry_section", filters.industry_section, IndustrySection, "行业门类"),
        ("ownership", filters.ownership, OwnershipType, "经济类型"),
    ):
        if value and value not in choices.values:
            errors.setdefault(name, []).append(f"“{label}”的取值“{value}”无效")
    if filters.min_headcount is not None and filters.min_headcount < 0:
        errors.setdefault("min_headcount", []).append("“职工人数不少于”不能小于 0")


@transaction.atomic
def campaign_create(
    *,
    acting_user: User,
    union: Union,
    name: str,
    due_date: datetime.date | None = None,
    filters: EmployerFilters | None = None,
) -> VerificationCampaign:
    """A draft campaign checking the employers of ``union``'s subtree that ``acting_user``
    may change and that match ``filters``: one item per employer, created in bulk."""
    require(acting_user, Action.CHANGE, union)
    filters = filters or EmployerFilters()
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors.setdefault("name", []).append("请填写“核查名称”")
    if union.status != UnionStatus.ACTIVE:
        errors.setdefault("union", []).append(
            f"“{union.name}”{union.get_status_display()}，不能发起核查"
        )
    if due_date is not None and due_date < timezone.localdate():
        errors.setdefault("due_date", []).append("“完成期限”不能早于今天")
    _check_filters(filters, errors)
    if errors:
        raise ValidationError(errors)
    employers = selectors.campaign_employers(user=acting_user, union=union, filters=filters)
    rows = list(employers.order_by().values_list("pk", "status")[: MAX_ITEMS + 1])
    if not rows:
        raise ValidationError({"union": "所选范围内没有符合条件、您可以修改的用人单位"})
    if len(rows) > MAX_ITEMS:
        raise ValidationError(
            {"union": f"符合条件的用人单位超过 {MAX_ITEMS:,} 家，请缩小范围或增加筛选条件"}
        )
    campaign = VerificationCampaign(
        name=name,
        union=union,
        due_date=due_date,
        created_by=acting_user,
        item_count=len(rows),
        **filters.as_fields(),
    )
    campaign.full_clean()
    campaign.save()
    VerificationItem.objects.bulk_create(
        [
            VerificationItem(campaign=campaign, employer_id=pk, status_before=status)
            for pk, status in rows
        ],
        batch_size=1000,
    )
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=campaign,
        after=snapshot(campaign),
        detail={"items": len(rows)},
    )
    return campaign


@transaction.atomic
def campaign_open(*, acting_user: User, campaign: VerificationCampaign) -> VerificationCampaign:
    """Start the checking: staff may mark their items from now on."""
    require(acting_user, Action.CHANGE, campaign)
    campaign = _lock(campaign)
    if not campaign.is_draft:
        raise _state_error(campaign, "state", "再次开始")
    campaign.state = CampaignState.OPEN
    campaign.opened_at = timezone.now()
    campaign.save(update_fields=["state", "opened_at"])
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=campaign,
        before={"state": CampaignState.DRAFT},
        after={"state": campaign.state},
    )
    return campaign


# --- Giving items to staff


def _staff_members(
    campaign: VerificationCampaign, users: Iterable[User], *, field: str
) -> list[StaffMember]:
    """The chosen people as staff of ``campaign``; a ValidationError names anyone who is not."""
    staff = selectors.staff_by_id(selectors.campaign_staff(campaign))
    chosen: list[StaffMember] = []
    for user in users:
        member = staff.get(user.pk)
        if member is None:
            raise ValidationError(
                {
                    field: f"“{user.display_name}”不是“{campaign.union.name}”及其下级工会"
                    "可以修改用人单位的工作人员，不能分配核查任务"
                }
            )
        if member not in chosen:
            chosen.append(member)
    return chosen


@dataclass
class SplitResult:
    assigned: dict[int, int] = field(default_factory=dict)  # user id → items given now
    unreachable: int = 0  # items none of the chosen people may check (outside their scope)
    left: int = 0  # items still waiting for someone (quotas smaller than the list)

    @property
    def total(self) -> int:
        return sum(self.assigned.values())


def _even_quotas(total: int, people: Sequence[StaffMember]) -> dict[int, int]:
    share, extra = divmod(total, len(people))
    return {s.user.pk: share + (1 if i < extra else 0) for i, s in enumerate(people)}


@transaction.atomic
def campaign_split(
    *,
    acting_user: User,
    campaign: VerificationCampaign,
    staff: Sequence[User],
    counts: Mapping[int, int] | None = None,
    include_assigned: bool = False,
) -> SplitResult:
    """Give the pending items of ``campaign`` to ``staff``: evenly, or ``counts[user id]``
    each. Only unassigned items are given out unless ``include_assigned`` (then every pending
    item is shared out again). Items go in runs by registering union and address, so each
    person's share lies together; a person whose scope is a part of the subtree (a township)
    gets only employers of that part."""
    require(acting_user, Action.CHANGE, campaign)
    campaign = _lock(campaign)
    if campaign.is_closed:
        raise _state_error(campaign, "staff", "再分配核查任务")
    if not staff:
        raise ValidationError({"staff": "请至少选择一名核查人员"})
    people = _staff_members(campaign, staff, field="staff")
    if counts is not None:
        unknown = set(counts) - {s.user.pk for s in people}
        if unknown:
            raise ValidationError({"counts": "分配数量只能填给选中的核查人员"})
        if any(n < 0 for n in counts.values()):
            raise ValidationError({"counts": "分配数量不能小于 0"})
        if not any(counts.values()):
            raise ValidationError({"counts": "请至少给一名核查人员填写大于 0 的数量"})
    items = VerificationItem.objects.filter(campaign=campaign, result=VerificationResult.PENDING)
    if not include_assigned:
        items = items.filter(assignee__isnull=True)
    rows = list(
        items.order_by("employer__owner__path", "employer__address", "employer__name", "id")
        .values_list("pk", "employer__owner__path", "employer__covering_union__path")
        .iterator(chunk_size=2000)
    )
    if not rows:
        raise ValidationError(
            {
                "staff": "没有待分配的单位：待核查的单位都已分配（可勾选“重新分配已分配的待核查单位”）"
            }
        )
    quota = (
        {s.user.pk: counts.get(s.user.pk, 0) for s in people}
        if counts is not None
        else _even_quotas(len(rows), people)
    )
    eligible = [[s for s in people if s.may_check(owner, cover)] for _, owner, cover in rows]
    # A person who may check fewer of the items is served first where they can, so that a
    # township's staff get their street's employers before the county's staff take them.
    reach = Counter(s.user.pk for candidates in eligible for s in candidates)
    given: dict[int, list[int]] = {s.user.pk: [] for s in people}
    result = SplitResult()
    current: int | None = None
    for (pk, _, _), candidates in zip(rows, eligible, strict=True):
        if not candidates:
            result.unreachable += 1
            continue
        open_ = [s for s in candidates if quota[s.user.pk] > len(given[s.user.pk])]
        if not open_:
            result.left += 1
            continue
        pick = min(
            open_,
            key=lambda s: (reach[s.user.pk], s.user.pk != current, -quota[s.user.pk]),
        )
        given[pick.user.pk].append(pk)
        current = pick.user.pk
    users = {s.user.pk: s.user for s in people}
    for user_id, ids in given.items():
        for chunk in _chunks(ids):
            VerificationItem.objects.filter(pk__in=chunk).update(assignee=users[user_id])
        result.assigned[user_id] = len(ids)
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=campaign,
        detail={
            "split": {users[uid].display_name: n for uid, n in result.assigned.items()},
            "mode": "counts" if counts is not None else "even",
            "include_assigned": include_assigned,
            "unreachable": result.unreachable,
            "left": result.left,
        },
    )
    return result


@transaction.atomic
def items_assign(
    *,
    acting_user: User,
    campaign: VerificationCampaign,
    item_ids: Sequence[int],
    assignee: User | None,
) -> int:
    """Give the chosen items of ``campaign`` to ``assignee`` (None: take them back)."""
    require(acting_user, Action.CHANGE, campaign)
    campaign = _lock(campaign)
    if campaign.is_closed:
        raise _state_error(campaign, "assignee", "再分配核查任务")
    wanted = sorted(set(item_ids))
    if not wanted:
        raise ValidationError({"ids": "请先勾选要分配的单位"})
    rows = list(
        VerificationItem.objects.filter(campaign=campaign, pk__in=wanted).values_list(
            "pk", "employer__name", "employer__owner__path", "employer__covering_union__path"
        )
    )
    if len(rows) != len(wanted):
        raise ValidationError({"ids": "勾选的单位有的不属于本次核查，请刷新页面后重试"})
    if assignee is not None:
        member = _staff_members(campaign, [assignee], field="assignee")[0]
        outside = [name for _, name, owner, cover in rows if not member.may_check(owner, cover)]
        if outside:
            raise ValidationError(
                {
                    "assignee": f"“{assignee.display_name}”的管辖范围内没有“{outside[0]}”"
                    + (f"等 {len(outside)} 家单位" if len(outside) > 1 else "")
                    + "，不能分配给他/她"
                }
            )
    changed = VerificationItem.objects.filter(pk__in=wanted).update(assignee=assignee)
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=campaign,
        detail={
            "assigned_to": assignee.display_name if assignee is not None else None,
            "items": changed,
        },
    )
    return changed


# --- Marking


def may_mark(user: Any, item: VerificationItem) -> bool:
    """A cadre of the campaign's union may mark any of its items; the person an item is given
    to may mark it while it lies in their scope."""
    if allowed(user, Action.CHANGE, item.campaign):
        return True
    return bool(
        item.assignee_id is not None
        and item.assignee_id == getattr(user, "pk", None)
        and allowed(user, Action.CHANGE, item)
    )


def _refuse_mark(item: VerificationItem) -> PermissionDenied:
    exc = PermissionDenied(
        f"“{item.employer.name}”没有分配给您：只有核查人或“{item.campaign.union.name}”的干部可以标记"
    )
    exc.obj = item  # type: ignore[attr-defined]  # named in the permission-denied audit row
    return exc


def _clean_result(result: str, *, allow_pending: bool) -> str:
    allowed_values = [r.value for r in FINDINGS]
    if allow_pending:
        allowed_values.append(VerificationResult.PENDING.value)
    if result not in allowed_values:
        raise ValidationError({"result": f"“核查结果”应为{_FINDING_LABELS}之一"})
    return result


def _clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"“备注”最多 {NOTE_MAX} 个字，当前 {len(note)} 个"})
    return note


def conflict_message(item: VerificationItem) -> str:
    """Why a mark sent against an older version of ``item`` was refused."""
    who = item.checked_by.display_name if item.checked_by is not None else "其他人"
    when = (
        f"于 {timezone.localtime(item.checked_at):%m-%d %H:%M} "
        if item.checked_at is not None
        else ""
    )
    state = (
        f"标记为“{item.get_result_display()}”"
        if item.is_done
        else f"改回“{item.get_result_display()}”"
    )
    return (
        f"“{item.employer.name}”已被{who}{when}{state}，您看到的不是最新情况，"
        "本次标记未保存。请核对后再标记。"
    )


def _apply_mark(item: VerificationItem, *, user: User, result: str, note: str) -> dict[str, Any]:
    """Change ``item`` in memory; returns the audit row's ``before``."""
    before = {"result": item.result, "note": item.note}
    if result != item.result:
        item.applied = False
    item.result = result
    item.note = note
    item.version += 1
    if result == VerificationResult.PENDING:
        item.checked_by = None
        item.checked_at = None
    else:
        item.checked_by = user
        item.checked_at = timezone.now()
    return before


_MARK_FIELDS = ["result", "note", "version", "applied", "checked_by", "checked_at"]


def _locked_items(campaign: VerificationCampaign) -> Any:
    return (
        VerificationItem.objects.select_for_update(of=("self",))
        .filter(campaign=campaign)
        .select_related("employer", "checked_by")
    )


@transaction.atomic
def item_mark(
    *,
    acting_user: User,
    item: VerificationItem,
    result: str,
    note: str = "",
    version: int | None = None,
) -> VerificationItem:
    """Record what the check of one employer found (``pending`` takes a mark back).

    ``version`` is the item's version the person saw; when the item changed since, the mark is
    refused with ``VersionConflict`` naming who changed it to what."""
    campaign = _lock(item.campaign)
    item = _locked_items(campaign).get(pk=item.pk)
    item.campaign = campaign
    if not may_mark(acting_user, item):
        raise _refuse_mark(item)
    if not campaign.is_open:
        raise _state_error(campaign, "result", "标记")
    result = _clean_result(result, allow_pending=True)
    note = _clean_note(note)
    if version is not None and version != item.version:
        raise VersionConflict({"version": conflict_message(item)}, code="conflict")
    if result == item.result and note == item.note:
        return item
    before = _apply_mark(item, user=acting_user, result=result, note=note)
    item.save(update_fields=_MARK_FIELDS)
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=item,
        before=before,
        after={"result": item.result, "note": item.note},
        detail={"campaign": campaign.pk, "version": item.version},
    )
    return item


@dataclass
class BulkMarkResult:
    marked: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)  # employers changed by someone else


@transaction.atomic
def items_mark(
    *,
    acting_user: User,
    campaign: VerificationCampaign,
    item_ids: Sequence[int],
    result: str,
    note: str = "",
    versions: Mapping[int, int] | None = None,
) -> BulkMarkResult:
    """Mark every chosen item of ``campaign`` with one finding. Items whose version differs
    from ``versions[id]`` (changed by someone else since the page was shown) are left alone
    and named in ``conflicts``."""
    campaign = _lock(campaign)
    wanted = sorted(set(item_ids))
    if not wanted:
        raise ValidationError({"ids": "请先勾选要标记的单位"})
    items = list(_locked_items(campaign).filter(pk__in=wanted).order_by("employer__name", "id"))
    if len(items) != len(wanted):
        raise ValidationError({"ids": "勾选的单位有的不属于本次核查，请刷新页面后重试"})
    cadre = allowed(acting_user, Action.CHANGE, campaign)
    for item in items:
        item.campaign = campaign
        if not cadre and not may_mark(acting_user, item):
            raise _refuse_mark(item)
    if not campaign.is_open:
        raise _state_error(campaign, "result", "标记")
    result = _clean_result(result, allow_pending=False)
    note = _clean_note(note)
    outcome = BulkMarkResult()
    now = timezone.now()
    # Items whose finding changes lose their "applied"; those whose note alone changes keep it.
    new_finding: list[int] = []
    new_note: list[int] = []
    entries: list[AuditEntry] = []
    for item in items:
        seen = (versions or {}).get(item.pk)
        if seen is not None and seen != item.version:
            outcome.conflicts.append(item.employer.name)
            continue
        if item.result == result and item.note == note:
            outcome.unchanged += 1
            continue
        (new_finding if item.result != result else new_note).append(item.pk)
        entries.append(
            build_entry(
                action=AuditAction.CHANGE,
                actor=acting_user,
                obj=item,
                before={"result": item.result, "note": item.note},
                after={"result": result, "note": note},
                detail={"campaign": campaign.pk, "version": item.version + 1, "bulk": True},
            )
        )
    # One statement per group (a per-row bulk update costs far more to build than to run).
    marked = {
        "result": result,
        "note": note,
        "checked_by": acting_user,
        "checked_at": now,
        "version": F("version") + 1,
    }
    for ids, extra in ((new_finding, {"applied": False}), (new_note, {})):
        for chunk in _chunks(ids):
            VerificationItem.objects.filter(pk__in=chunk).update(**marked, **extra)
    AuditEntry.objects.bulk_create(entries, batch_size=_CHUNK)
    outcome.marked = len(entries)
    return outcome


# --- Writing the findings to the employer registry


@dataclass
class ApplyResult:
    changed: int = 0  # employers whose status the finding changed
    confirmed: int = 0  # findings that matched the registry already
    out_of_scope: int = 0  # employers the acting cadre may no longer change: left as they are
    transitions: dict[str, int] = field(default_factory=dict)  # "active→moved_away": n


def _apply(acting_user: User, campaign: VerificationCampaign) -> ApplyResult:
    waiting = VerificationItem.objects.filter(campaign=campaign, applied=False).exclude(
        result=VerificationResult.PENDING
    )
    items = list(
        waiting.order_by("id").values_list(
            "employer_id",
            "result",
            "note",
            "checked_by__full_name",
            "checked_by__username",
            "checked_at",
        )
    )
    outcome = ApplyResult()
    if not items:
        return outcome
    # The employers the cadre may still change, locked, read as plain values (the audit rows
    # are built from them without model instances: a county's campaign has thousands).
    employers = {
        pk: (status, name, owner_path)
        for pk, status, name, owner_path in Employer.objects.restrict(acting_user, Action.CHANGE)
        .filter(pk__in=waiting.values("employer_id"))
        .select_for_update(of=("self",))
        .values_list("pk", "status", "name", "owner__path")
    }
    now = timezone.now()
    moves: dict[str, list[int]] = {}
    entries: list[AuditEntry] = []
    transitions: Counter[str] = Counter()
    outside: list[int] = []
    label = Employer._meta.label_lower
    for employer_id, result, note, checker_name, checker_username, checked_at in items:
        found = employers.get(employer_id)
        if found is None:
            outside.append(employer_id)
            continue
        status, name, owner_path = found
        if status == result:
            outcome.confirmed += 1
            continue
        moves.setdefault(result, []).append(employer_id)
        transitions[f"{status}→{result}"] += 1
        entries.append(
            build_entry(
                action=AuditAction.CHANGE,
                actor=acting_user,
                object_type=label,
                object_id=str(employer_id),
                object_repr=name,
                union_path=owner_path,
                before={"status": status},
                after={"status": result},
                detail={
                    "verification": campaign.pk,
                    "campaign": campaign.name,
                    "checked_by": checker_name or checker_username or "",
                    "checked_at": checked_at,
                    "note": note,
                },
            )
        )
    for status, ids in moves.items():
        for chunk in _chunks(ids):
            Employer.objects.filter(pk__in=chunk).update(status=status, updated_at=now)
    AuditEntry.objects.bulk_create(entries, batch_size=_CHUNK)
    done = waiting.exclude(employer_id__in=outside) if outside else waiting
    done.update(applied=True)
    outcome.changed = len(entries)
    outcome.out_of_scope = len(outside)
    outcome.transitions = dict(transitions)
    if outcome.changed or outcome.confirmed:
        record(
            action=AuditAction.CHANGE,
            actor=acting_user,
            obj=campaign,
            detail={
                "applied": {
                    "changed": outcome.changed,
                    "confirmed": outcome.confirmed,
                    "transitions": outcome.transitions,
                },
                "out_of_scope": outcome.out_of_scope,
            },
        )
    return outcome


@transaction.atomic
def campaign_apply(*, acting_user: User, campaign: VerificationCampaign) -> ApplyResult:
    """Write the findings not yet written to the employer registry: each employer whose status
    differs gets the finding, with an audit row (its history). Applying again writes nothing."""
    require(acting_user, Action.CHANGE, campaign)
    campaign = _lock(campaign)
    if campaign.is_draft:
        raise _state_error(campaign, "state", "更新登记状态")
    return _apply(acting_user, campaign)


@transaction.atomic
def campaign_close(*, acting_user: User, campaign: VerificationCampaign) -> ApplyResult:
    """End the checking and write its findings to the registry (``campaign_apply``). Items
    still pending stay unchecked; the campaign may be reopened."""
    require(acting_user, Action.CHANGE, campaign)
    campaign = _lock(campaign)
    if not campaign.is_open:
        raise _state_error(campaign, "state", "结束")
    outcome = _apply(acting_user, campaign)
    campaign.state = CampaignState.CLOSED
    campaign.closed_at = timezone.now()
    campaign.closed_by = acting_user
    campaign.save(update_fields=["state", "closed_at", "closed_by"])
    pending = VerificationItem.objects.filter(
        campaign=campaign, result=VerificationResult.PENDING
    ).count()
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=campaign,
        before={"state": CampaignState.OPEN},
        after={"state": campaign.state},
        detail={"pending_left": pending, "changed": outcome.changed},
    )
    return outcome


@transaction.atomic
def campaign_reopen(*, acting_user: User, campaign: VerificationCampaign) -> VerificationCampaign:
    """Open a closed campaign again; findings changed from now on are written at the next
    close (those already written stay)."""
    require(acting_user, Action.CHANGE, campaign)
    campaign = _lock(campaign)
    if not campaign.is_closed:
        raise _state_error(campaign, "state", "重新开始")
    campaign.state = CampaignState.OPEN
    campaign.closed_at = None
    campaign.closed_by = None
    campaign.save(update_fields=["state", "closed_at", "closed_by"])
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=campaign,
        before={"state": CampaignState.CLOSED},
        after={"state": campaign.state},
    )
    return campaign


# --- Hooks into the organisation registry


def _campaigns_block_deletion(union: Union) -> str | None:
    count = VerificationCampaign.objects.filter(union=union).count()
    return f"有 {count} 次用人单位核查" if count else None


def register_org_hooks() -> None:
    from niangjia.orgs import rules

    if _campaigns_block_deletion not in rules.DELETION_CHECKS:
        rules.DELETION_CHECKS.append(_campaigns_block_deletion)
