"""/api/v1 for the member registry: members, join applications, transfers, ceremonies.

Every endpoint runs through the personas (``TestMembersApiScopedAccess``); the tests below it
check what the answers hold: masked numbers, Chinese messages naming the field, audited
reveals, partial bulk results, transfers from both sides.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.api.tests.helpers import JsonClient, errors_by_field
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.members import services
from niangjia.members.choices import (
    ApplicationChannel,
    ApplicationStatus,
    EmploymentForm,
    GigOccupation,
    Household,
    MemberStatus,
    TransferStatus,
)
from niangjia.members.models import (
    CeremonyVenue,
    JoinApplication,
    JoinCeremony,
    Member,
    MemberEvent,
    Transfer,
)
from niangjia.orgs.choices import UnionKind, UnionLevel
from niangjia.orgs.models import Region, Union
from niangjia.utilities.testing.members import join_data, make_id_number, make_member, make_phone
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Personas, Tree

API = "/api/v1"
CREATED = frozenset({201})
ApiAs = Callable[[User], JsonClient]

# Fixed people (a birth date no generated number uses), so the cases can look for them.
LI_ID = make_id_number(birth="19880808", serial=11)
LI_PHONE = make_phone(serial=88_000_011)
WANG_ID = make_id_number(region="420103", birth="19880808", serial=12)
WANG_PHONE = make_phone(serial=88_000_012)
ZHAO_ID = make_id_number(birth="19880808", serial=13)
ZHAO_PHONE = make_phone(serial=88_000_013)
QIAN_ID = make_id_number(region="420103", birth="19880808", serial=14)
NEW_ID = make_id_number(birth="19880808", serial=15)


def li(tree: Tree) -> Member:
    """李娜, a member of 武汉长江机械有限公司工会 (江岸区)."""
    return make_member(tree.jiangan_grassroots, name="李娜", id_number=LI_ID, phone=LI_PHONE)


def wang(tree: Tree) -> Member:
    """王芳, a member of 武汉汉江物流有限公司工会 (江汉区, the sibling county)."""
    return make_member(tree.jianghan_grassroots, name="王芳", id_number=WANG_ID, phone=WANG_PHONE)


def both_members(tree: Tree) -> Member:
    wang(tree)
    return li(tree)


def zhao_pending(tree: Tree) -> JoinApplication:
    """赵敏 has applied to 武汉长江机械有限公司工会 by QR code."""
    return services.application_submit(
        union=tree.jiangan_grassroots,
        data=join_data(name="赵敏", id_number=ZHAO_ID, phone=ZHAO_PHONE),
        channel=ApplicationChannel.QR,
        phone_verified=True,
    )


def both_pending(tree: Tree) -> JoinApplication:
    services.application_submit(
        union=tree.jianghan_grassroots,
        data=join_data(name="钱进", id_number=QIAN_ID),
        channel=ApplicationChannel.QR,
        phone_verified=True,
    )
    return zhao_pending(tree)


def li_released(tree: Tree, personas: Personas) -> Transfer:
    """李娜 released by 江岸区 to the sibling county's grassroots union, not yet accepted."""
    return services.transfer_release(
        member=li(tree),
        to_union=tree.jianghan_grassroots,
        reason="调往武汉汉江物流有限公司工作",
        acting_user=personas["county_cadre"],
    )


def ceremony(tree: Tree, personas: Personas) -> JoinCeremony:
    """江岸区's ceremony with one venue at 武汉长江机械有限公司工会, auto-approving."""
    cadre = personas["county_cadre"]
    now = timezone.now()
    event = services.ceremony_create(
        acting_user=cadre,
        union=tree.jiangan,
        name="江岸区新就业形态劳动者集中入会仪式",
        starts_at=now,
        ends_at=now + datetime.timedelta(hours=3),
    )
    services.venue_add(
        ceremony=event, acting_user=cadre, name="长江机械主会场", union=tree.jiangan_grassroots
    )
    return event


def paper_form(tree: Tree) -> dict[str, Any]:
    return {
        "name": "孙丽",
        "id_number": NEW_ID,
        "phone": "13700001111",
        "employer": tree.jiangan_employer.pk,
        "occupation": "车工",
    }


MASKED_LI = LI_ID[:4] + "*" * 10 + LI_ID[-4:]


