"""The cadre pages of the organisation registry: the union tree, unions and employers.

Views parse, call a selector/query or a service, and render. Objects come through
``get_scoped_or_404`` (404 outside the scope, 403 inside it without the right), lists
through ``restrict(user, action)``; writes go through ``niangjia.orgs.services``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.orgs import exports, queries, selectors, services
from niangjia.orgs.choices import UnionKind, UnionStatus
from niangjia.orgs.filtersets import EmployerFilterForm
from niangjia.orgs.forms import (
    PICKER_SEARCH,
    EmployerForm,
    UnionCreateForm,
    UnionDissolveForm,
    UnionEditForm,
    UnionMergeForm,
    UnionMoveForm,
    add_service_errors,
    form_state,
)
from niangjia.orgs.models import Employer, Region, Union
from niangjia.orgs.queries import Purpose
from niangjia.orgs.rules import deletion_blockers
from niangjia.utilities.paging import offset_page
from niangjia.utilities.scoping import get_scoped_or_404

EMPLOYERS_PER_PAGE = 50
DETAIL_EMPLOYERS = 20


def _detail_url(union: Union) -> str:
    return reverse("orgs:union_detail", args=[union.pk])


def _wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format") == "json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def _union_json(union: Union) -> dict[str, Any]:
    return {
        "id": union.pk,
        "name": union.name,
        "level": union.level,
        "level_label": union.get_level_display(),
        "kind": union.kind,
        "kind_label": union.get_kind_display(),
        "status": union.status,
        "status_label": union.get_status_display(),
        "numchild": union.numchild,
        "url": _detail_url(union),
        "children_url": reverse("orgs:union_children", args=[union.pk]),
    }


# --- Union tree and search


@login_required
@require_GET
def union_tree(request: HttpRequest) -> HttpResponse:
    """The user's scope roots, each expandable page by page; or search hits with their path."""
    q = request.GET.get("q", "").strip()[:100]
    results = queries.union_search(request.user, q, page=request.GET.get("page")) if q else None
    context = {
        "roots": queries.scope_roots(request.user),
        "q": q,
        "results": results,
        "page_query": urlencode({"q": q}),
    }
    return render(request, "orgs/union_tree.html", context)


@login_required
@require_GET
def union_children(request: HttpRequest, pk: int) -> HttpResponse:
    """One page of a union's children: an HTML fragment of tree rows (or JSON), keyset
    paged by tree path with ``?after=<path of the last row shown>``."""
    parent = get_scoped_or_404(Union, request.user, Action.VIEW, pk=pk)
    after = request.GET.get("after") or None
    try:
        page = selectors.union_children(user=request.user, parent=parent, cursor=after)
    except ValidationError as exc:
        message = "；".join(exc.messages)
        if _wants_json(request):
            return JsonResponse({"detail": message}, status=400)
        return HttpResponseBadRequest(message)
    base = reverse("orgs:union_children", args=[parent.pk])
    next_url = f"{base}?{urlencode({'after': page.next_cursor})}" if page.next_cursor else None
    if _wants_json(request):
        return JsonResponse(
            {
                "parent": parent.pk,
                "total": page.total,
                "results": [_union_json(u) for u in page.items],
                "next": f"{next_url}&format=json" if next_url else None,
            }
        )
    return render(
        request,
        "orgs/_union_children.html",
        {
            "children": page.items,
            "next_url": next_url,
            "next_cursor": page.next_cursor,
            "parent": parent,
        },
    )


