"""The worker pages under /j/: joining by a union's or a venue's QR code, the texted code,
the answers to members and repeat applicants, application status, the member card and the
card's scan page."""

from __future__ import annotations

import datetime
import re
import time
from unittest import mock

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from niangjia.audit.models import AuditEntry
from niangjia.members import services
from niangjia.members.choices import (
    ApplicationChannel,
    ApplicationStatus,
    EmploymentForm,
    GigOccupation,
    Household,
    IdType,
    MemberStatus,
)
from niangjia.members.models import (
    CeremonyVenue,
    JoinApplication,
    JoinCeremony,
    Member,
    SmsCode,
    phone_hash_of,
)
from niangjia.members.views_public import VERIFIED_PHONE_KEY
from niangjia.orgs.choices import EmployerStatus, IndustrySection, OwnershipType, UnionKind
from niangjia.orgs.models import Employer
from niangjia.utilities.sms import LocmemBackend
from niangjia.utilities.testing.factories import UnionFactory, make_uscc
from niangjia.utilities.testing.members import join_data, make_id_number, make_member, make_phone
from niangjia.utilities.testing.personas import logged_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def outbox():
    LocmemBackend.outbox.clear()
    yield LocmemBackend.outbox
    LocmemBackend.outbox.clear()


def last_code(phone: str) -> str:
    sent = [text for to, text in LocmemBackend.outbox if to == phone]
    assert sent, f"no code texted to {phone}"
    return re.search(r"验证码是 (\d{6})", sent[-1]).group(1)


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "李娜",
        "id_type": IdType.RESIDENT,
        "id_number": make_id_number(birth="19920315"),
        "phone": make_phone(),
        "employer_name": "武汉长江机械有限公司",
        "employer": "",
        "employment_form": EmploymentForm.STANDARD,
        "gig_occupation": "",
        "occupation": "车工",
        "household": Household.RURAL,
        "ethnic_group": "01",
        "education": "senior",
    }
    data.update(overrides)
    return data


def send_code(client: Client, url: str, data: dict[str, str]) -> str:
    response = client.post(url, {**data, "send_code": "1"})
    assert response.status_code == 200
    return last_code(data["phone"])


def errors_of(response) -> list[str]:
    return [str(e) for field in response.context["form"].errors.values() for e in field]


def field_errors(response, name: str) -> list[str]:
    return [str(e) for e in response.context["form"].errors.get(name, [])]


def make_ceremony(tree, *, auto_approve=True, require_sms=False, ended=False) -> CeremonyVenue:
    now = timezone.now()
    ceremony = JoinCeremony.objects.create(
        name="江岸区职工集中入会仪式",
        union=tree.jiangan,
        starts_at=now - datetime.timedelta(hours=3 if ended else 1),
        ends_at=now - datetime.timedelta(hours=1) if ended else now + datetime.timedelta(hours=2),
        auto_approve=auto_approve,
        require_sms=require_sms,
    )
    return CeremonyVenue.objects.create(
        ceremony=ceremony, name="一号会场", union=tree.jiangan_grassroots, token=f"venue{now:%f}"
    )


# --- The union's join page


