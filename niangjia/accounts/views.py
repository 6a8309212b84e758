from __future__ import annotations

import base64
import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from niangjia.accounts import rules, selectors, services
from niangjia.accounts.choices import ADMINISTRATOR_ROLES, Action
from niangjia.accounts.forms import (
    ApiTokenForm,
    LoginForm,
    OtpTokenForm,
    OwnPasswordChangeForm,
    PasswordResetForm,
    ReasonForm,
    RoleGrantForm,
    UserCreateForm,
    UserFilterForm,
    add_service_errors,
    union_label,
)
from niangjia.accounts.models import ApiToken, RoleAssignment, User
from niangjia.utilities.qr import svg_data_uri

USERS_PER_PAGE = 50


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def _next_url(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return "/"


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Second step of login for administrators: a TOTP code (or enrolment if none yet)."""
    user = request.user
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect(f"/accounts/otp/enroll/?next={_next_url(request)}")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", "动态口令不正确或已过期，请输入验证器中当前显示的 6 位数字")
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next_url(request)})


@login_required
def otp_enroll(request: HttpRequest) -> HttpResponse:
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect(f"/accounts/otp/?next={_next_url(request)}")
    device = services.totp_pending_device(user=user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_confirm(user=user, device=device, token=form.cleaned_data["token"]):
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", "动态口令不正确，请确认手机时间准确后重试")
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/otp_enroll.html",
        {
            "form": form,
            "qr": svg_data_uri(device.config_url),
            "secret": secret,
            "next": _next_url(request),
        },
    )


# --- Own password and API tokens


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = OwnPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form: OwnPasswordChangeForm) -> HttpResponse:
        try:
            user = services.password_change_own(
                user=self.request.user, new_password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc, {"new_password": "new_password1"})
            return self.form_invalid(form)
        update_session_auth_hash(self.request, user)
        messages.success(self.request, "密码已修改。")
        return redirect(
            _next_url(self.request) if self.request.POST.get("next") else self.success_url
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["next"] = self.request.GET.get("next", "")
        return context


@never_cache
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """My API tokens: list, create (the raw token is shown on this one answer only)."""
    form = ApiTokenForm(request.POST or None)
    raw_token = None
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            new_token, raw_token = services.api_token_issue(
                acting_user=request.user,
                user=request.user,
                name=form.cleaned_data["name"],
                expires_at=form.expires_at(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc, {"expires_at": "expires_on", "user": "__all__"})
        else:
            form = ApiTokenForm()
    if not form.is_bound:
        form.initial.setdefault(
            "expires_on",
            timezone.localdate() + datetime.timedelta(days=services.TOKEN_DEFAULT_DAYS),
        )
    return render(
        request,
        "accounts/token_list.html",
        {
            "form": form,
            "tokens": selectors.my_tokens(request.user),
            "raw_token": raw_token,
            "new_token": new_token,
        },
    )


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of my tokens, or (system administrator) a token of an account I see."""
    token = ApiToken.objects.select_related("user").filter(pk=pk).first()
    mine = token is not None and token.user_id == request.user.pk
    if token is None or not (mine or rules.sees(request.user, Action.MANAGE_ACCOUNTS, token.user)):
        raise Http404("接口令牌不存在或不在您的管辖范围内")
    try:
        services.api_token_revoke(acting_user=request.user, token=token)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"令牌“{token.name}”已吊销。")
    return redirect("token_list") if mine else redirect("user_detail", pk=token.user_id)


# --- Account administration (三员分立)


def _require_account_powers(user: Any) -> None:
    if not any(rules.has_power(user, action) for action in selectors.ACCOUNT_POWERS):
        raise PermissionDenied("您没有账号管理权限")


def _visible_user_or_404(viewer: Any, pk: int) -> User:
    """The account if ``viewer`` administers accounts and sees it: 403 without any account
    power, 404 when it lies outside their subtrees."""
    _require_account_powers(viewer)
    user = (
        selectors.account_admin_users(viewer).select_related("created_under").filter(pk=pk).first()
    )
    if user is None:
        raise Http404("账号不存在或不在您的管辖范围内")
    return user


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    _require_account_powers(request.user)
    filters = UserFilterForm(request.GET or None)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    users = selectors.user_list(
        viewer=request.user,
        q=cleaned.get("q", ""),
        role=cleaned.get("role", ""),
        status=cleaned.get("status", ""),
    )
    page = Paginator(users, USERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/user_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "can_create": rules.has_power(request.user, Action.MANAGE_ACCOUNTS),
        },
    )


