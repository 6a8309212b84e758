"""The worker pages under ``/j/``: joining by QR code (a union's or a ceremony venue's),
the result of an application, its status, the member card and the card's scan page.

No login: a worker proves a phone with a texted code (``services.sms_code_send`` /
``sms_code_check``); the verified phone is remembered in the session by its keyed hash only,
for as long as the session lasts, so the status and card pages need one code between them.
These pages read a worker's own rows by that hash (never a list by union) and show ID numbers
and phones masked. Every page is a plain HTML form that works without script; ``join.js``
only adds the code button's countdown and the employer search.

The ceremony venue's submit (``join_venue``) is the hot path of a mass joining ceremony:
one venue query, the form, the service, a 303 to the result page.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache, partial
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from niangjia.accounts.choices import Action
from niangjia.members import selectors, services
from niangjia.members.choices import (
    HOLDING_STATUSES,
    ApplicationChannel,
    ApplicationStatus,
    MemberStatus,
)
from niangjia.members.forms import JoinForm, PhoneCodeForm
from niangjia.members.identity import normalize_phone
from niangjia.members.models import (
    CeremonyVenue,
    JoinApplication,
    Member,
    phone_hash_of,
)
from niangjia.members.public_links import card_verify_url
from niangjia.orgs.choices import EmployerStatus, UnionKind, UnionStatus
from niangjia.orgs.models import Employer, Union
from niangjia.orgs.selectors import region_code_prefix
from niangjia.utilities.masking import mask_name, mask_phone
from niangjia.utilities.qr import svg_inline

# The session key holding the keyed hash of the phone the worker last proved (never the phone).
VERIFIED_PHONE_KEY = "members.verified_phone"
SEND_CODE = "send_code"
DONE_SALT = "niangjia.join-done"
DONE_MAX_AGE = 30 * 86400
EMPLOYER_SEARCH_LIMIT = 10


class Purpose:
    """What a texted code is for (``SmsCode.purpose``)."""

    JOIN = "join"
    STATUS = "status"
    CARD = "card"

    ALL = (JOIN, STATUS, CARD)


# --- Helpers


def _verified_hash(request: HttpRequest) -> str:
    return str(request.session.get(VERIFIED_PHONE_KEY, ""))


def _remember_phone(request: HttpRequest, phone_hash: str) -> None:
    request.session[VERIFIED_PHONE_KEY] = phone_hash


def _phone_hash_or_empty(raw: str) -> str:
    try:
        return phone_hash_of(normalize_phone(raw))
    except ValidationError:
        return ""


def _send_code(phone_raw: str, purpose: str) -> tuple[str, str]:
    """Text a code; (message, "") when sent, ("", error) otherwise."""
    try:
        phone = normalize_phone(phone_raw)
        services.sms_code_send(phone=phone, purpose=purpose)
    except ValidationError as exc:
        return "", "；".join(exc.message_dict.get("phone", exc.messages))
    return f"验证码已发送至 {mask_phone(phone)}，请查看短信并填写。", ""


def _form_values(data: Any) -> dict[str, Any]:
    return {k: data.get(k) for k in data if k not in ("csrfmiddlewaretoken", SEND_CODE, "code")}


def employer_area(union: Union) -> QuerySet[Employer]:
    """Registered, active employers a worker joining ``union`` may pick: those the union's
    subtree keeps or covers, and those in its region. Public: names only leave this page."""
    area = Q(covering_union__path__startswith=union.path) | Q(owner__path__startswith=union.path)
    if union.region_id is not None:
        area |= Q(region__code__startswith=region_code_prefix(union.region))
    return Employer.objects.filter(area, status=EmployerStatus.ACTIVE)


def regional_unions(union: Union, *, limit: int = 4) -> list[Union]:
    """For a worker whose employer has no union: the nearest federation above ``union`` that
    takes members, then joint unions under it."""
    ancestors = [u for u in Union.objects.get_ancestors(union) if services.accepts_members(u)]
    if not ancestors:
        return []
    nearest = ancestors[-1]
    joint = (
        Union.objects.filter(
            path__startswith=nearest.path, kind=UnionKind.JOINT, status=UnionStatus.ACTIVE
        )
        .exclude(pk=union.pk)
        .order_by("path")[: limit - 1]
    )
    return [nearest, *joint]


def _joinable_union(pk: int) -> Union:
    union = Union.objects.select_related("region").filter(pk=pk).first()
    if union is None:
        raise Http404("该工会不存在，请核对二维码")
    return union


def _unavailable(
    request: HttpRequest, title: str, message: str, *, status: int, links: Sequence[Union] = ()
) -> HttpResponse:
    return render(
        request,
        "members/public/unavailable.html",
        {"title": title, "message": message, "links": links},
        status=status,
    )


def _closed_union_answer(request: HttpRequest, union: Union) -> HttpResponse | None:
    """A page explaining why ``union`` takes no members (and where to go), or None."""
    if services.accepts_members(union):
        return None
    if union.status == UnionStatus.MERGED and union.merged_into_id:
        target = Union.objects.filter(pk=union.merged_into_id).first()
        links = [target] if target is not None and services.accepts_members(target) else []
        return _unavailable(
            request,
            "工会已合并",
            f"“{union.name}”已并入“{target.name if target else '其他工会'}”，请向合并后的工会申请入会。",
            status=410,
            links=links,
        )
    if union.status != UnionStatus.ACTIVE:
        return _unavailable(
            request,
            "工会已撤销",
            f"“{union.name}”已{union.get_status_display()}，不再接收入会申请。",
            status=410,
            links=regional_unions(union),
        )
    children = (
        Union.objects.filter(path__startswith=union.path)
        .filter(services.accepting_unions_q())
        .order_by("depth", "path")[:4]
    )
    return _unavailable(
        request,
        "请向基层工会申请",
        f"“{union.name}”不直接接收会员。请扫描所在单位工会的入会二维码；单位尚未建立工会的，"
        "请向所在县（区）、乡镇（街道）总工会或联合工会申请。",
        status=404,
        links=list(children),
    )


def _employer_elsewhere(union: Union, employer: Employer | None) -> dict[str, Any] | None:
    """A grassroots union is the union of one workplace: a worker of another registered
    employer is sent to that employer's union, or, if it has none, to the area's union."""
    if union.kind != UnionKind.GRASSROOTS or employer is None:
        return None
    if employer.covering_union_id == union.pk:
        return None
    covering = None
    if employer.covering_union_id:
        covering = Union.objects.filter(pk=employer.covering_union_id).first()
    if covering is not None and services.accepts_members(covering):
        return {
            "message": f"您的单位“{employer.name}”的工会是“{covering.name}”，请向该工会申请入会。",
            "unions": [covering],
        }
    return {
        "message": f"您的单位“{employer.name}”尚未建立工会。请向所在地区的工会申请入会，"
        "单位建会后会籍可随之转入：",
        "unions": regional_unions(union),
    }


def _done_token(application: JoinApplication) -> str:
    return signing.dumps({"a": application.pk}, salt=DONE_SALT)


# Stands for the token in the result page's address worked out once (``_done_url``).
_STAND_IN = "STAND-IN"


def _done_url(application: JoinApplication) -> str:
    """The result page's address for ``application``: what ``reverse("join:done")`` gives,
    without matching and quoting the token on every join. The token is base64 and ":",
    which that quoting keeps as they are, so the address is the one reversed once for a
    stand-in, with the token in its place."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    head, tail = _done_url_around(get_script_prefix(), urlconf)
    return f"{head}{_done_token(application)}{tail}"


