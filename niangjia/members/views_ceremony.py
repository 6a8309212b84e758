"""The cadre pages of joining: a union's join QR code for posters, and mass joining
ceremonies — their venues, the venues' QR codes and print sheet, and the big screen.

Objects come through ``get_scoped_or_404`` (404 outside the scope, 403 inside it without the
right); writes through ``services.ceremony_create`` / ``ceremony_update`` / ``venue_add``.
The big screen polls ``screen.json``: the counters kept on the venue rows (no counting of
applications) and the last 20 approved applications of the venues.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.members import selectors, services
from niangjia.members.choices import ApplicationStatus
from niangjia.members.forms import CeremonyForm, VenueForm
from niangjia.members.models import CeremonyVenue, JoinApplication, JoinCeremony
from niangjia.members.public_links import union_join_url, venue_join_url
from niangjia.orgs.forms import PICKER_SEARCH, add_service_errors, form_state
from niangjia.orgs.models import Union
from niangjia.utilities.masking import mask_name
from niangjia.utilities.paging import offset_page
from niangjia.utilities.qr import png_bytes, svg_bytes, svg_inline
from niangjia.utilities.scoping import allowed, get_scoped_or_404

CEREMONIES_PER_PAGE = 30
SCREEN_LATEST = 20
# A join whose request began just before the ceremony's end may be saved just after it.
SUBMIT_GRACE = datetime.timedelta(minutes=5)
QR_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def _qr_response(content: str, fmt: str, filename: str, title: str) -> HttpResponse:
    body = svg_bytes(content, title=title) if fmt == "svg" else png_bytes(content)
    response = HttpResponse(body, content_type=QR_FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(False, f"{filename}.{fmt}")
    response["Cache-Control"] = "private, max-age=300"
    return response


def _scoped_union(request: HttpRequest, action: str) -> None:
    """A union named in a posted form must be in the user's scope: 404 otherwise (403 when
    seen but not ``action``), as for any object (the picker alone would only call the choice
    invalid)."""
    raw = (request.POST.get("union") or "").strip()
    if raw.isdigit():
        get_scoped_or_404(Union, request.user, action, pk=int(raw))


def _phase(ceremony: JoinCeremony) -> tuple[str, str]:
    now = timezone.now()
    if now < ceremony.starts_at:
        return "upcoming", "未开始"
    if now > ceremony.ends_at:
        return "ended", "已结束"
    return "live", "进行中"


# --- A union's join QR code


@login_required
@require_GET
def union_join_qr(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The QR code of ``/j/u/<pk>/`` as SVG or PNG, to print on a poster."""
    union = get_scoped_or_404(Union, request.user, Action.VIEW, pk=pk)
    if not services.accepts_members(union):
        return HttpResponseBadRequest(
            f"“{union.name}”不直接接收会员，没有入会二维码".encode(),
            content_type="text/plain; charset=utf-8",
        )
    return _qr_response(union_join_url(request, union), fmt, f"{union.name}-入会二维码", union.name)


@login_required
@require_GET
def union_join_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable poster: the union's name, its join QR code and the address under it."""
    union = get_scoped_or_404(Union, request.user, Action.VIEW, pk=pk)
    url = union_join_url(request, union)
    return render(
        request,
        "members/ceremony/union_poster.html",
        {
            "union": union,
            "accepts": services.accepts_members(union),
            "url": url,
            "qr": svg_inline(url, scale=8) if services.accepts_members(union) else "",
        },
    )


# --- Ceremonies


