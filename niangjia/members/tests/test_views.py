"""The cadre pages of the member registry, persona by persona.

The tree and the personas come from ``niangjia/conftest.py``: the county cadre holds
江岸区总工会 (members of 武汉长江机械有限公司工会 are theirs), the sibling cadre 江汉区总工会,
the auditor views 湖北省总工会 read-only, the national admin may also reveal personal data.
"""

from __future__ import annotations

import datetime
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from niangjia.accounts.choices import Action
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.members import services, views
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
    JoinApplication,
    Member,
    MemberEvent,
    Transfer,
    id_hash_of,
    phone_hash_of,
)
from niangjia.utilities.testing.members import join_data, make_id_number, make_member, make_phone
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Tree

REDIRECT = frozenset({302})


def url(name: str, *args: Any) -> str:
    return reverse(f"members:{name}", args=args)


def text(response: Any) -> str:
    return response.content.decode()


def apply(union: Any, **overrides: Any) -> JoinApplication:
    return services.application_submit(
        union=union,
        data=join_data(**overrides),
        channel=ApplicationChannel.QR,
        phone_verified=True,
    )


# --- Set-ups of the scoped-access cases


def jiangan_member(t: Tree) -> Member:
    return make_member(t.jiangan_grassroots, name="江岸会员甲")


def both_sides(t: Tree) -> Member:
    make_member(t.jianghan_grassroots, name="江汉会员乙")
    return jiangan_member(t)


def jiangan_application(t: Tree) -> JoinApplication:
    return apply(t.jiangan_grassroots, name="江岸申请人")


def applications_on_both_sides(t: Tree) -> JoinApplication:
    apply(t.jianghan_grassroots, name="江汉申请人")
    return jiangan_application(t)


def released_to_jianghan(t: Tree, personas: Any) -> Transfer:
    """A member of 江岸 released to a union of 江汉: both counties see the transfer."""
    member = make_member(t.jiangan_grassroots, name="江岸转出甲")
    return services.transfer_release(
        member=member,
        to_union=t.jianghan_grassroots,
        reason="调动工作",
        acting_user=personas["county_cadre"],
    )


def transfers_on_both_sides(t: Tree, personas: Any) -> Transfer:
    inside = make_member(t.jianghan_grassroots, name="江汉内转乙")
    services.transfer_release(
        member=inside, to_union=t.jianghan, reason="单位关闭", acting_user=personas["sibling_cadre"]
    )
    return released_to_jianghan(t, personas)


class TestMemberPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="member-list",
            url=lambda t: url("member_list"),
            model=Member,
            allowed=("county_cadre", "grassroots_cadre", "provincial_cadre", "auditor"),
            forbidden=("worker", "system_admin"),
        ),
        ScopedCase(
            name="member-list-shows-own-subtree",
            url=lambda t, m: url("member_list"),
            setup=both_sides,
            allowed="county_cadre",
            anonymous=False,
            contains=lambda t: ["江岸会员甲"],
            excludes=lambda t: ["江汉会员乙"],
        ),
        ScopedCase(
            name="member-list-within-a-union",
            url=lambda t: url("member_list") + f"?within={t.jiangan.pk}",
            model=Member,
            allowed=("county_cadre", "provincial_cadre"),
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
        ),
        ScopedCase(
            name="member-search",
            url=lambda t: url("member_search"),
            method="post",
            data=lambda t: {"q": "江岸", "keep": "status=active"},
            model=Member,
            allowed="county_cadre",
            forbidden=("worker", "system_admin"),
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="member-detail",
            url=lambda t, m: url("member_detail", m.pk),
            setup=jiangan_member,
            model=Member,
            allowed=(
                "county_cadre",
                "grassroots_cadre",
                "provincial_cadre",
                "auditor",
                "national_admin",
            ),
            out_of_scope=("sibling_cadre", "worker", "system_admin"),
            contains=lambda t: ["江岸会员甲", "武汉长江机械有限公司工会"],
        ),
        ScopedCase(
            name="member-history",
            url=lambda t, m: url("member_detail", m.pk),
            setup=jiangan_member,
            model=MemberEvent,
            allowed=("county_cadre", "auditor"),
            out_of_scope="sibling_cadre",
            contains=lambda t: ["入会", "测试数据"],
        ),
        ScopedCase(
            name="member-reveal",
            url=lambda t, m: url("member_reveal", m.pk),
            method="post",
            action=Action.REVEAL,
            data=lambda t: {"field": "phone", "reason": "核实会员身份"},
            setup=jiangan_member,
            model=Member,
            allowed="national_admin",
            forbidden=("county_cadre", "auditor", "provincial_cadre"),
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="member-status-form",
            url=lambda t, m: url("member_status", m.pk),
            action=Action.CHANGE,
            setup=jiangan_member,
            model=Member,
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="member-status-change",
            url=lambda t, m: url("member_status", m.pk),
            method="post",
            action=Action.CHANGE,
            data=lambda t: {"to_status": "reserved", "reserve_reason": "retired"},
            setup=jiangan_member,
            model=Member,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="member-transfer-form",
            url=lambda t, m: url("member_transfer", m.pk),
            action=Action.CHANGE,
            setup=jiangan_member,
            model=Transfer,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="member-transfer-release",
            url=lambda t, m: url("member_transfer", m.pk),
            method="post",
            action=Action.CHANGE,
            data=lambda t: {"to_union": t.jianghan_grassroots.pk, "reason": "调动工作"},
            setup=jiangan_member,
            model=Transfer,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="transfer-targets-nationwide",
            url=lambda t: url("transfer_targets") + "?q=工会",
            action=Action.CHANGE,
            allowed="county_cadre",
            forbidden=("auditor", "worker"),
            # Transfers go anywhere: the sibling county's union is offered, by name only.
            contains=lambda t: ["武汉汉江物流有限公司工会", "武汉长江机械有限公司工会"],
        ),
        ScopedCase(
            name="member-export",
            url=lambda t: url("member_export"),
            action=Action.EXPORT,
            model=Member,
            allowed=("county_cadre", "provincial_cadre"),
            forbidden=("auditor", "worker"),
        ),
        ScopedCase(
            name="member-export-within-a-union",
            url=lambda t: url("member_export") + f"?within={t.jiangan.pk}",
            action=Action.EXPORT,
            model=Member,
            allowed="county_cadre",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
        ),
    ]


class TestApplicationPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="application-list",
            url=lambda t: url("application_list"),
            model=JoinApplication,
            allowed=("county_cadre", "auditor", "national_admin"),
            forbidden=("worker", "audit_admin"),
        ),
        ScopedCase(
            name="application-list-shows-own-subtree",
            url=lambda t, a: url("application_list"),
            setup=applications_on_both_sides,
            allowed=("county_cadre", "grassroots_cadre"),
            anonymous=False,
            contains=lambda t: ["江岸申请人"],
            excludes=lambda t: ["江汉申请人"],
        ),
        ScopedCase(
            name="application-detail",
            url=lambda t, a: url("application_detail", a.pk),
            setup=jiangan_application,
            model=JoinApplication,
            allowed=("county_cadre", "grassroots_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["江岸申请人"],
        ),
        ScopedCase(
            name="application-approve",
            url=lambda t, a: url("application_decide", a.pk),
            method="post",
            action=Action.CHANGE,
            data=lambda t: {"decision": "approve"},
            setup=jiangan_application,
            model=JoinApplication,
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="application-reveal",
            url=lambda t, a: url("application_reveal", a.pk),
            method="post",
            action=Action.REVEAL,
            data=lambda t: {"field": "id_number", "reason": "核对身份证件"},
            setup=jiangan_application,
            model=JoinApplication,
            allowed="national_admin",
            forbidden=("county_cadre", "auditor"),
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="application-bulk-decision",
            url=lambda t, a: url("application_bulk"),
            method="post",
            action=Action.CHANGE,
            data=lambda t, a: {"ids": [a.pk], "decision": "reject", "reason": "资料不全"},
            setup=jiangan_application,
            model=JoinApplication,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
        ),
    ]


class TestTransferPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="transfer-list",
            url=lambda t: url("transfer_list"),
            model=Transfer,
            allowed=("county_cadre", "auditor"),
            forbidden=("worker", "security_admin"),
        ),
        ScopedCase(
            name="transfer-list-shows-own-side",
            url=lambda t, x: url("transfer_list"),
            setup=transfers_on_both_sides,
            allowed="county_cadre",
            anonymous=False,
            contains=lambda t: ["江岸转出甲"],
            excludes=lambda t: ["江汉内转乙"],
        ),
        ScopedCase(
            name="transfer-accept",
            url=lambda t, x: url("transfer_accept", x.pk),
            method="post",
            action=Action.CHANGE,
            setup=released_to_jianghan,
            model=Transfer,
            allowed="sibling_cadre",
            # The sending side sees the transfer but only the receiving side decides.
            forbidden=("county_cadre", "grassroots_cadre", "auditor"),
            out_of_scope="worker",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="transfer-refuse-form",
            url=lambda t, x: url("transfer_refuse", x.pk),
            action=Action.CHANGE,
            setup=released_to_jianghan,
            model=Transfer,
            allowed="sibling_cadre",
            forbidden=("county_cadre", "auditor"),
            out_of_scope="worker",
        ),
        ScopedCase(
            name="transfer-refuse",
            url=lambda t, x: url("transfer_refuse", x.pk),
            method="post",
            action=Action.CHANGE,
            data=lambda t: {"reason": "不属于本会会员范围"},
            setup=released_to_jianghan,
            model=Transfer,
            allowed="sibling_cadre",
            forbidden=("county_cadre", "auditor"),
            out_of_scope="worker",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="transfer-cancel",
            url=lambda t, x: url("transfer_cancel", x.pk),
            method="post",
            action=Action.CHANGE,
            setup=released_to_jianghan,
            model=Transfer,
            allowed="county_cadre",
            forbidden=("sibling_cadre", "auditor"),
            out_of_scope="worker",
            allowed_statuses=REDIRECT,
        ),
    ]


pytestmark = pytest.mark.django_db


# --- The member list


def test_member_list_shows_masked_numbers_only(tree, county_cadre, client_for):
    number, phone = make_id_number(), make_phone()
    make_member(tree.jiangan_grassroots, name="赵六", id_number=number, phone=phone)
    page = text(client_for(county_cadre).get(url("member_list")))
    assert "赵六" in page
    assert number[:4] + "*" * 10 + number[-4:] in page
    assert number not in page and phone not in page


def test_member_list_filters_by_status_form_migrant_date_and_employer(
    tree, county_cadre, client_for
):
    make_member(
        tree.jiangan_grassroots,
        name="骑手甲",
        employment_form=EmploymentForm.GIG,
        gig_occupation=GigOccupation.DELIVERY_RIDER,
        household=Household.RURAL,
        employer_name="江岸外卖配送站",
    )
    make_member(tree.jiangan_grassroots, name="工人乙", employer=tree.jiangan_employer)
    reserved = make_member(tree.jiangan_grassroots, name="退休丙")
    services.member_change_status(
        member=reserved, to_status="reserved", reason="退休", acting_user=county_cadre
    )
    Member.objects.filter(name="工人乙").update(join_date=datetime.date(2015, 5, 1))
    client = client_for(county_cadre)

    def names(query: str) -> set[str]:
        page = text(client.get(url("member_list") + "?" + query))
        return {n for n in ("骑手甲", "工人乙", "退休丙") if f">{n}</a>" in page}

    assert names("") == {"骑手甲", "工人乙", "退休丙"}
    assert names("status=reserved") == {"退休丙"}
    assert names("employment_form=gig") == {"骑手甲"}
    assert names("gig_occupation=delivery_rider") == {"骑手甲"}
    assert names("migrant=yes") == {"骑手甲"}
    assert names("migrant=no") == {"工人乙", "退休丙"}
    assert names("joined_to=2016-01-01") == {"工人乙"}
    assert names("joined_from=2016-01-01") == {"骑手甲", "退休丙"}
    assert names("employer=长江机械") == {"工人乙"}
    assert names("employer=外卖") == {"骑手甲"}
    assert names(f"within={tree.jiangan_grassroots.pk}") == {"骑手甲", "工人乙", "退休丙"}


def test_member_list_reports_a_bad_date_range_in_chinese(tree, county_cadre, client_for):
    response = client_for(county_cadre).get(
        url("member_list") + "?joined_from=2024-05-01&joined_to=2024-01-01"
    )
    assert "“入会日期至”不能早于“入会日期自”" in text(response)
    response = client_for(county_cadre).get(url("member_list") + "?joined_from=2024-13-01")
    assert "“入会日期自”不是有效的日期" in text(response)


def test_member_list_count_is_capped_with_an_exact_count_on_demand(
    tree, county_cadre, client_for, monkeypatch
):
    monkeypatch.setattr(views, "MEMBER_COUNT_CAP", 5)
    for _ in range(7):
        make_member(tree.jiangan_grassroots)
    client = client_for(county_cadre)
    page = text(client.get(url("member_list")))
    assert "符合条件的会员超过 5 人" in page
    assert "count=exact" in page
    page = text(client.get(url("member_list") + "?count=exact"))
    assert "符合条件的会员（精确统计）共 7 人" in page


