"""Generic machinery: login, logout, failed login and lockout go into the audit table."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record


@receiver(user_logged_in)
def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(action=AuditAction.LOGIN, actor=user, obj=user)


@receiver(user_logged_out)
def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(action=AuditAction.LOGOUT, actor=user, obj=user)


@receiver(user_login_failed)
def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    account = get_user_model()._default_manager.filter(username=username).first()
    record(
        action=AuditAction.LOGIN_FAILED,
        actor_name=username,
        obj=account,
        object_type="accounts.user",
        detail={"username": username},
    )