@login_required
@require_GET
def ceremony_list(request: HttpRequest) -> HttpResponse:
    if not paths_for(request.user, Action.VIEW):
        raise PermissionDenied("您没有查看入会仪式的权限")
    page = offset_page(
        selectors.ceremony_list(user=request.user),
        page=request.GET.get("page"),
        per_page=CEREMONIES_PER_PAGE,
    )
    for ceremony in page.items:
        ceremony.phase, ceremony.phase_label = _phase(ceremony)
    return render(
        request,
        "members/ceremony/list.html",
        {
            "page": page,
            "can_add": bool(paths_for(request.user, Action.ADD)),
            "tab": "ceremonies",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def ceremony_create(request: HttpRequest) -> HttpResponse:
    if not paths_for(request.user, Action.ADD):
        raise PermissionDenied("您没有新建入会仪式的权限")
    if request.method == "POST" and PICKER_SEARCH not in request.POST:
        _scoped_union(request, Action.ADD)
        form = CeremonyForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                ceremony = services.ceremony_create(
                    acting_user=request.user, **form.service_kwargs()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已新建入会仪式“{ceremony.name}”，请添加会场。")
                return redirect("members:ceremony_detail", pk=ceremony.pk)
    elif request.method == "POST":
        form = CeremonyForm(initial=form_state(request.POST), user=request.user)
    else:
        initial = CeremonyForm.initial_new()
        roots = paths_for(request.user, Action.ADD)
        if len(roots) == 1:  # one scope: its root is the likely host
            initial["union"] = Union.objects.filter(path=roots[0]).first()
        form = CeremonyForm(initial=initial, user=request.user)
    return render(
        request,
        "members/ceremony/form.html",
        {"form": form, "title": "新建入会仪式", "submit": "新建", "tab": "ceremonies"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def ceremony_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ceremony = get_scoped_or_404(JoinCeremony, request.user, Action.CHANGE, pk=pk)
    if request.method == "POST":
        form = CeremonyForm(request.POST, user=request.user, ceremony=ceremony)
        if form.is_valid():
            try:
                services.ceremony_update(
                    ceremony=ceremony, acting_user=request.user, **form.service_kwargs()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已保存入会仪式的修改。")
                return redirect("members:ceremony_detail", pk=ceremony.pk)
    else:
        form = CeremonyForm(
            initial=CeremonyForm.initial_for(ceremony), user=request.user, ceremony=ceremony
        )
    return render(
        request,
        "members/ceremony/form.html",
        {
            "form": form,
            "ceremony": ceremony,
            "title": f"修改入会仪式：{ceremony.name}",
            "submit": "保存",
            "tab": "ceremonies",
        },
    )


@login_required
@require_GET
def ceremony_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ceremony = get_scoped_or_404(JoinCeremony, request.user, Action.VIEW, pk=pk)
    ceremony = JoinCeremony.objects.select_related("union").get(pk=ceremony.pk)
    can_change = allowed(request.user, Action.CHANGE, ceremony)
    venues = list(ceremony.venues.select_related("union").order_by("id"))
    for venue in venues:
        venue.join_url = venue_join_url(request, venue)
    ceremony.phase, ceremony.phase_label = _phase(ceremony)
    return render(
        request,
        "members/ceremony/detail.html",
        {
            "ceremony": ceremony,
            "venues": venues,
            "can_change": can_change,
            "venue_form": VenueForm(user=request.user, ceremony=ceremony) if can_change else None,
            "tab": "ceremonies",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def venue_add(request: HttpRequest, pk: int) -> HttpResponse:
    ceremony = get_scoped_or_404(JoinCeremony, request.user, Action.CHANGE, pk=pk)
    ceremony = JoinCeremony.objects.select_related("union").get(pk=ceremony.pk)
    if request.method == "POST" and PICKER_SEARCH not in request.POST:
        _scoped_union(request, Action.ADD)
        form = VenueForm(request.POST, user=request.user, ceremony=ceremony)
        if form.is_valid():
            try:
                venue = services.venue_add(
                    ceremony=ceremony,
                    acting_user=request.user,
                    name=form.cleaned_data["name"],
                    union=form.cleaned_data["union"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已添加会场“{venue.name}”。")
                return redirect("members:ceremony_detail", pk=ceremony.pk)
    elif request.method == "POST":
        form = VenueForm(initial=form_state(request.POST), user=request.user, ceremony=ceremony)
    else:
        form = VenueForm(user=request.user, ceremony=ceremony)
    return render(
        request,
        "members/ceremony/venue_form.html",
        {"form": form, "ceremony": ceremony, "tab": "ceremonies"},
    )


@login_required
@require_GET
def venue_qr(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    venue = get_scoped_or_404(CeremonyVenue, request.user, Action.VIEW, pk=pk)
    return _qr_response(venue_join_url(request, venue), fmt, f"{venue.name}-入会二维码", venue.name)


@login_required
@require_GET
def ceremony_qr_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """Every venue's QR code on a printable sheet, one card per venue."""
    ceremony = get_scoped_or_404(JoinCeremony, request.user, Action.VIEW, pk=pk)
    ceremony = JoinCeremony.objects.select_related("union").get(pk=ceremony.pk)
    venues = list(ceremony.venues.select_related("union").order_by("id"))
    for venue in venues:
        venue.join_url = venue_join_url(request, venue)
        venue.qr = svg_inline(venue.join_url, scale=6)
    return render(
        request, "members/ceremony/qr_sheet.html", {"ceremony": ceremony, "venues": venues}
    )


# --- The big screen


def screen_data(ceremony: JoinCeremony) -> dict[str, Any]:
    """The figures of the big screen in two cheap queries: the venues' counters (the total
    is their sum), and the latest approved applications of the venues.

    The latest are read backwards along the index on the submission time, between the
    ceremony's creation (no venue existed before) and its end (venues refuse joins after
    it): during the burst the newest rows are the ceremony's own, so about 20 index entries
    are read whatever the size of the table. The counters count the venues' approved
    applications, so the read stops at that many (a ceremony with no joins reads none)."""
    venues = list(
        CeremonyVenue.objects.filter(ceremony_id=ceremony.pk)
        .order_by("id")
        .values("id", "name", "joined_count")
    )
    names = {v["id"]: v["name"] for v in venues}
    top = max((v["joined_count"] for v in venues), default=0)
    # The venues' counters, read in one statement, add up to the ceremony's (a join moves
    # both together): their sum keeps the total and the bars of one answer in step.
    total = sum(v["joined_count"] for v in venues) if venues else ceremony.joined_count
    wanted = min(SCREEN_LATEST, total)
    latest: list[dict[str, Any]] = []
    if names and wanted:
        latest = list(
            JoinApplication.objects.filter(
                venue_id__in=list(names),
                status=ApplicationStatus.APPROVED,
                submitted_at__gte=ceremony.created_at,
                submitted_at__lte=ceremony.ends_at + SUBMIT_GRACE,
            )
            .order_by("-submitted_at", "-id")
            .values("id", "name", "venue_id", "decided_at")[:wanted]
        )
    return {
        "total": total,
        "venues": [
            {
                "id": v["id"],
                "name": v["name"],
                "count": v["joined_count"],
                "share": round(100 * v["joined_count"] / top, 1) if top else 0,
            }
            for v in venues
        ],
        "latest": [
            {
                "id": a["id"],
                "name": mask_name(a["name"]),
                "venue": names.get(a["venue_id"], ""),
                "time": timezone.localtime(a["decided_at"]).strftime("%H:%M:%S"),
            }
            for a in latest
        ],
        "now": timezone.localtime().strftime("%H:%M:%S"),
    }


@login_required
@require_GET
def ceremony_screen(request: HttpRequest, pk: int) -> HttpResponse:
    """The 1920×1080 big screen: total, venues, latest joiners; ceremony.js refreshes it."""
    ceremony = get_scoped_or_404(JoinCeremony, request.user, Action.VIEW, pk=pk)
    ceremony = JoinCeremony.objects.select_related("union").get(pk=ceremony.pk)
    data = screen_data(ceremony)
    return render(
        request,
        "members/ceremony/screen.html",
        {
            "ceremony": ceremony,
            "data": data,
            "json_url": reverse("members:ceremony_screen_json", args=[ceremony.pk]),
            "time_zone": settings.TIME_ZONE,
        },
    )


@never_cache
@login_required
@require_GET
def ceremony_screen_json(request: HttpRequest, pk: int) -> JsonResponse:
    ceremony = get_scoped_or_404(JoinCeremony, request.user, Action.VIEW, pk=pk)
    return JsonResponse(screen_data(ceremony))