def _next_link(page: str, rel: str) -> str | None:
    match = re.search(rf'href="\?([^"]*)" rel="{rel}"', page)
    return match.group(1).replace("&amp;", "&") if match else None


def test_member_list_pages_forward_and_back_over_every_member_once(
    tree, county_cadre, client_for, monkeypatch
):
    monkeypatch.setattr(views, "MEMBERS_PER_PAGE", 4)
    made = {make_member(tree.jiangan_grassroots, name=f"翻页{i:02d}").name for i in range(6)}
    made |= {make_member(tree.jiangan, name=f"翻页{i:02d}").name for i in range(6, 11)}
    client = client_for(county_cadre)
    pages: list[list[str]] = []
    query: str | None = "status=active"
    while query is not None:
        page = text(client.get(url("member_list") + "?" + query))
        pages.append(re.findall(r">(翻页\d\d)</a>", page))
        query = _next_link(page, "next")
    seen = [name for page in pages for name in page]
    assert sorted(seen) == sorted(made)
    assert [len(p) for p in pages] == [4, 4, 3]
    # Back from the last page, page by page, to the first.
    back: list[list[str]] = []
    query = _next_link(page, "prev")
    while query is not None:
        page = text(client.get(url("member_list") + "?" + query))
        back.append(re.findall(r">(翻页\d\d)</a>", page))
        query = _next_link(page, "prev")
    assert back == [pages[1], pages[0]]
    assert "status=active" in (_next_link(page, "next") or "")


def test_member_list_answers_a_bad_cursor_with_the_first_page(tree, county_cadre, client_for):
    make_member(tree.jiangan_grassroots, name="第一页")
    page = text(client_for(county_cadre).get(url("member_list") + "?after=../../etc"))
    assert "翻页游标无效，请从第一页重新开始" in page
    assert "第一页</a>" in page


def test_member_list_queries_stay_flat_however_many_members(tree, county_cadre, client_for):
    client = client_for(county_cadre)
    make_member(tree.jiangan_grassroots)
    client.get(url("member_list"))  # session and caches warm
    with CaptureQueriesContext(connection) as few:
        client.get(url("member_list"))
    for _ in range(20):
        make_member(tree.jiangan_grassroots, employer=tree.jiangan_employer)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("member_list"))
    assert response.status_code == 200
    assert len(many) == len(few)
    # Savepoint and time limit statements (PostgreSQL) aside: session, user, roles, the union
    # picker, the scope roots, one page and one capped count.
    reads = [
        q
        for q in many.captured_queries
        if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE", "SET "))
    ]
    assert len(reads) <= 12
    assert not [q for q in many.captured_queries if "OFFSET" in q["sql"].upper()]


# --- Searching by phone, ID number, name, member number


def _search(client: Any, q: str, **extra: str) -> Any:
    return client.post(url("member_search"), {"q": q, **extra})


def test_search_by_phone_finds_by_hash_without_the_number_in_the_address(
    tree, county_cadre, client_for
):
    phone = "13912340001"
    make_member(tree.jiangan_grassroots, name="手机查找", phone=phone)
    make_member(tree.jiangan_grassroots, name="别人")
    client = client_for(county_cadre)
    response = _search(client, "139-1234-0001", keep="status=active&after=X.1")
    assert response.status_code == 302
    location = response["Location"]
    assert phone not in location and "1234" not in location
    assert parse_qs(urlsplit(location).query) == {
        "status": ["active"],
        "phone_hash": [phone_hash_of(phone)],
    }
    page = text(client.get(location))
    assert ">手机查找</a>" in page and ">别人</a>" not in page
    assert "按手机号码精确查找" in page
    assert phone not in page


def test_search_by_id_number_finds_by_hash(tree, county_cadre, client_for):
    number = make_id_number(birth="19851231")
    make_member(tree.jiangan_grassroots, name="证件查找", id_number=number)
    make_member(tree.jiangan_grassroots, name="别人")
    client = client_for(county_cadre)
    response = _search(client, number.lower()[:-1] + number[-1].lower())
    location = response["Location"]
    assert number not in location
    assert parse_qs(urlsplit(location).query) == {"id_hash": [id_hash_of(number)]}
    page = text(client.get(location))
    assert ">证件查找</a>" in page and ">别人</a>" not in page
    assert number not in page