@login_required
@require_GET
def union_lookup(request: HttpRequest) -> JsonResponse:
    """Search for the union pickers: only unions in the user's scope that the picker's
    ``purpose`` allows (default: grassroots and joint unions, to cover an employer)."""
    purpose = request.GET.get("purpose") or Purpose.COVER
    if purpose not in Purpose.ALL:
        return JsonResponse({"detail": f"未知的选择用途“{purpose[:30]}”"}, status=400)
    union = None
    if purpose in Purpose.NEEDS_UNION:
        try:
            union_pk = int(request.GET.get("union", ""))
        except ValueError:
            return JsonResponse({"detail": "缺少要移动或合并的工会编号（union）"}, status=400)
        union = get_scoped_or_404(Union, request.user, Action.CHANGE, pk=union_pk)
    q = request.GET.get("q", "").strip()[:100]
    unions = queries.picker_candidates(
        queries.picker_queryset(request.user, purpose, union=union),
        q=q,
        limit=queries.LOOKUP_LIMIT,
    )
    return JsonResponse(
        {
            "results": [
                {
                    "id": u.pk,
                    "name": u.name,
                    "label": queries.union_label(u),
                    "level_label": u.get_level_display(),
                    "kind_label": u.get_kind_display(),
                    "parent": u.parent_name or "",
                }
                for u in unions
            ],
            "truncated": len(unions) >= queries.LOOKUP_LIMIT,
        }
    )


@login_required
@require_GET
def region_children(request: HttpRequest) -> JsonResponse:
    """The regions directly under ``?parent=<code>`` (the provinces without a parent)."""
    code = request.GET.get("parent", "").strip()
    parent = None
    if code:
        if not code.isdigit() or len(code) not in (6, 9):
            return JsonResponse({"detail": "上级行政区划代码应为 6 位或 9 位数字"}, status=400)
        parent = Region.objects.filter(code=code).first()
        if parent is None:
            return JsonResponse({"detail": f"行政区划代码“{code}”不存在"}, status=404)
    regions = selectors.region_list(parent=parent)
    return JsonResponse(
        {
            "parent": {"code": parent.code, "name": parent.name} if parent else None,
            "results": [{"code": r.code, "name": r.name, "level": r.level} for r in regions],
        }
    )


# --- One union


@login_required
@require_GET
def union_detail(request: HttpRequest, pk: int) -> HttpResponse:
    union = get_scoped_or_404(Union, request.user, Action.VIEW, pk=pk)
    union = Union.objects.select_related(
        "region__parent__parent__parent", "industry_union", "merged_into"
    ).get(pk=union.pk)
    user = request.user
    linked = [pk for pk in (union.industry_union_id, union.merged_into_id) if pk]
    visible = (
        set(
            Union.objects.restrict(user, Action.VIEW)
            .filter(pk__in=linked)
            .values_list("pk", flat=True)
        )
        if linked
        else set()
    )
    after = request.GET.get("after") or None
    try:
        children = selectors.union_children(user=user, parent=union, cursor=after)
    except ValidationError:
        children = selectors.union_children(user=user, parent=union)
        after = None
    members, members_next = [], None
    if union.kind == UnionKind.INDUSTRY:
        members, members_next = queries.industry_members(
            user,
            union,
            after=request.GET.get("members_after") or None,
            limit=settings.ORG_CHILDREN_PAGE_SIZE,
        )
    covers = union.kind in (UnionKind.GRASSROOTS, UnionKind.JOINT)
    employers = selectors.employer_list(
        user=user, **({"covering_union": union} if covers else {"owner": union})
    )
    employer_filter = urlencode({"covering_union": union.pk} if covers else {"within": union.pk})
    actions = queries.union_actions(user, union)
    is_root = union.depth == 1
    active = union.status == UnionStatus.ACTIVE
    context = {
        "union": union,
        "crumbs": queries.ancestor_crumbs(user, [union])[union.pk],
        "actions": {
            "add": Action.ADD in actions and active and union.kind != UnionKind.GRASSROOTS,
            "change": Action.CHANGE in actions,
            "move": Action.CHANGE in actions and not is_root,
            "merge": Action.CHANGE in actions and active and not is_root,
            "dissolve": Action.CHANGE in actions and active and not is_root,
            "delete": Action.DELETE in actions and not is_root,
            "export": Action.EXPORT in actions,
            "add_employer": Action.ADD in actions and active,
        },
        "figures": queries.union_figures(user, union),
        "children": children,
        "children_after": after,
        "members": members,
        "members_next": members_next,
        "covers": covers,
        "employers": list(employers[:DETAIL_EMPLOYERS]),
        "employer_count": employers.order_by().count(),
        "employer_filter": employer_filter,
        "history": queries.object_history(Union, union.pk),
        "industry_visible": union.industry_union_id in visible,
        "merged_visible": union.merged_into_id in visible,
    }
    return render(request, "orgs/union_detail.html", context)