def test_join_page_names_the_union_and_offers_the_area_union(tree):
    response = Client().get(reverse("join:union", args=[tree.jiangan_grassroots.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "申请加入武汉长江机械有限公司工会" in text
    assert "获取验证码" in text
    # A grassroots union: workers of employers without a union are pointed to the county.
    assert reverse("join:union", args=[tree.jiangan.pk]) in text


def test_worker_joins_with_a_texted_code_and_sees_the_deadline(tree):
    client = Client()
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    data = form_data()
    code = send_code(client, url, data)
    response = client.post(url, {**data, "code": code})
    assert response.status_code == 302
    assert (
        data["id_number"] not in response["Location"] and data["phone"] not in response["Location"]
    )
    application = JoinApplication.objects.get()
    assert application.union == tree.jiangan_grassroots
    assert application.channel == ApplicationChannel.QR
    assert application.phone_verified
    assert application.employer == tree.jiangan_employer  # the typed name is the registered one
    assert application.household == Household.RURAL and application.is_migrant
    done = client.get(response["Location"])
    text = done.content.decode()
    assert "申请已提交" in text
    assert "15 个工作日" in text
    assert (
        f"{application.due_date.year}年{application.due_date.month}月{application.due_date.day}日"
        in text
    )
    assert "李*" in text and "李娜" not in text
    assert AuditEntry.objects.filter(
        object_type="members.joinapplication", object_id=str(application.pk)
    ).exists()
    # The proven phone is remembered by its keyed hash only.
    assert client.session[VERIFIED_PHONE_KEY] == phone_hash_of(data["phone"])
    assert data["phone"] not in str(dict(client.session.items()))


def test_code_sent_without_script_keeps_the_typed_values(tree):
    client = Client()
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    data = form_data()
    response = client.post(url, {**data, "send_code": "1"})
    text = response.content.decode()
    assert "验证码已发送至 139****" in text
    assert 'value="李娜"' in text
    assert not response.context["form"].is_bound  # no "required" errors on a code request
    assert JoinApplication.objects.count() == 0


def test_code_request_for_a_bad_phone_says_why(tree):
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    response = Client().post(url, {**form_data(phone="12345"), "send_code": "1"})
    assert "手机号码应为 11 位、以 1 开头的中国大陆手机号" in response.content.decode()
    assert LocmemBackend.outbox == []


def test_empty_form_names_every_missing_field(tree):
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    response = Client().post(url, {})
    assert response.status_code == 200
    messages = errors_of(response)
    for expected in (
        "请填写“姓名”",
        "请选择“证件类型”",
        "请填写“证件号码”",
        "请填写“手机号码”",
        "请填写短信验证码，如未收到请点“获取验证码”",
        "请填写“工作单位”",
        "请选择“就业形态”",
        "请填写“职业/岗位”",
        "请选择“户籍类型”",
        "请选择“民族”",
    ):
        assert expected in messages, expected
    assert JoinApplication.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "42010219900101123", "身份证号码应为 18 位（旧版 15 位也可），当前为 17 位"),
        ("id_number", "420102199001011230", "身份证号码校验位不正确"),
        ("id_number", "4201021990010112AX", "身份证号码前 17 位应为数字，最后一位为数字或 X"),
        ("phone", "1381234", "手机号码应为 11 位、以 1 开头的中国大陆手机号"),
        ("code", "12ab", "短信验证码应为 6 位数字"),
        ("name", "张" * 51, "“姓名”最多 50 个字，当前 51 个"),
        ("id_type", "driving_licence", "“证件类型”的选择无效，请从列表中选择"),
        ("household", "abroad", "“户籍类型”的选择无效，请从列表中选择"),
    ],
)
def test_bad_input_gets_a_chinese_message_on_its_field(tree, field, value, message):
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    data = form_data(code="123456")
    if field == "id_number" and "校验位" in message:
        good = make_id_number()
        value = good[:17] + ("0" if good[17] != "0" else "1")
    data[field] = value
    response = Client().post(url, data)
    assert any(message in e for e in field_errors(response, field)), field_errors(response, field)
    assert not any("管辖范围" in e for e in field_errors(response, field))
    assert JoinApplication.objects.count() == 0


def test_hong_kong_permit_under_resident_type_is_explained(tree):
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    permit = make_id_number(region="810000")
    response = Client().post(url, form_data(id_number=permit, code="123456"))
    assert "这是港澳台居民居住证号码，请选择对应的证件类型" in field_errors(response, "id_number")


def test_gig_worker_must_name_the_occupation(tree):
    url = reverse("join:union", args=[tree.jiangan.pk])
    response = Client().post(
        url, form_data(employment_form=EmploymentForm.GIG, code="123456", employer_name="某快递站")
    )
    assert "选择“新就业形态”时请选择具体职业" in field_errors(response, "gig_occupation")


