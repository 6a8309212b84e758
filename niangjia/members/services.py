"""Writes about members: joining, approval, status changes, transfers, reveals, SMS codes.

Each function is one transaction and writes its audit row in it. Public joining (a worker on a
phone) has no acting user; its audit rows carry the worker's masked name instead.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import build_entry, record
from niangjia.members import selectors
from niangjia.members.choices import (
    HOLDING_STATUSES,
    ApplicationStatus,
    EmploymentForm,
    IdType,
    MemberStatus,
    TransferStatus,
)
from niangjia.members.identity import Identity, normalize_phone, parse_id
from niangjia.members.models import (
    PERSONAL_FIELDS,
    CeremonyVenue,
    JoinApplication,
    JoinCeremony,
    Member,
    MemberEvent,
    SmsCode,
    Transfer,
    phone_hash_of,
)
from niangjia.orgs.choices import UnionKind, UnionLevel, UnionStatus
from niangjia.orgs.models import Employer, Union
from niangjia.utilities import crypto
from niangjia.utilities.masking import mask_name
from niangjia.utilities.scoping import allowed, require
from niangjia.utilities.sms import send_sms
from niangjia.utilities.sqlinsert import Params, prepared_cursor, row_from, row_of
from niangjia.utilities.workdays import add_workdays

log = logging.getLogger(__name__)


class AlreadyMember(ValidationError):
    """The person already holds a membership; the message names the union (masked)."""

    def __init__(self, member: Member) -> None:
        self.member = member
        super().__init__(
            f"您已是“{member.union.name}”的会员（证件号 {member.id_masked}），无需重复入会。"
            "如已更换工作单位，请联系原工会办理会籍转接。",
            code="already_member",
        )


class AlreadyApplied(ValidationError):
    def __init__(self, application: JoinApplication | None) -> None:
        self.application = application
        where = f"“{application.union.name}”" if application else "工会"
        super().__init__(
            f"您已向{where}提交过入会申请，正在审批中，请勿重复提交。可凭手机号和验证码查询进度。",
            code="already_applied",
        )


# --- Which unions take members


def accepts_members(union: Union) -> bool:
    """Grassroots and joint unions take members; so do county and township federations, for
    workers whose employer has no union (the regional union of the area holds them)."""
    if union.status != UnionStatus.ACTIVE:
        return False
    if union.kind in (UnionKind.GRASSROOTS, UnionKind.JOINT):
        return True
    return union.kind == UnionKind.FEDERATION and union.level in (
        UnionLevel.COUNTY,
        UnionLevel.TOWNSHIP,
    )


def _check_accepts(union: Union, field: str = "union") -> None:
    if not accepts_members(union):
        raise ValidationError(
            {
                field: f"“{union.name}”不直接接收会员，请选择基层工会、联合工会或县级、乡镇（街道）总工会"
            }
        )


# --- Joining


@dataclass
class JoinData:
    name: str
    id_type: str
    id_number: str
    phone: str
    employer: Employer | None = None
    employer_name: str = ""
    occupation: str = ""
    employment_form: str = EmploymentForm.STANDARD
    gig_occupation: str = ""
    household: str = "urban"
    ethnic_group: str = "01"
    education: str = ""
    # What the form already read from the ID number (``parse_id``), so it is not read twice;
    # used only while it is the reading of ``id_type`` and ``id_number`` as given here.
    identity: Identity | None = dataclasses.field(default=None, repr=False, compare=False)


ID_TYPES = frozenset(IdType.values)


def _fill_person(target: Member | JoinApplication, data: JoinData) -> None:
    name = " ".join(data.name.split())
    if not name:
        raise ValidationError({"name": "请填写姓名"})
    if len(name) > 50:
        raise ValidationError({"name": "姓名不能超过 50 个字"})
    if data.id_type not in ID_TYPES:
        raise ValidationError({"id_type": "请选择证件类型"})
    identity = data.identity
    if identity is None or (identity.id_type, identity.number) != (data.id_type, data.id_number):
        identity = parse_id(data.id_type, data.id_number)
    phone = normalize_phone(data.phone)
    if data.employment_form == EmploymentForm.GIG and not data.gig_occupation:
        raise ValidationError({"gig_occupation": "新就业形态劳动者请选择职业"})
    if data.employer is None and not data.employer_name.strip():
        raise ValidationError({"employer_name": "请选择或填写工作单位"})
    target.name = name
    target.id_type = identity.id_type
    target.set_id_number(identity.number)
    target.sex = identity.sex or ""
    target.birth_date = identity.birth_date
    target.set_phone(phone)
    target.employer = data.employer
    target.employer_name = "" if data.employer else data.employer_name.strip()[:200]
    target.occupation = data.occupation.strip()[:50]
    target.employment_form = data.employment_form
    target.gig_occupation = (
        data.gig_occupation if data.employment_form == EmploymentForm.GIG else ""
    )
    target.household = data.household
    target.ethnic_group = data.ethnic_group
    target.education = data.education


def holding_member(id_hash: str) -> Member | None:
    return (
        Member.objects.filter(id_hash=id_hash, status__in=HOLDING_STATUSES)
        .select_related("union")
        .first()
    )


def application_submit(
    *,
    union: Union,
    data: JoinData,
    channel: str,
    phone_verified: bool = False,
    venue: CeremonyVenue | None = None,
    acting_user: User | None = None,
) -> JoinApplication:
    """A worker (or a cadre on their behalf) applies to join ``union``.

    Raises AlreadyMember / AlreadyApplied (both ValidationError) with a clear answer. Through a
    ceremony venue with auto-approval the worker becomes a member at once.
    """
    _check_accepts(union)
    if acting_user is not None:
        require(acting_user, Action.ADD, union)
    application = JoinApplication(
        union=union,
        union_path=union.path,
        channel=channel,
        venue=venue,
        phone_verified=phone_verified,
    )
    _fill_person(application, data)
    application.due_date = add_workdays(timezone.localdate(), settings.JOIN_APPROVAL_WORKDAYS)
    if (
        venue is not None
        and venue.ceremony.auto_approve
        and acting_user is None
        and connection.vendor == "postgresql"
        and _join_at_ceremony(application, venue)
    ):
        return application
    try:
        with transaction.atomic():
            existing = holding_member(application.id_hash)
            if existing is not None:
                raise AlreadyMember(existing)
            application.save(force_insert=True)
            record(
                action=AuditAction.CREATE,
                actor=acting_user,
                actor_name="" if acting_user else mask_name(application.name),
                obj=application,
                after={"channel": channel, "union": union.pk, "venue": venue.pk if venue else None},
            )
            if venue is not None and venue.ceremony.auto_approve:
                _approve(application, acting_user=None, reason=CEREMONY_REASON)
    except IntegrityError as exc:
        pending = (
            JoinApplication.objects.filter(
                id_hash=application.id_hash, status=ApplicationStatus.SUBMITTED
            )
            .select_related("union")
            .first()
        )
        if pending is not None or "pending" in str(exc).lower():
            raise AlreadyApplied(pending) from exc
        member = holding_member(application.id_hash)
        if member is not None:
            raise AlreadyMember(member) from exc
        raise
    return application


CEREMONY_REASON = "集中入会仪式现场入会"
# The personal fields by their columns (``employer`` is ``employer_id``).
_PERSONAL_COLUMNS = [
    field.attname
    for field in JoinApplication._meta.concrete_fields
    if field.name in PERSONAL_FIELDS
]


def _join_at_ceremony(application: JoinApplication, venue: CeremonyVenue) -> bool:
    """The mass ceremony's hot path (PostgreSQL): a new person becomes a member at a venue with
    auto-approval in one statement — the member, its history row, the approved application and
    one audit row — unless the person already has a member record (the unique index on the
    keyed hash decides, under any concurrency) or a pending application. Then nothing is
    written and False sends the caller down the general path, which answers or re-admits.

    The venue and ceremony counters are then bumped in a transaction of their own (see
    ``_count_ceremony_join``), so that thousands of joins a minute do not queue behind the two
    counter rows.
    """
    now = timezone.now()
    application.status = ApplicationStatus.APPROVED
    application.submitted_at = application.decided_at = now
    application.decision_reason = CEREMONY_REASON
    entry = build_entry(
        action=AuditAction.CREATE,
        actor_name=mask_name(application.name),
        obj=application,
        after={
            "channel": application.channel,
            "union": application.union_id,
            "venue": venue.pk,
            "status": ApplicationStatus.APPROVED,
        },
        detail={"reason": CEREMONY_REASON},
    )
    params = Params()
    # Values the rows share (the person, the union, the time) are sent once, as the
    # application's placeholders.
    stamp = params.add(now, "timestamptz")
    application_row = row_of(
        application,
        params,
        expressions={"member_id": "member.id", "submitted_at": stamp, "decided_at": stamp},
    )
    shared = application_row.placeholders
    today = params.add(timezone.localdate(), "date")
    member_row = row_from(
        Member,
        {"status": MemberStatus.ACTIVE},
        params,
        expressions={
            **{name: shared[name] for name in _PERSONAL_COLUMNS},
            "union_id": shared["union_id"],
            "union_path": shared["union_path"],
            "join_date": today,
            "status_changed_on": today,
            "created_at": stamp,
            "updated_at": stamp,
        },
    )
    event_row = row_from(
        MemberEvent,
        {
            "kind": MemberEvent.Kind.JOINED,
            "from_status": "",
            "to_status": MemberStatus.ACTIVE,
            "reason": CEREMONY_REASON,
        },
        params,
        expressions={
            "member_id": "member.id",
            "union_id": shared["union_id"],
            "date": today,
            "created_at": stamp,
        },
    )
    after = entry._meta.get_field("after").get_db_prep_save(entry.after, connection)
    audit_row = row_of(
        entry,
        params,
        expressions={
            "time": stamp,
            "union_path": shared["union_path"],
            "object_id": "application.id::text",
            "after": f"{params.add(after, 'jsonb')} || "
            "jsonb_build_object('member', application.member_id)",
        },
    )
    pending = (
        f"SELECT 1 FROM {application_row.table} WHERE id_hash = {shared['id_hash']} "  # noqa: S608
        f"AND status = {params.add(ApplicationStatus.SUBMITTED, 'text')}"
    )
    # Table and column names come from the models; every value is a parameter. One statement
    # is one transaction: all four rows are written, or none.
    sql = (
        f"WITH member AS (INSERT INTO {member_row.table} ({member_row.columns}) "  # noqa: S608
        f"SELECT {member_row.select} WHERE NOT EXISTS ({pending}) "
        "ON CONFLICT (id_hash) DO NOTHING RETURNING id), "
        f"event AS (INSERT INTO {event_row.table} ({event_row.columns}) "
        f"SELECT {event_row.select} FROM member), "
        f"application AS (INSERT INTO {application_row.table} ({application_row.columns}) "
        f"SELECT {application_row.select} FROM member RETURNING id, member_id), "
        f"audit AS (INSERT INTO {audit_row.table} ({audit_row.columns}) "
        f"SELECT {audit_row.select} FROM application) "
        "SELECT id, member_id FROM application"
    )
    with prepared_cursor() as cursor:
        cursor.execute(sql, params.values)
        found = cursor.fetchone()
    if found is None:
        application.status = ApplicationStatus.SUBMITTED
        application.decided_at = None
        application.decision_reason = ""
        return False
    application.pk, application.member_id = found
    application._state.adding = False
    application._state.db = connection.alias
    _count_ceremony_join(venue)
    return True


def _count_ceremony_join(venue: CeremonyVenue) -> None:
    """One more joined at ``venue``: its counter and its ceremony's, in one statement of its
    own after the join committed. That statement commits without waiting for the disk
    (``synchronous_commit`` off for its transaction only), so each counter row is locked for
    microseconds rather than a disk flush and joins do not queue behind the two rows; the
    joins themselves are committed durably. A crash can leave the counters short by the last
    few joins: ``ceremony_recount`` restores them from the approved applications."""
    try:
        with prepared_cursor() as cursor:
            cursor.execute(_counter_sql(own_transaction=not connection.in_atomic_block), [venue.pk])
    except DatabaseError:
        log.exception("ceremony counters of venue %s not updated", venue.pk)


@functools.cache
def _counter_sql(*, own_transaction: bool) -> str:
    """The counters' statement (the venue's id is $1). In its own transaction it commits
    without waiting for the disk; inside a caller's transaction the setting would reach the
    caller's writes, so not there. The ceremony is the one the venue row names (a scalar
    subquery: no row, no update)."""
    update = (
        f"UPDATE {CeremonyVenue._meta.db_table} SET joined_count = joined_count + 1 "  # noqa: S608
        "WHERE id = $1::bigint"
    )
    if own_transaction:
        update = (
            "WITH quick AS (SELECT set_config('synchronous_commit', 'off', true)) "  # noqa: S608
            f"{update} AND EXISTS (SELECT FROM quick)"
        )
    return (
        f"WITH venue AS ({update} RETURNING ceremony_id) "  # noqa: S608
        f"UPDATE {JoinCeremony._meta.db_table} SET joined_count = joined_count + 1 "
        "WHERE id = (SELECT ceremony_id FROM venue)"
    )


def _approve(application: JoinApplication, *, acting_user: User | None, reason: str) -> Member:
    """Make the applicant a member (or re-admit a former one). Inside a transaction."""
    today = timezone.localdate()
    member = Member.objects.select_for_update().filter(id_hash=application.id_hash).first()
    if member is not None and member.status in HOLDING_STATUSES:
        raise AlreadyMember(member)
    personal = {name: getattr(application, name) for name in PERSONAL_FIELDS}
    if member is None:
        member = Member(
            union=application.union,
            union_path=application.union_path,
            join_date=today,
            status=MemberStatus.ACTIVE,
            status_changed_on=today,
            **personal,
        )
        member.save(force_insert=True)
        from_status = ""
    else:
        from_status = member.status
        for name, value in personal.items():
            setattr(member, name, value)
        member.union = application.union
        member.union_path = application.union_path
        member.status = MemberStatus.ACTIVE
        member.status_changed_on = today
        member.save()
    MemberEvent.objects.create(
        member=member,
        kind=MemberEvent.Kind.JOINED,
        from_status=from_status,
        to_status=MemberStatus.ACTIVE,
        union=application.union,
        date=today,
        reason=reason[:200],
        actor=acting_user,
    )
    application.status = ApplicationStatus.APPROVED
    application.decided_at = timezone.now()
    application.decided_by = acting_user
    application.decision_reason = reason[:200]
    application.member = member
    application.save(
        update_fields=["status", "decided_at", "decided_by", "decision_reason", "member"]
    )
    if application.venue_id is not None:
        CeremonyVenue.objects.filter(pk=application.venue_id).update(
            joined_count=F("joined_count") + 1
        )
        JoinCeremony.objects.filter(venues__pk=application.venue_id).update(
            joined_count=F("joined_count") + 1
        )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=application,
        after={"status": ApplicationStatus.APPROVED, "member": member.pk},
        detail={"reason": reason} if reason else None,
    )
    return member


def _pending_in_scope(application: JoinApplication, acting_user: User) -> JoinApplication:
    require(acting_user, Action.CHANGE, application)
    locked = JoinApplication.objects.select_for_update().get(pk=application.pk)
    if locked.status != ApplicationStatus.SUBMITTED:
        raise ValidationError(f"该申请{locked.get_status_display()}，不能重复办理")
    return locked


@transaction.atomic
def application_approve(
    *, application: JoinApplication, acting_user: User, reason: str = ""
) -> Member:
    application = _pending_in_scope(application, acting_user)
    return _approve(application, acting_user=acting_user, reason=reason.strip())


@transaction.atomic
def application_reject(
    *, application: JoinApplication, acting_user: User, reason: str
) -> JoinApplication:
    if not reason.strip():
        raise ValidationError({"reason": "驳回申请必须填写原因"})
    application = _pending_in_scope(application, acting_user)
    application.status = ApplicationStatus.REJECTED
    application.decided_at = timezone.now()
    application.decided_by = acting_user
    application.decision_reason = reason.strip()[:200]
    application.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=application,
        after={"status": application.status},
        detail={"reason": application.decision_reason},
    )
    return application


@dataclass
class Decision:
    """What became of one application of a bulk decision; ``error`` is empty when done."""

    application: JoinApplication
    error: str = ""


def applications_decide(
    *, applications: list[JoinApplication], acting_user: User, approve: bool, reason: str = ""
) -> list[Decision]:
    """Approve or reject many; each in its own transaction so one failure doesn't undo others.
    Returns one Decision per application, in order."""
    decisions: list[Decision] = []
    for application in applications:
        try:
            if approve:
                application_approve(application=application, acting_user=acting_user, reason=reason)
            else:
                application_reject(application=application, acting_user=acting_user, reason=reason)
            decisions.append(Decision(application))
        except ValidationError as exc:
            decisions.append(Decision(application, "；".join(exc.messages)))
    return decisions


def applications_bulk_decide(
    *, applications: list[JoinApplication], acting_user: User, approve: bool, reason: str = ""
) -> dict[str, list[str]]:
    """Approve or reject many (see ``applications_decide``). Returns the names done and, per
    failed name, the reason."""
    decisions = applications_decide(
        applications=applications, acting_user=acting_user, approve=approve, reason=reason
    )
    return {
        "done": [d.application.name for d in decisions if not d.error],
        "failed": [f"{d.application.name}：{d.error}" for d in decisions if d.error],
    }


# --- Status changes

ALLOWED_STATUS_CHANGES: dict[str, set[str]] = {
    MemberStatus.ACTIVE: {MemberStatus.RESERVED, MemberStatus.LEFT, MemberStatus.DECEASED},
    MemberStatus.RESERVED: {MemberStatus.ACTIVE, MemberStatus.LEFT, MemberStatus.DECEASED},
    MemberStatus.LEFT: set(),
    MemberStatus.DECEASED: set(),
    MemberStatus.TRANSFERRING: set(),
}


@transaction.atomic
def member_change_status(
    *,
    member: Member,
    to_status: str,
    reason: str,
    acting_user: User,
    date: datetime.date | None = None,
) -> Member:
    require(acting_user, Action.CHANGE, member)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not reason.strip():
        raise ValidationError({"reason": "请填写变更原因"})
    if to_status not in ALLOWED_STATUS_CHANGES.get(member.status, set()):
        raise ValidationError(
            {
                "to_status": f"会籍状态不能从“{member.get_status_display()}”变为“{MemberStatus(to_status).label}”"
            }
        )
    date = date or timezone.localdate()
    if date > timezone.localdate():
        raise ValidationError({"date": "变更日期不能晚于今天"})
    from_status = member.status
    member.status = to_status
    member.status_changed_on = date
    member.save(update_fields=["status", "status_changed_on", "updated_at"])
    MemberEvent.objects.create(
        member=member,
        kind=MemberEvent.Kind.STATUS,
        from_status=from_status,
        to_status=to_status,
        union=member.union,
        date=date,
        reason=reason.strip()[:200],
        actor=acting_user,
    )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=member,
        before={"status": from_status},
        after={"status": to_status},
        detail={"reason": reason.strip()},
    )
    return member


# --- Transfers


@transaction.atomic
def transfer_release(
    *,
    member: Member,
    to_union: Union,
    reason: str,
    acting_user: User,
    new_employer: Employer | None = None,
    new_employer_name: str = "",
) -> Transfer:
    """The sending union releases a member to ``to_union`` (anywhere in the country). A member
    whose new employer has no union goes to the regional union of the area."""
    require(acting_user, Action.CHANGE, member)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.RESERVED):
        raise ValidationError(f"会籍状态为“{member.get_status_display()}”，不能转出")
    if not reason.strip():
        raise ValidationError({"reason": "请填写转出原因"})
    _check_accepts(to_union, "to_union")
    if to_union.pk == member.union_id:
        raise ValidationError({"to_union": "转入工会不能与当前工会相同"})
    transfer = Transfer.objects.create(
        member=member,
        from_union=member.union,
        to_union=to_union,
        reason=reason.strip()[:200],
        released_by=acting_user,
        new_employer=new_employer,
        new_employer_name="" if new_employer else new_employer_name.strip()[:200],
    )
    from_status = member.status
    member.status = MemberStatus.TRANSFERRING
    member.status_changed_on = timezone.localdate()
    member.save(update_fields=["status", "status_changed_on", "updated_at"])
    MemberEvent.objects.create(
        member=member,
        kind=MemberEvent.Kind.TRANSFER_OUT,
        from_status=from_status,
        to_status=MemberStatus.TRANSFERRING,
        union=member.union,
        date=timezone.localdate(),
        reason=f"转往{to_union.name}：{reason.strip()}"[:200],
        actor=acting_user,
    )
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=transfer,
        after={"member": member.pk, "from_union": member.union_id, "to_union": to_union.pk},
    )
    return transfer


def _open_transfer(transfer: Transfer, acting_user: User) -> Transfer:
    locked = (
        Transfer.objects.select_for_update()
        .select_related("member", "to_union")
        .get(pk=transfer.pk)
    )
    if locked.status != TransferStatus.RELEASED:
        raise ValidationError(f"该转接{locked.get_status_display()}，不能再办理")
    if not allowed(acting_user, Action.CHANGE, locked.to_union):
        raise PermissionDenied("只有转入工会可以接收或拒收")
    return locked


@transaction.atomic
def transfer_accept(*, transfer: Transfer, acting_user: User) -> Member:
    transfer = _open_transfer(transfer, acting_user)
    member = Member.objects.select_for_update().get(pk=transfer.member_id)
    today = timezone.localdate()
    member.union = transfer.to_union
    member.union_path = transfer.to_union.path
    if transfer.new_employer_id or transfer.new_employer_name:
        member.employer = transfer.new_employer
        member.employer_name = transfer.new_employer_name
    member.status = MemberStatus.ACTIVE
    member.status_changed_on = today
    member.save()
    transfer.status = TransferStatus.ACCEPTED
    transfer.decided_at = timezone.now()
    transfer.decided_by = acting_user
    transfer.save(update_fields=["status", "decided_at", "decided_by"])
    MemberEvent.objects.create(
        member=member,
        kind=MemberEvent.Kind.TRANSFER_IN,
        from_status=MemberStatus.TRANSFERRING,
        to_status=MemberStatus.ACTIVE,
        union=transfer.to_union,
        date=today,
        reason=f"由{transfer.from_union.name}转入",
        actor=acting_user,
    )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=transfer,
        after={"status": transfer.status},
    )
    return member


@transaction.atomic
def transfer_refuse(*, transfer: Transfer, acting_user: User, reason: str) -> Transfer:
    if not reason.strip():
        raise ValidationError({"reason": "拒收必须填写原因"})
    transfer = _open_transfer(transfer, acting_user)
    member = Member.objects.select_for_update().get(pk=transfer.member_id)
    previous = (
        member.events.filter(kind=MemberEvent.Kind.TRANSFER_OUT)
        .order_by("-id")
        .values_list("from_status", flat=True)
        .first()
        or MemberStatus.ACTIVE
    )
    member.status = previous
    member.status_changed_on = timezone.localdate()
    member.save(update_fields=["status", "status_changed_on", "updated_at"])
    transfer.status = TransferStatus.REFUSED
    transfer.decided_at = timezone.now()
    transfer.decided_by = acting_user
    transfer.refusal_reason = reason.strip()[:200]
    transfer.save(update_fields=["status", "decided_at", "decided_by", "refusal_reason"])
    MemberEvent.objects.create(
        member=member,
        kind=MemberEvent.Kind.STATUS,
        from_status=MemberStatus.TRANSFERRING,
        to_status=previous,
        union=member.union,
        date=timezone.localdate(),
        reason=f"{transfer.to_union.name}拒收：{transfer.refusal_reason}"[:200],
        actor=acting_user,
    )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=transfer,
        after={"status": transfer.status},
        detail={"reason": transfer.refusal_reason},
    )
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: Transfer, acting_user: User) -> Transfer:
    """The sending union withdraws a release not yet accepted."""
    locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if not allowed(acting_user, Action.CHANGE, locked.from_union):
        raise PermissionDenied("只有转出工会可以撤销转接")
    if locked.status != TransferStatus.RELEASED:
        raise ValidationError(f"该转接{locked.get_status_display()}，不能再办理")
    member = Member.objects.select_for_update().get(pk=locked.member_id)
    member.status = MemberStatus.ACTIVE
    member.save(update_fields=["status", "updated_at"])
    locked.status = TransferStatus.CANCELLED
    locked.decided_at = timezone.now()
    locked.decided_by = acting_user
    locked.save(update_fields=["status", "decided_at", "decided_by"])
    record(
        action=AuditAction.CHANGE, actor=acting_user, obj=locked, after={"status": locked.status}
    )
    return locked


# --- Reveal of personal data

REVEALABLE = {"id_number": "证件号码", "phone": "手机号码"}


@transaction.atomic
def member_reveal(
    *, member: Member | JoinApplication, field: str, reason: str, acting_user: User
) -> str:
    """The clear ID number or phone, for a role allowed to reveal, with a reason; audited."""
    if field not in REVEALABLE:
        raise ValidationError({"field": "只能查看证件号码或手机号码"})
    require(acting_user, Action.REVEAL, member)
    if len(reason.strip()) < 4:
        raise ValidationError({"reason": "请填写查看明文的理由（至少 4 个字）"})
    value = member.reveal_id_number() if field == "id_number" else member.reveal_phone()
    record(
        action=AuditAction.REVEAL,
        actor=acting_user,
        obj=member,
        detail={"field": field, "reason": reason.strip()[:200]},
    )
    return value


# --- Member card

CARD_SALT = "niangjia.member-card"


def card_token(member: Member) -> str:
    """A signed token for the card's QR code: the member id only, no personal data."""
    return signing.dumps({"m": member.pk}, salt=CARD_SALT, compress=True)