@lru_cache(maxsize=16)
def _done_url_around(script_prefix: str, urlconf: str) -> tuple[str, str]:
    """The result page's address either side of the token, for this script prefix (the
    argument only keys the cache: ``reverse`` reads the same prefix) and URL configuration."""
    head, stand_in, tail = reverse("join:done", urlconf=urlconf, args=[_STAND_IN]).rpartition(
        _STAND_IN
    )
    if not stand_in:
        raise NoReverseMatch("the result page's address does not hold its token as given")
    return head, tail


# --- Joining


@require_http_methods(["GET", "POST"])
def join_union(request: HttpRequest, pk: int) -> HttpResponse:
    """The page a union's join QR code opens: the form, with a texted code for the phone."""
    union = _joinable_union(pk)
    closed = _closed_union_answer(request, union)
    if closed is not None:
        return closed
    return _join(request, union=union, venue=None)


@require_http_methods(["GET", "POST"])
def join_venue(request: HttpRequest, token: str) -> HttpResponse:
    """The page a ceremony venue's QR code opens. Staff are on site: no texted code unless the
    ceremony asks for one; with auto-approval the worker is a member on submitting."""
    venue = selectors.venue_by_token(token)
    if venue is None:
        raise Http404("该会场二维码无效，请向现场工作人员确认")
    if venue.ceremony.ends_at < timezone.now():
        return _unavailable(
            request,
            "入会仪式已结束",
            f"“{venue.ceremony.name}”已结束。您仍可向“{venue.union.name}”申请入会：",
            status=410,
            links=[venue.union] if services.accepts_members(venue.union) else [],
        )
    closed = _closed_union_answer(request, venue.union)
    if closed is not None:
        return closed
    return _join(request, union=venue.union, venue=venue)