def test_gig_worker_joins_the_county_with_a_free_text_employer(tree):
    client = Client()
    url = reverse("join:union", args=[tree.jiangan.pk])
    data = form_data(
        employment_form=EmploymentForm.GIG,
        gig_occupation=GigOccupation.DELIVERY_RIDER,
        employer_name="江岸区某外卖站点",
        occupation="骑手",
    )
    code = send_code(client, url, data)
    assert client.post(url, {**data, "code": code}).status_code == 302
    application = JoinApplication.objects.get()
    assert application.union == tree.jiangan
    assert application.employer is None and application.employer_name == "江岸区某外卖站点"
    assert application.gig_occupation == GigOccupation.DELIVERY_RIDER


def test_wrong_code_is_refused_and_counts(tree):
    client = Client()
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    data = form_data()
    code = send_code(client, url, data)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(url, {**data, "code": wrong})
    assert field_errors(response, "code") == ["验证码不正确"]
    assert SmsCode.objects.get().attempts == 1
    assert JoinApplication.objects.count() == 0


def test_five_wrong_codes_lock_the_code(tree):
    client = Client()
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    data = form_data()
    code = send_code(client, url, data)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(services.MAX_CODE_ATTEMPTS):
        client.post(url, {**data, "code": wrong})
    response = client.post(url, {**data, "code": code})
    assert field_errors(response, "code") == ["验证码错误次数过多，请重新获取"]
    assert JoinApplication.objects.count() == 0


def test_expired_code_is_refused(tree):
    client = Client()
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    data = form_data()
    code = send_code(client, url, data)
    SmsCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.post(url, {**data, "code": code})
    assert field_errors(response, "code") == ["验证码已过期或未获取，请重新获取"]


def test_code_for_another_phone_does_not_verify_this_one(tree):
    client = Client()
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    code = send_code(client, url, form_data(phone="13900000001"))
    response = client.post(url, form_data(phone="13900000002", code=code))
    assert field_errors(response, "code") == ["验证码已过期或未获取，请重新获取"]


def test_a_phone_proven_in_this_session_needs_no_second_code(tree):
    client = Client()
    phone = make_phone()
    status_url = reverse("join:status")
    code = send_code(client, status_url, {"phone": phone})
    client.post(status_url, {"phone": phone, "code": code})
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    response = client.post(url, form_data(phone=phone))
    assert response.status_code == 302
    assert JoinApplication.objects.get().phone_verified


def test_active_member_is_told_which_union_and_offered_a_transfer(tree):
    id_number = make_id_number()
    make_member(tree.jianghan_grassroots, id_number=id_number)
    client = Client()
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    data = form_data(id_number=id_number)
    code = send_code(client, url, data)
    response = client.post(url, {**data, "code": code})
    assert response.status_code == 409
    text = response.content.decode()
    assert "您已是工会会员" in text
    assert "武汉汉江物流有限公司工会" in text  # the union holding the membership
    assert f"{id_number[:4]}**********{id_number[-4:]}" in text
    assert id_number not in text
    assert "会籍转接" in text and "申请会籍转出" in text
    assert JoinApplication.objects.filter(union=tree.jiangan_grassroots).count() == 0


def test_member_of_the_same_union_is_sent_to_the_card(tree):
    id_number = make_id_number()
    make_member(tree.jiangan_grassroots, id_number=id_number)
    client = Client()
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    data = form_data(id_number=id_number)
    code = send_code(client, url, data)
    response = client.post(url, {**data, "code": code})
    assert response.status_code == 409
    assert "您申请加入的正是您现在所在的工会" in response.content.decode()


def test_second_application_gets_already_applied(tree):
    id_number = make_id_number()
    services.application_submit(
        union=tree.jiangan_grassroots,
        data=join_data(id_number=id_number),
        channel=ApplicationChannel.QR,
    )
    client = Client()
    url = reverse("join:union", args=[tree.jiangan.pk])
    data = form_data(id_number=id_number)
    code = send_code(client, url, data)
    response = client.post(url, {**data, "code": code})
    assert response.status_code == 409
    text = response.content.decode()
    assert "您已向“武汉长江机械有限公司工会”提交过入会申请，正在审批中" in text
    assert reverse("join:status") in text
    assert JoinApplication.objects.count() == 1


