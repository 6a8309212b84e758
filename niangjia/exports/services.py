"""Exporting the member and employer lists: at once, in the background, or after approval.

``export_start`` is what the export page calls. It selects the rows the user may export under
the list's filters (``niangjia.exports.kinds``) and then:

- masked (or an employer list), or unmasked up to ``EXPORT_UNMASKED_APPROVAL_ROWS`` rows:
  exports at once — written while the page waits when there are at most
  ``EXPORT_INLINE_ROWS`` rows, else by a background job into a stored ``ExportFile``;
- unmasked above that: records a pending ``ExportRequest``. An administrator of a union above
  the requesting one (``may_decide``) approves or rejects it (``export_request_decide``); the
  requester then runs it once (``export_request_run``) within ``APPROVAL_DAYS`` days.

An unmasked export needs ``Action.REVEAL`` and a reason, and writes only the members the user
may both export and reveal. Every export writes one audit row (action 导出) with the row
count, the filters (searches by keyed hash only), whether it is masked, the reason, the
approval's id and the file's SHA-256, in the transaction that reads the rows (at once) or that
marks the stored file finished (background). Requests and decisions are audited too.

Stored files live in ``EXPORT_DIR`` (mode 700, files 600) under random names and are deleted
by ``exports_cleanup`` after ``EXPORT_KEEP_HOURS`` (run by every export job, and by
``manage.py exports_cleanup``).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.accounts.scope import paths_for
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.exports.choices import ExportKind, RequestState
from niangjia.exports.kinds import Kind, Selection, Stream, clean_query, get_kind
from niangjia.exports.models import ExportFile, ExportRequest
from niangjia.members.selectors import RowCount, capped_count
from niangjia.orgs.models import Union
from niangjia.utilities.xlsx import SHEET_MAX_ROWS, XlsxFile, write_xlsx

log = logging.getLogger(__name__)

# A worksheet holds 1,048,576 rows; a bigger export must be split by its filters.
MAX_ROWS = 1_000_000
REASON_MIN = 4
STREAM_CHUNK = 5000

assert MAX_ROWS < SHEET_MAX_ROWS


@dataclass
class ExportOutcome:
    """What ``export_start`` did: a file to send now, a background export, or a request."""

    file: XlsxFile | None = None
    filename: str = ""
    export_file: ExportFile | None = None
    request: ExportRequest | None = None


# --- Rules


def _kind(name: str) -> Kind:
    try:
        return get_kind(name)
    except KeyError:
        raise ValidationError({"kind": "没有这种导出内容"}) from None


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN:
        raise ValidationError({"reason": f"请填写导出明文的理由（至少 {REASON_MIN} 个字）"})
    if len(reason) > 200:
        raise ValidationError({"reason": f"导出明文的理由最多 200 个字，当前 {len(reason)} 个"})
    return reason


def export_select(
    *, acting_user: User, kind: str, filters: dict[str, str], unmasked: bool = False
) -> Selection:
    """The rows ``acting_user`` may export under the list's ``filters``. Raises
    PermissionDenied without the export right (or, unmasked, the reveal right), and
    ValidationError for a filter that is wrong or an unmasked export of what has no
    personal data."""
    export_kind = _kind(kind)
    if unmasked and not export_kind.may_unmask:
        raise ValidationError({"masked": f"{export_kind.title}不含隐去的个人信息，无需导出明文"})
    return export_kind.select(
        acting_user=acting_user, filters=clean_query(filters), unmasked=unmasked
    )


def export_count(selection: Selection) -> RowCount:
    """How many rows the selection has, counting at most one more than ``MAX_ROWS``."""
    return capped_count(selection.rows, cap=MAX_ROWS)


def _refuse_too_many(count: RowCount) -> None:
    if count.capped:
        raise ValidationError(
            {"filters": f"符合条件的超过 {MAX_ROWS:,} 行，超出表格的容量，请缩小筛选范围后分批导出"}
        )


def needs_approval(*, unmasked: bool, rows: int) -> bool:
    return unmasked and rows > settings.EXPORT_UNMASKED_APPROVAL_ROWS


def requesting_union(*, acting_user: User, selection: Selection) -> Union:
    """The union of the requester's reveal role that covers the export: the approval must
    come from an administrator above it. Without a union in the filters, a requester who
    may reveal in several subtrees is asked to choose one."""
    paths = paths_for(acting_user, Action.REVEAL)
    within = selection.union
    if within is not None:
        paths = [p for p in paths if within.path.startswith(p) or p.startswith(within.path)]
    if len(paths) != 1:
        raise ValidationError(
            {
                "filters": "您在多个工会有查看明文个人信息的权限：请先在筛选条件中选择一个工会，"
                "再申请导出明文"
            }
        )
    return Union.objects.get(path=paths[0])


def may_decide(user: Any, export_request: ExportRequest) -> bool:
    """May ``user`` approve or reject the request? An administrator (``Action.REVEAL``) of a
    union above the requesting one — for a request from the root of the tree, another
    administrator of the root — and never the requester."""
    if user is None or getattr(user, "pk", None) in (None, export_request.requester_id):
        return False
    path = export_request.union.path
    at_root = len(path) == Union.steplen
    return any(
        path.startswith(p) and (len(p) < len(path) or at_root)
        for p in paths_for(user, Action.REVEAL)
    )


def _audit_union_path(acting_user: User, selection: Selection) -> str:
    if selection.union is not None:
        return selection.union.path
    roots = paths_for(acting_user, Action.EXPORT)
    return roots[0] if len(roots) == 1 else ""


def _filename(kind: Kind, unmasked: bool) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return f"{kind.title}{'-明文' if unmasked else ''}-{stamp}.xlsx"


def _audit_export(
    *,
    acting_user: User,
    kind: Kind,
    selection: Selection,
    unmasked: bool,
    reason: str,
    xfile: XlsxFile,
    filename: str,
    union_path: str,
    approval: ExportRequest | None = None,
    export_file: ExportFile | None = None,
) -> None:
    detail: dict[str, Any] = {
        "export": kind.name,
        "rows": xfile.rows,
        "filters": selection.audit_filters,
        "masked": not unmasked,
        "sha256": xfile.sha256,
        "bytes": xfile.size,
        "filename": filename,
    }
    if unmasked:
        detail["reason"] = reason[:200]
    if approval is not None:
        detail["approval"] = approval.pk
    if export_file is not None:
        detail["export_file"] = export_file.pk
    record(
        action=AuditAction.EXPORT,
        actor=acting_user,
        object_type="members.member" if kind.name == ExportKind.MEMBERS else "orgs.employer",
        object_repr=f"{kind.title}（明文）" if unmasked else kind.title,
        union_path=union_path,
        detail=detail,
    )


# --- Starting an export


def export_start(
    *,
    acting_user: User,
    kind: str,
    filters: dict[str, str],
    unmasked: bool = False,
    reason: str = "",
) -> ExportOutcome:
    """Export the list ``kind`` under ``filters`` for ``acting_user`` (see the module's
    docstring for what happens when)."""
    selection = export_select(
        acting_user=acting_user, kind=kind, filters=filters, unmasked=unmasked
    )
    if unmasked:
        reason = _clean_reason(reason)
    count = export_count(selection)
    _refuse_too_many(count)
    if needs_approval(unmasked=unmasked, rows=count.total):
        return ExportOutcome(
            request=_request_create(
                acting_user=acting_user, selection=selection, reason=reason, rows=count.total
            )
        )
    return _export(
        acting_user=acting_user,
        selection=selection,
        unmasked=unmasked,
        reason=reason,
        rows=count.total,
    )


def _export(
    *,
    acting_user: User,
    selection: Selection,
    unmasked: bool,
    reason: str,
    rows: int,
    approval: ExportRequest | None = None,
) -> ExportOutcome:
    kind = _kind(selection.kind)
    if rows > settings.EXPORT_INLINE_ROWS:
        return ExportOutcome(
            export_file=_queue_file(
                acting_user=acting_user,
                selection=selection,
                unmasked=unmasked,
                reason=reason,
                rows=rows,
                approval=approval,
            )
        )
    filename = _filename(kind, unmasked)
    with transaction.atomic():
        xfile = write_xlsx(
            title=kind.title,
            headers=kind.headers,
            rows=kind.rows(selection, unmasked),
            widths=kind.widths,
        )
        _audit_export(
            acting_user=acting_user,
            kind=kind,
            selection=selection,
            unmasked=unmasked,
            reason=reason,
            xfile=xfile,
            filename=filename,
            union_path=_audit_union_path(acting_user, selection),
            approval=approval,
        )
    return ExportOutcome(file=xfile, filename=filename)


def _queue_file(
    *,
    acting_user: User,
    selection: Selection,
    unmasked: bool,
    reason: str,
    rows: int,
    approval: ExportRequest | None,
) -> ExportFile:
    from niangjia.jobs.services import job_enqueue

    kind = _kind(selection.kind)
    union_path = _audit_union_path(acting_user, selection)
    union = selection.union or Union.objects.filter(path=union_path).first()
    with transaction.atomic():
        export_file = ExportFile(
            owner=acting_user,
            union=union,
            union_path=union.path if union is not None else union_path,
            kind=kind.name,
            masked=not unmasked,
            filters=selection.filters,
            filters_display=selection.display,
            reason=reason if unmasked else "",
            request=approval,
            rows_expected=rows,
            filename=_filename(kind, unmasked),
        )
        export_file.save(force_insert=True)
        job = job_enqueue(
            kind=f"exports.{kind.name}",
            params={"export_file": export_file.pk, "unit": "行"},
            owner=acting_user,
            union=union,
            title=f"导出{kind.title}{'（明文）' if unmasked else ''}：{rows:,} 行",
            return_url=reverse("exports:file_detail", args=[export_file.pk]),
        )
        ExportFile.objects.filter(pk=export_file.pk).update(job=job)
        export_file.job = job
    return export_file


# --- Requests for approval


def _request_create(
    *, acting_user: User, selection: Selection, reason: str, rows: int
) -> ExportRequest:
    union = requesting_union(acting_user=acting_user, selection=selection)
    with transaction.atomic():
        export_request = ExportRequest(
            requester=acting_user,
            union=union,
            kind=selection.kind,
            filters=selection.filters,
            filters_display=selection.display,
            reason=reason,
            rows_at_request=rows,
            expires_at=ExportRequest.lapse_time(),
        )
        export_request.full_clean()
        export_request.save(force_insert=True)
        record(
            action=AuditAction.CREATE,
            actor=acting_user,
            obj=export_request,
            detail={
                "export": selection.kind,
                "rows": rows,
                "filters": selection.audit_filters,
                "reason": reason,
            },
        )
    return export_request


def _locked(export_request: ExportRequest) -> ExportRequest:
    return (
        ExportRequest.objects.select_for_update().select_related("union").get(pk=export_request.pk)
    )


def _refuse_closed(export_request: ExportRequest) -> None:
    state = export_request.current_state
    if state != RequestState.PENDING and state != RequestState.APPROVED:
        raise ValidationError({"state": f"该申请{RequestState(state).label}，不能再办理"})


@transaction.atomic
def export_request_decide(
    *, export_request: ExportRequest, acting_user: User, approve: bool, reason: str = ""
) -> ExportRequest:
    """Approve or reject a pending request; a rejection needs a reason."""
    export_request = _locked(export_request)
    if not may_decide(acting_user, export_request):
        refusal = PermissionDenied(
            "只有申请单位上级工会的管理员可以审批明文导出，且不能审批本人的申请"
        )
        refusal.obj = export_request  # type: ignore[attr-defined]
        raise refusal
    if export_request.current_state != RequestState.PENDING:
        raise ValidationError(
            {"state": f"该申请{export_request.current_state_display}，不能再审批"}
        )
    reason = " ".join((reason or "").split())
    if not approve and len(reason) < 2:
        raise ValidationError({"reason": "驳回时请填写审批意见"})
    if len(reason) > 200:
        raise ValidationError({"reason": f"审批意见最多 200 个字，当前 {len(reason)} 个"})
    before = {"state": export_request.state}
    now = timezone.now()
    export_request.state = RequestState.APPROVED if approve else RequestState.REJECTED
    export_request.approver = acting_user
    export_request.decided_at = now
    export_request.decision_reason = reason
    if approve:
        export_request.expires_at = ExportRequest.lapse_time(now)
    export_request.save(
        update_fields=["state", "approver", "decided_at", "decision_reason", "expires_at"]
    )
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=export_request,
        before=before,
        after={"state": export_request.state, "decision_reason": reason},
        detail={"operation": "approve" if approve else "reject"},
    )
    return export_request


def export_request_run(*, export_request: ExportRequest, acting_user: User) -> ExportOutcome:
    """The requester uses an approval: once, within its time. The rows are selected again
    with the requester's rights of today."""
    with transaction.atomic():
        export_request = _locked(export_request)
        if export_request.requester_id != acting_user.pk:
            refusal = PermissionDenied("只有申请人本人可以使用这项审批")
            refusal.obj = export_request  # type: ignore[attr-defined]
            raise refusal
        _refuse_closed(export_request)
        if export_request.current_state != RequestState.APPROVED:
            raise ValidationError({"state": "该申请尚未批准，不能导出"})
        selection = export_select(
            acting_user=acting_user,
            kind=export_request.kind,
            filters=export_request.filters,
            unmasked=True,
        )
        count = export_count(selection)
        _refuse_too_many(count)
        export_request.state = RequestState.DONE
        export_request.used_at = timezone.now()
        export_request.save(update_fields=["state", "used_at"])
        return _export(
            acting_user=acting_user,
            selection=selection,
            unmasked=True,
            reason=export_request.reason,
            rows=count.total,
            approval=export_request,
        )


