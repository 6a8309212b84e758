"""Who is calling: an integration with an API token, or a person in the browser session.

A token (``Authorization: Bearer nj_…``) acts as its user with that user's scope; it bypasses
the second factor because tokens are issued deliberately. A session is accepted only after
the second factor for administrators, and unsafe methods must carry the CSRF token.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from niangjia.accounts.models import ApiToken, User

INVALID_TOKEN = "接口令牌无效、已过期或已被吊销"  # noqa: S105 (a message, not a secret)
SECOND_FACTOR_REQUIRED = "需要先完成动态口令验证"
CSRF_FAILED = "CSRF 校验失败：请刷新页面，并在请求头 X-CSRFToken 中带上 CSRF 令牌"

# last_used_at is written at most this often per token, not on every request.
TOUCH_INTERVAL = datetime.timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 200
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User:
        token = token.strip()
        found = ApiToken.objects.find(token) if 0 < len(token) <= _MAX_TOKEN_LENGTH else None
        if found is None or not found.user.is_active:
            # Fail here rather than fall back to the session: a wrong token is an error.
            raise AuthenticationError(message=INVALID_TOKEN)
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at >= TOUCH_INTERVAL:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        request.api_token = found  # type: ignore[attr-defined]
        request.user = found.user
        return found.user


class SessionAuth(APIKeyCookie):
    """The Django session of the web pages (cookie ``sessionid``)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if (
            settings.REQUIRE_ADMIN_OTP
            and user.needs_second_factor()
            and not getattr(user, "is_verified", lambda: False)()
        ):
            raise HttpError(403, SECOND_FACTOR_REQUIRED)
        if (
            request.method not in _SAFE_METHODS
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise HttpError(403, CSRF_FAILED)
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return None  # not used: __call__ reads the session user directly


API_AUTH = [TokenAuth(), SessionAuth()]


def acting_user(request: HttpRequest) -> User:
    """The user an authenticated API request acts as (set by TokenAuth or SessionAuth)."""
    user: User = request.auth  # type: ignore[attr-defined]
    return user