def _search_text(request: HttpRequest) -> str:
    return (request.POST.get("union_q") or request.GET.get("union_q") or "").strip()[:60]


def _searching(request: HttpRequest) -> bool:
    """The 查找 button of a union picker (without JavaScript) re-displays the form."""
    return request.method == "POST" and "_union_search" in request.POST


def _kept_input(request: HttpRequest, *drop: str) -> dict[str, str]:
    kept = {k: v for k, v in request.POST.items() if k not in {"csrfmiddlewaretoken", *drop}}
    return kept


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    rules.require_power(request.user, Action.MANAGE_ACCOUNTS)
    search = _search_text(request)
    if _searching(request):
        form = UserCreateForm(
            initial=_kept_input(request, "new_password1", "new_password2"),
            viewer=request.user,
            search=search,
        )
    else:
        form = UserCreateForm(request.POST or None, viewer=request.user, search=search)
        if request.method == "POST" and form.is_valid():
            try:
                user = services.user_create(
                    acting_user=request.user,
                    username=form.cleaned_data["username"],
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["new_password1"],
                    union=form.cleaned_data["union"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc, {"password": "new_password1"})
            else:
                messages.success(
                    request,
                    f"账号“{user.username}”已开设。请将初始密码当面或通过可靠渠道告知本人；角色由安全保密管理员授予。",
                )
                return redirect("user_detail", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form})


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = request.user
    user = _visible_user_or_404(viewer, pk)
    is_self = user.pk == viewer.pk
    can_grant = not is_self and rules.sees(viewer, Action.GRANT_ROLES, user)
    assignments = list(
        RoleAssignment.objects.filter(user=user)
        .select_related("union", "granted_by")
        .order_by("granted_at", "id")
    )
    revocable = {
        a.pk
        for a in RoleAssignment.objects.restrict(viewer, Action.GRANT_ROLES)
        .filter(user=user)
        .select_related("union")
        if not is_self
        and (
            a.role not in ADMINISTRATOR_ROLES
            or rules.grants_administrators_at(viewer, a.union.path)
        )
    }
    context = {
        "account": user,
        "is_self": is_self,
        "assignments": [(a, a.pk in revocable) for a in assignments],
        "lockouts": selectors.lockouts(user),
        "failed_attempts": selectors.failed_attempts(user),
        "has_totp": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "needs_totp": user.needs_second_factor(),
        "tokens": list(ApiToken.objects.filter(user=user, revoked_at__isnull=True)),
        "can_manage": rules.governs(viewer, Action.MANAGE_ACCOUNTS, user),
        "can_grant": can_grant,
        "can_secure": rules.governs(viewer, Action.GRANT_ROLES, user),
    }
    return render(request, "accounts/user_detail.html", context)


