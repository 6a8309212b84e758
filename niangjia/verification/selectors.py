"""Reads of employer verification campaigns, always through the scope choke point.

Campaigns are seen by the cadres of the campaign's union and above (``union__path``); an item
also by the cadres of its employer, so that a township's staff checking the employers of their
own street in a county's campaign find their items ("我的核查任务").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from niangjia.accounts.choices import ROLE_ACTIONS, Action
from niangjia.accounts.models import RoleAssignment, User
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs.choices import EmployerStatus, UnionStatus
from niangjia.orgs.models import Employer, Region, Union
from niangjia.orgs.selectors import region_code_prefix
from niangjia.orgs.validators import normalize_uscc
from niangjia.utilities.querysets import scope_q
from niangjia.verification.choices import FINDINGS, CampaignState, VerificationResult
from niangjia.verification.models import VerificationCampaign, VerificationItem

# Roles whose holders may change employers: the staff a campaign's items can be given to.
CHANGE_ROLES = tuple(role for role, actions in ROLE_ACTIONS.items() if Action.CHANGE in actions)

# --- Selecting the employers of a campaign


@dataclass(frozen=True)
class EmployerFilters:
    """Which employers of the subtree a new campaign checks; empty values mean "any"."""

    region: Region | None = None
    status: str = ""
    industry_section: str = ""
    ownership: str = ""
    min_headcount: int | None = None
    organised: bool | None = None

    def as_fields(self) -> dict[str, Any]:
        """The campaign's own fields recording these filters."""
        return {
            "region": self.region,
            "employer_status": self.status,
            "industry_section": self.industry_section,
            "ownership": self.ownership,
            "min_headcount": self.min_headcount,
            "organised": self.organised,
        }

    @classmethod
    def of(cls, campaign: VerificationCampaign) -> EmployerFilters:
        return cls(
            region=campaign.region,
            status=campaign.employer_status,
            industry_section=campaign.industry_section,
            ownership=campaign.ownership,
            min_headcount=campaign.min_headcount,
            organised=campaign.organised,
        )


def campaign_employers(*, user: Any, union: Union, filters: EmployerFilters) -> QuerySet[Employer]:
    """The employers a campaign of ``union`` checks: those registered or covered anywhere in
    its subtree that ``user`` may change, narrowed by ``filters``."""
    employers = Employer.objects.restrict(user, Action.CHANGE).filter(
        scope_q(Employer, [union.path])
    )
    if filters.region is not None:
        employers = employers.filter(region__code__startswith=region_code_prefix(filters.region))
    if filters.status:
        employers = employers.filter(status=filters.status)
    if filters.industry_section:
        employers = employers.filter(industry_section=filters.industry_section)
    if filters.ownership:
        employers = employers.filter(ownership=filters.ownership)
    if filters.min_headcount:
        employers = employers.filter(headcount__gte=filters.min_headcount)
    if filters.organised is not None:
        employers = employers.filter(covering_union__isnull=not filters.organised)
    return employers


# --- Campaigns


def campaign_list(
    *, user: Any, state: str | None = None, q: str | None = None
) -> QuerySet[VerificationCampaign]:
    """Campaigns ``user`` sees, newest first, each with ``done_count`` (items marked)."""
    campaigns = (
        VerificationCampaign.objects.restrict(user, Action.VIEW)
        .select_related("union", "created_by")
        .annotate(done_count=Count("items", filter=~Q(items__result=VerificationResult.PENDING)))
    )
    if state:
        campaigns = campaigns.filter(state=state)
    if q and q.strip():
        campaigns = campaigns.filter(name__icontains=q.strip())
    return campaigns.order_by("-created_at", "-id")


@dataclass
class Tally:
    """Items of one person (or of nobody, ``user_id`` None), by result."""

    user_id: int | None
    name: str
    by_result: dict[str, int] = field(default_factory=dict)

    @property
    def assigned(self) -> int:
        return sum(self.by_result.values())

    @property
    def pending(self) -> int:
        return self.by_result.get(VerificationResult.PENDING, 0)

    @property
    def done(self) -> int:
        return self.assigned - self.pending

    @property
    def percent(self) -> int:
        """Share done, rounded down (100 only when everything is done)."""
        return self.done * 100 // self.assigned if self.assigned else 0

    def count(self, result: str) -> int:
        return self.by_result.get(result, 0)

    @property
    def findings(self) -> list[tuple[str, str, int]]:
        """(value, label, count) of each finding, in button order."""
        return [(r.value, r.label, self.count(r)) for r in FINDINGS]