def employer_without_union(tree, name="武汉江岸小微商贸有限公司") -> Employer:
    return Employer.objects.create(
        name=name,
        uscc=make_uscc(region_code="420102"),
        region=tree.jiangan.region,
        industry_section=IndustrySection.F,
        ownership=OwnershipType.PRIVATE,
        headcount=12,
        status=EmployerStatus.ACTIVE,
        owner=tree.jiangan,
    )


def test_worker_of_an_employer_without_union_is_sent_to_the_area_union(tree):
    employer = employer_without_union(tree)
    joint = UnionFactory(parent=tree.jiangan, kind=UnionKind.JOINT, name="江岸区新业态联合工会")
    client = Client()
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    data = form_data(employer_name=employer.name, employer=str(employer.pk))
    code = send_code(client, url, data)
    response = client.post(url, {**data, "code": code})
    assert response.status_code == 200
    [message] = field_errors(response, "employer_name")
    assert "您的单位“武汉江岸小微商贸有限公司”尚未建立工会。请向所在地区的工会申请入会" in message
    text = response.content.decode()
    assert reverse("join:union", args=[tree.jiangan.pk]) in text
    assert reverse("join:union", args=[joint.pk]) in text
    assert JoinApplication.objects.count() == 0
    # The code was not spent on an application that could not be made.
    assert SmsCode.objects.get().used_at is None


def test_worker_of_an_organised_employer_is_sent_to_its_union(tree):
    client = Client()
    url = reverse("join:union", args=[tree.jiangan_grassroots.pk])
    # 武汉汉江物流 is in 江汉区, outside the area of this union's search: typed, it stays text.
    other = employer_without_union(tree, "武汉江岸精密仪器有限公司")
    sibling_union = UnionFactory(parent=tree.jiangan, name="武汉江岸精密仪器有限公司工会")
    other.covering_union = sibling_union
    other.save()
    data = form_data(employer_name=other.name)
    code = send_code(client, url, data)
    response = client.post(url, {**data, "code": code})
    [message] = field_errors(response, "employer_name")
    assert "的工会是“武汉江岸精密仪器有限公司工会”，请向该工会申请入会" in message
    assert reverse("join:union", args=[sibling_union.pk]) in response.content.decode()


def test_city_federation_takes_no_members_and_points_below(tree):
    response = Client().get(reverse("join:union", args=[tree.wuhan.pk]))
    assert response.status_code == 404
    text = response.content.decode()
    assert "“武汉市总工会”不直接接收会员" in text
    assert reverse("join:union", args=[tree.jiangan.pk]) in text


def test_unknown_union_is_404(tree):
    assert Client().get(reverse("join:union", args=[999999])).status_code == 404


def test_merged_union_points_to_its_successor(tree):
    old = UnionFactory(parent=tree.jiangan, name="武汉江岸旧厂工会")
    old.status = "merged"
    old.merged_into = tree.jiangan_grassroots
    old.save()
    response = Client().get(reverse("join:union", args=[old.pk]))
    assert response.status_code == 410
    assert reverse("join:union", args=[tree.jiangan_grassroots.pk]) in response.content.decode()


# --- Employer search


def test_employer_search_lists_names_in_the_unions_area_only(tree):
    employer_without_union(tree, "武汉江岸小微商贸有限公司")
    url = reverse("join:employers", args=[tree.jiangan_grassroots.pk])
    response = Client().get(url, {"q": "武汉"})
    assert response.status_code == 200
    results = response.json()["results"]
    names = [r["name"] for r in results]
    assert "武汉长江机械有限公司" in names and "武汉江岸小微商贸有限公司" in names
    assert "武汉汉江物流有限公司" not in names  # 江汉区, another county
    assert set(results[0]) == {"id", "name"}
    assert Client().get(url, {"q": " "}).json() == {"results": []}