# --- Background exports


class ExportCancelled(Exception):
    """Raised from the progress callback when the job was asked to stop."""


@contextmanager
def _reader() -> Iterator[Stream | None]:
    """On PostgreSQL outside a transaction (a job's worker), the rows are read in a
    transaction of a second connection, through a server-side cursor: the statement streams
    while the job's progress, written on the first connection, commits as it goes. Anywhere
    else (SQLite, or inside a transaction) the rows are read on the connection in use."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield None
        return
    reader = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        reader.ensure_connection()
        reader.set_autocommit(False)

        def stream(values: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
            compiler = values.query.get_compiler(connection=reader)
            return compiler.results_iter(
                tuple_expected=True, chunked_fetch=True, chunk_size=STREAM_CHUNK
            )

        yield stream
    finally:
        try:
            reader.rollback()
        finally:
            reader.close()


def _export_dir() -> Path:
    path = Path(settings.EXPORT_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def export_file_build(
    *, export_file: ExportFile, on_chunk: Callable[[int], None] | None = None
) -> ExportFile:
    """Write a queued export's file (the job handler's work) and record it. A run after a
    crash writes the whole file again. Raises ExportCancelled (from ``on_chunk``),
    PermissionDenied if the owner lost the right, ValidationError for filters that no longer
    hold."""
    export_file = ExportFile.objects.select_related("owner", "request").get(pk=export_file.pk)
    if export_file.ready:
        return export_file
    kind = _kind(export_file.kind)
    owner = export_file.owner
    unmasked = not export_file.masked
    selection = export_select(
        acting_user=owner, kind=kind.name, filters=export_file.filters, unmasked=unmasked
    )
    stored_name = f"{uuid.uuid4().hex}.xlsx"
    target = _export_dir() / stored_name
    partial = target.with_suffix(".part")
    try:
        descriptor = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        with _reader() as stream, open(descriptor, "w+b") as handle:
            xfile = write_xlsx(
                title=kind.title,
                headers=kind.headers,
                rows=kind.rows(selection, unmasked, stream),
                widths=kind.widths,
                into=handle,
                on_chunk=on_chunk,
            )
        os.replace(partial, target)
        with transaction.atomic():
            now = timezone.now()
            export_file.stored_name = stored_name
            export_file.rows = xfile.rows
            export_file.size = xfile.size
            export_file.sha256 = xfile.sha256
            export_file.finished_at = now
            export_file.expires_at = now + timedelta(hours=settings.EXPORT_KEEP_HOURS)
            export_file.save(
                update_fields=[
                    "stored_name",
                    "rows",
                    "size",
                    "sha256",
                    "finished_at",
                    "expires_at",
                ]
            )
            _audit_export(
                acting_user=owner,
                kind=kind,
                selection=selection,
                unmasked=unmasked,
                reason=export_file.reason,
                xfile=xfile,
                filename=export_file.filename,
                union_path=export_file.union_path,
                approval=export_file.request,
                export_file=export_file,
            )
    except BaseException:
        partial.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        raise
    return export_file


def exports_cleanup(*, now: datetime | None = None) -> tuple[int, int]:
    """Delete stored files past their time, and mark requests past theirs expired.
    Returns (files deleted, requests expired)."""
    now = now or timezone.now()
    files = 0
    for export_file in ExportFile.objects.filter(expires_at__lte=now, deleted_at__isnull=True):
        if export_file.stored_name:
            export_file.path.unlink(missing_ok=True)
        ExportFile.objects.filter(pk=export_file.pk).update(deleted_at=now, stored_name="")
        files += 1
    expired = 0
    lapsed = ExportRequest.objects.filter(
        state__in=[RequestState.PENDING, RequestState.APPROVED], expires_at__lte=now
    ).select_related("union")
    for export_request in lapsed:
        with transaction.atomic():
            if not ExportRequest.objects.filter(
                pk=export_request.pk, state=export_request.state
            ).update(state=RequestState.EXPIRED):
                continue
            record(
                action=AuditAction.CHANGE,
                obj=export_request,
                actor_name="系统",
                before={"state": export_request.state},
                after={"state": RequestState.EXPIRED},
                detail={"operation": "expire"},
            )
            expired += 1
    files += _sweep_leftovers(now)
    if files or expired:
        log.info("exports cleanup: %s files deleted, %s requests expired", files, expired)
    return files, expired


def _sweep_leftovers(now: datetime) -> int:
    """Files of the export directory no export row names (a crashed run's partial file),
    once older than the keeping time."""
    directory = Path(settings.EXPORT_DIR)
    if not directory.is_dir():
        return 0
    cutoff = (now - timedelta(hours=settings.EXPORT_KEEP_HOURS)).timestamp()
    named = set(
        ExportFile.objects.filter(deleted_at__isnull=True)
        .exclude(stored_name="")
        .values_list("stored_name", flat=True)
    )
    removed = 0
    for path in directory.iterdir():
        if path.is_file() and path.name not in named and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