@dataclass
class Progress:
    overall: Tally
    people: list[Tally]
    unassigned: Tally


def campaign_progress(campaign: VerificationCampaign) -> Progress:
    """Overall and per-person counts of ``campaign``: two queries whatever its size."""
    rows = (
        VerificationItem.objects.filter(campaign=campaign)
        .order_by()
        .values("assignee_id", "result")
        .annotate(n=Count("pk"))
    )
    overall = Tally(user_id=None, name="合计")
    unassigned = Tally(user_id=None, name="未分配")
    by_user: dict[int, Tally] = {}
    for row in rows:
        result, n = row["result"], row["n"]
        overall.by_result[result] = overall.by_result.get(result, 0) + n
        if row["assignee_id"] is None:
            tally = unassigned
        else:
            tally = by_user.setdefault(
                row["assignee_id"], Tally(user_id=row["assignee_id"], name="")
            )
        tally.by_result[result] = tally.by_result.get(result, 0) + n
    names = {
        u["pk"]: u["full_name"] or u["username"]
        for u in User.objects.filter(pk__in=by_user).values("pk", "full_name", "username")
    }
    for user_id, tally in by_user.items():
        tally.name = names.get(user_id, "")
    people = sorted(by_user.values(), key=lambda t: (t.name, t.user_id or 0))
    return Progress(overall=overall, people=people, unassigned=unassigned)


# --- Items


@dataclass(frozen=True)
class ItemFilters:
    assignee: int | None = None  # a user's id
    unassigned: bool = False
    result: str = ""
    pending_only: bool = False
    q: str = ""


def _search(items: QuerySet[VerificationItem], q: str) -> QuerySet[VerificationItem]:
    q = q.strip()
    if not q:
        return items
    condition = Q(employer__name__icontains=q)
    code = normalize_uscc(q)
    if code:
        condition |= Q(employer__uscc__startswith=code)
    return items.filter(condition)


def item_queryset(user: Any, action: str = Action.VIEW) -> QuerySet[VerificationItem]:
    return VerificationItem.objects.restrict(user, action).select_related(
        "campaign",
        "employer__region",
        "employer__owner",
        "employer__covering_union",
        "assignee",
        "checked_by",
    )


def campaign_items(
    *, user: Any, campaign: VerificationCampaign, filters: ItemFilters | None = None
) -> QuerySet[VerificationItem]:
    """The items of ``campaign`` that ``user`` sees, by employer name."""
    filters = filters or ItemFilters()
    items = item_queryset(user).filter(campaign=campaign)
    if filters.unassigned:
        items = items.filter(assignee__isnull=True)
    elif filters.assignee is not None:
        items = items.filter(assignee_id=filters.assignee)
    if filters.pending_only:
        items = items.filter(result=VerificationResult.PENDING)
    elif filters.result:
        items = items.filter(result=filters.result)
    return _search(items, filters.q).order_by("employer__name", "id")


def my_items(*, user: Any, pending_only: bool = True, q: str = "") -> QuerySet[VerificationItem]:
    """The items given to ``user`` in campaigns under way, by campaign and employer name."""
    items = item_queryset(user).filter(assignee=user, campaign__state=CampaignState.OPEN)
    if pending_only:
        items = items.filter(result=VerificationResult.PENDING)
    return _search(items, q).order_by("campaign__due_date", "campaign_id", "employer__name", "id")


def my_open_counts(user: Any) -> dict[str, int]:
    """How many of ``user``'s items in campaigns under way are waiting, and done."""
    counts = (
        VerificationItem.objects.restrict(user, Action.VIEW)
        .filter(assignee=user, campaign__state=CampaignState.OPEN)
        .order_by()
        .aggregate(
            total=Count("pk"), pending=Count("pk", filter=Q(result=VerificationResult.PENDING))
        )
    )
    total, pending = counts["total"] or 0, counts["pending"] or 0
    return {"total": total, "pending": pending, "done": total - pending}


