"""Writes about accounts: second-factor enrolment, account administration (三员分立), role
grants and API tokens. Each is one transaction with its audit row."""

from __future__ import annotations

import datetime
from typing import Any

from axes.utils import reset as axes_reset
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from niangjia.accounts import rules
from niangjia.accounts.choices import (
    ADMINISTRATOR_ROLES,
    SECOND_FACTOR_ROLES,
    SEPARATED_ROLES,
    Action,
    Role,
)
from niangjia.accounts.models import ApiToken, RoleAssignment, User
from niangjia.accounts.scope import home_path
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.models import Union

TOKEN_DEFAULT_DAYS = 90
TOKEN_MAX_DAYS = 366
TOKENS_PER_USER = 10


def totp_pending_device(*, user: User) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled for ``user`` (created on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="动态口令", confirmed=False)
    return device


@transaction.atomic
def totp_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    """Confirm enrolment when ``token`` matches; audited."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    record(
        action=AuditAction.OTP_ENROLL,
        actor=user,
        object_type="accounts.user",
        object_id=str(user.pk),
    )
    return True


# --- Helpers


def _user_snapshot(user: User) -> dict[str, Any]:
    """What an audit row keeps of an account: never the password hash."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "is_active": user.is_active,
        "created_under": user.created_under_id,
        "password_must_change": user.password_must_change,
    }


def _locked_user(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


def password_errors(password: str, user: User) -> list[str]:
    """Why ``password`` may not be ``user``'s (the configured rules), in Chinese."""
    if not password:
        return ["请填写密码"]
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


# --- Accounts (system administrator: Action.MANAGE_ACCOUNTS)


def username_errors(username: str) -> list[str]:
    """Why ``username`` may not be given to a new account, in Chinese."""
    if not username:
        return ["请填写用户名"]
    if len(username) > 150:
        return ["用户名不能超过 150 个字符"]
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        return ["用户名只能包含字母、数字和 @ . + - _ 这些符号"]
    if User.objects.filter(username__iexact=username).exists():
        return [f"用户名“{username}”已被使用，请换一个"]
    return []


@transaction.atomic
def user_create(
    *, acting_user: User, username: str, full_name: str, password: str, union: Union
) -> User:
    """Open an account under ``union`` (within the acting system administrator's subtree).
    The holder must choose their own password at first sign-in; roles are granted separately,
    by a security administrator."""
    rules.require_power(acting_user, Action.MANAGE_ACCOUNTS)
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    full_name = (full_name or "").strip()
    problems = username_errors(username)
    if problems:
        errors["username"] = problems
    if not full_name:
        errors["full_name"] = ["请填写姓名"]
    elif len(full_name) > 50:
        errors["full_name"] = ["姓名不能超过 50 个字"]
    if union is None:
        errors["union"] = ["请选择开户工会"]
    elif not rules.in_subtree(acting_user, Action.MANAGE_ACCOUNTS, union.path):
        errors["union"] = [f"“{union.name}”不在您的账号管理范围内"]
    elif not union.is_active:
        errors["union"] = [f"“{union.name}”{union.get_status_display()}，不能在该工会开设账号"]
    user = User(
        username=username, full_name=full_name, created_under=union, password_must_change=True
    )
    problems = password_errors(password, user)
    if problems:
        errors["password"] = problems
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.full_clean()
    user.save()
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=user,
        union_path=union.path,
        after=_user_snapshot(user),
    )
    return user


