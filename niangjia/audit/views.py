"""The audit viewer (安全审计员): list with filters and keyset paging, detail, export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from niangjia.accounts.choices import Action, Role
from niangjia.accounts.scope import paths_for
from niangjia.audit import selectors, services
from niangjia.audit.filtersets import AuditEntryFilterForm, object_type_label
from niangjia.audit.models import AuditEntry
from niangjia.orgs.models import Union

# Labels of keys that rows carry besides model fields (role grants, moves, refusals …).
KEY_LABELS = {
    "role": "角色",
    "union": "工会",
    "union_name": "工会名称",
    "granted_at": "授予时间",
    "granted_by": "授予人",
    "assignment": "角色编号",
    "parent": "上级工会",
    "path": "路径",
    "method": "请求方法",
    "view": "页面",
    "arguments": "参数",
    "reason": "原因",
    "via": "方式",
    "api_token": "接口令牌编号",
    "username": "用户名",
    "tokens_revoked": "吊销的接口令牌数",
    "attempts_cleared": "清除的登录失败记录数",
    "devices_removed": "删除的动态口令设备数",
    "filters": "筛选条件",
    "rows": "行数",
    "sha256": "文件摘要（SHA-256）",
    "from": "原上级",
    "to": "新上级",
    "target": "目标",
    "moved": "随迁数量",
    "employers_uncovered": "解除覆盖的用人单位数",
    "user": "账号",
    "name": "名称",
    "prefix": "前缀",
    "expires_at": "过期时间",
    "revoked_at": "吊销时间",
    "is_active": "启用",
    "password_must_change": "须修改密码",
}
VALUE_LABELS = {"via": {"token": "接口令牌", "session": "网页登录"}, "role": dict(Role.choices)}


def _require_audit_power(user: Any) -> None:
    if not paths_for(user, Action.VIEW_AUDIT):
        raise PermissionDenied("您没有查看审计记录的权限")


@login_required
@require_GET
def entry_list(request: HttpRequest) -> HttpResponse:
    _require_audit_power(request.user)
    filters = AuditEntryFilterForm(request.GET or None)
    entries = selectors.visible_entries(request.user)
    if filters.is_bound and filters.is_valid():
        entries = filters.filter(entries)
    elif filters.is_bound:
        entries = entries.none()
    page = selectors.entry_page(entries, cursor=request.GET.get("after", ""))
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "audit/entry_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "object_type_label": object_type_label,
        },
    )


@dataclass(frozen=True)
class ChangeRow:
    key: str
    label: str
    before: str
    after: str
    changed: bool


def _field_labels(object_type: str) -> tuple[dict[str, str], dict[str, dict[Any, str]]]:
    labels: dict[str, str] = {}
    choices: dict[str, dict[Any, str]] = {}
    try:
        model = apps.get_model(object_type) if "." in object_type else None
    except (LookupError, ValueError):
        model = None
    if model is not None:
        for field in model._meta.concrete_fields:
            for key in {field.name, field.attname}:
                labels[key] = str(field.verbose_name)
                if field.choices:
                    choices[key] = {k: str(v) for k, v in field.flatchoices}
    return labels, choices


def _text(key: str, value: Any, choices: dict[str, dict[Any, str]]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    mapping = choices.get(key) or VALUE_LABELS.get(key)
    if mapping and isinstance(value, str | int) and value in mapping:
        return f"{mapping[value]}（{value}）"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)
    return str(value)


def _change_rows(entry: AuditEntry) -> list[ChangeRow]:
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    labels, choices = _field_labels(entry.object_type)
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return [
        ChangeRow(
            key=key,
            label=labels.get(key) or KEY_LABELS.get(key, key),
            before=_text(key, before.get(key), choices) if key in before else "",
            after=_text(key, after.get(key), choices) if key in after else "",
            changed=before.get(key) != after.get(key),
        )
        for key in keys
    ]


def _detail_rows(entry: AuditEntry) -> list[tuple[str, str]]:
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    _, choices = _field_labels(entry.object_type)
    return [(KEY_LABELS.get(k, k), _text(k, v, choices)) for k, v in detail.items()]


def _union_of(entry: AuditEntry) -> Union | None:
    if not entry.union_path:
        return None
    return Union.objects.filter(path=entry.union_path).first()


@login_required
@require_GET
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_audit_power(request.user)
    entry = selectors.visible_entries(request.user).filter(pk=pk).first()
    if entry is None:
        raise Http404("审计记录不存在或不在您的管辖范围内")
    same_request = (
        selectors.visible_entries(request.user)
        .filter(request_id=entry.request_id)
        .exclude(pk=entry.pk)
        .count()
        if entry.request_id
        else 0
    )
    return render(
        request,
        "audit/entry_detail.html",
        {
            "entry": entry,
            "changes": _change_rows(entry),
            "details": _detail_rows(entry),
            "union": _union_of(entry),
            "object_type_name": object_type_label(entry.object_type),
            "same_request": same_request,
        },
    )


@login_required
@require_GET
def entry_export(request: HttpRequest) -> HttpResponse:
    _require_audit_power(request.user)
    filters = AuditEntryFilterForm(request.GET or None)
    if filters.is_bound and not filters.is_valid():
        messages.error(request, "筛选条件有误，请先修正后再导出")
        return redirect(f"{_list_url()}?{request.GET.urlencode()}")
    entries = selectors.visible_entries(request.user)
    if filters.is_bound:
        entries = filters.filter(entries)
    try:
        sheet = services.audit_entries_export(
            acting_user=request.user,
            entries=entries,
            filters={k: _jsonable(v) for k, v in filters.active_filters().items()},
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect(f"{_list_url()}?{request.GET.urlencode()}")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return sheet.response(f"审计记录-{stamp}.xlsx")


def _list_url() -> str:
    return reverse("audit:entry_list")


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
