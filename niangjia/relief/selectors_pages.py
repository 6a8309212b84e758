"""Page-shaped reads of the relief pages, beyond ``niangjia.relief.selectors``: everything a
household file's page shows, in a fixed number of queries, and the small look-ups of the
forms. Every read acting for a user starts from ``restrict(user, action)``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, QuerySet, Sum

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.relief import selectors
from niangjia.relief.choices import (
    OPEN_STATES,
    AssistanceState,
    FileState,
    MeasureState,
    ObjectionState,
    WatchState,
)
from niangjia.relief.models import (
    Assistance,
    AssistanceRule,
    Attachment,
    BatchPayment,
    CategoryRule,
    FileEvent,
    FilePerson,
    Fund,
    HardshipFile,
    HouseholdMember,
    IncomeCheck,
    LivingThreshold,
    Objection,
    PlanMeasure,
    RelapseCheck,
    RelapseWatch,
    ReliefPlan,
)
from niangjia.relief.services.common import require_review_level
from niangjia.relief.services.rules import threshold_for


@dataclass
class FilePage:
    """What a household file's page shows."""

    file: HardshipFile
    members: list[HouseholdMember]
    events: list[FileEvent]
    attachments: list[Attachment]
    objections: list[Objection]
    plan: ReliefPlan | None
    measures: list[PlanMeasure]
    assistance: list[Assistance]
    batch_payments: list[BatchPayment]
    income_checks: list[IncomeCheck]
    watch: RelapseWatch | None
    relapse_checks: list[RelapseCheck]
    threshold: Decimal | None
    relapses: list[HardshipFile]
    totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def open_objections(self) -> list[Objection]:
        return [o for o in self.objections if o.state == ObjectionState.OPEN]

    @property
    def next_relapse_check(self) -> RelapseCheck | None:
        if self.watch is None or self.watch.state != WatchState.WATCHING:
            return None
        return next((c for c in self.relapse_checks if c.checked_on is None), None)


def file_page(*, user: Any, file: HardshipFile, today: datetime.date) -> FilePage:
    """Everything of ``file`` (already scoped) for its page."""
    file = HardshipFile.objects.select_related(
        "union", "city_region", "member", "relapse_of", "created_by", "employer"
    ).get(pk=file.pk)
    plan = ReliefPlan.objects.filter(file=file).first()
    measures = (
        list(PlanMeasure.objects.filter(plan=plan).select_related("responsible_union"))
        if plan is not None
        else []
    )
    watch = RelapseWatch.objects.filter(file=file).select_related("relapse_file").first()
    assistance = list(
        Assistance.objects.filter(file=file).select_related(
            "fund", "created_by", "approved_by", "second_approved_by"
        )
    )
    paid = [a for a in assistance if a.state == AssistanceState.PAID]
    totals = {
        "paid_amount": sum((a.amount for a in paid), Decimal(0)),
        "paid_in_kind": sum((a.in_kind_value for a in paid), Decimal(0)),
        "paid_count": Decimal(len(paid)),
    }
    return FilePage(
        file=file,
        members=list(HouseholdMember.objects.filter(file=file).order_by("id")),
        events=list(FileEvent.objects.filter(file=file).order_by("created_at", "id")),
        attachments=list(Attachment.objects.filter(file=file).select_related("uploaded_by")),
        objections=list(Objection.objects.filter(file=file).select_related("resolved_by")),
        plan=plan,
        measures=measures,
        assistance=assistance,
        batch_payments=list(
            BatchPayment.objects.filter(file=file).select_related("batch").order_by("-id")
        ),
        income_checks=list(IncomeCheck.objects.filter(file=file).order_by("-month")[:12]),
        watch=watch,
        relapse_checks=list(RelapseCheck.objects.filter(watch=watch)) if watch else [],
        threshold=threshold_for(file.city_region_id, today.year),
        relapses=list(HardshipFile.objects.restrict(user, Action.VIEW).filter(relapse_of=file)),
        totals=totals,
    )


def may_review(user: Any, file: HardshipFile) -> bool:
    """May ``user`` take the county worker service centre's steps on ``file``?"""
    try:
        require_review_level(user, file, "")
    except PermissionDenied:
        return False
    return True


def may_approve_funds(user: Any, union_path: str) -> bool:
    return any(union_path.startswith(p) for p in paths_for(user, Action.APPROVE_FUNDS))


def spendable_funds(user: Any, file: HardshipFile, year: int) -> QuerySet[Fund]:
    """Funds ``user`` may pay ``file``'s assistance from: held by a union above or at the
    file's union, in the user's change scope, of this year or the last."""
    ancestors = [file.union_path[:i] for i in range(4, len(file.union_path) + 1, 4)]
    return (
        Fund.objects.restrict(user, Action.CHANGE)
        .filter(union__path__in=ancestors, year__in=[year, year - 1])
        .select_related("union")
        .order_by("-year", "union__depth", "name")
    )


def state_counts(files: QuerySet[HardshipFile]) -> dict[str, int]:
    """Files per state (one GROUP BY)."""
    rows = files.order_by().values("state").annotate(n=Count("id"))
    return {row["state"]: row["n"] for row in rows}


def open_count(counts: dict[str, int]) -> int:
    return sum(n for state, n in counts.items() if state in OPEN_STATES)


def plan_measures(
    *, user: Any, within: str = "", assistance_type: str = ""
) -> QuerySet[PlanMeasure]:
    """Measures of the plans ``user`` sees (by the file's union or the responsible union)."""
    measures = PlanMeasure.objects.restrict(user, Action.VIEW).select_related(
        "plan__file__union", "responsible_union"
    )
    if within:
        measures = measures.filter(plan__file__union_path__startswith=within)
    if assistance_type:
        measures = measures.filter(assistance_type=assistance_type)
    return measures.order_by("deadline", "id")