def test_search_does_not_find_members_out_of_scope(tree, county_cadre, client_for):
    phone = "13912340002"
    make_member(tree.jianghan_grassroots, name="江汉的人", phone=phone)
    client = client_for(county_cadre)
    page = text(client.get(_search(client, phone)["Location"]))
    assert "江汉的人" not in page
    assert "没有符合条件的会员" in page


def test_a_mistyped_id_number_is_answered_in_chinese_without_repeating_it(
    tree, county_cadre, client_for
):
    number = make_id_number()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = _search(client_for(county_cadre), wrong)
    assert response.status_code == 200
    page = text(response)
    assert "未能查找：身份证号码校验位不正确" in page
    assert wrong not in page


def test_a_mistyped_phone_is_answered_in_chinese(tree, county_cadre, client_for):
    page = text(_search(client_for(county_cadre), "2391234000"))
    assert "未能查找：" in page and "2391234000" not in page


def test_search_by_name_prefix_or_anywhere(tree, county_cadre, client_for):
    make_member(tree.jiangan_grassroots, name="欧阳明")
    make_member(tree.jiangan_grassroots, name="李欧")
    client = client_for(county_cadre)
    location = _search(client, "欧")["Location"]
    assert parse_qs(urlsplit(location).query) == {"name": ["欧"]}
    page = text(client.get(location))
    assert ">欧阳明</a>" in page and ">李欧</a>" not in page
    page = text(client.get(_search(client, "欧", match="contains")["Location"]))
    assert ">欧阳明</a>" in page and ">李欧</a>" in page
    assert "姓名包含“欧”" in page


def test_search_by_member_number(tree, county_cadre, client_for):
    member = make_member(tree.jiangan_grassroots, name="编号查找")
    make_member(tree.jiangan_grassroots, name="别人")
    client = client_for(county_cadre)
    location = _search(client, member.member_number)["Location"]
    assert parse_qs(urlsplit(location).query) == {"number": [member.member_number]}
    page = text(client.get(location))
    assert ">编号查找</a>" in page and ">别人</a>" not in page


def test_a_forged_hash_in_the_address_is_refused(tree, county_cadre, client_for):
    make_member(tree.jiangan_grassroots, name="某人")
    page = text(client_for(county_cadre).get(url("member_list") + "?phone_hash=1380000"))
    assert "搜索条件已失效，请重新搜索" in page


# --- A member's record, reveal, status changes, transfer release


def test_member_detail_shows_masked_data_history_and_no_clear_number(
    tree, county_cadre, client_for
):
    number = make_id_number()
    member = make_member(tree.jiangan_grassroots, name="详情页", id_number=number)
    page = text(client_for(county_cadre).get(url("member_detail", member.pk)))
    assert member.member_number in page and member.id_masked in page
    assert number not in page
    assert "测试数据" in page  # the joining event's reason
    assert "查看明文" not in page  # a cadre may not reveal
    assert "变更会籍状态" in page and "办理转出" in page


def test_auditor_sees_the_record_without_the_change_buttons(tree, auditor, client_for):
    member = make_member(tree.jiangan_grassroots)
    page = text(client_for(auditor).get(url("member_detail", member.pk)))
    assert "变更会籍状态" not in page and "办理转出" not in page


def test_reveal_shows_the_clear_number_once_and_audits_it(tree, national_admin, client_for):
    phone = "13912340003"
    member = make_member(tree.jiangan_grassroots, phone=phone)
    client = client_for(national_admin)
    assert phone not in text(client.get(url("member_detail", member.pk)))
    response = client.post(
        url("member_reveal", member.pk), {"field": "phone", "reason": "核实会员身份"}
    )
    assert response.status_code == 200
    assert phone in text(response)
    assert response["Cache-Control"] == "no-store" or "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert entry.actor == national_admin
    assert entry.detail == {"field": "phone", "reason": "核实会员身份"}
    assert phone not in str(entry.detail) and phone not in entry.object_repr
    assert phone not in text(client.get(url("member_detail", member.pk)))


