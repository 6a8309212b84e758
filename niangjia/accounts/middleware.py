from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

# Paths reachable before the second factor: signing in and out, the second factor itself.
_OPEN_PREFIXES = ("/accounts/login/", "/accounts/logout/", "/accounts/otp/", "/static/", "/healthz")
# ... and, for an account whose password an administrator chose, changing that password.
_PASSWORD_CHANGE_PREFIXES = (*_OPEN_PREFIXES, "/accounts/password/")


def _signed_out(request: HttpRequest) -> bool:
    """True when the session holds no signed-in user: AuthenticationMiddleware takes the user
    from there, so the user is anonymous and need not be loaded (a worker's join post, say,
    has no session at all). Reading the session counts as reading it, as loading the user
    would (the answer still varies with the Cookie header)."""
    session = getattr(request, "session", None)
    return session is not None and SESSION_KEY not in session


class SecondFactorMiddleware:
    """Administrators (roles in SECOND_FACTOR_ROLES) must pass TOTP before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.REQUIRE_ADMIN_OTP
            and user is not None
            and not _signed_out(request)
            and user.is_authenticated
            and not getattr(request, "api_token", None)
            and not request.path.startswith(_OPEN_PREFIXES)
            and user.needs_second_factor()
            and not user.is_verified()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "需要先完成动态口令验证"}, status=403)
            return redirect(f"{reverse('otp_verify')}?next={request.get_full_path()}")
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """An account whose password was set by an administrator (new account, reset) must choose
    its own before doing anything else, so that no administrator knows a working password."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and not _signed_out(request)
            and user.is_authenticated
            and getattr(user, "password_must_change", False)
            and not getattr(request, "api_token", None)
            and not request.path.startswith(_PASSWORD_CHANGE_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "请先登录网页修改初始密码"}, status=403)
            return redirect(f"{reverse('password_change')}?next={request.get_full_path()}")
        return self.get_response(request)