def test_employer_search_leaves_out_deregistered_employers(tree):
    gone = employer_without_union(tree, "武汉江岸已注销公司")
    gone.status = EmployerStatus.DEREGISTERED
    gone.save()
    url = reverse("join:employers", args=[tree.jiangan.pk])
    assert Client().get(url, {"q": "已注销"}).json() == {"results": []}


def test_employer_search_of_a_union_taking_no_members_is_404(tree):
    response = Client().get(reverse("join:employers", args=[tree.wuhan.pk]), {"q": "武汉"})
    assert response.status_code == 404
    assert "不直接接收会员" in response.json()["detail"]


def test_picked_employer_id_must_match_its_name(tree):
    client = Client()
    url = reverse("join:union", args=[tree.jiangan.pk])
    data = form_data(employer_name="随便写的单位", employer=str(tree.jiangan_employer.pk))
    code = send_code(client, url, data)
    assert client.post(url, {**data, "code": code}).status_code == 302
    application = JoinApplication.objects.get()
    assert application.employer is None and application.employer_name == "随便写的单位"


# --- The code button's endpoint


def test_sms_endpoint_sends_and_limits(tree, settings):
    client = Client()
    phone = make_phone()
    url = reverse("join:sms_send")
    response = client.post(url, {"phone": phone, "purpose": "join"})
    assert response.status_code == 200
    assert response.json()["ok"] and response.json()["resend_after"] == settings.SMS_RESEND_SECONDS
    assert phone[-4:] in response.json()["message"] and phone not in response.json()["message"]
    again = client.post(url, {"phone": phone, "purpose": "join"})
    assert again.status_code == 400
    assert "秒后再试" in again.json()["errors"]["phone"]


def test_sms_endpoint_refuses_bad_phone_and_purpose(tree):
    url = reverse("join:sms_send")
    bad = Client().post(url, {"phone": "abc", "purpose": "join"})
    assert bad.status_code == 400
    assert bad.json()["errors"]["phone"] == "手机号码应为 11 位、以 1 开头的中国大陆手机号"
    other = Client().post(url, {"phone": make_phone(), "purpose": "login"})
    assert other.status_code == 400
    assert other.json()["errors"]["purpose"] == "验证码用途无效"
    assert Client().get(url).status_code == 405


# --- Ceremony venues


def test_venue_join_without_code_makes_a_member_at_once(tree):
    venue = make_ceremony(tree)
    client = Client()
    url = reverse("join:venue", args=[venue.token])
    page = client.get(url)
    assert page.status_code == 200
    assert "获取验证码" not in page.content.decode()
    assert "江岸区职工集中入会仪式 · 一号会场" in page.content.decode()
    response = client.post(url, form_data())
    assert response.status_code == 302
    member = Member.objects.get()
    assert member.union == tree.jiangan_grassroots
    application = JoinApplication.objects.get()
    assert application.channel == ApplicationChannel.CEREMONY and application.venue == venue
    assert not application.phone_verified
    done = client.get(response["Location"]).content.decode()
    assert "入会成功" in done and member.member_number in done
    venue.refresh_from_db()
    venue.ceremony.refresh_from_db()
    assert venue.joined_count == 1 and venue.ceremony.joined_count == 1


def test_venue_submit_stays_lean(tree, django_assert_max_num_queries):
    venue = make_ceremony(tree)
    url = reverse("join:venue", args=[venue.token])
    client = Client()
    data = form_data(employer_name="某现场登记单位")
    # venue, employer by name, holding member, application, audit, approval (member lock,
    # member, event, application, two counters, audit) and the savepoints around them.
    with django_assert_max_num_queries(14):
        assert client.post(url, data).status_code == 302


def test_venue_without_auto_approval_leaves_a_pending_application(tree):
    venue = make_ceremony(tree, auto_approve=False)
    client = Client()
    response = client.post(reverse("join:venue", args=[venue.token]), form_data())
    assert JoinApplication.objects.get().status == ApplicationStatus.SUBMITTED
    assert Member.objects.count() == 0
    assert "申请已提交" in client.get(response["Location"]).content.decode()