def test_reveal_needs_a_reason_in_chinese_and_reveals_nothing_without(
    tree, national_admin, client_for
):
    phone = "13912340004"
    member = make_member(tree.jiangan_grassroots, phone=phone)
    client = client_for(national_admin)
    page = text(client.post(url("member_reveal", member.pk), {"field": "phone", "reason": ""}))
    assert "请填写“查看理由”" in page and phone not in page
    page = text(client.post(url("member_reveal", member.pk), {"field": "phone", "reason": "看"}))
    assert "请填写查看明文的理由（至少 4 个字）" in page and phone not in page
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_status_change_reserves_a_retired_member_with_history(tree, county_cadre, client_for):
    member = make_member(tree.jiangan_grassroots)
    response = client_for(county_cadre).post(
        url("member_status", member.pk),
        {"to_status": "reserved", "reserve_reason": "retired", "note": "2024年退休"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.status == MemberStatus.RESERVED
    event = member.events.order_by("-id").first()
    assert event.reason == "退休：2024年退休" and event.actor == county_cadre


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"to_status": "reserved"}, "保留会籍请选择原因：退休、失业或单位关闭"),
        ({"to_status": "left"}, "请填写“原因说明”"),
        ({"to_status": ""}, "请选择“变更为”"),
        ({"to_status": "transferring", "note": "x"}, "“变更为”的选择无效"),
        (
            {"to_status": "left", "note": "离职", "date": "2999-01-01"},
            "变更日期不能晚于今天",
        ),
    ],
)
def test_status_change_errors_are_chinese(tree, county_cadre, client_for, data, message):
    member = make_member(tree.jiangan_grassroots)
    response = client_for(county_cadre).post(url("member_status", member.pk), data)
    assert response.status_code == 200
    assert message in text(response)
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE


