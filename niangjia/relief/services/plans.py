"""Writes about the household plan (一户一策): its goal and its measures with their progress."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.choices import UnionStatus
from niangjia.orgs.models import Union
from niangjia.relief.choices import AssistanceType, EventKind, FileState, MeasureState
from niangjia.relief.models import HardshipFile, PlanMeasure, ReliefPlan
from niangjia.relief.services.common import bump, check_version, event, locked, today
from niangjia.utilities.scoping import allowed, require

PLANNABLE_STATES = (FileState.REVIEWED, FileState.PUBLICITY, FileState.FILED)


def _text(value: str, name: str, label: str, limit: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ValidationError({name: f"请填写{label}"})
    if len(text) > limit:
        raise ValidationError({name: f"{label}不能超过 {limit} 个字"})
    return text


@transaction.atomic
def plan_save(
    *, file: HardshipFile, goal: str, acting_user: User, version: int | None = None
) -> ReliefPlan:
    """Make the household's plan, or change its goal (from ``version``)."""
    require(acting_user, Action.CHANGE, file)
    if file.state not in PLANNABLE_STATES:
        raise ValidationError(f"档案{file.get_state_display()}，不能制定帮扶计划")
    goal = _text(goal, "goal", "帮扶目标", 500)
    plan = ReliefPlan.objects.filter(file=file).first()
    if plan is None:
        plan = ReliefPlan.objects.create(file=file, goal=goal, created_by=acting_user)
        event(file, EventKind.PLAN, actor=acting_user, text=f"制定帮扶计划：{goal}")
        record(action=AuditAction.CREATE, actor=acting_user, obj=plan, after={"goal": goal})
        return plan
    plan = locked(plan)
    check_version(plan, version)
    before = plan.goal
    plan.goal = goal
    bump(plan)
    plan.save()
    event(file, EventKind.PLAN, actor=acting_user, text=f"调整帮扶目标：{goal}")
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=plan,
        before={"goal": before},
        after={"goal": goal},
    )
    return plan


def _responsible(user: User, file: HardshipFile, union: Union) -> Union:
    if union.status != UnionStatus.ACTIVE:
        raise ValidationError({"responsible_union": f"“{union.name}”已不存续"})
    if not (file.union_path.startswith(union.path) or allowed(user, Action.VIEW, union)):
        raise ValidationError(
            {"responsible_union": "责任工会应为本户所在工会的上级，或您管辖范围内的工会"}
        )
    return union


@transaction.atomic
def measure_add(
    *,
    plan: ReliefPlan,
    assistance_type: str,
    description: str,
    responsible_union: Union,
    deadline: datetime.date,
    acting_user: User,
) -> PlanMeasure:
    """Add a measure: what, by which union, by when."""
    require(acting_user, Action.CHANGE, plan)
    if assistance_type not in AssistanceType.values:
        raise ValidationError({"assistance_type": "帮扶类型：请从列表中选择"})
    if deadline < today():
        raise ValidationError({"deadline": "完成期限不能早于今天"})
    file = plan.file
    measure = PlanMeasure.objects.create(
        plan=plan,
        assistance_type=assistance_type,
        description=_text(description, "description", "措施内容", 300),
        responsible_union=_responsible(acting_user, file, responsible_union),
        deadline=deadline,
    )
    event(
        file,
        EventKind.PLAN,
        actor=acting_user,
        text=f"新增措施（{measure.get_assistance_type_display()}，{responsible_union.name}，"
        f"{deadline:%Y-%m-%d} 前）：{measure.description}",
    )
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=measure,
        after={
            "plan": plan.pk,
            "type": assistance_type,
            "responsible_union": responsible_union.pk,
            "deadline": deadline,
        },
    )
    return measure


ALLOWED_MEASURE_STATES: dict[str, set[str]] = {
    MeasureState.PLANNED: {MeasureState.IN_PROGRESS, MeasureState.DONE, MeasureState.CANCELLED},
    MeasureState.IN_PROGRESS: {MeasureState.DONE, MeasureState.CANCELLED},
    MeasureState.DONE: set(),
    MeasureState.CANCELLED: set(),
}


@transaction.atomic
def measure_update(
    *,
    measure: PlanMeasure,
    acting_user: User,
    version: int,
    progress: str = "",
    state: str | None = None,
    deadline: datetime.date | None = None,
) -> PlanMeasure:
    """Report progress on a measure (the file's union or the responsible union), move its
    state on, or set a new deadline; from ``version`` (a stale one is refused)."""
    require(acting_user, Action.CHANGE, measure)
    measure = locked(measure)
    check_version(measure, version)
    if measure.state in (MeasureState.DONE, MeasureState.CANCELLED):
        raise ValidationError(f"该措施{measure.get_state_display()}，不能再修改")
    before = {"state": measure.state, "deadline": measure.deadline, "progress": measure.progress}
    note = " ".join((progress or "").split())
    if len(note) > 500:
        raise ValidationError({"progress": "进展情况不能超过 500 个字"})
    if state is not None and state != measure.state:
        if state not in ALLOWED_MEASURE_STATES.get(measure.state, set()):
            raise ValidationError({"state": "进展状态不能这样变更"})
        measure.state = state
        if state == MeasureState.DONE:
            measure.done_on = today()
    if deadline is not None and deadline != measure.deadline:
        if deadline < today():
            raise ValidationError({"deadline": "新的完成期限不能早于今天"})
        if not note:
            raise ValidationError({"progress": "调整完成期限，请在进展情况中说明原因"})
        measure.deadline = deadline
    if note:
        measure.progress = note
    if (measure.state, measure.deadline, measure.progress) == tuple(before.values()):
        raise ValidationError({"progress": "请填写进展情况或变更状态"})
    bump(measure)
    measure.save()
    file = measure.plan.file
    event(
        file,
        EventKind.MEASURE,
        actor=acting_user,
        text=f"{measure.get_assistance_type_display()}措施{measure.get_state_display()}"
        + (f"：{note}" if note else ""),
    )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=measure,
        before=before,
        after={"state": measure.state, "deadline": measure.deadline, "progress": measure.progress},
    )
    return measure