def test_venue_asking_for_sms_needs_the_code(tree):
    venue = make_ceremony(tree, require_sms=True)
    client = Client()
    url = reverse("join:venue", args=[venue.token])
    assert "获取验证码" in client.get(url).content.decode()
    data = form_data()
    response = client.post(url, data)
    assert "请填写短信验证码，如未收到请点“获取验证码”" in field_errors(response, "code")
    code = send_code(client, url, data)
    assert client.post(url, {**data, "code": code}).status_code == 302
    assert Member.objects.count() == 1


def test_venue_of_an_ended_ceremony_points_to_the_union(tree):
    venue = make_ceremony(tree, ended=True)
    response = Client().get(reverse("join:venue", args=[venue.token]))
    assert response.status_code == 410
    text = response.content.decode()
    assert "入会仪式已结束" in text
    assert reverse("join:union", args=[tree.jiangan_grassroots.pk]) in text


def test_unknown_venue_token_is_404(tree):
    assert Client().get(reverse("join:venue", args=["nope"])).status_code == 404


def test_repeat_at_a_venue_is_already_member(tree):
    venue = make_ceremony(tree)
    client = Client()
    url = reverse("join:venue", args=[venue.token])
    data = form_data()
    client.post(url, data)
    again = client.post(url, data)
    assert again.status_code == 409
    assert "您已是工会会员" in again.content.decode()
    venue.refresh_from_db()
    assert venue.joined_count == 1


def test_done_page_with_a_forged_token_is_404(tree):
    assert Client().get(reverse("join:done", args=["eyJhIjoxfQ:forged:sig"])).status_code == 404


# --- Application status


def prove_phone(client: Client, url: str, phone: str):
    code = send_code(client, url, {"phone": phone})
    return client.post(url, {"phone": phone, "code": code})


def test_status_lists_the_phones_applications_with_reason_and_deadline(tree, county_cadre):
    phone = make_phone()
    pending = services.application_submit(
        union=tree.jiangan_grassroots, data=join_data(phone=phone), channel=ApplicationChannel.QR
    )
    refused = services.application_submit(
        union=tree.jiangan, data=join_data(phone=phone, name="王芳"), channel=ApplicationChannel.QR
    )
    services.application_reject(
        application=refused, acting_user=county_cadre, reason="不在本区工作"
    )
    services.application_submit(
        union=tree.jiangan, data=join_data(name="别人"), channel=ApplicationChannel.QR
    )
    client = Client()
    url = reverse("join:status")
    form_page = client.get(url)
    assert "获取验证码" in form_page.content.decode()
    response = prove_phone(client, url, phone)
    assert response.status_code == 302 and response["Location"] == url
    text = client.get(url).content.decode()
    assert "武汉长江机械有限公司工会" in text and "待审批" in text
    assert f"{pending.due_date.month}月{pending.due_date.day}日" in text
    assert "已驳回" in text and "不在本区工作" in text
    assert "别人" not in text
    assert phone not in text