def _join(request: HttpRequest, *, union: Union, venue: CeremonyVenue | None) -> HttpResponse:
    need_sms = venue is None or venue.ceremony.require_sms
    context: dict[str, Any] = {
        "union": union,
        "venue": venue,
        "need_sms": need_sms,
        # Lazily: a successful submit renders nothing and needs neither address.
        "employers_url": lambda: reverse("join:employers", args=[union.pk]),
        "sms_url": lambda: reverse("join:sms_send"),
        "purpose": Purpose.JOIN,
    }
    if need_sms and request.method == "POST" and SEND_CODE in request.POST:
        sent, error = _send_code(request.POST.get("phone", ""), Purpose.JOIN)
        form = JoinForm(initial=_form_values(request.POST))
        context.update(form=form, code_sent=sent, code_error=error)
        return render(request, "members/public/join.html", context)
    if request.method != "POST":
        if union.kind == UnionKind.GRASSROOTS:
            context["regional"] = regional_unions(union)
        context["form"] = JoinForm(need_code=need_sms)
        # A blank form's fields render alike for every worker of this union: kept a while.
        context["fields_cache_key"] = f"{union.pk}:{int(need_sms)}"
        context["join_cache_seconds"] = settings.JOIN_CACHE_SECONDS
        return render(request, "members/public/join.html", context)

    phone_known = False
    if need_sms:
        verified = _verified_hash(request)
        phone_known = bool(verified) and verified == _phone_hash_or_empty(
            request.POST.get("phone", "")
        )
    need_code = need_sms and not phone_known
    form = JoinForm(
        request.POST,
        employers=partial(employer_area, union),
        area_key=union.pk,
        need_code=need_code,
    )
    context.update(form=form, phone_known=phone_known)
    if not form.is_valid():
        return render(request, "members/public/join.html", context)
    elsewhere = _employer_elsewhere(union, form.employer_obj)
    if elsewhere is not None:
        form.add_error("employer_name", elsewhere["message"])
        context["elsewhere"] = elsewhere
        return render(request, "members/public/join.html", context)
    if need_code:
        try:
            verified = services.sms_code_check(
                phone=form.cleaned_data["phone"],
                purpose=Purpose.JOIN,
                code=form.cleaned_data["code"],
            )
        except ValidationError as exc:
            form.add_error("code", exc.message_dict.get("code", exc.messages))
            return render(request, "members/public/join.html", context)
        _remember_phone(request, verified)
    try:
        application = services.application_submit(
            union=union,
            data=form.join_data(),
            channel=ApplicationChannel.CEREMONY if venue else ApplicationChannel.QR,
            phone_verified=need_sms,
            venue=venue,
        )
    except services.AlreadyMember as exc:
        return _already_member(request, exc.member, union)
    except services.AlreadyApplied as exc:
        return render(
            request,
            "members/public/already_applied.html",
            {"message": exc.messages[0], "application": exc.application, "union": union},
            status=409,
        )
    except ValidationError as exc:
        for key, errors in getattr(exc, "error_dict", {None: exc.error_list}).items():
            form.add_error(key if key in form.fields else None, errors)
        return render(request, "members/public/join.html", context)
    # The address as it is: redirect() would first try it as a view name and fail.
    return HttpResponseRedirect(_done_url(application))