def employer_checks(
    *, user: Any, employer: Employer, exclude: VerificationItem | None = None
) -> list[VerificationItem]:
    """The employer's items in other campaigns ``user`` sees, newest first."""
    items = (
        VerificationItem.objects.restrict(user, Action.VIEW)
        .filter(employer=employer)
        .select_related("campaign", "checked_by")
        .order_by("-campaign__created_at", "-id")
    )
    if exclude is not None:
        items = items.exclude(pk=exclude.pk)
    return list(items[:20])


# --- Staff


@dataclass(frozen=True)
class StaffMember:
    """A person who may be given items of a campaign: holds a role that may change employers
    on a union in the campaign's subtree. ``paths`` are those unions' tree paths."""

    user: User
    paths: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.user.display_name

    def may_check(self, owner_path: str, covering_path: str | None) -> bool:
        """Is an employer registered at ``owner_path`` (covered at ``covering_path``) within
        this person's scope?"""
        return any(
            owner_path.startswith(p) or (covering_path or "\0").startswith(p) for p in self.paths
        )


def campaign_staff(campaign: VerificationCampaign) -> list[StaffMember]:
    """Everyone the campaign's items may be given to, those holding their role highest in the
    tree first, then by name."""
    roles = (
        RoleAssignment.objects.filter(
            union__path__startswith=campaign.union.path,
            union__status=UnionStatus.ACTIVE,
            role__in=CHANGE_ROLES,
            user__is_active=True,
        )
        .order_by()
        .values_list("user_id", "union__path")
    )
    paths: dict[int, set[str]] = {}
    for user_id, path in roles:
        paths.setdefault(user_id, set()).add(path)
    users = User.objects.filter(pk__in=paths)
    staff = [StaffMember(user=u, paths=tuple(sorted(paths[u.pk]))) for u in users]
    return sorted(staff, key=lambda s: (min(len(p) for p in s.paths), s.name, s.user.pk))


def staff_by_id(staff: Iterable[StaffMember]) -> dict[int, StaffMember]:
    return {s.user.pk: s for s in staff}


# --- Closing


@dataclass(frozen=True)
class Transition:
    from_status: str
    to_status: str
    count: int

    @property
    def from_label(self) -> str:
        return EmployerStatus(self.from_status).label

    @property
    def to_label(self) -> str:
        return EmployerStatus(self.to_status).label


@dataclass
class CloseSummary:
    """What closing ``campaign`` would write to the employer registry."""

    pending: int
    unchanged: int
    changes: int
    out_of_scope: int
    transitions: list[Transition]
    samples: list[VerificationItem]


CLOSE_SAMPLES = 200


def close_summary(*, user: Any, campaign: VerificationCampaign) -> CloseSummary:
    """The findings not yet written to the registry, split into those that change an
    employer's status (by transition) and those that confirm it."""
    waiting = VerificationItem.objects.filter(campaign=campaign, applied=False).exclude(
        result=VerificationResult.PENDING
    )
    writable = Employer.objects.restrict(user, Action.CHANGE).filter(
        pk__in=waiting.values("employer_id")
    )
    in_scope = waiting.filter(employer__in=writable)
    differs = in_scope.exclude(result=F("employer__status"))
    rows = (
        differs.order_by()
        .values("employer__status", "result")
        .annotate(n=Count("pk"))
        .order_by("employer__status", "result")
    )
    transitions = [Transition(r["employer__status"], r["result"], r["n"]) for r in rows]
    changes = sum(t.count for t in transitions)
    total_in_scope = in_scope.count()
    samples = list(
        differs.select_related("employer", "checked_by").order_by("employer__name", "id")[
            :CLOSE_SAMPLES
        ]
    )
    return CloseSummary(
        pending=VerificationItem.objects.filter(
            campaign=campaign, result=VerificationResult.PENDING
        ).count(),
        unchanged=total_in_scope - changes,
        changes=changes,
        out_of_scope=waiting.count() - total_in_scope,
        transitions=transitions,
        samples=samples,
    )


def user_names(ids: Sequence[int]) -> dict[int, str]:
    return {
        u.pk: u.display_name for u in User.objects.filter(pk__in=ids).only("full_name", "username")
    }


# --- A campaign's own history


