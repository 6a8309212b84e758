"""Thresholds and rules as data: the cities' minimum-living thresholds (set by the city
federation), the provinces' category rules (versioned) and assistance rules (caps, cycles,
second approval). Everyone sees the thresholds and rules that apply to their unions; the
forms show only for those who may set them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from niangjia.accounts.choices import Action
from niangjia.orgs.choices import UnionKind
from niangjia.orgs.forms import add_service_errors
from niangjia.orgs.models import Region, Union
from niangjia.relief import selectors_pages
from niangjia.relief.forms_assistance import AssistanceRuleForm, CategoryRuleForm, ThresholdForm
from niangjia.relief.services import rules as rule_services
from niangjia.relief.views import require_some
from niangjia.utilities.scoping import allowed, get_scoped_or_404


def _national(user: Any) -> bool:
    root = Union.objects.filter(depth=1).first()
    return root is not None and allowed(user, Action.CHANGE, root)


def _context(request: HttpRequest, **forms: Any) -> dict[str, Any]:
    user = request.user
    national = _national(user)
    threshold_form = forms.get("threshold_form") or ThresholdForm(user=user)
    category_form = forms.get("category_form") or CategoryRuleForm(user=user, national=national)
    rule_form = forms.get("rule_form") or AssistanceRuleForm(user=user, national=national)
    return {
        "thresholds": list(selectors_pages.thresholds(user=user)[:500]),
        "category_rules": list(selectors_pages.category_rules(user=user)[:200]),
        "assistance_rules": list(selectors_pages.assistance_rules(user=user)[:500]),
        "threshold_form": threshold_form,
        "category_form": category_form,
        "rule_form": rule_form,
        "open": forms.get("open", ""),
    }


def _require_federation(request: HttpRequest, kind: str) -> None:
    """The federation whose threshold or rule is set must be in the user's scope (404) and
    changeable by them (403), as for any object; a form error otherwise."""
    prefix = {"threshold": "threshold-region", "category": "category-province"}.get(
        kind, "rule-province"
    )
    code = request.POST.get(prefix, "")
    if code == "national":
        union = Union.objects.filter(depth=1).first()
    elif code.isdigit():
        region = Region.objects.filter(code=code).first()
        union = (
            Union.objects.filter(region=region, kind=UnionKind.FEDERATION).first()
            if region is not None
            else None
        )
    else:
        return
    if union is not None:
        get_scoped_or_404(Union, request.user, Action.CHANGE, pk=union.pk)


@login_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    require_some(request.user, Action.VIEW, "您没有查看帮扶标准的权限")
    return render(request, "relief/rule_list.html", _context(request))


@login_required
@require_POST
def rule_save(request: HttpRequest, kind: str) -> HttpResponse:
    """Set a city's threshold (``threshold``), add a version of a category rule
    (``category``) or set an assistance rule (``assistance``)."""
    user = request.user
    require_some(user, Action.CHANGE, "您没有设置帮扶标准的权限")
    _require_federation(request, kind)
    national = _national(user)
    back = reverse("relief:rule_list")
    try:
        if kind == "threshold":
            form: Any = ThresholdForm(request.POST, user=user)
            if form.is_valid():
                region = form.region_obj()
                if region is None:
                    raise Http404("该城市不存在")
                rule_services.threshold_set(
                    region=region,
                    year=form.cleaned_data["year"],
                    monthly_amount=form.cleaned_data["monthly_amount"],
                    acting_user=user,
                )
                messages.success(
                    request,
                    f"已设置{region.name}{form.cleaned_data['year']}年最低生活保障标准："
                    f"{form.cleaned_data['monthly_amount']} 元/人·月",
                )
                return redirect(back + "#thresholds")
            return render(
                request, "relief/rule_list.html", _context(request, threshold_form=form, open=kind)
            )
        if kind == "category":
            form = CategoryRuleForm(request.POST, user=user, national=national)
            if form.is_valid():
                d = form.cleaned_data
                rule_services.category_rule_add(
                    province=form.region_obj(),
                    valid_from=d["valid_from"],
                    deep_multiple=d["deep_multiple"],
                    relative_multiple=d["relative_multiple"],
                    accident_loss_ratio=d["accident_loss_ratio"],
                    acting_user=user,
                )
                messages.success(request, f"已发布新版困难类别认定规则，{d['valid_from']} 起施行")
                return redirect(back + "#category-rules")
            return render(
                request, "relief/rule_list.html", _context(request, category_form=form, open=kind)
            )
        if kind == "assistance":
            form = AssistanceRuleForm(request.POST, user=user, national=national)
            if form.is_valid():
                d = form.cleaned_data
                rule = rule_services.assistance_rule_set(
                    province=form.region_obj(),
                    year=d["year"],
                    assistance_type=d["assistance_type"],
                    cap_per_year=d.get("cap_per_year"),
                    cycle=d["cycle"],
                    second_approval_above=d.get("second_approval_above"),
                    acting_user=user,
                )
                messages.success(
                    request, f"已设置{rule.year}年{rule.get_assistance_type_display()}帮扶标准"
                )
                return redirect(back + "#assistance-rules")
            return render(
                request, "relief/rule_list.html", _context(request, rule_form=form, open=kind)
            )
    except ValidationError as exc:
        add_service_errors(form, exc, {"region": "region", "province": "province"})
        key = {"threshold": "threshold_form", "category": "category_form"}.get(kind, "rule_form")
        return render(request, "relief/rule_list.html", _context(request, **{key: form}, open=kind))
    raise Http404("没有这类标准")