def _already_member(request: HttpRequest, member: Member, union: Union) -> HttpResponse:
    """The clear answer to someone already holding a membership: which union (ID masked),
    and how a transfer works instead of a second joining."""
    holding = member.union
    return render(
        request,
        "members/public/already_member.html",
        {
            "member": member,
            "holding": holding,
            "union": union,
            "same_union": holding.pk == union.pk,
            "transferring": member.status == MemberStatus.TRANSFERRING,
        },
        status=409,
    )


@require_GET
def join_done(request: HttpRequest, token: str) -> HttpResponse:
    """What happens next: pending with the 15-working-day deadline, or joined at once."""
    try:
        payload = signing.loads(token, salt=DONE_SALT, max_age=DONE_MAX_AGE)
    except signing.BadSignature as exc:
        raise Http404("该页面已失效，请凭手机号查询申请进度") from exc
    application = (
        JoinApplication.objects.select_related("union", "member", "venue__ceremony")
        .filter(pk=payload.get("a"))
        .first()
    )
    if application is None:
        raise Http404("该申请不存在")
    return render(
        request,
        "members/public/done.html",
        {
            "application": application,
            "masked_name": mask_name(application.name),
            "approved": application.status == ApplicationStatus.APPROVED,
            "member": application.member,
            "workdays": settings.JOIN_APPROVAL_WORKDAYS,
        },
    )


@require_GET
def employer_search(request: HttpRequest, pk: int) -> JsonResponse:
    """Registered employers in the union's area whose name contains ``q``: names only."""
    union = _joinable_union(pk)
    if not services.accepts_members(union):
        return JsonResponse({"detail": f"“{union.name}”不直接接收会员"}, status=404)
    q = " ".join(request.GET.get("q", "").split())[:50]
    if not q:
        return JsonResponse({"results": []})
    employers = (
        employer_area(union)
        .filter(name__icontains=q)
        .order_by("name", "id")
        .values("id", "name")[:EMPLOYER_SEARCH_LIMIT]
    )
    response = JsonResponse({"results": list(employers)})
    response["Cache-Control"] = "private, max-age=60"
    return response


@require_POST
def sms_send(request: HttpRequest) -> JsonResponse:
    """The code button's script: text a code for ``purpose`` to ``phone``."""
    purpose = request.POST.get("purpose", "")
    if purpose not in Purpose.ALL:
        return JsonResponse({"ok": False, "errors": {"purpose": "验证码用途无效"}}, status=400)
    sent, error = _send_code(request.POST.get("phone", ""), purpose)
    if error:
        return JsonResponse({"ok": False, "errors": {"phone": error}}, status=400)
    return JsonResponse({"ok": True, "message": sent, "resend_after": settings.SMS_RESEND_SECONDS})


# --- Pages behind a verified phone: application status, member card


