"""The worker's phone pages under ``/r/`` (no login): the eligibility self-check, the
application to a union (its QR code opens ``/r/u/<union>/``), and the state of the
applications of a phone proven by a texted code.

As on the joining pages (``niangjia.members.views_public``), the proven phone is kept in the
session by its keyed hash only; these pages read a worker's own files by that hash and never
list anything by union. The self-check stores nothing: its figures travel to the
application form in the session, so that the worker does not type them twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from niangjia.members import services as member_services
from niangjia.members.forms import PhoneCodeForm
from niangjia.members.identity import normalize_phone
from niangjia.members.models import phone_hash_of
from niangjia.orgs.models import Region, Union
from niangjia.relief.choices import Category, FileState
from niangjia.relief.forms_public import ApplyForm, SelfCheckForm
from niangjia.relief.models import HardshipFile, LivingThreshold
from niangjia.relief.services import files as file_services
from niangjia.relief.services import rules as rule_services
from niangjia.utilities.masking import mask_name, mask_phone

PURPOSE = "relief"
VERIFIED_PHONE_KEY = "relief.verified_phone"
CHECK_KEY = "relief.self_check"
SEND_CODE = "send_code"
DONE_SALT = "niangjia.relief-done"
DONE_MAX_AGE = 30 * 86400

# The steps a worker sees, in order, with what happens at each.
PROGRESS = (
    (FileState.APPLIED, "已申请", "工会已收到申请"),
    (FileState.FIRST_CHECKED, "基层初审", "基层工会已初审"),
    (FileState.SURVEYED, "入户调查", "工会已入户调查"),
    (FileState.REVIEWED, "县级审核", "职工服务中心已审核"),
    (FileState.PUBLICITY, "公示", "正在公示"),
    (FileState.FILED, "建档", "已建档，可享受帮扶"),
)
ORDER = {state: i for i, (state, _, _) in enumerate(PROGRESS)}


def _verified(request: HttpRequest) -> str:
    return str(request.session.get(VERIFIED_PHONE_KEY, ""))


def _send_code(phone_raw: str) -> tuple[str, str]:
    try:
        phone = normalize_phone(phone_raw)
        member_services.sms_code_send(phone=phone, purpose=PURPOSE)
    except ValidationError as exc:
        return "", "；".join(exc.message_dict.get("phone", exc.messages))
    return f"验证码已发送至 {mask_phone(phone)}，请查看短信并填写。", ""


def _union(pk: int) -> Union:
    union = Union.objects.select_related("region").filter(pk=pk).first()
    if union is None:
        raise Http404("该工会不存在，请核对二维码")
    return union


def _union_city(union: Union) -> Region | None:
    return rule_services.city_of(union.region) if union.region is not None else None


def _cities() -> list[tuple[str, str]]:
    regions = Region.objects.filter(pk__in=LivingThreshold.objects.values("region_id")).order_by(
        "code"
    )
    return [(r.code, r.full_name) for r in regions]


def _base(request: HttpRequest, union: Union | None) -> dict[str, Any]:
    return {"union": union, "sms_url": reverse("relief_public:sms_send"), "purpose": PURPOSE}


# --- Self-check


@require_http_methods(["GET", "POST"])
def self_check(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Household income and size against the city's threshold: may the household qualify?
    From a union's QR code the city is the union's; on the general page the worker picks it."""
    union = _union(pk) if pk is not None else None
    city = _union_city(union) if union is not None else None
    cities = None if city is not None else _cities()
    context = _base(request, union)
    context["city"] = city
    form = SelfCheckForm(request.POST or None, cities=cities)
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if city is None:
            city = Region.objects.filter(code=d["city"]).first()
        if city is None:
            form.add_error("city", "请选择所在城市")
            return render(request, "relief/public/check.html", context)
        try:
            result = rule_services.eligibility_check(
                city_region=city,
                household_income_year=form.household_income_year,
                household_size=d["household_size"],
                accident_loss_year=d.get("accident_loss_year") or Decimal(0),
                on=timezone.localdate(),
            )
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                form.add_error(key if key in form.fields else None, errors)
            return render(request, "relief/public/check.html", context)
        request.session[CHECK_KEY] = {
            "monthly_wage": str(d["monthly_wage"]),
            "other_income_year": str(d["other_income_year"]),
            "household_size": d["household_size"],
        }
        label = Category(result.category).label if result.category else ""
        context.update(result=result, city=city, category_label=label)
    return render(request, "relief/public/check.html", context)


# --- Applying


