"""Filters of the audit viewer: a form that validates the query string and narrows a
queryset that has already passed ``AuditEntry.objects.restrict``."""

from __future__ import annotations

from functools import cache
from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


@cache
def object_type_choices() -> list[tuple[str, str]]:
    """Every model of the project (and the account models), by its Chinese name."""
    choices = [
        (model._meta.label_lower, f"{model._meta.verbose_name}（{model._meta.label_lower}）")
        for model in apps.get_models()
        if model.__module__.startswith("niangjia.")
    ]
    return sorted(choices, key=lambda c: c[0])


def object_type_label(value: str) -> str:
    for key, label in object_type_choices():
        if key == value:
            return label.split("（")[0]
    return value


class _DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class AuditEntryFilterForm(forms.Form):
    since = forms.DateTimeField(
        label="起始时间",
        required=False,
        input_formats=DATETIME_INPUT_FORMATS,
        widget=_DateTimeInput(),
        error_messages={"invalid": "起始时间格式不正确，应为 YYYY-MM-DD HH:MM"},
    )
    until = forms.DateTimeField(
        label="截止时间",
        required=False,
        input_formats=DATETIME_INPUT_FORMATS,
        widget=_DateTimeInput(),
        error_messages={"invalid": "截止时间格式不正确，应为 YYYY-MM-DD HH:MM"},
    )
    action = forms.ChoiceField(
        label="动作",
        required=False,
        choices=[("", "全部动作"), *AuditAction.choices],
        error_messages={"invalid_choice": "所选动作无效"},
    )
    actor = forms.CharField(label="操作人", required=False, max_length=150)
    object_type = forms.ChoiceField(
        label="对象类型", required=False, error_messages={"invalid_choice": "所选对象类型无效"}
    )
    object_id = forms.CharField(label="对象编号", required=False, max_length=64)
    request_id = forms.CharField(label="请求编号", required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", "全部类型"), *object_type_choices()]
        self.fields["actor"].widget.attrs["placeholder"] = "姓名或用户名"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "截止时间不能早于起始时间")
        return cleaned

    def active_filters(self) -> dict[str, Any]:
        """The filters given (for the export's audit row and the page's summary)."""
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}

    def filter(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        data = self.active_filters()
        if "since" in data:
            entries = entries.filter(time__gte=data["since"])
        if "until" in data:
            entries = entries.filter(time__lte=data["until"])
        if "action" in data:
            entries = entries.filter(action=data["action"])
        if "actor" in data:
            name = data["actor"].strip()
            by_username = list(
                get_user_model()._default_manager.filter(username=name).values_list("pk", flat=True)
            )
            entries = entries.filter(Q(actor_name__icontains=name) | Q(actor_id__in=by_username))
        if "object_type" in data:
            entries = entries.filter(object_type=data["object_type"])
        if "object_id" in data:
            entries = entries.filter(object_id=data["object_id"].strip())
        if "request_id" in data:
            entries = entries.filter(request_id=data["request_id"].strip())
        return entries