def _form_page(
    request: HttpRequest, template: str, form: Any, union: Union | None, **extra: Any
) -> HttpResponse:
    crumbs = queries.ancestor_crumbs(request.user, [union])[union.pk] if union else []
    return render(request, template, {"form": form, "union": union, "crumbs": crumbs, **extra})


@login_required
@require_http_methods(["GET", "POST"])
def union_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new union under the union ``pk``."""
    parent = get_scoped_or_404(Union, request.user, Action.ADD, pk=pk)
    if request.method == "POST" and PICKER_SEARCH not in request.POST:
        form = UnionCreateForm(request.POST, user=request.user, parent=parent)
        if form.is_valid():
            try:
                union = services.union_create(
                    acting_user=request.user, parent=parent, **form.service_kwargs()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已新建“{union.name}”")
                return redirect(_detail_url(union))
    elif request.method == "POST":
        form = UnionCreateForm(initial=form_state(request.POST), user=request.user, parent=parent)
    else:
        form = UnionCreateForm(user=request.user, parent=parent)
    return _form_page(
        request,
        "orgs/union_form.html",
        form,
        parent,
        title=f"在“{parent.name}”下新建工会",
        submit="新建",
        cancel_url=_detail_url(parent),
        no_options=not form.options,
    )


@login_required
@require_http_methods(["GET", "POST"])
def union_edit(request: HttpRequest, pk: int) -> HttpResponse:
    union = get_scoped_or_404(Union, request.user, Action.CHANGE, pk=pk)
    if request.method == "POST" and PICKER_SEARCH not in request.POST:
        form = UnionEditForm(request.POST, user=request.user, union=union)
        if form.is_valid():
            changes = form.changes()
            if not changes:
                messages.info(request, "没有修改任何内容")
                return redirect(_detail_url(union))
            try:
                services.union_update(acting_user=request.user, union=union, **changes)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已保存“{form.cleaned_data['name']}”的修改")
                return redirect(_detail_url(union))
    elif request.method == "POST":
        form = UnionEditForm(initial=form_state(request.POST), user=request.user, union=union)
    else:
        form = UnionEditForm(user=request.user, union=union)
    return _form_page(
        request,
        "orgs/union_form.html",
        form,
        union,
        title=f"编辑“{union.name}”",
        submit="保存",
        cancel_url=_detail_url(union),
    )


@login_required
@require_http_methods(["GET", "POST"])
def union_move(request: HttpRequest, pk: int) -> HttpResponse:
    union = get_scoped_or_404(Union, request.user, Action.CHANGE, pk=pk)
    if request.method == "POST" and PICKER_SEARCH not in request.POST:
        form = UnionMoveForm(request.POST, user=request.user, union=union)
        if form.is_valid():
            new_parent = form.cleaned_data["new_parent"]
            try:
                services.union_move(acting_user=request.user, union=union, new_parent=new_parent)
            except ValidationError as exc:
                add_service_errors(form, exc, {"parent": "new_parent", "level": "new_parent"})
            else:
                messages.success(request, f"已将“{union.name}”移到“{new_parent.name}”之下")
                return redirect(_detail_url(union))
    elif request.method == "POST":
        form = UnionMoveForm(initial=form_state(request.POST), user=request.user, union=union)
    else:
        form = UnionMoveForm(user=request.user, union=union)
    return _form_page(
        request,
        "orgs/union_form.html",
        form,
        union,
        title=f"移动“{union.name}”",
        submit="移动",
        cancel_url=_detail_url(union),
        intro=f"“{union.name}”连同它的 {union.numchild} 个直属下级工会及全部下级一起移到新的上级之下。",
    )


@login_required
@require_http_methods(["GET", "POST"])
def union_merge(request: HttpRequest, pk: int) -> HttpResponse:
    union = get_scoped_or_404(Union, request.user, Action.CHANGE, pk=pk)
    if request.method == "POST" and PICKER_SEARCH not in request.POST:
        form = UnionMergeForm(request.POST, user=request.user, union=union)
        if form.is_valid():
            target = form.cleaned_data["target"]
            try:
                services.union_merge(acting_user=request.user, source=union, target=target)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"“{union.name}”已并入“{target.name}”")
                return redirect(_detail_url(target))
    elif request.method == "POST":
        form = UnionMergeForm(initial=form_state(request.POST), user=request.user, union=union)
    else:
        form = UnionMergeForm(user=request.user, union=union)
    return _form_page(
        request,
        "orgs/union_form.html",
        form,
        union,
        title=f"合并“{union.name}”",
        submit="合并",
        danger=True,
        cancel_url=_detail_url(union),
        intro="只能并入同层级、同类型且存续的工会。",
    )


@login_required
@require_http_methods(["GET", "POST"])
def union_dissolve(request: HttpRequest, pk: int) -> HttpResponse:
    union = get_scoped_or_404(Union, request.user, Action.CHANGE, pk=pk)
    form = UnionDissolveForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.union_dissolve(
                acting_user=request.user, union=union, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{union.name}”已撤销")
            return redirect(_detail_url(union))
    return _form_page(
        request,
        "orgs/union_form.html",
        form,
        union,
        title=f"撤销“{union.name}”",
        submit="撤销",
        danger=True,
        cancel_url=_detail_url(union),
        intro="撤销后该工会保留历史记录，覆盖的用人单位变为未建会。存续的下级工会须先移走、合并或撤销。",
    )


@login_required
@require_http_methods(["GET", "POST"])
def union_delete(request: HttpRequest, pk: int) -> HttpResponse:
    union = get_scoped_or_404(Union, request.user, Action.DELETE, pk=pk)
    error = ""
    if request.method == "POST":
        parent = Union.objects.get_parent(union)
        try:
            services.union_delete(acting_user=request.user, union=union)
        except ValidationError as exc:
            error = "；".join(exc.messages)
        else:
            messages.success(request, f"已删除“{union.name}”")
            return redirect(_detail_url(parent) if parent else reverse("orgs:union_tree"))
    blockers = deletion_blockers(union)
    return render(
        request,
        "orgs/union_delete.html",
        {
            "union": union,
            "crumbs": queries.ancestor_crumbs(request.user, [union])[union.pk],
            "blockers": blockers,
            "error": error,
        },
    )


@login_required
@require_GET
def union_export(request: HttpRequest, pk: int) -> HttpResponse:
    union = get_scoped_or_404(Union, request.user, Action.EXPORT, pk=pk)
    xfile, filename = exports.export_unions(acting_user=request.user, union=union)
    return xfile.response(filename)


# --- Employers


@login_required
@require_GET
def employer_list(request: HttpRequest) -> HttpResponse:
    form = EmployerFilterForm(request.GET, user=request.user)
    form.is_valid()  # invalid filters are shown and left out; the valid ones still apply
    page = offset_page(form.employers(), page=request.GET.get("page"), per_page=EMPLOYERS_PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop(PICKER_SEARCH, None)
    return render(
        request,
        "orgs/employer_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_add": bool(paths_for(request.user, Action.ADD)),
            "can_export": bool(paths_for(request.user, Action.EXPORT)),
        },
    )


@login_required
@require_GET
def employer_export(request: HttpRequest) -> HttpResponse:
    """The employer list's filters as a spreadsheet, sent at once when it is small; a bigger
    one is built in the background from the export page (``niangjia.exports``)."""
    from niangjia.exports import services as export_services
    from niangjia.exports.choices import ExportKind
    from niangjia.exports.kinds import clean_query
    from niangjia.exports.views import export_url

    if not paths_for(request.user, Action.EXPORT):
        raise PermissionDenied("您没有导出用人单位的权限")
    filters = clean_query(request.GET)
    try:
        selection = export_services.export_select(
            acting_user=request.user, kind=ExportKind.EMPLOYERS, filters=filters
        )
        count = export_services.export_count(selection)
        if count.capped or count.total > settings.EXPORT_INLINE_ROWS:
            return redirect(export_url(ExportKind.EMPLOYERS, request.GET.urlencode()))
        outcome = export_services.export_start(
            acting_user=request.user, kind=ExportKind.EMPLOYERS, filters=filters
        )
    except ValidationError as exc:
        return HttpResponseBadRequest("；".join(exc.messages))
    assert outcome.file is not None
    return outcome.file.response(outcome.filename)


@login_required
@require_GET
def employer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    employer = get_scoped_or_404(Employer, request.user, Action.VIEW, pk=pk)
    employer = Employer.objects.select_related(
        "region__parent__parent__parent", "owner", "covering_union", "created_by"
    ).get(pk=employer.pk)
    can_change = Employer.objects.restrict(request.user, Action.CHANGE).filter(pk=pk).exists()
    return render(
        request,
        "orgs/employer_detail.html",
        {
            "employer": employer,
            "can_change": can_change,
            "history": queries.object_history(Employer, employer.pk),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def employer_create(request: HttpRequest) -> HttpResponse:
    if not paths_for(request.user, Action.ADD):
        raise PermissionDenied("您没有登记用人单位的权限")
    if request.method == "POST" and PICKER_SEARCH not in request.POST:
        form = EmployerForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                employer = services.employer_create(acting_user=request.user, **form.service_data())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已登记“{employer.name}”")
                return redirect("orgs:employer_detail", pk=employer.pk)
    elif request.method == "POST":
        form = EmployerForm(initial=form_state(request.POST), user=request.user)
    else:
        initial: dict[str, Any] = {}
        for name in ("owner", "covering_union"):
            if request.GET.get(name, "").isdigit():
                initial[name] = int(request.GET[name])
        roots = queries.scope_roots(request.user, Action.ADD)
        if "owner" not in initial and len(roots) == 1:
            initial["owner"] = roots[0].pk
            if roots[0].region_id:
                initial["region"] = roots[0].region
        form = EmployerForm(initial=initial, user=request.user)
    return render(
        request,
        "orgs/employer_form.html",
        {
            "form": form,
            "title": "登记用人单位",
            "submit": "登记",
            "cancel_url": reverse("orgs:employer_list"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def employer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    employer = get_scoped_or_404(Employer, request.user, Action.CHANGE, pk=pk)
    detail_url = reverse("orgs:employer_detail", args=[employer.pk])
    if request.method == "POST" and PICKER_SEARCH not in request.POST:
        form = EmployerForm(request.POST, user=request.user, employer=employer)
        if form.is_valid():
            changes = form.changes()
            if not changes:
                messages.info(request, "没有修改任何内容")
                return redirect(detail_url)
            try:
                services.employer_update(acting_user=request.user, employer=employer, **changes)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已保存“{form.cleaned_data['name']}”的修改")
                return redirect(detail_url)
    elif request.method == "POST":
        form = EmployerForm(initial=form_state(request.POST), user=request.user, employer=employer)
    else:
        form = EmployerForm(user=request.user, employer=employer)
    return render(
        request,
        "orgs/employer_form.html",
        {
            "form": form,
            "employer": employer,
            "title": f"编辑“{employer.name}”",
            "submit": "保存",
            "cancel_url": detail_url,
        },
    )
