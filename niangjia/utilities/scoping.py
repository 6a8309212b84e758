"""Object look-ups through the scope choke point: out of scope is 404, not allowed is 403."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


def get_scoped_or_404(model: type[M], user: Any, action: str = "view", **lookup: Any) -> M:
    """The object if ``user`` may see it; 404 if it lies outside their scope; 403 if they
    may see it but not perform ``action`` on it."""
    manager: Any = model._default_manager
    obj = manager.restrict(user, "view").filter(**lookup).first()
    if obj is None:
        raise Http404(f"{model._meta.verbose_name}不存在或不在您的管辖范围内")
    if action != "view":
        require(user, action, obj)
    return obj


def allowed(user: Any, action: str, obj: models.Model) -> bool:
    manager: Any = type(obj)._default_manager
    return bool(manager.restrict(user, action).filter(pk=obj.pk).exists())


def require(user: Any, action: str, obj: models.Model) -> None:
    if not allowed(user, action, obj):
        exc = PermissionDenied(f"您没有对“{obj}”执行此操作的权限")
        exc.obj = obj  # type: ignore[attr-defined]  # named in the permission-denied audit row
        raise exc
