"""Writing audit rows. Call inside the same transaction as the change being audited."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.db import models

from niangjia.audit import context
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry


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
    from niangjia.accounts.scope import describe

    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if not union_path:
            union_path = _owning_path(obj)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
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
