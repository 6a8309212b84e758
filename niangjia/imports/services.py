"""Roster imports, the use cases: upload, confirm the columns, dry run, commit, cancel, delete.

The work itself runs as background jobs (``niangjia/imports/jobs.py`` → ``engine.py``); these
functions check who may do what, move the run's state and queue the job, each in one
transaction with its audit row.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.imports import engine
from niangjia.imports.choices import BUSY_STATES, ImportKind, ImportState
from niangjia.imports.models import ImportRun
from niangjia.jobs.models import Job
from niangjia.jobs.services import job_cancel, job_enqueue
from niangjia.orgs.choices import UnionStatus
from niangjia.orgs.models import Union
from niangjia.utilities.scoping import require

HEADER_SCAN_ROWS = 30
_CHUNK = 1 << 20


def columns_for(kind: str) -> Any:
    from niangjia.imports import columns

    return columns.MEMBER_COLUMNS if kind == ImportKind.MEMBERS else columns.EMPLOYER_COLUMNS


def import_upload(
    *, acting_user: User, union: Union, kind: str, file: IO[bytes], original_name: str
) -> ImportRun:
    """Store an uploaded roster, refuse a hostile or unreadable file (nothing kept), and
    propose which column holds what."""
    from niangjia.imports.columns import detect_header
    from niangjia.imports.files import RejectedFile, head_rows, inspect_upload

    require(acting_user, Action.ADD, union)
    if union.status != UnionStatus.ACTIVE:
        raise ValidationError({"union": "该工会已撤销或合并，不能导入"})
    if kind not in ImportKind.values:
        raise ValidationError({"kind": "请选择名册类型"})
    stored_name = secrets.token_hex(16)
    path = engine.import_dir() / stored_name
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("xb") as out:
            path.chmod(0o600)
            for chunk in iter(lambda: file.read(_CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        file_kind = inspect_upload(path, original_name=original_name)
        head = head_rows(path, file_kind, limit=HEADER_SCAN_ROWS)
        guess = detect_header(head, columns_for(kind))
    except RejectedFile as exc:
        path.unlink(missing_ok=True)
        raise ValidationError({"file": str(exc)}) from exc
    except Exception as exc:
        path.unlink(missing_ok=True)
        raise ValidationError(
            {"file": "文件无法读取，请用 Excel 或 WPS 另存为 .xlsx 后重试"}
        ) from exc
    if guess.row is None:
        path.unlink(missing_ok=True)
        raise ValidationError({"file": "；".join(guess.messages(columns_for(kind)))})
    headers = list(guess.headers)
    try:
        with transaction.atomic():
            run = ImportRun(
                kind=kind,
                union=union,
                union_path=union.path,
                created_by=acting_user,
                original_name=original_name[:255],
                stored_name=stored_name,
                sha256=digest.hexdigest(),
                size=size,
                file_kind=file_kind,
                header_row=guess.row + 1,
                headers=headers,
                mapping={str(index): key for index, key in guess.mapping.items()},
                message="".join(guess.messages(columns_for(kind)))[:500],
            )
            run.full_clean()
            run.save()
            record(
                action=AuditAction.CREATE,
                actor=acting_user,
                obj=run,
                detail={
                    "file": run.original_name,
                    "sha256": run.sha256,
                    "size": size,
                    "kind": kind,
                },
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return run


def _editable(run: ImportRun, acting_user: User) -> ImportRun:
    require(acting_user, Action.ADD, run)
    locked = ImportRun.objects.select_for_update().get(pk=run.pk)
    if locked.state in BUSY_STATES:
        raise ValidationError("该名册正在处理中，请等待完成或先取消")
    if locked.state == ImportState.COMMITTED:
        raise ValidationError("该名册已导入完成")
    return locked


@transaction.atomic
def import_set_mapping(
    *, run: ImportRun, acting_user: User, mapping: dict[int, str], header_row: int | None = None
) -> ImportRun:
    """The cadre's confirmed columns: every required field once, no field twice."""
    run = _editable(run, acting_user)
    if run.chunks.exists():
        raise ValidationError("已有部分行写入，不能再更改列对应")
    columns = {column.key: column for column in columns_for(run.kind)}
    errors: list[str] = []
    seen: dict[str, int] = {}
    for index, key in sorted(mapping.items()):
        if not key:
            continue
        if key not in columns:
            errors.append(f"第 {index + 1} 列：未知的字段")
        elif key in seen:
            errors.append(
                f"“{columns[key].label}”对应了两列（第 {seen[key] + 1} 列和第 {index + 1} 列），只能选一列"
            )
        else:
            seen[key] = index
    for key, column in columns.items():
        if column.required and key not in seen:
            errors.append(f"缺少必填列“{column.label}”")
    if errors:
        raise ValidationError(errors)
    run.mapping = {str(index): key for key, index in seen.items()}
    if header_row is not None:
        run.header_row = header_row
    run.state = ImportState.UPLOADED
    run.save(update_fields=["mapping", "header_row", "state"])
    record(action=AuditAction.CHANGE, actor=acting_user, obj=run, after={"mapping": run.mapping})
    return run