@login_required
def user_role_grant(request: HttpRequest, pk: int) -> HttpResponse:
    user = _visible_user_or_404(request.user, pk)
    rules.require_power(request.user, Action.GRANT_ROLES)
    if user.pk == request.user.pk:
        raise PermissionDenied("不能给自己授予角色，请由其他安全保密管理员办理")
    if not rules.sees(request.user, Action.GRANT_ROLES, user):
        raise PermissionDenied(f"账号“{user.display_name}”不在您授予角色的范围内")
    search = _search_text(request)
    if _searching(request):
        form = RoleGrantForm(initial=_kept_input(request), viewer=request.user, search=search)
    else:
        form = RoleGrantForm(request.POST or None, viewer=request.user, search=search)
        if request.method == "POST" and form.is_valid():
            try:
                assignment = services.role_grant(
                    acting_user=request.user,
                    user=user,
                    union=form.cleaned_data["union"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"已授予“{user.display_name}”在“{union_label(assignment.union)}”的“{assignment.get_role_display()}”角色。",
                )
                return redirect("user_detail", pk=user.pk)
    return render(request, "accounts/role_grant.html", {"form": form, "account": user})


@login_required
def role_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    rules.require_power(request.user, Action.GRANT_ROLES)
    assignment = (
        RoleAssignment.objects.restrict(request.user, Action.GRANT_ROLES)
        .select_related("union", "user")
        .filter(pk=pk)
        .first()
    )
    if assignment is None:
        raise Http404("该角色不存在或不在您的管辖范围内")
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.role_revoke(
                acting_user=request.user, assignment=assignment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"已撤销“{assignment.user.display_name}”在“{assignment.union.name}”的“{assignment.get_role_display()}”角色。",
            )
            return redirect("user_detail", pk=assignment.user_id)
    elif request.method != "POST":
        # Refuse before showing the form when the revocation is not allowed.
        if assignment.user_id == request.user.pk:
            raise PermissionDenied("不能撤销自己的角色，请由其他安全保密管理员办理")
        if assignment.role in ADMINISTRATOR_ROLES and not rules.grants_administrators_at(
            request.user, assignment.union.path
        ):
            raise PermissionDenied("管理员类角色只能由该工会或其上级工会的安全保密管理员撤销")
    return render(
        request,
        "accounts/confirm.html",
        {
            "form": form,
            "account": assignment.user,
            "title": "撤销角色",
            "question": f"撤销“{assignment.user.display_name}”在“{assignment.union.name}”的“{assignment.get_role_display()}”角色？",
            "submit": "撤销角色",
            "danger": True,
        },
    )


@login_required
def user_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    user = _visible_user_or_404(request.user, pk)
    rules.require_governs(request.user, Action.MANAGE_ACCOUNTS, user)
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_reset_password(
                acting_user=request.user, user=user, new_password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc, {"new_password": "new_password1"})
        else:
            messages.success(
                request, f"已重置“{user.display_name}”的密码；本人下次登录时须改为自己的密码。"
            )
            return redirect("user_detail", pk=user.pk)
    return render(request, "accounts/password_reset.html", {"form": form, "account": user})


@login_required
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = _visible_user_or_404(request.user, pk)
    rules.require_governs(request.user, Action.MANAGE_ACCOUNTS, user)
    activate = not user.is_active
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_active(
                acting_user=request.user,
                user=user,
                active=activate,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"账号“{user.display_name}”已{'启用' if activate else '停用'}。"
            )
            return redirect("user_detail", pk=user.pk)
    verb = "启用" if activate else "停用"
    return render(
        request,
        "accounts/confirm.html",
        {
            "form": form,
            "account": user,
            "title": f"{verb}账号",
            "question": f"{verb}账号“{user.display_name}”（{user.username}）？"
            + ("" if activate else "停用后该账号不能登录，其接口令牌一并吊销。"),
            "submit": f"{verb}账号",
            "danger": not activate,
        },
    )


@require_POST
@login_required
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = _visible_user_or_404(request.user, pk)
    try:
        cleared = services.account_unlock(acting_user=request.user, user=user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request, f"已解除“{user.display_name}”的登录锁定（清除 {cleared} 条失败记录）。"
        )
    return redirect("user_detail", pk=user.pk)


@require_POST
@login_required
def user_totp_reset(request: HttpRequest, pk: int) -> HttpResponse:
    user = _visible_user_or_404(request.user, pk)
    try:
        services.totp_reset(acting_user=request.user, user=user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request, f"已重置“{user.display_name}”的动态口令；本人下次登录时重新绑定。"
        )
    return redirect("user_detail", pk=user.pk)


@require_GET
@login_required
def union_search(request: HttpRequest) -> JsonResponse:
    """Unions matching ``q`` on which the viewer exercises ``power`` (for the union picker)."""
    power = request.GET.get("power", "")
    if power not in selectors.ACCOUNT_POWERS:
        return JsonResponse({"detail": "参数 power 无效"}, status=400)
    rules.require_power(request.user, power)
    unions = selectors.union_search(request.user, power, request.GET.get("q", "")[:60])
    return JsonResponse(
        {"results": [{"id": u.pk, "label": union_label(u)} for u in unions]},
        json_dumps_params={"ensure_ascii": False},
    )