class TestMembersApiScopedAccess(ScopedViewCases):
    CASES = [
        # --- Members
        ScopedCase(
            name="api-member-list",
            url=lambda t, m: f"{API}/members",
            setup=both_members,
            api=True,
            model=Member,
            allowed=("county_cadre", "grassroots_cadre"),
            contains=lambda t: ["李娜", MASKED_LI],
            excludes=lambda t: [LI_ID, LI_PHONE, "王芳"],
        ),
        ScopedCase(
            name="api-member-list-province",
            url=lambda t, m: f"{API}/members",
            setup=both_members,
            api=True,
            model=Member,
            allowed=("provincial_cadre", "auditor", "national_admin"),
            anonymous=False,
            contains=lambda t: ["李娜", "王芳"],
        ),
        ScopedCase(
            name="api-member-list-sibling",
            url=lambda t, m: f"{API}/members",
            setup=both_members,
            api=True,
            model=Member,
            allowed=("sibling_cadre", "worker"),
            anonymous=False,
            excludes=lambda t: ["李娜"],
        ),
        ScopedCase(
            name="api-member-search",
            url=lambda t, m: f"{API}/members/search",
            setup=both_members,
            method="post",
            api=True,
            model=Member,
            data=lambda t, m: {"id_number": LI_ID},
            allowed=("county_cadre", "grassroots_cadre"),
            contains=lambda t: ["李娜", MASKED_LI],
            excludes=lambda t: [LI_ID, LI_PHONE],
        ),
        ScopedCase(
            name="api-member-search-outside",
            url=lambda t, m: f"{API}/members/search",
            setup=both_members,
            method="post",
            api=True,
            data=lambda t, m: {"phone": LI_PHONE},
            allowed=("sibling_cadre", "worker"),
            anonymous=False,
            excludes=lambda t: ["李娜"],
        ),
        ScopedCase(
            name="api-member-detail",
            url=lambda t, m: f"{API}/members/{m.pk}",
            setup=li,
            api=True,
            model=Member,
            allowed=(
                "county_cadre",
                "grassroots_cadre",
                "provincial_cadre",
                "auditor",
                "national_admin",
            ),
            out_of_scope=("sibling_cadre", "worker", "system_admin"),
            contains=lambda t: ["李娜", MASKED_LI],
            excludes=lambda t: [LI_ID, LI_PHONE],
        ),
        ScopedCase(
            name="api-member-history",
            url=lambda t, m: f"{API}/members/{m.pk}",
            setup=li,
            api=True,
            model=MemberEvent,
            allowed="grassroots_cadre",
            out_of_scope="sibling_cadre",
            anonymous=False,
            contains=lambda t: ["入会", "测试数据"],
        ),
        ScopedCase(
            name="api-member-reveal",
            url=lambda t, m: f"{API}/members/{m.pk}/reveal",
            setup=li,
            method="post",
            action=Action.REVEAL,
            api=True,
            model=Member,
            data=lambda t, m: {"field": "id_number", "reason": "核对会员身份信息"},
            allowed="national_admin",
            forbidden=("county_cadre", "auditor", "provincial_cadre"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: [LI_ID],
        ),
        ScopedCase(
            name="api-member-status",
            url=lambda t, m: f"{API}/members/{m.pk}/status",
            setup=li,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Member,
            data=lambda t, m: {"to_status": "reserved", "reason": "退休"},
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["保留会籍", "退休"],
        ),
        ScopedCase(
            name="api-member-transfer",
            url=lambda t, m: f"{API}/members/{m.pk}/transfer",
            setup=li,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Transfer,
            data=lambda t, m: {"to_union": t.jianghan_grassroots.pk, "reason": "调动工作"},
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
            allowed_statuses=CREATED,
            contains=lambda t: ["待接收", "武汉汉江物流有限公司工会"],
        ),
        # --- Join applications
        ScopedCase(
            name="api-application-list",
            url=lambda t, a: f"{API}/applications?status=submitted",
            setup=both_pending,
            api=True,
            model=JoinApplication,
            allowed=("county_cadre", "grassroots_cadre"),
            contains=lambda t: ["赵敏"],
            excludes=lambda t: ["钱进", ZHAO_ID, ZHAO_PHONE],
        ),
        ScopedCase(
            name="api-application-list-sibling",
            url=lambda t, a: f"{API}/applications",
            setup=both_pending,
            api=True,
            model=JoinApplication,
            allowed="sibling_cadre",
            anonymous=False,
            contains=lambda t: ["钱进"],
            excludes=lambda t: ["赵敏"],
        ),
        ScopedCase(
            name="api-application-detail",
            url=lambda t, a: f"{API}/applications/{a.pk}",
            setup=zhao_pending,
            api=True,
            model=JoinApplication,
            allowed=("county_cadre", "grassroots_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["赵敏", "待审批"],
            excludes=lambda t: [ZHAO_ID, ZHAO_PHONE],
        ),
        ScopedCase(
            name="api-application-approve",
            url=lambda t, a: f"{API}/applications/{a.pk}/approve",
            setup=zhao_pending,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=JoinApplication,
            allowed=("county_cadre", "grassroots_cadre", "provincial_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["已批准"],
        ),
        ScopedCase(
            name="api-application-reject",
            url=lambda t, a: f"{API}/applications/{a.pk}/reject",
            setup=zhao_pending,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=JoinApplication,
            data=lambda t, a: {"reason": "所在单位不在本工会覆盖范围"},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["已驳回"],
        ),
        ScopedCase(
            name="api-application-bulk",
            url=lambda t, a: f"{API}/applications/bulk",
            setup=zhao_pending,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=JoinApplication,
            data=lambda t, a: {"ids": [a.pk], "decision": "approve"},
            allowed="county_cadre",
            forbidden="auditor",
            contains=lambda t: ['"done": 1'],
        ),
        ScopedCase(
            name="api-application-bulk-outside",
            url=lambda t, a: f"{API}/applications/bulk",
            setup=zhao_pending,
            method="post",
            action=Action.CHANGE,
            api=True,
            data=lambda t, a: {"ids": [a.pk], "decision": "approve"},
            allowed=("sibling_cadre", "worker"),
            anonymous=False,
            contains=lambda t: ['"done": 0', "申请不存在或不在您的管辖范围内"],
            excludes=lambda t: ["赵敏"],
        ),
        ScopedCase(
            name="api-union-join-application",
            url=lambda t: f"{API}/unions/{t.jiangan_grassroots.pk}/join-applications",
            method="post",
            action=Action.ADD,
            api=True,
            model=JoinApplication,
            data=paper_form,
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
            allowed_statuses=CREATED,
            contains=lambda t: ["孙丽", "工会代录"],
            excludes=lambda t: [NEW_ID, "13700001111"],
        ),
        # --- Transfers
        ScopedCase(
            name="api-transfer-list",
            url=lambda t, tr: f"{API}/transfers",
            setup=li_released,
            api=True,
            model=Transfer,
            allowed=("county_cadre", "sibling_cadre", "provincial_cadre"),
            contains=lambda t: ["李娜", "待接收"],
            excludes=lambda t: [LI_ID, LI_PHONE],
        ),
        ScopedCase(
            name="api-transfer-list-by-direction",
            url=lambda t, tr: f"{API}/transfers?direction=outgoing",
            setup=li_released,
            api=True,
            model=Transfer,
            allowed=("sibling_cadre", "worker"),
            anonymous=False,
            excludes=lambda t: ["李娜"],
        ),
        ScopedCase(
            name="api-transfer-accept",
            url=lambda t, tr: f"{API}/transfers/{tr.pk}/accept",
            setup=li_released,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Transfer,
            allowed=("sibling_cadre", "provincial_cadre"),
            forbidden=("county_cadre", "grassroots_cadre", "auditor"),
            out_of_scope=("worker", "system_admin"),
            contains=lambda t: ["已接收"],
        ),
        ScopedCase(
            name="api-transfer-refuse",
            url=lambda t, tr: f"{API}/transfers/{tr.pk}/refuse",
            setup=li_released,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Transfer,
            data=lambda t, tr: {"reason": "本单位未与其签订劳动合同"},
            allowed="sibling_cadre",
            forbidden=("county_cadre", "auditor"),
            out_of_scope="worker",
            contains=lambda t: ["已拒收"],
        ),
        ScopedCase(
            name="api-transfer-cancel",
            url=lambda t, tr: f"{API}/transfers/{tr.pk}/cancel",
            setup=li_released,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Transfer,
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden=("sibling_cadre", "auditor"),
            out_of_scope="worker",
            contains=lambda t: ["已撤销"],
        ),
        # --- Ceremonies
        ScopedCase(
            name="api-ceremony-list",
            url=lambda t, c: f"{API}/ceremonies",
            setup=ceremony,
            api=True,
            model=JoinCeremony,
            allowed=("county_cadre", "provincial_cadre", "auditor"),
            contains=lambda t: ["江岸区新就业形态劳动者集中入会仪式"],
        ),
        ScopedCase(
            name="api-ceremony-list-sibling",
            url=lambda t, c: f"{API}/ceremonies",
            setup=ceremony,
            api=True,
            model=JoinCeremony,
            allowed=("sibling_cadre", "worker"),
            anonymous=False,
            excludes=lambda t: ["江岸区新就业形态劳动者集中入会仪式"],
        ),
        ScopedCase(
            name="api-ceremony-detail",
            url=lambda t, c: f"{API}/ceremonies/{c.pk}",
            setup=ceremony,
            api=True,
            model=JoinCeremony,
            allowed=("county_cadre", "provincial_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker"),
            contains=lambda t: ["江岸区新就业形态劳动者集中入会仪式"],
        ),
        ScopedCase(
            name="api-ceremony-venues",
            url=lambda t, c: f"{API}/ceremonies/{c.pk}",
            setup=ceremony,
            api=True,
            model=CeremonyVenue,
            allowed="county_cadre",
            out_of_scope="sibling_cadre",
            anonymous=False,
            contains=lambda t: ["长江机械主会场"],
        ),
    ]


# --- Helpers of the tests below


@pytest.fixture
def api_as(api_client_for: Callable[[User | None], Any]) -> ApiAs:
    """``api_as(county_cadre).get(...)``: calls with an API token of that persona."""
    return lambda user: JsonClient(api_client_for(user))


def body_text(response: Any) -> str:
    return json.dumps(response.json(), ensure_ascii=False)


def names(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["items"]]


def other_province_grassroots() -> Union:
    """A grassroots union in 湖南省, outside everything the Hubei personas see."""
    root = Union.objects.get(depth=1)
    hunan = Union.objects.add_child(
        root,
        instance=Union(
            name="湖南省总工会",
            level=UnionLevel.PROVINCE,
            kind=UnionKind.FEDERATION,
            region=Region.objects.get(code="430000"),
        ),
    )
    node: Union = Union.objects.add_child(
        hunan,
        instance=Union(
            name="长沙湘江电子有限公司工会", level=UnionLevel.GRASSROOTS, kind=UnionKind.GRASSROOTS
        ),
    )
    return node


# --- Member list


def test_member_list_pages_by_cursor_through_every_member_once(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    for _ in range(3):
        make_member(tree.jiangan_grassroots)
    for _ in range(2):
        make_member(tree.jiangan)  # the county federation holds workers of unorganised employers
    make_member(tree.jianghan_grassroots)  # the sibling county's: never listed
    api = api_as(county_cadre)

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = api.get(f"{API}/members", params).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        pages += 1
        if cursor is None:
            break

    expected = list(
        Member.objects.filter(union_path__startswith=tree.jiangan.path)
        .order_by("union_path", "id")
        .values_list("id", flat=True)
    )
    assert seen == expected
    assert len(seen) == 5
    assert pages == 3


def test_member_list_filters(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    rider = make_member(
        tree.jiangan_grassroots,
        name="周骑手",
        employment_form=EmploymentForm.GIG,
        gig_occupation=GigOccupation.DELIVERY_RIDER,
        household=Household.RURAL,
    )
    clerk = make_member(tree.jiangan, name="吴文员", employer=tree.jiangan_employer)
    retired = make_member(tree.jiangan_grassroots, name="郑师傅")
    services.member_change_status(
        member=retired, to_status=MemberStatus.RESERVED, reason="退休", acting_user=county_cadre
    )
    Member.objects.filter(pk=clerk.pk).update(join_date=datetime.date(2020, 5, 1))
    api = api_as(county_cadre)

    def listed(**params: Any) -> list[str]:
        response = api.get(f"{API}/members", params)
        assert response.status_code == 200, response.content
        return sorted(names(response.json()))

    assert listed(employment_form="gig") == ["周骑手"]
    assert listed(migrant="true") == ["周骑手"]
    assert listed(migrant="false") == ["吴文员", "郑师傅"]
    assert listed(status="reserved") == ["郑师傅"]
    assert listed(joined_to="2020-12-31") == ["吴文员"]
    assert listed(joined_from="2021-01-01") == ["周骑手", "郑师傅"]
    assert listed(within=tree.jiangan_grassroots.pk) == ["周骑手", "郑师傅"]
    assert listed(employer=tree.jiangan_employer.pk) == ["吴文员"]
    assert rider.is_migrant


def test_member_list_refuses_bad_filters_in_chinese(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    api = api_as(county_cadre)

    reversed_dates = api.get(
        f"{API}/members", {"joined_from": "2024-06-01", "joined_to": "2024-01-01"}
    )
    assert errors_by_field(reversed_dates) == {"joined_to": ["入会日期止：不能早于入会日期起"]}

    outside = api.get(f"{API}/members", {"within": tree.jianghan.pk})
    assert errors_by_field(outside) == {
        "within": [f"所属范围：编号为 {tree.jianghan.pk} 的工会不存在或不在您的管辖范围内"]
    }

    forged = api.get(f"{API}/members", {"cursor": "0001'--"})
    assert errors_by_field(forged) == {"cursor": ["翻页游标无效，请从第一页重新开始"]}

    assert errors_by_field(api.get(f"{API}/members", {"status": "dead"}))["status"] == [
        "会籍状态：取值无效，可选值：active, transferring, reserved, left, deceased"
    ]
    assert errors_by_field(api.get(f"{API}/members", {"limit": 1000}))["limit"] == [
        "每页条数：不能大于 200"
    ]


def test_member_list_query_count_stays_flat(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    api = api_as(county_cadre)
    make_member(tree.jiangan_grassroots)
    api.get(f"{API}/members")  # the token's first use writes last_used_at
    with CaptureQueriesContext(connection) as few:
        api.get(f"{API}/members")
    for _ in range(12):
        make_member(tree.jiangan_grassroots, employer=tree.jiangan_employer)
    with CaptureQueriesContext(connection) as many:
        body = api.get(f"{API}/members").json()
    assert len(body["items"]) == 13
    assert len(many) == len(few)


# --- Search


def test_search_by_id_number_finds_the_member_by_keyed_hash(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    li(tree)
    api = api_as(county_cadre)
    spaced = f" {LI_ID[:6]} {LI_ID[6:14]} {LI_ID[14:]} "

    response = api.post(f"{API}/members/search", {"id_number": spaced})

    assert response.status_code == 200
    assert names(response.json()) == ["李娜"]
    assert response.json()["items"][0]["id_masked"] == MASKED_LI
    assert LI_ID not in body_text(response) and LI_PHONE not in body_text(response)


def test_search_by_phone_with_country_prefix(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    li(tree)
    response = api_as(county_cadre).post(f"{API}/members/search", {"phone": f"+86 {LI_PHONE}"})
    assert names(response.json()) == ["李娜"]


def test_search_does_not_reach_outside_the_scope(
    tree: Tree, sibling_cadre: User, api_as: ApiAs
) -> None:
    li(tree)
    response = api_as(sibling_cadre).post(f"{API}/members/search", {"id_number": LI_ID})
    assert response.json() == {"items": []}


def test_search_explains_bad_numbers_without_echoing_them(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    api = api_as(county_cadre)
    wrong = LI_ID[:17] + ("0" if LI_ID[17] != "0" else "1")

    bad_check = api.post(f"{API}/members/search", {"id_number": wrong})
    message = errors_by_field(bad_check)["id_number"][0]
    assert message.startswith("证件号码：身份证号码校验位不正确")
    assert wrong not in bad_check.content.decode()

    bad_phone = api.post(f"{API}/members/search", {"phone": "12345"})
    assert errors_by_field(bad_phone) == {
        "phone": ["手机号码应为 11 位、以 1 开头的中国大陆手机号"]
    }

    neither = api.post(f"{API}/members/search", {})
    assert errors_by_field(neither) == {"body": ["请填写证件号码或手机号码中的一项"]}
    both = api.post(f"{API}/members/search", {"id_number": LI_ID, "phone": LI_PHONE})
    assert errors_by_field(both) == {"body": ["请填写证件号码或手机号码中的一项"]}

    too_long = api.post(f"{API}/members/search", {"id_number": "4" * 60})
    assert errors_by_field(too_long) == {"id_number": ["证件号码：不能超过 40 个字符"]}
    assert "4" * 60 not in too_long.content.decode()


# --- Detail, reveal, status


def test_detail_is_masked_and_carries_the_history(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    member = li(tree)
    services.member_change_status(
        member=member, to_status=MemberStatus.RESERVED, reason="失业", acting_user=county_cadre
    )

    response = api_as(county_cadre).get(f"{API}/members/{member.pk}")

    body = response.json()
    assert body["member_number"] == member.member_number
    assert body["id_masked"] == MASKED_LI
    assert body["phone_masked"] == LI_PHONE[:3] + "****" + LI_PHONE[-4:]
    assert body["union"] == {
        "id": tree.jiangan_grassroots.pk,
        "name": "武汉长江机械有限公司工会",
        "level": "grassroots",
    }
    assert body["status"] == "reserved" and body["status_label"] == "保留会籍"
    assert [(e["kind"], e["to_status"], e["reason"]) for e in body["history"]] == [
        ("joined", "active", "测试数据"),
        ("status", "reserved", "失业"),
    ]
    assert body["history"][1]["actor"] == county_cadre.display_name
    assert LI_ID not in body_text(response) and LI_PHONE not in body_text(response)


def test_sibling_county_gets_404_for_a_member(
    tree: Tree, sibling_cadre: User, api_as: ApiAs
) -> None:
    member = li(tree)
    response = api_as(sibling_cadre).get(f"{API}/members/{member.pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": "会员不存在或不在您的管辖范围内"}


def test_reveal_gives_the_clear_number_once_audited_and_uncached(
    tree: Tree, national_admin: User, api_as: ApiAs
) -> None:
    member = li(tree)
    api = api_as(national_admin)

    phone = api.post(
        f"{API}/members/{member.pk}/reveal", {"field": "phone", "reason": "电话回访核实"}
    )

    assert phone.status_code == 200
    assert phone.json() == {"field": "phone", "value": LI_PHONE}
    assert phone["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert entry.actor == national_admin
    assert entry.object_id == str(member.pk)
    assert entry.detail == {"field": "phone", "reason": "电话回访核实"}
    assert LI_PHONE not in json.dumps(
        [entry.before, entry.after, entry.detail, entry.object_repr], ensure_ascii=False
    )


def test_reveal_needs_a_real_reason_and_a_known_field(
    tree: Tree, national_admin: User, api_as: ApiAs
) -> None:
    member = li(tree)
    api = api_as(national_admin)

    short = api.post(f"{API}/members/{member.pk}/reveal", {"field": "id_number", "reason": "看"})
    assert errors_by_field(short) == {"reason": ["查看理由：请填写查看明文的理由（至少 4 个字）"]}

    unknown = api.post(
        f"{API}/members/{member.pk}/reveal", {"field": "address", "reason": "核对会员信息"}
    )
    assert errors_by_field(unknown) == {"field": ["查看的信息：取值无效，可选值：id_number, phone"]}
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_a_cadre_without_reveal_gets_403_and_the_refusal_is_audited(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    member = li(tree)

    response = api_as(county_cadre).post(
        f"{API}/members/{member.pk}/reveal", {"field": "id_number", "reason": "核对会员信息"}
    )

    assert response.status_code == 403
    assert LI_ID not in response.content.decode()
    denied = AuditEntry.objects.get(action=AuditAction.PERMISSION_DENIED)
    assert denied.actor == county_cadre
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_status_change_is_recorded_and_bad_changes_are_explained(
    tree: Tree, grassroots_cadre: User, api_as: ApiAs
) -> None:
    member = li(tree)
    api = api_as(grassroots_cadre)

    left = api.post(
        f"{API}/members/{member.pk}/status", {"to_status": "left", "reason": "本人申请退会"}
    )
    assert left.status_code == 200
    assert left.json()["status"] == "left"
    assert left.json()["history"][-1]["reason"] == "本人申请退会"
    assert AuditEntry.objects.filter(
        action=AuditAction.CHANGE, object_id=str(member.pk), after={"status": "left"}
    ).exists()

    again = api.post(f"{API}/members/{member.pk}/status", {"to_status": "active", "reason": "恢复"})
    assert errors_by_field(again) == {"to_status": ["新状态：会籍状态不能从“已退会”变为“在会”"]}

    no_reason = api.post(
        f"{API}/members/{member.pk}/status", {"to_status": "reserved", "reason": " "}
    )
    assert errors_by_field(no_reason) == {"reason": ["变更原因：请填写变更原因"]}

    future = api.post(
        f"{API}/members/{member.pk}/status",
        {"to_status": "left", "reason": "退休", "date": "2999-01-01"},
    )
    assert errors_by_field(future) == {"to_status": ["新状态：会籍状态不能从“已退会”变为“已退会”"]}


def test_a_status_change_cannot_be_dated_in_the_future(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    member = li(tree)
    future = api_as(county_cadre).post(
        f"{API}/members/{member.pk}/status",
        {"to_status": "reserved", "reason": "退休", "date": "2999-01-01"},
    )
    assert errors_by_field(future) == {"date": ["变更日期不能晚于今天"]}
    assert Member.objects.get(pk=member.pk).status == MemberStatus.ACTIVE


# --- Transfers


def test_transfer_released_then_accepted_by_the_receiving_county(
    tree: Tree, county_cadre: User, sibling_cadre: User, api_as: ApiAs
) -> None:
    member = li(tree)
    sender, receiver = api_as(county_cadre), api_as(sibling_cadre)

    released = sender.post(
        f"{API}/members/{member.pk}/transfer",
        {
            "to_union": tree.jianghan_grassroots.pk,
            "reason": "调往武汉汉江物流有限公司工作",
            "new_employer": tree.jianghan_employer.pk,
        },
    )

    assert released.status_code == 201, released.content
    transfer = released.json()
    assert transfer["status"] == "released"
    assert transfer["member"] == {
        "id": member.pk,
        "member_number": member.member_number,
        "name": "李娜",
        "id_masked": MASKED_LI,
    }
    assert transfer["new_employer"] == {
        "id": tree.jianghan_employer.pk,
        "name": "武汉汉江物流有限公司",
    }
    assert transfer["released_by"] == county_cadre.display_name
    assert sender.get(f"{API}/members/{member.pk}").json()["status"] == "transferring"

    incoming = receiver.get(f"{API}/transfers", {"direction": "incoming"}).json()
    assert [t["id"] for t in incoming["items"]] == [transfer["id"]]
    assert sender.get(f"{API}/transfers", {"direction": "incoming"}).json()["items"] == []
    assert receiver.get(f"{API}/members/{member.pk}").status_code == 404

    accepted = receiver.post(f"{API}/transfers/{transfer['id']}/accept")

    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["decided_by"] == sibling_cadre.display_name
    now = receiver.get(f"{API}/members/{member.pk}").json()
    assert now["union"]["id"] == tree.jianghan_grassroots.pk
    assert now["employer"]["id"] == tree.jianghan_employer.pk
    assert [e["kind"] for e in now["history"]] == ["joined", "transfer_out", "transfer_in"]
    assert sender.get(f"{API}/members/{member.pk}").status_code == 404

    twice = receiver.post(f"{API}/transfers/{transfer['id']}/accept")
    assert errors_by_field(twice) == {"path": ["该转接已接收，不能再办理"]}


def test_the_sending_union_cannot_accept_its_own_release(
    tree: Tree, county_cadre: User, personas: Personas, api_as: ApiAs
) -> None:
    transfer = li_released(tree, personas)

    response = api_as(county_cadre).post(f"{API}/transfers/{transfer.pk}/accept")

    assert response.status_code == 403
    assert response.json() == {"detail": "只有转入工会可以接收或拒收"}
    assert AuditEntry.objects.filter(action=AuditAction.PERMISSION_DENIED).exists()
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RELEASED


def test_refusal_needs_a_reason_and_returns_the_member(
    tree: Tree, sibling_cadre: User, county_cadre: User, personas: Personas, api_as: ApiAs
) -> None:
    transfer = li_released(tree, personas)
    receiver = api_as(sibling_cadre)

    empty = receiver.post(f"{API}/transfers/{transfer.pk}/refuse", {"reason": ""})
    assert errors_by_field(empty) == {"reason": ["拒收原因：不能为空"]}

    refused = receiver.post(f"{API}/transfers/{transfer.pk}/refuse", {"reason": "查无此人"})
    assert refused.json()["status"] == "refused"
    assert refused.json()["refusal_reason"] == "查无此人"
    member = api_as(county_cadre).get(f"{API}/members/{transfer.member_id}").json()
    assert member["status"] == "active"


def test_the_sender_may_cancel_but_the_receiver_may_not(
    tree: Tree, county_cadre: User, sibling_cadre: User, personas: Personas, api_as: ApiAs
) -> None:
    transfer = li_released(tree, personas)

    assert api_as(sibling_cadre).post(f"{API}/transfers/{transfer.pk}/cancel").status_code == 403
    cancelled = api_as(county_cadre).post(f"{API}/transfers/{transfer.pk}/cancel")

    assert cancelled.json()["status"] == "cancelled"
    assert Member.objects.get(pk=transfer.member_id).status == MemberStatus.ACTIVE


def test_a_transfer_may_go_to_another_province(
    tree: Tree, county_cadre: User, national_admin: User, api_as: ApiAs
) -> None:
    member = li(tree)
    changsha = other_province_grassroots()

    released = api_as(county_cadre).post(
        f"{API}/members/{member.pk}/transfer",
        {
            "to_union": changsha.pk,
            "reason": "回湖南老家工作",
            "new_employer_name": "长沙湘江电子有限公司",
        },
    )

    assert released.status_code == 201, released.content
    assert released.json()["to_union"]["name"] == "长沙湘江电子有限公司工会"
    assert released.json()["new_employer_name"] == "长沙湘江电子有限公司"
    accepted = api_as(national_admin).post(f"{API}/transfers/{released.json()['id']}/accept")
    assert accepted.status_code == 200
    assert Member.objects.get(pk=member.pk).union == changsha


def test_transfer_input_errors_name_the_field(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    member = li(tree)
    api = api_as(county_cadre)
    url = f"{API}/members/{member.pk}/transfer"

    missing = api.post(url, {"to_union": 10**12, "reason": "调动"})
    assert errors_by_field(missing) == {"to_union": [f"转入工会：编号为 {10**12} 的工会不存在"]}

    federation = api.post(url, {"to_union": tree.wuhan.pk, "reason": "调动"})
    assert errors_by_field(federation)["to_union"][0].startswith(
        "转入工会：“武汉市总工会”不直接接收会员"
    )

    same = api.post(url, {"to_union": tree.jiangan_grassroots.pk, "reason": "调动"})
    assert errors_by_field(same) == {"to_union": ["转入工会不能与当前工会相同"]}

    foreign_employer = api.post(
        url,
        {
            "to_union": tree.jianghan_grassroots.pk,
            "reason": "调动",
            "new_employer": tree.jiangan_employer.pk,
        },
    )
    assert errors_by_field(foreign_employer) == {
        "new_employer": [
            f"新工作单位：编号为 {tree.jiangan_employer.pk} 的用人单位不存在，或不由转入工会登记或覆盖"
        ]
    }

    no_reason = api.post(url, {"to_union": tree.jianghan_grassroots.pk, "reason": ""})
    assert errors_by_field(no_reason) == {"reason": ["转出原因：请填写转出原因"]}
    assert not Transfer.objects.exists()


# --- Join applications


def test_application_queue_shows_deadline_and_overdue_mark(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    late = zhao_pending(tree)
    JoinApplication.objects.filter(pk=late.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    fresh = services.application_submit(
        union=tree.jiangan,
        data=join_data(name="冯刚"),
        channel=ApplicationChannel.ONLINE,
        phone_verified=True,
    )
    api = api_as(county_cadre)

    everything = api.get(f"{API}/applications").json()
    assert [item["name"] for item in everything["items"]] == ["赵敏", "冯刚"]
    assert everything["count"] == 2
    assert [item["overdue"] for item in everything["items"]] == [True, False]
    assert everything["items"][1]["due_date"] == fresh.due_date.isoformat()

    assert names(api.get(f"{API}/applications", {"overdue": "true"}).json()) == ["赵敏"]
    assert names(api.get(f"{API}/applications", {"overdue": "false"}).json()) == ["冯刚"]
    assert names(api.get(f"{API}/applications", {"status": "approved"}).json()) == []


def test_approval_makes_a_member(tree: Tree, grassroots_cadre: User, api_as: ApiAs) -> None:
    application = zhao_pending(tree)
    api = api_as(grassroots_cadre)

    response = api.post(f"{API}/applications/{application.pk}/approve", {"reason": "符合条件"})

    body = response.json()
    assert body["status"] == "approved"
    assert body["decided_by"] == grassroots_cadre.display_name
    assert body["decision_reason"] == "符合条件"
    member = api.get(f"{API}/members/{body['member']}").json()
    assert member["name"] == "赵敏" and member["status"] == "active"

    again = api.post(f"{API}/applications/{application.pk}/approve")
    assert errors_by_field(again) == {"body": ["该申请已批准，不能重复办理"]}


def test_rejection_needs_a_reason(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    application = zhao_pending(tree)
    api = api_as(county_cadre)

    blank = api.post(f"{API}/applications/{application.pk}/reject", {"reason": "   "})
    assert errors_by_field(blank) == {"reason": ["驳回原因：不能为空"]}

    rejected = api.post(f"{API}/applications/{application.pk}/reject", {"reason": "材料不全"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "材料不全"
    assert rejected.json()["member"] is None


def test_bulk_approval_reports_each_application(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    first = zhao_pending(tree)
    second = services.application_submit(
        union=tree.jiangan,
        data=join_data(name="陈静"),
        channel=ApplicationChannel.ONLINE,
        phone_verified=True,
    )
    decided = services.application_submit(
        union=tree.jiangan,
        data=join_data(name="褚亮"),
        channel=ApplicationChannel.ONLINE,
        phone_verified=True,
    )
    services.application_reject(application=decided, acting_user=county_cadre, reason="重复")
    outside = services.application_submit(
        union=tree.jianghan_grassroots,
        data=join_data(name="卫东"),
        channel=ApplicationChannel.ONLINE,
        phone_verified=True,
    )
    ids = [first.pk, outside.pk, decided.pk, second.pk, first.pk]

    response = api_as(county_cadre).post(
        f"{API}/applications/bulk", {"ids": ids, "decision": "approve", "reason": "集中审批"}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["done"], body["failed"]) == (2, 2)
    assert body["results"] == [
        {"id": first.pk, "ok": True, "name": "赵敏", "error": ""},
        {"id": outside.pk, "ok": False, "name": None, "error": "申请不存在或不在您的管辖范围内"},
        {"id": decided.pk, "ok": False, "name": "褚亮", "error": "该申请已驳回，不能重复办理"},
        {"id": second.pk, "ok": True, "name": "陈静", "error": ""},
    ]
    outside.refresh_from_db()
    assert outside.status == ApplicationStatus.SUBMITTED


def test_bulk_rejection_needs_a_reason_and_an_auditor_may_not_decide(
    tree: Tree, county_cadre: User, auditor: User, api_as: ApiAs
) -> None:
    application = zhao_pending(tree)

    no_reason = api_as(county_cadre).post(
        f"{API}/applications/bulk", {"ids": [application.pk], "decision": "reject"}
    )
    assert errors_by_field(no_reason) == {"reason": ["意见或驳回原因：驳回申请必须填写原因"]}

    empty = api_as(county_cadre).post(
        f"{API}/applications/bulk", {"ids": [], "decision": "approve"}
    )
    assert errors_by_field(empty) == {"ids": ["申请编号：至少要有 1 项"]}
    too_many = api_as(county_cadre).post(
        f"{API}/applications/bulk", {"ids": list(range(1, 202)), "decision": "approve"}
    )
    assert errors_by_field(too_many) == {"ids": ["申请编号：不能超过 200 项"]}

    refused = api_as(auditor).post(
        f"{API}/applications/bulk", {"ids": [application.pk], "decision": "approve"}
    )
    assert refused.status_code == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_a_cadre_enters_a_paper_form(tree: Tree, grassroots_cadre: User, api_as: ApiAs) -> None:
    response = api_as(grassroots_cadre).post(
        f"{API}/unions/{tree.jiangan_grassroots.pk}/join-applications",
        {
            **paper_form(tree),
            "employment_form": "gig",
            "gig_occupation": "courier",
            "household": "rural",
            "ethnic_group": "03",
            "education": "senior",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "cadre" and body["channel_label"] == "工会代录"
    assert body["status"] == "submitted"
    assert body["employer"] == {"id": tree.jiangan_employer.pk, "name": "武汉长江机械有限公司"}
    assert body["is_migrant"] is True
    assert body["id_masked"] == NEW_ID[:4] + "*" * 10 + NEW_ID[-4:]
    assert body["phone_masked"] == "137****1111"
    assert NEW_ID not in body_text(response)
    application = JoinApplication.objects.get(pk=body["id"])
    assert application.reveal_id_number() == NEW_ID
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_id=str(application.pk))
    assert entry.actor == grassroots_cadre
    assert NEW_ID not in json.dumps([entry.after, entry.detail, entry.object_repr])


def test_paper_form_errors_name_the_field(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    api = api_as(county_cadre)
    url = f"{API}/unions/{tree.jiangan_grassroots.pk}/join-applications"
    form = paper_form(tree)

    bad_id = api.post(url, {**form, "id_number": NEW_ID[:17]})
    assert errors_by_field(bad_id) == {
        "id_number": ["证件号码：身份证号码应为 18 位（旧版 15 位也可），当前为 17 位"]
    }

    gig = api.post(url, {**form, "employment_form": "gig"})
    assert errors_by_field(gig) == {
        "gig_occupation": ["新就业形态职业：新就业形态劳动者请选择职业"]
    }

    outside = api.post(url, {**form, "employer": tree.jianghan_employer.pk})
    assert errors_by_field(outside) == {
        "employer": [
            f"工作单位：编号为 {tree.jianghan_employer.pk} 的用人单位不存在或不在您的管辖范围内"
        ]
    }

    no_employer = api.post(url, {**form, "employer": None})
    assert errors_by_field(no_employer) == {"employer_name": ["工作单位名称：请选择或填写工作单位"]}

    ethnic = api.post(url, {**form, "ethnic_group": "99"})
    assert errors_by_field(ethnic)["ethnic_group"][0].startswith("民族：取值无效")

    federation = api.post(f"{API}/unions/{tree.wuhan.pk}/join-applications", form)
    assert federation.status_code == 404  # 武汉市总工会 lies above the county cadre
    city = api.post(f"{API}/unions/{tree.jiangan.pk}/join-applications", form)
    assert city.status_code == 201  # a county federation holds workers of unorganised employers
    assert not JoinApplication.objects.filter(union=tree.jiangan_grassroots).exists()


def test_paper_form_for_someone_already_a_member_says_where(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    li(tree)
    response = api_as(county_cadre).post(
        f"{API}/unions/{tree.jiangan.pk}/join-applications",
        {**paper_form(tree), "id_number": LI_ID},
    )

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["type"] == "already_member"
    assert "武汉长江机械有限公司工会" in item["msg"] and MASKED_LI in item["msg"]
    assert LI_ID not in response.content.decode()

    pending = api_as(county_cadre).post(
        f"{API}/unions/{tree.jiangan.pk}/join-applications", paper_form(tree)
    )
    assert pending.status_code == 201
    again = api_as(county_cadre).post(
        f"{API}/unions/{tree.jiangan.pk}/join-applications", paper_form(tree)
    )
    assert again.json()["detail"][0]["type"] == "already_applied"


# --- Ceremonies


def test_ceremony_detail_counts_joins_per_venue(
    tree: Tree, county_cadre: User, personas: Personas, api_as: ApiAs
) -> None:
    event = ceremony(tree, personas)
    main = event.venues.get()
    second = services.venue_add(
        ceremony=event, acting_user=county_cadre, name="江岸区分会场", union=tree.jiangan
    )
    for venue, count in ((main, 3), (second, 1)):
        for _ in range(count):
            services.application_submit(
                union=venue.union,
                data=join_data(),
                channel=ApplicationChannel.CEREMONY,
                venue=venue,
                phone_verified=True,
            )
    api = api_as(county_cadre)

    body = api.get(f"{API}/ceremonies/{event.pk}").json()

    assert body["joined_count"] == 4
    assert [(v["name"], v["joined_count"]) for v in body["venues"]] == [
        ("长江机械主会场", 3),
        ("江岸区分会场", 1),
    ]
    assert body["venues"][0]["union"]["id"] == tree.jiangan_grassroots.pk
    assert body["venues"][0]["join_url"] == f"http://testserver/j/v/{main.token}/"
    assert Member.objects.filter(union_path__startswith=tree.jiangan.path).count() == 4
    listed = api.get(f"{API}/ceremonies").json()
    assert listed["count"] == 1 and listed["items"][0]["joined_count"] == 4


# --- The schema


def test_every_member_operation_is_documented_in_chinese(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    schema = api_as(county_cadre).get(f"{API}/openapi.json").json()
    paths = [
        p
        for p in schema["paths"]
        if p.split("/")[3] in ("members", "applications", "transfers", "ceremonies")
        or p.endswith("join-applications")
    ]
    assert len(paths) == 18
    for path in paths:
        for operation in schema["paths"][path].values():
            assert any("\u4e00" <= ch <= "\u9fff" for ch in operation["summary"]), path


@pytest.mark.parametrize("field", ["id_masked", "phone_masked"])
def test_masked_fields_are_the_only_numbers_in_member_output(
    tree: Tree, county_cadre: User, api_as: ApiAs, field: str
) -> None:
    member = li(tree)
    body = api_as(county_cadre).get(f"{API}/members/{member.pk}").json()
    assert "*" in body[field]
    assert not {"id_number", "phone", "id_hash", "phone_hash", "id_number_enc"} & set(body)