def card_verify(token: str, *, max_age_days: int = 366) -> Member:
    try:
        payload = signing.loads(token, salt=CARD_SALT, max_age=max_age_days * 86400)
    except signing.SignatureExpired as exc:
        raise ValidationError("会员卡二维码已过期，请会员刷新会员卡后重新出示") from exc
    except signing.BadSignature as exc:
        raise ValidationError("二维码无效：不是本平台签发的会员卡") from exc
    member = Member.objects.select_related("union").filter(pk=payload.get("m")).first()
    if member is None:
        raise ValidationError("该会员卡对应的会员不存在")
    return member


# --- SMS codes (joining, checking an application, opening the member card)


def sms_code_send(*, phone: str, purpose: str) -> None:
    phone = normalize_phone(phone)
    phone_hash = phone_hash_of(phone)
    now = timezone.now()
    recent = SmsCode.objects.filter(
        phone_hash=phone_hash, created_at__gte=now - datetime.timedelta(days=1)
    )
    if recent.filter(
        created_at__gte=now - datetime.timedelta(seconds=settings.SMS_RESEND_SECONDS)
    ).exists():
        raise ValidationError({"phone": f"验证码已发送，请 {settings.SMS_RESEND_SECONDS} 秒后再试"})
    if recent.count() >= settings.SMS_DAILY_LIMIT:
        raise ValidationError({"phone": "该号码今天获取验证码次数过多，请明天再试"})
    code = f"{secrets.randbelow(1_000_000):06d}"
    SmsCode.objects.create(
        phone_hash=phone_hash,
        purpose=purpose,
        code_hash=crypto.keyed_hash(code, purpose=f"sms.{phone_hash}"),
        expires_at=now + datetime.timedelta(minutes=settings.SMS_CODE_TTL_MINUTES),
    )
    send_sms(
        phone,
        f"【娘家工会】您的验证码是 {code}，{settings.SMS_CODE_TTL_MINUTES} 分钟内有效。如非本人操作请忽略。",
    )


