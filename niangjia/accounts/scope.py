"""Which union subtrees a user may act on. Used only through RestrictedQuerySet.restrict()."""

from __future__ import annotations

from typing import Any

from django.db import models


def paths_for(user: Any, action: str) -> list[str]:
    """Tree paths of the unions whose subtree ``user`` may ``action``; minimal (no nesting)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    paths = sorted({a.union.path for a in user.active_roles() if action in a.actions})
    minimal: list[str] = []
    for path in paths:  # sorted: an ancestor comes before its descendants
        if not any(path.startswith(kept) for kept in minimal):
            minimal.append(path)
    return minimal


def can(user: Any, action: str, path: str) -> bool:
    """May ``user`` perform ``action`` on something owned by the union at tree ``path``?"""
    return any(path.startswith(p) for p in paths_for(user, action))


def describe(user: Any) -> str:
    """A short text of the user's roles, copied into audit rows."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return "; ".join(f"{a.union.name}:{a.get_role_display()}" for a in user.active_roles())[:500]


def home_path(user: Any) -> str:
    """The tree path under which rows about ``user`` (logins, account changes) are filed:
    the union of their first role, else the union their account was opened under."""
    if user is None or getattr(user, "pk", None) is None:
        return ""
    from niangjia.accounts.models import RoleAssignment

    # Roles on active unions first, then the oldest role.
    first = (
        RoleAssignment.objects.filter(user_id=user.pk)
        .order_by(
            models.Case(
                models.When(union__status="active", then=0),
                default=1,
                output_field=models.IntegerField(),
            ),
            "granted_at",
            "id",
        )
        .values_list("union__path", flat=True)
        .first()
    )
    if first:
        return first
    created_under = getattr(user, "created_under", None)
    return created_under.path if created_under is not None else ""
