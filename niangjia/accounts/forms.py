from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from niangjia.accounts.choices import Action, Role
from niangjia.accounts.models import User
from niangjia.accounts.selectors import UserStatus, unions_for_power
from niangjia.accounts.services import password_errors, username_errors
from niangjia.orgs.models import Union


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


# --- Account administration


def add_service_errors(
    form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError on ``form``: each message next to its field (``aliases``
    maps a service's argument name to the form field), the rest above the form."""
    aliases = aliases or {}
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            field = aliases.get(key, key)
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def union_label(union: Union) -> str:
    return f"{union.name}（{union.get_level_display()}）"


class UnionPickerWidget(forms.Select):
    """A drop-down of a few unions with a search box: the search (JavaScript, or the 查找
    button without it) brings other unions of the same scope into the list."""

    template_name = "accounts/widgets/union_picker.html"

    def __init__(self, *, search_url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.search_url = search_url
        self.search_text = ""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["search_url"] = self.search_url
        context["widget"]["search_text"] = self.search_text
        return context


class UnionPickerField(forms.ModelChoiceField):
    """Validates against the whole scoped queryset; offers only a short list of it."""

    OFFERED = 50

    def __init__(self, *, queryset: Any, search_url: str, search: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("empty_label", "请选择工会")
        kwargs.setdefault(
            "error_messages",
            {"required": "请选择工会", "invalid_choice": "所选工会不存在或不在您的管辖范围内"},
        )
        super().__init__(
            queryset=queryset, widget=UnionPickerWidget(search_url=search_url), **kwargs
        )
        self.search = search

    def offer(self, selected: Any = None) -> None:
        unions = self.queryset
        if self.search:
            unions = unions.filter(name__icontains=self.search.strip())
        offered = list(unions[: self.OFFERED])
        if (
            selected
            and str(selected).isdigit()
            and all(str(u.pk) != str(selected) for u in offered)
        ):
            chosen = self.queryset.filter(pk=selected).first()
            if chosen is not None:
                offered.insert(0, chosen)
        self.widget.choices = [("", self.empty_label), *[(u.pk, union_label(u)) for u in offered]]
        self.widget.search_text = self.search


class UserFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)
    role = forms.ChoiceField(
        label="角色", required=False, choices=[("", "全部角色"), *Role.choices]
    )
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态"), *UserStatus.CHOICES]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"placeholder": "用户名或姓名", "type": "search"})


class _NewPasswordMixin(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", "两次输入的密码不一致")
        return cleaned


def _password_field(label: str, *, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": f"请填写{label}"},
    )


class UserCreateForm(_NewPasswordMixin):
    username = forms.CharField(
        label="用户名",
        max_length=150,
        error_messages={"required": "请填写用户名"},
        help_text="登录时使用，只能包含字母、数字和 @ . + - _",
    )
    full_name = forms.CharField(
        label="姓名", max_length=50, error_messages={"required": "请填写姓名"}
    )
    new_password1 = _password_field("初始密码", help_text="账号持有人首次登录时须改为自己的密码。")
    new_password2 = _password_field("确认初始密码")

    def __init__(self, *args: Any, viewer: Any, search: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"] = UnionPickerField(
            label="开户工会",
            queryset=unions_for_power(viewer, Action.MANAGE_ACCOUNTS),
            search_url=f"{reverse('union_search')}?power={Action.MANAGE_ACCOUNTS}",
            search=search,
            help_text="账号归属的工会；角色另由安全保密管理员授予。",
        )
        self.order_fields(["username", "full_name", "union", "new_password1", "new_password2"])
        self.fields["union"].offer(self["union"].value())

    # The service checks all of this again; checking here shows every problem at once.
    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"].strip()
        problems = username_errors(username)
        if problems:
            raise ValidationError(problems)
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password = cleaned.get("new_password1")
        if password and "new_password2" not in self.errors:
            candidate = User(
                username=cleaned.get("username", ""), full_name=cleaned.get("full_name", "")
            )
            for problem in password_errors(password, candidate):
                self.add_error("new_password1", problem)
        return cleaned


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(
        label="角色",
        choices=[("", "请选择角色"), *Role.choices],
        error_messages={"required": "请选择角色", "invalid_choice": "所选角色无效"},
    )

    def __init__(self, *args: Any, viewer: Any, search: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"] = UnionPickerField(
            label="在哪个工会任职",
            queryset=unions_for_power(viewer, Action.GRANT_ROLES),
            search_url=f"{reverse('union_search')}?power={Action.GRANT_ROLES}",
            search=search,
            help_text="角色对该工会及其全部下级工会有效。",
        )
        self.order_fields(["union", "role"])
        self.fields["union"].offer(self["union"].value())


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="原因",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写原因"},
    )


class PasswordResetForm(_NewPasswordMixin):
    new_password1 = _password_field("新密码", help_text="账号持有人下次登录时须改为自己的密码。")
    new_password2 = _password_field("确认新密码")


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="令牌名称",
        max_length=100,
        error_messages={"required": "请填写令牌名称"},
        help_text="写明使用它的系统，例如“市总数据交换平台”。",
    )
    expires_on = forms.DateField(
        label="有效期至",
        input_formats=["%Y-%m-%d", "%Y/%m/%d"],
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        error_messages={"required": "请填写有效期", "invalid": "有效期应为日期，格式为 YYYY-MM-DD"},
        help_text="最长一年；到期当天 23:59 失效。",
    )

    def expires_at(self) -> datetime.datetime:
        day: datetime.date = self.cleaned_data["expires_on"]
        end = datetime.datetime.combine(day, datetime.time(23, 59, 59))
        return timezone.make_aware(end)


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's form with Chinese labels and messages; the new password is checked again by
    the service (validators, not equal to the old one)."""

    error_messages = {
        "password_incorrect": "原密码不正确，请重新输入",
        "password_mismatch": "两次输入的新密码不一致",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            "old_password": "原密码",
            "new_password1": "新密码",
            "new_password2": "确认新密码",
        }
        for name, label in labels.items():
            self.fields[name].label = label
            self.fields[name].error_messages["required"] = f"请填写{label}"
        self.fields["new_password1"].help_text = password_validators_help_text_html()
