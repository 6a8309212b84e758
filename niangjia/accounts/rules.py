"""Who may administer which account. Checks return booleans or raise PermissionDenied with a
Chinese message; the services call them, the views call them to decide what to offer."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from niangjia.accounts.choices import Action, Role
from niangjia.accounts.models import RoleAssignment, User
from niangjia.accounts.scope import paths_for

POWER_NAMES = {
    Action.MANAGE_ACCOUNTS: "管理账号",
    Action.GRANT_ROLES: "授予角色",
    Action.VIEW_AUDIT: "查看审计记录",
}


def has_power(actor: Any, action: str) -> bool:
    return bool(paths_for(actor, action))


def require_power(actor: Any, action: str) -> None:
    if not has_power(actor, action):
        raise PermissionDenied(f"您没有{POWER_NAMES.get(action, action)}的权限")


def in_subtree(actor: Any, action: str, path: str) -> bool:
    """Is the union at tree ``path`` within a subtree where ``actor`` holds ``action``?
    (By tree path only: a role granted there is revocable from the same subtree.)"""
    return any(path.startswith(p) for p in paths_for(actor, action))


def sees(actor: Any, action: str, target: User) -> bool:
    """Is ``target`` among the accounts ``actor`` sees for ``action`` (User.objects.restrict)?"""
    return User.objects.restrict(actor, action).filter(pk=target.pk).exists()


def governs(actor: Any, action: str, target: User) -> bool:
    """May ``actor`` act on ``target``'s account as a whole (password, status, lockout,
    second factor)? Only if every role ``target`` holds lies in ``actor``'s subtrees, or, for
    an account without roles, it was opened under one of them; never on oneself."""
    if actor is None or target.pk == getattr(actor, "pk", None):
        return False
    paths = paths_for(actor, action)
    if not paths:
        return False
    role_paths = list(
        RoleAssignment.objects.filter(user=target).values_list("union__path", flat=True)
    )
    if role_paths:
        return all(any(rp.startswith(p) for p in paths) for rp in role_paths)
    union = target.created_under
    return union is not None and any(union.path.startswith(p) for p in paths)


def require_governs(actor: Any, action: str, target: User) -> None:
    if not has_power(actor, action):
        refusal = PermissionDenied(f"您没有{POWER_NAMES.get(action, action)}的权限")
    elif target.pk == actor.pk:
        refusal = PermissionDenied("管理员不能对自己的账号执行此操作")
    elif not governs(actor, action, target):
        refusal = PermissionDenied(
            f"账号“{target.display_name}”有角色不在您的管辖范围内，您不能对其执行此操作"
        )
    else:
        return
    refusal.obj = target  # type: ignore[attr-defined]  # named in the 越权拒绝 audit row
    raise refusal


def grants_administrators_at(actor: Any, path: str) -> bool:
    """May ``actor`` grant or revoke administrator-type roles on the union at ``path``? Only a
    security administrator whose node is that union or one of its ancestors."""
    return any(
        a.role == Role.SECURITY_ADMIN and path.startswith(a.union.path)
        for a in actor.active_roles()
    )