@transaction.atomic
def user_set_active(*, acting_user: User, user: User, active: bool, reason: str) -> User:
    """Deactivate (or reactivate) an account. Deactivation also revokes its API tokens."""
    rules.require_governs(acting_user, Action.MANAGE_ACCOUNTS, user)
    user = _locked_user(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写停用原因" if not active else "请填写启用原因"})
    if user.is_active == active:
        raise ValidationError({"active": "该账号已是启用状态" if active else "该账号已是停用状态"})
    user.is_active = active
    user.save(update_fields=["is_active"])
    detail: dict[str, Any] = {"reason": reason}
    if not active:
        detail["tokens_revoked"] = ApiToken.objects.filter(
            user=user, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=user,
        union_path=home_path(user),
        before={"is_active": not active},
        after={"is_active": active},
        detail=detail,
    )
    return user


@transaction.atomic
def user_reset_password(*, acting_user: User, user: User, new_password: str) -> User:
    """Set a new password chosen by the system administrator; the holder must change it at
    the next sign-in. Their open sessions end (the session hash changes)."""
    rules.require_governs(acting_user, Action.MANAGE_ACCOUNTS, user)
    user = _locked_user(user)
    errors = password_errors(new_password, user)
    if errors:
        raise ValidationError({"new_password": errors})
    user.set_password(new_password)
    user.password_must_change = True
    user.save(update_fields=["password", "password_must_change"])
    record(
        action=AuditAction.PASSWORD_RESET,
        actor=acting_user,
        obj=user,
        union_path=home_path(user),
        after={"password_must_change": True},
    )
    return user


@transaction.atomic
def password_change_own(*, user: User, new_password: str) -> User:
    """The holder chooses a new password (the old one was checked by the caller)."""
    user = _locked_user(user)
    errors = password_errors(new_password, user)
    if not errors and user.check_password(new_password):
        errors = ["新密码不能与原密码相同"]
    if errors:
        raise ValidationError({"new_password": errors})
    before = user.password_must_change
    user.set_password(new_password)
    user.password_must_change = False
    user.save(update_fields=["password", "password_must_change"])
    record(
        action=AuditAction.PASSWORD_CHANGE,
        actor=user,
        obj=user,
        union_path=home_path(user),
        before={"password_must_change": before},
        after={"password_must_change": False},
    )
    return user


# --- Roles, lockouts and second factor (security administrator: Action.GRANT_ROLES)


def _role_label(role: str) -> str:
    return Role(role).label if role in Role.values else role


def _assignment_snapshot(assignment: RoleAssignment) -> dict[str, Any]:
    return {
        "role": assignment.role,
        "union": assignment.union_id,
        "union_name": assignment.union.name,
        "granted_at": assignment.granted_at,
        "granted_by": assignment.granted_by_id,
    }


@transaction.atomic
def role_grant(*, acting_user: User, user: User, union: Union, role: str) -> RoleAssignment:
    """Give ``user`` ``role`` on ``union``. Nobody grants to themselves, nor on a union outside
    their subtree; administrator-type roles only a security administrator of the union or an
    ancestor grants; one person holds at most one of the three separated administrator roles."""
    rules.require_power(acting_user, Action.GRANT_ROLES)
    if user.pk == acting_user.pk:
        raise PermissionDenied("不能给自己授予角色，请由其他安全保密管理员办理")
    if not rules.sees(acting_user, Action.GRANT_ROLES, user):
        raise PermissionDenied(f"账号“{user.display_name}”不在您的管辖范围内")
    user = _locked_user(user)
    if not user.is_active:
        raise ValidationError(
            {"user": f"账号“{user.display_name}”已停用，请先由系统管理员启用再授予角色"}
        )
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [f"“{role}”不是有效的角色"]
    if union is None:
        errors["union"] = ["请选择授予角色的工会"]
    elif not rules.in_subtree(acting_user, Action.GRANT_ROLES, union.path):
        errors["union"] = [f"“{union.name}”不在您的管辖范围内，不能在该工会授予角色"]
    elif not union.is_active:
        errors["union"] = [f"“{union.name}”{union.get_status_display()}，不能在该工会授予角色"]
    if errors:
        raise ValidationError(errors)
    if role in ADMINISTRATOR_ROLES and not rules.grants_administrators_at(acting_user, union.path):
        raise ValidationError(
            {
                "role": f"“{_role_label(role)}”是管理员类角色，只能由“{union.name}”或其上级工会的安全保密管理员授予"
            }
        )
    held = list(RoleAssignment.objects.filter(user=user).select_related("union"))
    if any(a.union_id == union.pk and a.role == role for a in held):
        raise ValidationError({"role": f"该账号已在“{union.name}”担任“{_role_label(role)}”"})
    if role in SEPARATED_ROLES:
        other = next((a for a in held if a.role in SEPARATED_ROLES and a.role != role), None)
        if other is not None:
            raise ValidationError(
                {
                    "role": f"三员分立：该账号已在“{other.union.name}”担任“{other.get_role_display()}”，不能再兼任“{_role_label(role)}”"
                }
            )
    assignment = RoleAssignment(user=user, union=union, role=role, granted_by=acting_user)
    assignment.full_clean()
    assignment.save()
    user.forget_roles()
    record(
        action=AuditAction.ROLE_GRANT,
        actor=acting_user,
        obj=user,
        union_path=union.path,
        after={**_assignment_snapshot(assignment), "assignment": assignment.pk},
    )
    return assignment


@transaction.atomic
def role_revoke(*, acting_user: User, assignment: RoleAssignment, reason: str) -> None:
    rules.require_power(acting_user, Action.GRANT_ROLES)
    locked = (
        RoleAssignment.objects.restrict(acting_user, Action.GRANT_ROLES)
        .select_for_update()
        .select_related("union", "user")
        .filter(pk=assignment.pk)
        .first()
    )
    if locked is None:
        raise PermissionDenied("该角色所在工会不在您的管辖范围内")
    assignment = locked
    if assignment.user_id == acting_user.pk:
        raise PermissionDenied("不能撤销自己的角色，请由其他安全保密管理员办理")
    if assignment.role in ADMINISTRATOR_ROLES and not rules.grants_administrators_at(
        acting_user, assignment.union.path
    ):
        raise PermissionDenied(
            f"“{assignment.get_role_display()}”是管理员类角色，只能由“{assignment.union.name}”或其上级工会的安全保密管理员撤销"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写撤销原因"})
    user = assignment.user
    record(
        action=AuditAction.ROLE_REVOKE,
        actor=acting_user,
        obj=user,
        union_path=assignment.union.path,
        before={**_assignment_snapshot(assignment), "assignment": assignment.pk},
        detail={"reason": reason},
    )
    assignment.delete()
    user.forget_roles()


@transaction.atomic
def account_unlock(*, acting_user: User, user: User) -> int:
    """Clear the failed-login lockouts of ``user`` (all addresses). Returns the rows cleared."""
    rules.require_governs(acting_user, Action.GRANT_ROLES, user)
    cleared = axes_reset(username=user.username)
    if not cleared:
        raise ValidationError({"user": "该账号当前没有登录失败记录，无需解锁"})
    record(
        action=AuditAction.ACCOUNT_UNLOCK,
        actor=acting_user,
        obj=user,
        union_path=home_path(user),
        detail={"attempts_cleared": cleared},
    )
    return cleared


@transaction.atomic
def totp_reset(*, acting_user: User, user: User) -> int:
    """Remove ``user``'s TOTP devices: they enrol a new one at their next sign-in."""
    rules.require_governs(acting_user, Action.GRANT_ROLES, user)
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    if not removed:
        raise ValidationError({"user": "该账号尚未绑定动态口令，无需重置"})
    record(
        action=AuditAction.OTP_RESET,
        actor=acting_user,
        obj=user,
        union_path=home_path(user),
        detail={"devices_removed": removed},
    )
    return removed


# --- API tokens


@transaction.atomic
def api_token_issue(
    *,
    acting_user: User,
    user: User,
    name: str,
    expires_at: datetime.datetime | None = None,
) -> tuple[ApiToken, str]:
    """A token acting as ``user`` with ``user``'s scope, for an integration. A cadre issues
    their own; a system administrator may issue one for an account they govern. Returns the
    token and its raw value, which is shown once and never stored."""
    if user.pk != acting_user.pk:
        rules.require_governs(acting_user, Action.MANAGE_ACCOUNTS, user)
    errors: dict[str, list[str]] = {}
    roles = user.active_roles()
    if not user.is_active or not roles:
        errors["user"] = ["只有在工会任职的有效账号才能创建接口令牌"]
    elif any(a.role in SECOND_FACTOR_ROLES for a in roles):
        errors["user"] = ["管理员账号登录须验证动态口令，不能创建绕过动态口令的接口令牌"]
    name = (name or "").strip()
    usable = ApiToken.objects.filter(user=user, revoked_at__isnull=True).exclude(
        expires_at__lte=timezone.now()
    )
    if not name:
        errors["name"] = ["请填写令牌名称，例如使用它的系统名"]
    elif len(name) > 100:
        errors["name"] = ["令牌名称不能超过 100 个字"]
    elif usable.filter(name=name).exists():
        errors["name"] = [f"已有名为“{name}”的有效令牌，请换一个名称"]
    if usable.count() >= TOKENS_PER_USER:
        errors.setdefault("name", []).append(
            f"每个账号最多持有 {TOKENS_PER_USER} 个有效令牌，请先吊销不用的令牌"
        )
    now = timezone.now()
    if expires_at is None:
        expires_at = now + datetime.timedelta(days=TOKEN_DEFAULT_DAYS)
    elif expires_at <= now:
        errors["expires_at"] = ["过期时间须晚于当前时间"]
    elif expires_at > now + datetime.timedelta(days=TOKEN_MAX_DAYS):
        errors["expires_at"] = ["接口令牌有效期最长一年"]
    if errors:
        raise ValidationError(errors)
    token, raw = ApiToken.issue(user=user, name=name, expires_at=expires_at)
    record(
        action=AuditAction.TOKEN_CREATE,
        actor=acting_user,
        obj=token,
        union_path=home_path(user),
        after={
            "user": user.pk,
            "name": token.name,
            "prefix": token.prefix,
            "expires_at": expires_at,
        },
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, acting_user: User, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if token.user_id != acting_user.pk:
        rules.require_governs(acting_user, Action.MANAGE_ACCOUNTS, token.user)
    if token.revoked_at is not None:
        raise ValidationError({"token": "该令牌已被吊销"})
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(
        action=AuditAction.TOKEN_REVOKE,
        actor=acting_user,
        obj=token,
        union_path=home_path(token.user),
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at},
    )
    return token