MAX_CODE_ATTEMPTS = 5


def sms_code_check(*, phone: str, purpose: str, code: str) -> str:
    """Consume a valid code; returns the phone's keyed hash. Raises with a Chinese message.
    A wrong code counts against the code's attempts: the count is committed before the
    error is raised (inside the transaction it would be rolled back with it)."""
    phone = normalize_phone(phone)
    phone_hash = phone_hash_of(phone)
    with transaction.atomic():
        sms = (
            SmsCode.objects.select_for_update()
            .filter(phone_hash=phone_hash, purpose=purpose, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if sms is None or sms.expires_at < timezone.now():
            raise ValidationError({"code": "验证码已过期或未获取，请重新获取"})
        if sms.attempts >= MAX_CODE_ATTEMPTS:
            raise ValidationError({"code": "验证码错误次数过多，请重新获取"})
        wrong = (
            crypto.keyed_hash((code or "").strip(), purpose=f"sms.{phone_hash}") != sms.code_hash
        )
        if wrong:
            SmsCode.objects.filter(pk=sms.pk).update(attempts=F("attempts") + 1)
        else:
            sms.used_at = timezone.now()
            sms.save(update_fields=["used_at"])
    if wrong:
        raise ValidationError({"code": "验证码不正确"})
    return phone_hash


# --- Mass joining ceremonies

CEREMONY_FIELDS = ("name", "starts_at", "ends_at", "auto_approve", "require_sms")


def _check_ceremony(ceremony: JoinCeremony) -> None:
    errors: dict[str, str] = {}
    if not ceremony.name:
        errors["name"] = "请填写仪式名称"
    elif len(ceremony.name) > 120:
        errors["name"] = "仪式名称不能超过 120 个字"
    if ceremony.starts_at and ceremony.ends_at and ceremony.ends_at <= ceremony.starts_at:
        errors["ends_at"] = "结束时间应晚于开始时间"
    if errors:
        raise ValidationError(errors)
    ceremony.full_clean(exclude=["union", "joined_count"])


@transaction.atomic
def ceremony_create(
    *,
    acting_user: User,
    union: Union,
    name: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    auto_approve: bool = True,
    require_sms: bool = False,
) -> JoinCeremony:
    """A mass joining ceremony hosted by ``union``; its venues are added with ``venue_add``."""
    require(acting_user, Action.ADD, union)
    if union.status != UnionStatus.ACTIVE:
        raise ValidationError(
            {"union": f"“{union.name}”已{union.get_status_display()}，不能举办入会仪式"}
        )
    ceremony = JoinCeremony(
        union=union,
        name=" ".join(name.split()),
        starts_at=starts_at,
        ends_at=ends_at,
        auto_approve=auto_approve,
        require_sms=require_sms,
    )
    _check_ceremony(ceremony)
    ceremony.save(force_insert=True)
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=ceremony,
        after={field: getattr(ceremony, field) for field in ("union", *CEREMONY_FIELDS)},
    )
    return ceremony


@transaction.atomic
def ceremony_update(
    *,
    ceremony: JoinCeremony,
    acting_user: User,
    name: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    auto_approve: bool,
    require_sms: bool,
) -> JoinCeremony:
    """Change a ceremony's name, times and settings; its counters are left to the joins
    (saved by field, so a ceremony edited during the burst loses no count)."""
    require(acting_user, Action.CHANGE, ceremony)
    ceremony = JoinCeremony.objects.select_for_update().get(pk=ceremony.pk)
    before = {field: getattr(ceremony, field) for field in CEREMONY_FIELDS}
    ceremony.name = " ".join(name.split())
    ceremony.starts_at = starts_at
    ceremony.ends_at = ends_at
    ceremony.auto_approve = auto_approve
    ceremony.require_sms = require_sms
    _check_ceremony(ceremony)
    after = {field: getattr(ceremony, field) for field in CEREMONY_FIELDS}
    changed = [field for field in CEREMONY_FIELDS if before[field] != after[field]]
    if not changed:
        return ceremony
    ceremony.save(update_fields=changed)
    transaction.on_commit(selectors.forget_venues)
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=ceremony,
        before={field: before[field] for field in changed},
        after={field: after[field] for field in changed},
    )
    return ceremony