def test_transfer_release_goes_to_a_union_outside_the_scope(tree, county_cadre, client_for):
    member = make_member(tree.jiangan_grassroots, name="调走的人")
    client = client_for(county_cadre)
    response = client.post(
        url("member_transfer", member.pk),
        {
            "to_union": tree.jianghan_grassroots.pk,
            "reason": "调动工作",
            "new_employer_name": "武汉汉江物流有限公司",
        },
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get(member=member)
    assert transfer.to_union == tree.jianghan_grassroots
    assert transfer.new_employer_name == "武汉汉江物流有限公司"
    member.refresh_from_db()
    assert member.status == MemberStatus.TRANSFERRING


def test_transfer_release_errors_are_chinese(tree, county_cadre, client_for):
    member = make_member(tree.jiangan_grassroots)
    client = client_for(county_cadre)
    page = text(client.post(url("member_transfer", member.pk), {"to_union": "", "reason": ""}))
    assert "请选择“转入工会”" in page and "请填写“转出原因”" in page
    page = text(
        client.post(url("member_transfer", member.pk), {"to_union": tree.wuhan.pk, "reason": "x"})
    )
    assert "“转入工会”的选择无效" in page
    assert not Transfer.objects.exists()


def test_transfer_picker_without_script_searches_the_whole_country(tree, county_cadre, client_for):
    member = make_member(tree.jiangan_grassroots)
    page = text(
        client_for(county_cadre).post(
            url("member_transfer", member.pk),
            {"to_union_q": "汉江", "_picker_search": "to_union", "reason": ""},
        )
    )
    assert "武汉汉江物流有限公司工会（湖北省武汉市江汉区）" in page
    assert "请填写" not in page


def test_transfer_targets_give_names_and_regions_only(tree, county_cadre, client_for):
    data = client_for(county_cadre).get(url("transfer_targets") + "?q=汉江").json()
    assert data["results"] == [
        {
            "id": tree.jianghan_grassroots.pk,
            "name": "武汉汉江物流有限公司工会",
            "region": "湖北省武汉市江汉区",
            "label": "武汉汉江物流有限公司工会（湖北省武汉市江汉区）",
        }
    ]
    # Provincial and city federations and industry unions take no members.
    data = client_for(county_cadre).get(url("transfer_targets") + "?q=总工会").json()
    assert {r["name"] for r in data["results"]} == {"江岸区总工会", "江汉区总工会"}


# --- Join applications


def test_overdue_applications_are_marked_and_filtered(tree, county_cadre, client_for):
    late = apply(tree.jiangan_grassroots, name="逾期申请")
    apply(tree.jiangan_grassroots, name="按期申请")
    JoinApplication.objects.filter(pk=late.pk).update(
        due_date=datetime.date.today() - datetime.timedelta(days=1)
    )
    client = client_for(county_cadre)
    page = text(client.get(url("application_list")))
    assert page.count('class="badge err overdue"') == 1
    row = re.search(r"<tr class=\"is-overdue\">.*?</tr>", page, re.S).group(0)
    assert "逾期申请" in row
    assert "已逾期 1 份" in page
    page = text(client.get(url("application_list") + "?overdue=on"))
    assert "逾期申请" in page and "按期申请" not in page


def test_decided_applications_are_listed_with_their_filter(tree, county_cadre, client_for):
    rejected = apply(tree.jiangan_grassroots, name="被驳回的")
    services.application_reject(application=rejected, acting_user=county_cadre, reason="重复")
    apply(tree.jiangan_grassroots, name="待审批的")
    client = client_for(county_cadre)
    page = text(client.get(url("application_list")))
    assert "待审批的" in page and "被驳回的" not in page
    page = text(client.get(url("application_list") + "?status=rejected"))
    assert "被驳回的" in page and "待审批的" not in page
    page = text(client.get(url("application_list") + "?status=all"))
    assert "被驳回的" in page and "待审批的" in page


def test_approving_one_application_makes_a_member(tree, grassroots_cadre, client_for):
    application = apply(tree.jiangan_grassroots, name="新会员")
    client = client_for(grassroots_cadre)
    response = client.post(url("application_decide", application.pk), {"decision": "approve"})
    assert response.status_code == 302
    member = Member.objects.get(name="新会员")
    page = text(client.get(response["Location"]))
    assert f"已批准“新会员”入会，会员编号 {member.member_number}" in page


def test_rejecting_needs_a_reason(tree, county_cadre, client_for):
    application = apply(tree.jiangan_grassroots)
    client = client_for(county_cadre)
    response = client.post(url("application_decide", application.pk), {"decision": "reject"})
    assert "驳回申请必须填写原因" in text(response)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    client.post(
        url("application_decide", application.pk), {"decision": "reject", "reason": "非本单位"}
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert application.decision_reason == "非本单位"


def test_deciding_twice_is_answered_in_chinese(tree, county_cadre, client_for):
    application = apply(tree.jiangan_grassroots)
    services.application_approve(application=application, acting_user=county_cadre)
    response = client_for(county_cadre).post(
        url("application_decide", application.pk), {"decision": "approve"}
    )
    assert response.status_code == 200
    assert "不能重复办理" in text(response)


def test_bulk_approval_reports_each_success_and_failure(tree, county_cadre, client_for):
    first = apply(tree.jiangan_grassroots, name="批量一")
    taken = apply(tree.jiangan_grassroots, name="批量二")
    third = apply(tree.jiangan_grassroots, name="批量三")
    # Someone else rejects the second while the list is open.
    services.application_reject(application=taken, acting_user=county_cadre, reason="材料不实")
    response = client_for(county_cadre).post(
        url("application_bulk"),
        {"ids": [first.pk, taken.pk, third.pk], "decision": "approve", "reason": "同意"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "批准成功 2 份" in page and "未办成 1 份" in page
    failed = re.search(r'<ul class="plain-list result-failed">(.*?)</ul>', page, re.S).group(1)
    assert "批量二" in failed and "不能重复办理" in failed
    done = re.search(r'<ul class="plain-list result-done">(.*?)</ul>', page, re.S).group(1)
    assert "批量一" in done and "批量三" in done
    assert set(Member.objects.values_list("name", flat=True)) == {"批量一", "批量三"}


def test_bulk_rejection_needs_a_reason_and_a_selection(tree, county_cadre, client_for):
    application = apply(tree.jiangan_grassroots)
    client = client_for(county_cadre)
    response = client.post(
        url("application_bulk"), {"ids": [application.pk], "decision": "reject"}, follow=True
    )
    assert "驳回申请必须填写原因" in text(response)
    response = client.post(url("application_bulk"), {"decision": "approve"}, follow=True)
    assert "请至少勾选一份申请" in text(response)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_bulk_decision_with_one_application_out_of_scope_changes_nothing(
    tree, county_cadre, client_for
):
    mine = apply(tree.jiangan_grassroots)
    theirs = apply(tree.jianghan_grassroots)
    response = client_for(county_cadre).post(
        url("application_bulk"), {"ids": [mine.pk, theirs.pk], "decision": "approve"}
    )
    assert response.status_code == 404
    assert not Member.objects.exists()


def test_application_reveal_for_the_national_admin(tree, national_admin, client_for):
    number = make_id_number()
    application = apply(tree.jiangan_grassroots, id_number=number)
    response = client_for(national_admin).post(
        url("application_reveal", application.pk),
        {"field": "id_number", "reason": "核对身份证件"},
    )
    assert number in text(response)
    assert AuditEntry.objects.filter(
        action=AuditAction.REVEAL, object_type="members.joinapplication"
    ).exists()


# --- Transfers


def test_receiving_cadre_accepts_a_transfer(tree, county_cadre, sibling_cadre, client_for):
    member = make_member(tree.jiangan_grassroots, name="转入的人")
    transfer = services.transfer_release(
        member=member, to_union=tree.jianghan_grassroots, reason="调动", acting_user=county_cadre
    )
    client = client_for(sibling_cadre)
    page = text(client.get(url("transfer_list")))
    incoming = page.split('id="incoming"')[1].split('id="outgoing"')[0]
    assert "转入的人" in incoming and "接收" in incoming
    response = client.post(url("transfer_accept", transfer.pk), follow=True)
    assert "已接收“转入的人”转入“武汉汉江物流有限公司工会”" in text(response)
    member.refresh_from_db()
    assert member.union == tree.jianghan_grassroots and member.status == MemberStatus.ACTIVE
    # Now the member is the sibling county's, and no longer the county cadre's.
    assert client.get(url("member_detail", member.pk)).status_code == 200
    assert client_for(county_cadre).get(url("member_detail", member.pk)).status_code == 404


def test_refusing_a_transfer_needs_a_reason_and_returns_the_member(
    tree, county_cadre, sibling_cadre, client_for
):
    member = make_member(tree.jiangan_grassroots)
    transfer = services.transfer_release(
        member=member, to_union=tree.jianghan_grassroots, reason="调动", acting_user=county_cadre
    )
    client = client_for(sibling_cadre)
    page = text(client.post(url("transfer_refuse", transfer.pk), {"reason": "  "}))
    assert "请填写“拒收原因”" in page
    response = client.post(url("transfer_refuse", transfer.pk), {"reason": "本单位无此人"})
    assert response.status_code == 302
    transfer.refresh_from_db()
    member.refresh_from_db()
    assert transfer.status == TransferStatus.REFUSED
    assert member.status == MemberStatus.ACTIVE and member.union == tree.jiangan_grassroots
    history = text(client_for(county_cadre).get(url("transfer_list")))
    assert "本单位无此人" in history.split('id="history"')[1]


def test_sending_cadre_cancels_a_transfer(tree, county_cadre, client_for):
    member = make_member(tree.jiangan_grassroots, name="撤销的人")
    transfer = services.transfer_release(
        member=member, to_union=tree.jianghan_grassroots, reason="调动", acting_user=county_cadre
    )
    client = client_for(county_cadre)
    outgoing = text(client.get(url("transfer_list"))).split('id="outgoing"')[1]
    assert "撤销的人" in outgoing.split('id="history"')[0]
    response = client.post(url("transfer_cancel", transfer.pk), follow=True)
    assert "已撤销“撤销的人”的转出" in text(response)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED
    response = client.post(url("transfer_cancel", transfer.pk), follow=True)
    assert "该转接已撤销，不能再办理" in text(response)


def test_a_long_queue_of_open_transfers_lists_the_oldest_first_and_says_so(
    tree, county_cadre, sibling_cadre, client_for, monkeypatch
):
    monkeypatch.setattr(views, "OPEN_TRANSFERS_SHOWN", 1)
    for name in ("先转出", "后转出"):
        services.transfer_release(
            member=make_member(tree.jiangan_grassroots, name=name),
            to_union=tree.jianghan_grassroots,
            reason="调动",
            acting_user=county_cadre,
        )
    page = text(client_for(sibling_cadre).get(url("transfer_list")))
    incoming = page.split('id="incoming"')[1].split('id="outgoing"')[0]
    assert "超过 1 人" in incoming and "只列出最早转出的 1 人" in incoming
    assert "先转出" in incoming and "后转出" not in incoming


def test_a_list_query_stopped_for_taking_too_long_asks_for_narrower_filters(
    tree, county_cadre, client_for, monkeypatch
):
    from contextlib import contextmanager

    from niangjia.utilities.timeouts import QueryTooSlow

    @contextmanager
    def stopped(milliseconds):
        raise QueryTooSlow
        yield

    make_member(tree.jiangan_grassroots, name="查不到")
    monkeypatch.setattr(views, "time_limit", stopped)
    response = client_for(county_cadre).get(url("member_list") + "?employer=某单位")
    assert response.status_code == 200
    page = text(response)
    assert "查询用时过长，已经停止。请缩小范围后再查" in page
    assert "查不到" not in page
