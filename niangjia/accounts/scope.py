"""Which union subtrees a user may act on. Used only through RestrictedQuerySet.restrict()."""

from __future__ import annotations

from typing import Any


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