@transaction.atomic
def ceremony_recount(*, ceremony: JoinCeremony, acting_user: User) -> JoinCeremony:
    """Set the venue and ceremony counters to the approved applications of each venue: the
    repair after a crash cut the last counter updates short (see ``_count_ceremony_join``).
    Exact once no joins are in flight (e.g. after the ceremony). Audited when a count moved."""
    require(acting_user, Action.CHANGE, ceremony)
    # Venues before the ceremony: the order in which joins lock the two counter rows.
    venues = list(
        CeremonyVenue.objects.select_for_update().filter(ceremony_id=ceremony.pk).order_by("pk")
    )
    ceremony = JoinCeremony.objects.select_for_update().get(pk=ceremony.pk)
    counts = dict(
        JoinApplication.objects.filter(venue__in=venues, status=ApplicationStatus.APPROVED)
        .order_by()
        .values_list("venue")
        .annotate(n=Count("id"))
        .values_list("venue", "n")
    )
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    for venue in venues:
        count = counts.get(venue.pk, 0)
        if venue.joined_count != count:
            before[f"venue {venue.pk}"], after[f"venue {venue.pk}"] = venue.joined_count, count
            venue.joined_count = count
            venue.save(update_fields=["joined_count"])
    total = sum(counts.values())
    if ceremony.joined_count != total:
        before["joined_count"], after["joined_count"] = ceremony.joined_count, total
        ceremony.joined_count = total
        ceremony.save(update_fields=["joined_count"])
    if after:
        record(
            action=AuditAction.CHANGE,
            actor=acting_user,
            obj=ceremony,
            before=before,
            after=after,
            detail={"reason": "按已批准的入会申请重新统计"},
        )
    return ceremony


