from __future__ import annotations

import base64

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from niangjia.accounts import services
from niangjia.accounts.forms import LoginForm, OtpTokenForm
from niangjia.utilities.qr import svg_data_uri


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
        {"form": form, "qr": svg_data_uri(device.config_url), "secret": secret, "next": _next_url(request)},
    )
