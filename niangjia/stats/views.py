"""Statistics pages: the dashboard of a union node, its big-screen mode, the exports, the annual
statistical return and the indicator definitions.

Every page starts from ``get_scoped_or_404(Union, user, …)``: a node outside the user's scope
is 404 (a county cadre cannot open a sibling county's dashboard), exports need
``Action.EXPORT`` (403 for a read-only auditor). The figures come from
``niangjia.stats.dashboard`` and ``niangjia.stats.annual_return`` over the figure selectors.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import can
from niangjia.orgs.models import Union
from niangjia.stats import annual_return, dashboard, exports, registry, selectors, sources
from niangjia.stats.periods import STAT_YEAR, Period
from niangjia.utilities.scoping import get_scoped_or_404

SCREEN_REFRESH_SECONDS = 5


def _node(request: HttpRequest, pk: int, action: str = Action.VIEW) -> Union:
    node: Union = get_scoped_or_404(Union, request.user, action, pk=pk)
    return node


def _page_number(request: HttpRequest) -> int:
    text = request.GET.get("page") or "1"
    return int(text) if text.isdigit() and 0 < int(text) < 100_000 else 1


@login_required
@require_GET
def dashboard_home(request: HttpRequest) -> HttpResponse:
    """The dashboard of the highest union the user may see."""
    node = dashboard.own_node(request.user)
    if node is None:
        raise PermissionDenied("您没有查看统计数据的权限")
    target = reverse("stats:dashboard", args=[node.pk])
    query = request.GET.urlencode()
    return redirect(f"{target}?{query}" if query else target)


def _dashboard_context(request: HttpRequest, node: Union, *, screen: bool = False) -> dict:
    choice = dashboard.choose_period(request.GET)
    board = dashboard.build(
        node=node,
        period=choice.period,
        page=_page_number(request),
        map_indicator=request.GET.get("map", ""),
        screen=screen,
    )
    return {
        "node": node,
        "board": board,
        "choice": choice,
        "crumbs": dashboard.breadcrumbs(request.user, node, choice.period),
        "period_query": dashboard.period_query(choice.period),
        "map_query": dashboard.period_query(
            choice.period, map=board.map["indicator_code"] if board.map else ""
        ),
        "can_export": can(request.user, Action.EXPORT, node.path),
        "export_tables": exports.TABLES,
        "stat_year": Period.containing(STAT_YEAR, choice.period.end).year,
    }


@login_required
@require_GET
def dashboard_page(request: HttpRequest, pk: int) -> HttpResponse:
    node = _node(request, pk)
    return render(request, "stats/dashboard.html", _dashboard_context(request, node))


@login_required
@require_GET
def dashboard_data(request: HttpRequest, pk: int) -> HttpResponse:
    """The dashboard's figures as JSON (the big screen fetches them every few seconds)."""
    node = _node(request, pk)
    choice = dashboard.choose_period(request.GET)
    board = dashboard.build(
        node=node,
        period=choice.period,
        map_indicator=request.GET.get("map", ""),
        screen=True,
    )
    response = JsonResponse(board.payload, encoder=DjangoJSONEncoder)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def screen(request: HttpRequest, pk: int) -> HttpResponse:
    """Big-screen mode: 1920×1080, dark, refreshed in place every few seconds."""
    node = _node(request, pk)
    context = _dashboard_context(request, node, screen=True)
    context["refresh_seconds"] = SCREEN_REFRESH_SECONDS
    context["data_url"] = (
        f"{reverse('stats:dashboard_data', args=[node.pk])}?{context['map_query']}"
    )
    return render(request, "stats/screen.html", context)


@login_required
@require_GET
def export(request: HttpRequest, pk: int, table: str) -> HttpResponseBase:
    if table not in exports.TABLES:
        raise Http404("没有这张统计表")
    node = _node(request, pk, Action.EXPORT)
    choice = dashboard.choose_period(request.GET)
    xfile, filename = exports.export_table(
        acting_user=request.user,
        node=node,
        period=choice.period,
        table=table,
        indicator=request.GET.get("map", ""),
    )
    return xfile.response(filename)


def _return_year(request: HttpRequest) -> tuple[Period, str]:
    """The statistical year asked for by ``year`` (default: the one running now)."""
    current = annual_return.current_stat_year()
    text = (request.GET.get("year") or "").strip()
    if not text:
        return current, ""
    if not text.isdigit() or len(text) != 4:
        return current, f"统计年度“{text[:10]}”格式不正确：请填写四位年份，如 {current.year}"
    year = int(text)
    if year > current.year:
        return current, f"{year} 统计年度尚未开始，已改为显示 {current.year} 统计年度"
    if year < 1950:
        return current, "统计年度的年份应不早于 1950 年"
    return annual_return.stat_year(year), ""


@login_required
@require_GET
def return_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The annual statistical return, printable (print CSS)."""
    node = _node(request, pk)
    period, error = _return_year(request)
    result = annual_return.build(node=node, period=period)
    current = annual_return.current_stat_year()
    return render(
        request,
        "stats/annual_return.html",
        {
            "node": node,
            "result": result,
            "error": error,
            "years": [current.year - i for i in range(0, 10)],
            "crumbs": dashboard.breadcrumbs(request.user, node, period),
            "can_export": can(request.user, Action.EXPORT, node.path),
        },
    )


@login_required
@require_GET
def return_xlsx(request: HttpRequest, pk: int) -> HttpResponseBase:
    node = _node(request, pk, Action.EXPORT)
    period, _error = _return_year(request)
    xfile, filename, _result = exports.export_annual_return(
        acting_user=request.user, node=node, period=period
    )
    return xfile.response(filename)


@login_required
@require_GET
def indicator_list(request: HttpRequest) -> HttpResponse:
    """指标说明: every indicator of the registry with its meaning and computation."""
    if dashboard.own_node(request.user) is None:
        raise PermissionDenied("您没有查看统计数据的权限")
    entries = selectors.indicator_list()
    groups: dict[str, list[selectors.IndicatorEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    return render(
        request,
        "stats/indicator_list.html",
        {
            "groups": list(groups.items()),
            "count": len(entries),
            "as_of": selectors.as_of(),
            "common_dimensions": registry.COMMON_DIMENSIONS,
            "min_staff": sources.formation_min_staff(),
        },
    )