def accepting_unions_q() -> Q:
    """The unions ``accepts_members`` admits, as a filter (pickers, nearest regional union)."""
    return Q(status=UnionStatus.ACTIVE) & (
        Q(kind__in=[UnionKind.GRASSROOTS, UnionKind.JOINT])
        | Q(kind=UnionKind.FEDERATION, level__in=[UnionLevel.COUNTY, UnionLevel.TOWNSHIP])
    )


def new_venue_token() -> str:
    """The venue's QR identifier: random, unguessable, URL-safe (16 characters)."""
    return secrets.token_urlsafe(12)


@transaction.atomic
def venue_add(
    *, ceremony: JoinCeremony, acting_user: User, name: str, union: Union
) -> CeremonyVenue:
    """A venue of ``ceremony`` where workers join ``union`` (one that takes members, inside
    the host union's subtree and the acting user's scope)."""
    require(acting_user, Action.CHANGE, ceremony)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "请填写会场名称"})
    if len(name) > 120:
        raise ValidationError({"name": "会场名称不能超过 120 个字"})
    if not allowed(acting_user, Action.ADD, union):
        raise ValidationError({"union": "所选工会不在您的管辖范围内"})
    _check_accepts(union)
    host = ceremony.union
    inside = union.path.startswith(host.path) or (
        union.industry_union_id is not None
        and Union.objects.filter(pk=union.industry_union_id, path__startswith=host.path).exists()
    )
    if not inside:
        raise ValidationError({"union": f"“{union.name}”不在主办工会“{host.name}”的范围内"})
    ceremony = JoinCeremony.objects.select_for_update().get(pk=ceremony.pk)
    if ceremony.venues.filter(name=name).exists():
        raise ValidationError({"name": f"本仪式已有名为“{name}”的会场"})
    venue = CeremonyVenue(ceremony=ceremony, name=name, union=union, token=new_venue_token())
    venue.full_clean(exclude=["ceremony", "union"])
    venue.save(force_insert=True)
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=venue,
        after={"ceremony": ceremony.pk, "name": name, "union": union.pk},
    )
    return venue