def test_status_shows_overdue_applications(tree):
    phone = make_phone()
    application = services.application_submit(
        union=tree.jiangan, data=join_data(phone=phone), channel=ApplicationChannel.QR
    )
    JoinApplication.objects.filter(pk=application.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    client = Client()
    prove_phone(client, reverse("join:status"), phone)
    assert "已超期" in client.get(reverse("join:status")).content.decode()


def test_status_with_wrong_code_shows_the_form_again(tree):
    client = Client()
    url = reverse("join:status")
    phone = make_phone()
    code = send_code(client, url, {"phone": phone})
    response = client.post(url, {"phone": phone, "code": "000000" if code != "000000" else "1"})
    assert response.status_code == 200
    assert field_errors(response, "code")
    assert VERIFIED_PHONE_KEY not in client.session


def test_status_without_code_names_the_field(tree):
    response = Client().post(reverse("join:status"), {"phone": make_phone(), "code": ""})
    assert field_errors(response, "code") == ["请填写短信验证码，如未收到请点“获取验证码”"]


def test_forgetting_the_phone_asks_again(tree):
    client = Client()
    prove_phone(client, reverse("join:status"), make_phone())
    response = client.post(reverse("join:forget"), {"next": reverse("join:card")})
    assert response["Location"] == reverse("join:card")
    assert VERIFIED_PHONE_KEY not in client.session
    assert "获取验证码" in client.get(reverse("join:card")).content.decode()
    # Anywhere else is not a place to be sent to.
    other = client.post(reverse("join:forget"), {"next": "https://example.com/"})
    assert other["Location"] == reverse("join:status")


# --- Member card and its scan page


def test_card_after_the_status_page_needs_no_second_code(tree):
    phone = make_phone()
    member = make_member(tree.jiangan_grassroots, phone=phone, name="赵强")
    client = Client()
    prove_phone(client, reverse("join:status"), phone)
    response = client.get(reverse("join:card"))
    text = response.content.decode()
    assert member.member_number in text
    assert "赵强" in text and "武汉长江机械有限公司工会" in text
    assert "<svg" in text and 'class="qr"' in text
    assert member.reveal_id_number() not in text and phone not in text


def test_card_with_its_own_code(tree):
    phone = make_phone()
    member = make_member(tree.jiangan_grassroots, phone=phone)
    client = Client()
    response = prove_phone(client, reverse("join:card"), phone)
    assert response["Location"] == reverse("join:card")
    assert member.member_number in client.get(reverse("join:card")).content.decode()


def test_card_of_a_phone_without_members_says_so(tree):
    client = Client()
    prove_phone(client, reverse("join:card"), make_phone())
    assert "该手机号下没有会员" in client.get(reverse("join:card")).content.decode()


def test_scan_page_shows_a_valid_card_masked(tree):
    member = make_member(tree.jiangan_grassroots, name="赵强")
    response = Client().get(reverse("join:card_verify", args=[services.card_token(member)]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "有效会员" in text
    assert member.member_number in text and "赵*" in text and "赵强" not in text
    assert "武汉长江机械有限公司工会" in text and "在会" in text
    assert member.id_masked not in text and member.phone_masked not in text
    assert "查看会员档案" not in text


def test_scan_page_of_a_member_who_left(tree, grassroots_cadre):
    member = make_member(tree.jiangan_grassroots)
    services.member_change_status(
        member=member,
        to_status=MemberStatus.LEFT,
        reason="本人申请退会",
        acting_user=grassroots_cadre,
    )
    response = Client().get(reverse("join:card_verify", args=[services.card_token(member)]))
    assert "会籍已终止" in response.content.decode()


def test_tampered_card_token_is_invalid(tree):
    member = make_member(tree.jiangan_grassroots)
    token = services.card_token(member)
    other = make_member(tree.jiangan_grassroots)
    forged = services.card_token(other).split(":")[0] + ":" + ":".join(token.split(":")[1:])
    response = Client().get(reverse("join:card_verify", args=[forged]))
    assert response.status_code == 400
    assert "二维码无效：不是本平台签发的会员卡" in response.content.decode()


def test_expired_card_token_asks_for_a_refresh(tree):
    member = make_member(tree.jiangan_grassroots)
    token = services.card_token(member)
    later = time.time() + 367 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = Client().get(reverse("join:card_verify", args=[token]))
    assert response.status_code == 400
    assert "会员卡二维码已过期，请会员刷新会员卡后重新出示" in response.content.decode()


def test_scan_page_links_the_record_for_a_cadre_in_scope_only(tree, county_cadre, sibling_cadre):
    member = make_member(tree.jiangan_grassroots)
    url = reverse("join:card_verify", args=[services.card_token(member)])
    mine = logged_in_client(county_cadre).get(url).context["detail_url"]
    theirs = logged_in_client(sibling_cadre).get(url).context["detail_url"]
    assert theirs is None
    try:
        expected = reverse("members:member_detail", args=[member.pk])
    except NoReverseMatch:  # the member pages are not mounted: no link for anyone
        expected = None
    assert mine == expected