def _accepts(union: Union) -> bool:
    return member_services.accepts_members(union)


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    """The application to ``union``: the worker's data, proven by a texted code."""
    union = _union(pk)
    context = _base(request, union)
    if not _accepts(union):
        context["closed"] = True
        return render(request, "relief/public/apply.html", context, status=404)
    if request.method == "POST" and SEND_CODE in request.POST:
        sent, error = _send_code(request.POST.get("phone", ""))
        initial = {
            k: request.POST.get(k)
            for k in request.POST
            if k not in ("csrfmiddlewaretoken", SEND_CODE, "code")
        }
        context.update(form=ApplyForm(initial=initial), code_sent=sent, code_error=error)
        return render(request, "relief/public/apply.html", context)
    if request.method != "POST":
        context["form"] = ApplyForm(initial=request.session.get(CHECK_KEY) or {})
        return render(request, "relief/public/apply.html", context)
    verified = _verified(request)
    phone_known = False
    try:
        phone_known = bool(verified) and verified == phone_hash_of(
            normalize_phone(request.POST.get("phone", ""))
        )
    except ValidationError:
        phone_known = False
    form = ApplyForm(request.POST, need_code=not phone_known)
    context.update(form=form, phone_known=phone_known)
    if not form.is_valid():
        return render(request, "relief/public/apply.html", context)
    if not phone_known:
        try:
            verified = member_services.sms_code_check(
                phone=form.cleaned_data["phone"], purpose=PURPOSE, code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            form.add_error("code", exc.message_dict.get("code", exc.messages))
            return render(request, "relief/public/apply.html", context)
        request.session[VERIFIED_PHONE_KEY] = verified
    try:
        file = file_services.file_apply(
            union=union, data=form.file_data(), acting_user=None, phone_verified=True
        )
    except ValidationError as exc:
        for key, errors in getattr(exc, "error_dict", {None: exc.error_list}).items():
            form.add_error(key if key in form.fields else None, errors)
        return render(request, "relief/public/apply.html", context)
    request.session.pop(CHECK_KEY, None)
    token = signing.dumps({"f": file.pk}, salt=DONE_SALT)
    return HttpResponseRedirect(reverse("relief_public:done", args=[token]))


@require_GET
def done(request: HttpRequest, token: str) -> HttpResponse:
    """What happens next, after an application."""
    try:
        payload = signing.loads(token, salt=DONE_SALT, max_age=DONE_MAX_AGE)
    except signing.BadSignature as exc:
        raise Http404("该页面已失效，请凭手机号查询申请进度") from exc
    file = HardshipFile.objects.select_related("union").filter(pk=payload.get("f")).first()
    if file is None:
        raise Http404("该申请不存在")
    return render(
        request,
        "relief/public/done.html",
        {"file": file, "masked_name": mask_name(file.name)},
    )


@require_POST
def sms_send(request: HttpRequest) -> JsonResponse:
    """The code button's script: text a code to ``phone``."""
    if request.POST.get("purpose", PURPOSE) != PURPOSE:
        return JsonResponse({"ok": False, "errors": {"purpose": "验证码用途无效"}}, status=400)
    sent, error = _send_code(request.POST.get("phone", ""))
    if error:
        return JsonResponse({"ok": False, "errors": {"phone": error}}, status=400)
    from django.conf import settings

    return JsonResponse({"ok": True, "message": sent, "resend_after": settings.SMS_RESEND_SECONDS})


# --- The state of one's applications


@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    """The files of the proven phone: where each stands, and what comes next."""
    context = _base(request, None)
    verified = _verified(request)
    if not verified or request.method == "POST":
        if request.method == "POST" and SEND_CODE in request.POST:
            sent, error = _send_code(request.POST.get("phone", ""))
            form = PhoneCodeForm(initial={"phone": request.POST.get("phone", "")})
            context.update(form=form, code_sent=sent, code_error=error)
            return render(request, "relief/public/status.html", context)
        form = PhoneCodeForm(request.POST or None)
        context["form"] = form
        if request.method == "POST" and form.is_valid():
            try:
                verified = member_services.sms_code_check(
                    phone=form.cleaned_data["phone"],
                    purpose=PURPOSE,
                    code=form.cleaned_data["code"],
                )
            except ValidationError as exc:
                form.add_error("code", exc.message_dict.get("code", exc.messages))
            else:
                request.session[VERIFIED_PHONE_KEY] = verified
                return redirect("relief_public:status")
        return render(request, "relief/public/status.html", context)
    files = list(
        HardshipFile.objects.filter(phone_hash=verified)
        .select_related("union")
        .order_by("-id")[:10]
    )
    rows = []
    for file in files:
        reached = ORDER.get(
            file.state, len(PROGRESS) if file.state in (FileState.EXITED, FileState.CLOSED) else -1
        )
        rows.append(
            {
                "file": file,
                "masked_name": mask_name(file.name),
                "steps": [
                    {"label": label, "done": i <= reached, "current": i == reached}
                    for i, (_, label, _) in enumerate(PROGRESS)
                ],
                "note": _state_note(file),
            }
        )
    context.update(rows=rows, verified=True)
    return render(request, "relief/public/status.html", context)


def _state_note(file: HardshipFile) -> str:
    state = file.state
    if state == FileState.APPLIED:
        return f"{file.union.name}将进行初审，之后安排入户调查，请保持电话畅通。"
    if state == FileState.FIRST_CHECKED:
        return "初审已通过，工会将上门入户调查，届时请准备收入证明，并签署家庭经济状况核对授权书。"
    if state == FileState.SURVEYED:
        return "入户调查已完成，正在等待县级职工服务中心审核。"
    if state == FileState.REVIEWED:
        return "审核已通过，即将进行公示。"
    if state == FileState.PUBLICITY and file.publicity_ends_on:
        return f"正在公示，至 {file.publicity_ends_on:%Y年%m月%d日} 结束，期满无异议即可建档。"
    if state == FileState.FILED:
        return "已建档立卡，工会将为您家庭制定帮扶计划并提供帮扶。"
    if state == FileState.EXITED:
        return f"您家庭已{file.get_exit_kind_display()}，工会在今后两年内会定期回访。"
    if state == FileState.REJECTED:
        return f"未通过：{file.rejection_reason}。如有疑问，请联系{file.union.name}。"
    if state == FileState.CLOSED:
        return "档案已办结。"
    return ""


@require_POST
def forget(request: HttpRequest) -> HttpResponse:
    request.session.pop(VERIFIED_PHONE_KEY, None)
    messages.info(request, "已退出，如需查询请重新验证手机号。")
    return redirect("relief_public:status")