# --- Keeping copies of tree paths in step, and the union hooks


def _paths_moved(old_prefix: str, new_prefix: str) -> int:
    moved = 0
    for model in (Member, JoinApplication):
        moved += model.objects.filter(union_path__startswith=old_prefix).update(
            union_path=Concat(Value(new_prefix), Substr("union_path", len(old_prefix) + 1))
        )
    return moved


def _merge_members(source: Union, target: Union, acting_user: User) -> dict[str, int]:
    members = Member.objects.filter(union=source).update(union=target, union_path=target.path)
    applications = JoinApplication.objects.filter(union=source).update(
        union=target, union_path=target.path
    )
    return {"members": members, "join_applications": applications}


def _members_block_deletion(union: Union) -> str | None:
    count = Member.objects.filter(union=union).count()
    if count:
        return f"有 {count} 名会员"
    if JoinApplication.objects.filter(union=union).exists():
        return "有入会申请记录"
    return None


def register_org_hooks() -> None:
    from niangjia.orgs import rules
    from niangjia.orgs import services as org_services

    if _paths_moved not in org_services.PATH_CHANGE_STEPS:
        org_services.PATH_CHANGE_STEPS.append(_paths_moved)
    if _merge_members not in org_services.MERGE_STEPS:
        org_services.MERGE_STEPS.append(_merge_members)
    if _members_block_deletion not in rules.DELETION_CHECKS:
        rules.DELETION_CHECKS.append(_members_block_deletion)