@dataclass(frozen=True)
class HistoryLine:
    entry: AuditEntry
    text: str


def _describe(entry: AuditEntry) -> str:
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    before = entry.before if isinstance(entry.before, dict) else {}
    if entry.action == AuditAction.CREATE:
        return f"发起核查，共 {detail.get('items', 0)} 家单位"
    if entry.action == AuditAction.EXPORT:
        return f"导出 Excel（{detail.get('rows', 0)} 行）"
    if after.get("state") == CampaignState.OPEN:
        return "重新开始核查" if before.get("state") == CampaignState.CLOSED else "开始核查"
    if after.get("state") == CampaignState.CLOSED:
        text = "结束核查"
        if detail.get("pending_left"):
            text += f"（{detail['pending_left']} 家未核查）"
        return text
    if "split" in detail:
        shares = "、".join(f"{name} {n} 家" for name, n in detail["split"].items() if n)
        return f"分配核查任务：{shares or '没有可分配的单位'}"
    if "assigned_to" in detail:
        if detail["assigned_to"]:
            return f"把 {detail.get('items', 0)} 家单位分配给{detail['assigned_to']}"
        return f"取消 {detail.get('items', 0)} 家单位的分配"
    if "applied" in detail:
        applied = detail["applied"]
        return (
            f"更新登记状态：{applied.get('changed', 0)} 家改变，"
            f"{applied.get('confirmed', 0)} 家维持原状态"
        )
    return str(entry.get_action_display())


def campaign_history(campaign: VerificationCampaign, *, limit: int = 30) -> list[HistoryLine]:
    """What was done to ``campaign`` (not to its items), newest first, in words."""
    entries = AuditEntry.objects.filter(
        object_type=VerificationCampaign._meta.label_lower, object_id=str(campaign.pk)
    ).order_by("-time", "-id")[:limit]
    return [HistoryLine(entry=e, text=_describe(e)) for e in entries]


def _status_label(value: Any) -> str:
    labels = dict(VerificationResult.choices)
    return str(labels.get(value, value or "—"))


def employer_history(employer: Employer, *, limit: int = 30) -> list[HistoryLine]:
    """The employer's registry history (its audit rows, newest first), in words; a status
    written by a verification names the campaign, the checker and the note."""
    from niangjia.orgs.queries import object_history

    lines = []
    for row in object_history(Employer, employer.pk, limit=limit):
        entry = row.entry
        detail = entry.detail if isinstance(entry.detail, dict) else {}
        before = entry.before if isinstance(entry.before, dict) else {}
        after = entry.after if isinstance(entry.after, dict) else {}
        if entry.action == AuditAction.CREATE:
            text = "登记"
        elif "status" in after:
            text = f"登记状态：{_status_label(before.get('status'))} → {_status_label(after['status'])}"
            others = [f for f in row.fields if f != "登记状态"]
            if others:
                text += "；另改了" + "、".join(others)
            if detail.get("campaign"):
                text += f"（核查“{detail['campaign']}”"
                if detail.get("checked_by"):
                    text += f"，{detail['checked_by']}核查"
                if detail.get("note"):
                    text += f"：{detail['note']}"
                text += "）"
        elif row.fields:
            text = "修改了" + "、".join(row.fields)
        else:
            text = row.note or str(entry.get_action_display())
        lines.append(HistoryLine(entry=entry, text=text))
    return lines


def item_history(item: VerificationItem, *, limit: int = 30) -> list[HistoryLine]:
    """The marks of one item, newest first, in words."""
    entries = AuditEntry.objects.filter(
        object_type=VerificationItem._meta.label_lower, object_id=str(item.pk)
    ).order_by("-time", "-id")[:limit]
    lines = []
    for entry in entries:
        before = entry.before if isinstance(entry.before, dict) else {}
        after = entry.after if isinstance(entry.after, dict) else {}
        text = f"{_status_label(before.get('result'))} → {_status_label(after.get('result'))}"
        if before.get("result") == after.get("result"):
            text = f"核查结果仍为“{_status_label(after.get('result'))}”"
        if after.get("note") != before.get("note"):
            text += f"，备注：{after.get('note') or '（清空）'}"
        lines.append(HistoryLine(entry=entry, text=text))
    return lines