def _phone_gate(
    request: HttpRequest, *, purpose: str, template: str, context: dict[str, Any]
) -> HttpResponse | str:
    """The verified phone's keyed hash, or the page asking for phone and code."""
    verified = _verified_hash(request)
    if verified and request.method == "GET":
        return verified
    context.update(sms_url=reverse("join:sms_send"), purpose=purpose)
    if request.method == "POST" and SEND_CODE in request.POST:
        sent, error = _send_code(request.POST.get("phone", ""), purpose)
        form = PhoneCodeForm(initial={"phone": request.POST.get("phone", "")})
        context.update(form=form, code_sent=sent, code_error=error)
        return render(request, template, context)
    if request.method != "POST":
        context["form"] = PhoneCodeForm()
        return render(request, template, context)
    form = PhoneCodeForm(request.POST)
    context["form"] = form
    if form.is_valid():
        try:
            verified = services.sms_code_check(
                phone=form.cleaned_data["phone"], purpose=purpose, code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            form.add_error("code", exc.message_dict.get("code", exc.messages))
        else:
            _remember_phone(request, verified)
            return redirect(request.path)
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def application_status(request: HttpRequest) -> HttpResponse:
    """The verified phone's applications: state, union, deadline, the decision's reason."""
    gate = _phone_gate(
        request, purpose=Purpose.STATUS, template="members/public/status.html", context={}
    )
    if isinstance(gate, HttpResponse):
        return gate
    applications = list(
        JoinApplication.objects.filter(phone_hash=gate)
        .select_related("union", "member")
        .order_by("-submitted_at", "-id")[:20]
    )
    today = timezone.localdate()
    for application in applications:
        application.overdue = (  # type: ignore[attr-defined]
            application.status == ApplicationStatus.SUBMITTED and application.due_date < today
        )
    return render(
        request,
        "members/public/status.html",
        {"applications": applications, "verified": True, "purpose": Purpose.STATUS},
    )


@require_http_methods(["GET", "POST"])
def member_card(request: HttpRequest) -> HttpResponse:
    """The member card(s) of the verified phone, each with a signed QR for the scan page."""
    gate = _phone_gate(
        request, purpose=Purpose.CARD, template="members/public/card.html", context={}
    )
    if isinstance(gate, HttpResponse):
        return gate
    members = list(
        Member.objects.filter(phone_hash=gate).select_related("union").order_by("-join_date")
    )
    cards = []
    for member in members:
        url = card_verify_url(request, services.card_token(member))
        cards.append(
            {
                "member": member,
                "valid": member.status in HOLDING_STATUSES,
                "qr": svg_inline(url, scale=4),
                "url": url,
            }
        )
    return render(
        request,
        "members/public/card.html",
        {"cards": cards, "verified": True, "generated_at": timezone.localtime()},
    )


@require_POST
def forget_phone(request: HttpRequest) -> HttpResponse:
    """Forget the verified phone (a shared phone, or another number to check)."""
    request.session.pop(VERIFIED_PHONE_KEY, None)
    messages.info(request, "已退出，如需查询请重新验证手机号。")
    target = request.POST.get("next", "")
    allowed = {reverse("join:status"), reverse("join:card")}
    return redirect(target if target in allowed else reverse("join:status"))


@require_GET
def card_verify(request: HttpRequest, token: str) -> HttpResponse:
    """What a union's scan of a member card shows: valid or not, member number, masked name,
    union, status — never the ID number or phone. A cadre who may see the member gets a link
    to the member's record."""
    try:
        member = services.card_verify(token)
    except ValidationError as exc:
        return render(
            request,
            "members/public/card_verify.html",
            {"error": exc.messages[0]},
            status=400,
        )
    detail_url = None
    user = request.user
    if user.is_authenticated and (
        Member.objects.restrict(user, Action.VIEW).filter(pk=member.pk).exists()
    ):
        try:
            detail_url = reverse("members:member_detail", args=[member.pk])
        except NoReverseMatch:
            detail_url = None
    return render(
        request,
        "members/public/card_verify.html",
        {
            "member": member,
            "masked_name": mask_name(member.name),
            "valid": member.status in HOLDING_STATUSES,
            "detail_url": detail_url,
            "checked_at": timezone.localtime(),
        },
    )
