from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。连续失败 %(limit)s 次后，该账号将在本地址被锁定 %(minutes)s 分钟。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"

    def get_invalid_login_error(self) -> forms.ValidationError:
        from django.conf import settings

        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={
                "limit": settings.AXES_FAILURE_LIMIT,
                "minutes": int(settings.AXES_COOLOFF_TIME * 60),
            },
        )


class OtpTokenForm(forms.Form):
    token = forms.RegexField(
        label="动态口令",
        regex=r"^\d{6}$",
        error_messages={"invalid": "动态口令应为 6 位数字", "required": "请输入动态口令"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