MEASURE_COLUMNS = (
    MeasureState.PLANNED,
    MeasureState.IN_PROGRESS,
    MeasureState.DONE,
    MeasureState.CANCELLED,
)


def assistance_queue(*, user: Any) -> dict[str, QuerySet[Assistance]]:
    """Records waiting: for a first approval (cadres), a second one (finance), payment."""
    visible = Assistance.objects.restrict(user, Action.VIEW).select_related(
        "file", "fund", "created_by", "approved_by"
    )
    return {
        "pending": visible.filter(state=AssistanceState.PENDING).order_by("created_at", "id"),
        "second": visible.filter(state=AssistanceState.SECOND_PENDING).order_by(
            "approved_at", "id"
        ),
        "approved": visible.filter(state=AssistanceState.APPROVED).order_by("approved_at", "id"),
    }


def queue_counts(queues: dict[str, QuerySet[Assistance]]) -> dict[str, int]:
    return {key: qs.count() for key, qs in queues.items()}


def fund_totals(funds: QuerySet[Fund]) -> dict[str, Any]:
    return funds.aggregate(balance=Sum("balance"), count=Count("id"))


def _above_and_within(model: Any, user: Any) -> Any:
    """Rows held by a union in ``user``'s scope, or by one above it: the thresholds and rules
    that apply to the user's unions are set by the city, province or national federation."""
    ancestors = {p[:i] for p in paths_for(user, Action.VIEW) for i in range(4, len(p) + 1, 4)}
    if not ancestors:
        return model.objects.none()
    return model.objects.filter(union__path__in=ancestors) | model.objects.restrict(
        user, Action.VIEW
    )


def thresholds(*, user: Any) -> QuerySet[LivingThreshold]:
    rows: QuerySet[LivingThreshold] = _above_and_within(LivingThreshold, user)
    return rows.select_related("region", "union", "updated_by").order_by("region__code", "-year")


def category_rules(*, user: Any) -> QuerySet[CategoryRule]:
    rows: QuerySet[CategoryRule] = _above_and_within(CategoryRule, user)
    return rows.select_related("province", "union").order_by("province__code", "-valid_from")


def assistance_rules(*, user: Any) -> QuerySet[AssistanceRule]:
    rows: QuerySet[AssistanceRule] = _above_and_within(AssistanceRule, user)
    return rows.select_related("province", "union").order_by(
        "province__code", "-year", "assistance_type"
    )


__all__ = [
    "FilePage",
    "FileState",
    "file_page",
]


# --- The workbench's list: ``selectors.file_list`` with the search by ID number and two
# filters of the page on top


@dataclass(frozen=True)
class FileFilters:
    state: str = ""  # a FileState, or "open"
    category: str = ""
    cause: str = ""  # the main cause
    level: str = ""
    review: str = ""  # "overdue" | "due" (within 30 days)
    relapse: str = ""  # "yes": opened after a relapse | "watch": in the relapse register
    exit: str = ""  # "proposed" | "close_overdue"
    within: Any = None  # a Union
    name: str = ""
    id_hash: str = ""


def file_rows(
    *, user: Any, filters: FileFilters, today: datetime.date, action: str = Action.VIEW
) -> QuerySet[HardshipFile]:
    """The files ``user`` may ``action`` under ``filters``, newest first."""
    from django.db.models import Q

    f = filters
    files = selectors.file_list(
        user=user,
        action=action,
        filters=selectors.FileFilters(
            category=f.category,
            cause=f.cause,
            level=f.level,
            state=f.state,
            overdue_review=f.review == "overdue",
            relapse=f.relapse == "yes",
            exit_proposed=f.exit == "proposed",
            close_overdue=f.exit == "close_overdue",
            within=f.within,
            q=f.name,
        ),
    )
    if f.review == "due":
        files = files.filter(
            state=FileState.FILED,
            review_due_on__gte=today,
            review_due_on__lte=today + datetime.timedelta(days=30),
        )
    if f.relapse == "watch":
        files = files.filter(relapse_watch__state=WatchState.WATCHING)
    elif f.relapse == "due":
        due = RelapseCheck.objects.filter(
            watch__file=OuterRef("pk"),
            watch__state=WatchState.WATCHING,
            checked_on__isnull=True,
            due_on__lte=today,
        )
        files = files.filter(Exists(due))
    if f.id_hash:
        # The worker or any household member with that ID number (past files included).
        people = FilePerson.objects.filter(id_hash=f.id_hash).values("file_id")
        files = files.filter(Q(id_hash=f.id_hash) | Q(pk__in=people))
    return files


def approvals_waiting(*, user: Any) -> QuerySet[Assistance]:
    """Records waiting for this user: pending ones recorded by someone else (cadres), and
    those waiting for a finance officer's second approval (finance role). As
    ``selectors.approvals_waiting``, with the two sets joined by OR rather than UNION, which
    SQLite refuses over the model's default ordering."""
    from django.db.models import Q

    pending = (
        Assistance.objects.restrict(user, Action.CHANGE)
        .filter(state=AssistanceState.PENDING)
        .exclude(created_by=user)
        .order_by()
        .values("pk")
    )
    second = (
        Assistance.objects.restrict(user, Action.APPROVE_FUNDS)
        .filter(state=AssistanceState.SECOND_PENDING)
        .exclude(Q(approved_by=user) | Q(created_by=user))
        .order_by()
        .values("pk")
    )
    return (
        Assistance.objects.filter(Q(pk__in=pending) | Q(pk__in=second))
        .select_related("file", "fund", "created_by")
        .order_by("date", "id")
    )