def import_dry_run(*, run: ImportRun, acting_user: User) -> Job:
    """Queue the dry run: every row read and checked, nothing written to the registry."""
    with transaction.atomic():
        run = _editable(run, acting_user)
        if run.chunks.exists():
            raise ValidationError("已有部分行写入，请继续导入，不能重新试导入")
        if not engine.stored_path(run).exists():
            raise ValidationError("原文件已不在，请重新上传")
        run.state = ImportState.VALIDATING
        run.message = ""
        run.validated_at = None
        job = job_enqueue(
            kind="imports.dry_run",
            params={"run": run.pk, "return_url": f"/imports/{run.pk}/"},
            owner=acting_user,
            union=run.union,
            title=f"试导入：{run.original_name}",
        )
        run.job = job
        run.save(update_fields=["state", "message", "validated_at", "job"])
        record(action=AuditAction.CHANGE, actor=acting_user, obj=run, after={"state": run.state})
    return job


def import_commit(*, run: ImportRun, acting_user: User) -> Job | None:
    """Queue the commit of a dry-run result (or resume one that was cancelled part-way)."""
    with transaction.atomic():
        run = _editable(run, acting_user)
        if run.state not in (ImportState.VALIDATED, ImportState.CANCELLED) or not run.validated_at:
            raise ValidationError("请先试导入，核对结果后再正式导入")
        run.state = ImportState.COMMITTING
        run.committed_by = acting_user
        run.message = ""
        job = job_enqueue(
            kind="imports.commit",
            params={"run": run.pk, "return_url": f"/imports/{run.pk}/"},
            owner=acting_user,
            union=run.union,
            title=f"正式导入：{run.original_name}",
        )
        run.job = job
        run.save(update_fields=["state", "committed_by", "message", "job"])
        record(action=AuditAction.CHANGE, actor=acting_user, obj=run, after={"state": run.state})
    return job


@transaction.atomic
def import_cancel(*, run: ImportRun, acting_user: User) -> ImportRun:
    """Stop a dry run or a commit at its next batch. Rows already committed stay committed;
    the commit can be started again and goes on where it stopped."""
    require(acting_user, Action.ADD, run)
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.state not in BUSY_STATES:
        raise ValidationError("该名册当前没有进行中的处理")
    if run.job_id is not None:
        job = Job.objects.get(pk=run.job_id)
        if job.state in ("queued", "running"):
            job_cancel(job=job, acting_user=acting_user)
    if run.state == ImportState.VALIDATING:
        run.state = ImportState.CANCELLED
        run.validated_at = None
        run.message = "试导入已取消"
    else:
        run.state = ImportState.CANCELLED
        run.message = "正式导入已取消：已写入的部分保留，可随时继续导入"
    run.save(update_fields=["state", "validated_at", "message"])
    record(action=AuditAction.CHANGE, actor=acting_user, obj=run, after={"state": run.state})
    return run


@transaction.atomic
def import_delete(*, run: ImportRun, acting_user: User) -> None:
    """Remove a run that is not being processed: its file, staged rows and problem list.
    What a commit already wrote to the registry stays (it has its own history and audit)."""
    require(acting_user, Action.ADD, run)
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.state in BUSY_STATES:
        raise ValidationError("该名册正在处理中，请先取消")
    record(
        action=AuditAction.DELETE,
        actor=acting_user,
        obj=run,
        detail={"file": run.original_name, "sha256": run.sha256, "state": run.state},
    )
    path = engine.stored_path(run)
    run.delete()
    transaction.on_commit(lambda: path.unlink(missing_ok=True))


def mark_validated(run: ImportRun, tally: engine.Tally) -> ImportRun:
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        if run.state != ImportState.VALIDATING:
            return run
        run.rows_total = tally.total
        run.rows_new = tally.new
        run.rows_updated = tally.update
        run.rows_unchanged = tally.unchanged
        run.rows_error = tally.error
        run.rows_conflict = tally.conflict
        run.state = ImportState.VALIDATED
        run.validated_at = timezone.now()
        run.save()
    return run


def mark_failed(run: ImportRun, message: str) -> None:
    ImportRun.objects.filter(pk=run.pk).update(state=ImportState.FAILED, message=message[:500])
