"""Writing audit rows. Call inside the same transaction as the change being audited."""

from __future__ import annotations

import datetime
import decimal
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models import QuerySet

from niangjia.audit import context
from niangjia.audit.choices import PERSONAL_ACTIONS, AuditAction
from niangjia.audit.models import AuditEntry

if TYPE_CHECKING:
    from django.http import HttpRequest

    from niangjia.utilities.xlsx import XlsxFile

log = logging.getLogger(__name__)

# Attribute of a request naming the object it acts on (``niangjia.audit.denials.note_target``).
TARGET_ATTR = "audit_target"


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The concrete field values of ``obj`` (foreign keys as ids), JSON-ready."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude or getattr(field, "audit_exclude", False):
            continue
        data[field.attname] = _jsonable(getattr(obj, field.attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys that changed, on both sides."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(
    *,
    action: AuditAction | str,
    actor: Any = None,
    obj: models.Model | None = None,
    union_path: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    actor_name: str = "",
) -> AuditEntry:
    entry = build_entry(
        action=action,
        actor=actor,
        obj=obj,
        union_path=union_path,
        before=before,
        after=after,
        detail=detail,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        actor_name=actor_name,
    )
    entry.save(force_insert=True)
    return entry


def build_entry(
    *,
    action: AuditAction | str,
    actor: Any = None,
    obj: models.Model | None = None,
    union_path: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    actor_name: str = "",
) -> AuditEntry:
    """The unsaved row ``record`` writes; for a hot path that inserts it in one statement with
    the change it audits (``obj`` may then still lack its primary key)."""
    from niangjia.accounts.scope import describe

    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or ("" if obj.pk is None else str(obj.pk))
        object_repr = object_repr or str(obj)[:200]
        if not union_path:
            union_path = _owning_path(obj)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    if not union_path and str(action) in PERSONAL_ACTIONS:
        union_path = _person_path(actor if authenticated else None, actor_name, detail)
    return AuditEntry(
        actor=actor if authenticated else None,
        actor_name=(str(actor) if authenticated else actor_name)[:150],
        actor_scope=describe(actor) if authenticated else "",
        action=str(action),
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        union_path=union_path,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        detail=_jsonable(detail) if detail is not None else None,
        client_ip=ctx.client_ip,
        request_id=ctx.request_id,
    )


def _owning_path(obj: models.Model) -> str:
    """The tree path of the union that owns ``obj``, from its first scope lookup."""
    lookups: tuple[str, ...] = getattr(type(obj), "scope_path_lookups", ())
    for lookup in lookups:
        value: Any = obj
        for part in lookup.split("__"):
            value = getattr(value, part, None)
            if value is None:
                break
        if isinstance(value, str) and value:
            return value
    return ""


def _person_path(actor: Any, actor_name: str, detail: dict[str, Any] | None) -> str:
    """Where a row about a person is filed: their home union (see accounts.scope.home_path).
    A failed login names the account only by the username typed."""
    from niangjia.accounts.scope import home_path

    if actor is None:
        username = (detail or {}).get("username") or actor_name
        if not username:
            return ""
        actor = get_user_model()._default_manager.filter(username=username).first()
    return home_path(actor)


def audit_permission_denied(request: HttpRequest, exc: BaseException) -> AuditEntry | None:
    """Record that ``request`` was refused with 403. Called once per request, by the web
    middleware and by the API's exception handler alike; the row names the object when the
    refusal did (``niangjia.utilities.scoping.require`` attaches it as ``exc.obj``)."""
    if getattr(request, "_permission_denied_audited", False):
        return None
    request._permission_denied_audited = True  # type: ignore[attr-defined]
    user = getattr(request, "user", None)
    obj = getattr(exc, "obj", None) or getattr(request, TARGET_ATTR, None)
    match = getattr(request, "resolver_match", None)
    detail: dict[str, Any] = {
        "path": request.path[:500],
        "method": request.method or "",
        "reason": str(exc)[:500],
    }
    if match is not None:
        detail["view"] = match.view_name
        if match.kwargs:
            detail["arguments"] = {k: str(v)[:100] for k, v in match.kwargs.items()}
    token = getattr(request, "api_token", None)
    detail["via"] = "token" if token is not None else "session"
    if token is not None:
        detail["api_token"] = getattr(token, "pk", None)
    try:
        # A savepoint, so that a refusal inside a transaction still leaves the caller usable.
        with transaction.atomic():
            return record(
                action=AuditAction.PERMISSION_DENIED,
                actor=user,
                obj=obj if isinstance(obj, models.Model) else None,
                detail=detail,
            )
    except DatabaseError:
        log.exception("could not record permission denial for %s %s", request.method, request.path)
        return None


EXPORT_LIMIT = 100_000
EXPORT_HEADERS = (
    "时间",
    "操作人",
    "操作人权限范围",
    "动作",
    "对象类型",
    "对象编号",
    "对象",
    "所属工会路径",
    "修改前",
    "修改后",
    "详情",
    "客户端地址",
    "请求编号",
)


def audit_entries_export(
    *, acting_user: Any, entries: QuerySet[AuditEntry], filters: dict[str, Any]
) -> XlsxFile:
    """The audit rows of ``entries`` (restricted and filtered by the caller) as a spreadsheet.
    The export is itself audited, with the filters, the row count and the file's SHA-256."""
    from niangjia.accounts.scope import home_path
    from niangjia.utilities.xlsx import write_xlsx

    if entries.order_by()[: EXPORT_LIMIT + 1].count() > EXPORT_LIMIT:
        raise ValidationError(
            {"since": f"符合条件的记录超过 {EXPORT_LIMIT:,} 条，请缩小时间范围后再导出"}
        )
    labels = dict(AuditAction.choices)

    def rows() -> Any:
        for entry in entries.order_by("-time", "-id").iterator(chunk_size=2000):
            yield (
                entry.time,
                entry.actor_name,
                entry.actor_scope,
                labels.get(entry.action, entry.action),
                entry.object_type,
                entry.object_id,
                entry.object_repr,
                entry.union_path,
                _json_text(entry.before),
                _json_text(entry.after),
                _json_text(entry.detail),
                entry.client_ip,
                entry.request_id,
            )

    with transaction.atomic():
        sheet = write_xlsx(
            title="审计记录",
            headers=EXPORT_HEADERS,
            rows=rows(),
            widths=(20, 14, 30, 14, 22, 10, 30, 20, 40, 40, 40, 16, 34),
        )
        record(
            action=AuditAction.EXPORT,
            actor=acting_user,
            object_type=AuditEntry._meta.label_lower,
            union_path=home_path(acting_user),
            detail={"filters": filters, "rows": sheet.rows, "sha256": sheet.sha256},
        )
    return sheet


def _json_text(value: Any) -> str:
    if value in (None, {}, []):
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
