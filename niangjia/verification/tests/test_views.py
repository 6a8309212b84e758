"""The verification pages and API, persona by persona, and what they show.

The county cadre holds 江岸区总工会 (its campaigns are theirs), the sibling cadre 江汉区总工会, the
auditor views 湖北省总工会 read-only, the grassroots cadre holds one union of 江岸区 (sees the
items of the employer it covers, not the county's campaigns).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs.choices import EmployerStatus
from niangjia.orgs.models import Employer
from niangjia.utilities.testing.factories import EmployerFactory
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Personas, Tree
from niangjia.verification import services
from niangjia.verification.choices import CampaignState, VerificationResult
from niangjia.verification.models import VerificationCampaign, VerificationItem
from niangjia.verification.selectors import EmployerFilters

REDIRECT = frozenset({302})
JIANGAN_CAMPAIGN = "江岸区年度单位核查"
JIANGHAN_CAMPAIGN = "江汉区年度单位核查"


def url(name: str, *args: Any) -> str:
    return reverse(f"verification:{name}", args=args)


def api(path: str) -> str:
    return f"/api/v1/verification{path}"


def text(response: Any) -> str:
    return response.content.decode()


# --- Set-ups of the scoped-access cases


def draft(t: Tree, personas: Personas) -> VerificationCampaign:
    EmployerFactory(owner=t.jiangan, name="武汉江岸核查甲有限公司")
    return services.campaign_create(
        acting_user=personas["county_cadre"], union=t.jiangan, name=JIANGAN_CAMPAIGN
    )


def opened(t: Tree, personas: Personas) -> VerificationCampaign:
    return services.campaign_open(acting_user=personas["county_cadre"], campaign=draft(t, personas))


def closed(t: Tree, personas: Personas) -> VerificationCampaign:
    campaign = opened(t, personas)
    services.campaign_close(acting_user=personas["county_cadre"], campaign=campaign)
    return campaign


def both_counties(t: Tree, personas: Personas) -> VerificationCampaign:
    services.campaign_create(
        acting_user=personas["sibling_cadre"], union=t.jianghan, name=JIANGHAN_CAMPAIGN
    )
    return opened(t, personas)


def covered_item(t: Tree, personas: Personas) -> VerificationItem:
    """The item of 武汉长江机械有限公司 (covered by the grassroots cadre's union)."""
    campaign = opened(t, personas)
    return VerificationItem.objects.get(campaign=campaign, employer=t.jiangan_employer)


def campaign_data(t: Tree) -> dict[str, Any]:
    return {"name": "江岸区核查", "union": t.jiangan.pk, "employer_status": "active"}


class TestVerificationPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="verification-campaign-list",
            url=lambda t: url("campaign_list"),
            model=VerificationCampaign,
            allowed=("county_cadre", "provincial_cadre", "auditor", "grassroots_cadre"),
            forbidden=("worker", "system_admin"),
        ),
        ScopedCase(
            name="verification-campaign-list-shows-own-subtree",
            url=lambda t, c: url("campaign_list"),
            setup=both_counties,
            allowed="county_cadre",
            anonymous=False,
            contains=lambda t: [JIANGAN_CAMPAIGN],
            excludes=lambda t: [JIANGHAN_CAMPAIGN],
        ),
        ScopedCase(
            name="verification-campaign-create-form",
            url=lambda t: url("campaign_create"),
            action=Action.CHANGE,
            model=VerificationCampaign,
            allowed=("county_cadre", "provincial_cadre"),
            forbidden=("auditor", "worker", "system_admin"),
        ),
        ScopedCase(
            name="verification-campaign-create",
            url=lambda t: url("campaign_create"),
            method="post",
            action=Action.CHANGE,
            data=campaign_data,
            model=VerificationCampaign,
            allowed="county_cadre",
            forbidden=("auditor", "worker"),
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="verification-campaign-detail",
            url=lambda t, c: url("campaign_detail", c.pk),
            setup=opened,
            model=VerificationCampaign,
            allowed=("county_cadre", "provincial_cadre", "auditor", "national_admin"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker", "system_admin"),
            contains=lambda t: [JIANGAN_CAMPAIGN, "总体进度"],
        ),
        ScopedCase(
            name="verification-campaign-open",
            url=lambda t, c: url("campaign_open", c.pk),
            method="post",
            action=Action.CHANGE,
            setup=draft,
            model=VerificationCampaign,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="verification-campaign-split-form",
            url=lambda t, c: url("campaign_split", c.pk),
            action=Action.CHANGE,
            setup=opened,
            model=VerificationCampaign,
            allowed=("county_cadre", "provincial_cadre"),
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            contains=lambda t: ["江岸区总干部", "平均分配"],
        ),
        ScopedCase(
            name="verification-campaign-split",
            url=lambda t, c: url("campaign_split", c.pk),
            method="post",
            action=Action.CHANGE,
            setup=opened,
            data=lambda t, c: {
                "staff": [User.objects.get(username="county_cadre").pk],
                "mode": "even",
            },
            model=VerificationCampaign,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="verification-campaign-close-summary",
            url=lambda t, c: url("campaign_close", c.pk),
            action=Action.CHANGE,
            setup=opened,
            model=VerificationCampaign,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
        ),
        ScopedCase(
            name="verification-campaign-close",
            url=lambda t, c: url("campaign_close", c.pk),
            method="post",
            action=Action.CHANGE,
            data=lambda t: {"confirm": "yes"},
            setup=opened,
            model=VerificationCampaign,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="verification-campaign-reopen",
            url=lambda t, c: url("campaign_reopen", c.pk),
            method="post",
            action=Action.CHANGE,
            setup=closed,
            model=VerificationCampaign,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="verification-campaign-export",
            url=lambda t, c: url("campaign_export", c.pk),
            action=Action.EXPORT,
            setup=opened,
            model=VerificationCampaign,
            allowed=("county_cadre", "national_admin"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
        ),
        ScopedCase(
            name="verification-item-list",
            url=lambda t, c: url("item_list", c.pk),
            setup=opened,
            model=VerificationItem,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker"),
            contains=lambda t: ["武汉长江机械有限公司", "武汉江岸核查甲有限公司"],
        ),
        ScopedCase(
            name="verification-item-bulk",
            url=lambda t, c: url("item_bulk", c.pk),
            method="post",
            action=Action.CHANGE,
            setup=opened,
            data=lambda t, c: {
                "ids": [str(pk) for pk in c.items.values_list("pk", flat=True)],
                "result": "active",
            },
            model=VerificationItem,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="verification-my-items",
            url=lambda t: url("my_items"),
            model=VerificationItem,
            allowed=("county_cadre", "grassroots_cadre", "auditor"),
            forbidden=("worker", "system_admin"),
        ),
        ScopedCase(
            name="verification-item-detail",
            url=lambda t, i: url("item_detail", i.pk),
            setup=covered_item,
            model=VerificationItem,
            allowed=("county_cadre", "grassroots_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["武汉长江机械有限公司", "登记变更记录"],
        ),
        ScopedCase(
            name="verification-item-mark",
            url=lambda t, i: url("item_mark", i.pk),
            method="post",
            action=Action.CHANGE,
            setup=covered_item,
            data=lambda t: {"result": "moved_away", "note": "已迁出", "version": "1"},
            model=VerificationItem,
            allowed="county_cadre",
            forbidden=("auditor", "grassroots_cadre"),
            out_of_scope=("sibling_cadre", "worker"),
            allowed_statuses=REDIRECT,
        ),
    ]


class TestVerificationApiScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="api-verification-campaigns",
            url=lambda t, c: api("/campaigns"),
            api=True,
            setup=both_counties,
            model=VerificationCampaign,
            allowed="county_cadre",
            contains=lambda t: [JIANGAN_CAMPAIGN],
            excludes=lambda t: [JIANGHAN_CAMPAIGN],
        ),
        ScopedCase(
            name="api-verification-campaign-detail",
            url=lambda t, c: api(f"/campaigns/{c.pk}"),
            api=True,
            setup=opened,
            model=VerificationCampaign,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker"),
            contains=lambda t: [JIANGAN_CAMPAIGN, "progress"],
        ),
        ScopedCase(
            name="api-verification-items",
            url=lambda t, c: api(f"/campaigns/{c.pk}/items"),
            api=True,
            setup=opened,
            model=VerificationItem,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker"),
            contains=lambda t: ["武汉长江机械有限公司"],
        ),
        ScopedCase(
            name="api-verification-item-mark",
            url=lambda t, i: api(f"/items/{i.pk}/mark"),
            method="post",
            api=True,
            action=Action.CHANGE,
            setup=covered_item,
            data=lambda t: {"result": "active", "note": "正常经营", "version": 1},
            model=VerificationItem,
            allowed="county_cadre",
            forbidden=("auditor", "grassroots_cadre"),
            out_of_scope=("sibling_cadre", "worker"),
        ),
    ]


# --- Behaviour of the pages


@pytest.fixture
def campaign(tree: Tree, personas: Personas) -> VerificationCampaign:
    return opened(tree, personas)


def test_county_cadre_cannot_see_or_mark_a_sibling_county_campaign(
    tree: Tree, personas: Personas, client_for: Any, api_client_for: Any
) -> None:
    theirs = services.campaign_open(
        acting_user=personas["sibling_cadre"],
        campaign=services.campaign_create(
            acting_user=personas["sibling_cadre"], union=tree.jianghan, name=JIANGHAN_CAMPAIGN
        ),
    )
    item = theirs.items.get()
    client = client_for(personas["county_cadre"])
    for address in (
        url("campaign_detail", theirs.pk),
        url("item_list", theirs.pk),
        url("item_detail", item.pk),
    ):
        assert client.get(address).status_code == 404
    answer = client.post(url("item_mark", item.pk), {"result": "deregistered", "version": "1"})
    assert answer.status_code == 404
    assert JIANGHAN_CAMPAIGN not in text(client.get(url("campaign_list")))
    api_answer = api_client_for(personas["county_cadre"]).post(
        api(f"/items/{item.pk}/mark"),
        json.dumps({"result": "deregistered", "version": 1}),
        content_type="application/json",
    )
    assert api_answer.status_code == 404
    item.refresh_from_db()
    assert item.result == VerificationResult.PENDING


def test_create_form_previews_the_count_without_creating(
    tree: Tree, personas: Personas, client_for: Any
) -> None:
    EmployerFactory(owner=tree.jiangan, name="武汉预览有限公司")
    client = client_for(personas["county_cadre"])
    data = {"union": tree.jiangan.pk, "employer_status": "", "_preview": "1"}
    page = client.post(url("campaign_create"), data)
    assert page.status_code == 200
    assert "符合条件的用人单位" in text(page) and "<strong data-preview-count>2</strong>" in text(
        page
    )
    answer = client.post(url("campaign_create"), data, headers={"Accept": "application/json"})
    assert answer.json() == {"ok": True, "count": 2}
    assert not VerificationCampaign.objects.exists()


def test_create_makes_a_draft_and_shows_it(tree: Tree, personas: Personas, client_for: Any) -> None:
    client = client_for(personas["county_cadre"])
    answer = client.post(url("campaign_create"), {**campaign_data(tree), "min_headcount": "100"})
    campaign = VerificationCampaign.objects.get()
    assert answer["Location"] == url("campaign_detail", campaign.pk)
    assert campaign.state == CampaignState.DRAFT and campaign.min_headcount == 100
    page = text(client.get(answer["Location"]))
    assert "核查尚未开始" in page and "开始核查" in page and "职工人数" in page


def test_create_errors_are_shown_next_to_their_fields(
    tree: Tree, personas: Personas, client_for: Any
) -> None:
    client = client_for(personas["county_cadre"])
    page = client.post(
        url("campaign_create"),
        {"name": "", "union": tree.jiangan.pk, "industry_section": "T", "min_headcount": "x"},
    )
    assert page.status_code == 200
    body = text(page)
    assert "请填写“核查名称”" in body
    assert "“职工人数不少于”应为整数" in body
    assert not VerificationCampaign.objects.exists()


def test_split_page_shares_the_items_and_reports_it(
    campaign: VerificationCampaign, personas: Personas, client_for: Any
) -> None:
    county = personas["county_cadre"]
    client = client_for(county)
    answer = client.post(
        url("campaign_split", campaign.pk),
        {"staff": [county.pk], "mode": "counts", f"count_{county.pk}": "1"},
        follow=True,
    )
    assert "已分配 1 家单位：江岸区总干部 1 家。" in text(answer)
    assert "还有 1 家单位未分配" in text(answer)
    assert campaign.items.filter(assignee=county).count() == 1
    page = client.post(url("campaign_split", campaign.pk), {"mode": "even"})
    assert page.status_code == 200 and "请至少选择一名核查人员" in text(page)


def test_marking_without_script_redirects_back_to_the_row(
    campaign: VerificationCampaign, personas: Personas, client_for: Any
) -> None:
    client = client_for(personas["county_cadre"])
    item = campaign.items.order_by("id").first()
    assert item is not None
    back = url("item_list", campaign.pk) + "?result=pending"
    answer = client.post(
        url("item_mark", item.pk),
        {"result": "deregistered", "note": "已注销", "version": "1", "next": back},
    )
    assert answer["Location"] == f"{back}#item-{item.pk}"
    item.refresh_from_db()
    assert item.result == VerificationResult.DEREGISTERED and item.note == "已注销"
    page = text(client.get(back + f"#item-{item.pk}", follow=True))
    assert "已将" in page and "标记为“注销”" in page


def test_marking_with_script_answers_the_new_row_and_counts(
    campaign: VerificationCampaign, personas: Personas, client_for: Any
) -> None:
    client = client_for(personas["county_cadre"])
    item = campaign.items.order_by("id").first()
    assert item is not None
    answer = client.post(
        url("item_mark", item.pk),
        {"result": "active", "version": "1", "view": "campaign"},
        headers={"Accept": "application/json"},
    )
    body = answer.json()
    assert answer.status_code == 200 and body["ok"]
    assert f'id="item-{item.pk}"' in body["html"] and 'aria-pressed="true"' in body["html"]
    assert body["progress"]["campaign"]["done"] == 1
    assert body["progress"]["campaign"]["active"] == 1
    assert body["progress"]["campaign"]["total"] == 2
    # The same page sends the old version again: refused, with the row as it now is.
    stale = client.post(
        url("item_mark", item.pk),
        {"result": "moved_away", "version": "1", "view": "campaign"},
        headers={"Accept": "application/json"},
    )
    assert stale.status_code == 409
    assert "您看到的不是最新情况" in stale.json()["message"]
    assert 'name="version" value="2"' in stale.json()["html"]


def test_a_bad_result_is_answered_in_chinese(
    campaign: VerificationCampaign, personas: Personas, client_for: Any
) -> None:
    item = campaign.items.order_by("id").first()
    assert item is not None
    answer = client_for(personas["county_cadre"]).post(
        url("item_mark", item.pk),
        {"result": "gone", "version": "1"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["message"] == "“核查结果”应为存续、迁出、注销之一"


def test_bulk_bar_marks_and_assigns_the_ticked_items(
    campaign: VerificationCampaign, personas: Personas, client_for: Any
) -> None:
    county = personas["county_cadre"]
    client = client_for(county)
    ids = [f"{i.pk}.{i.version}" for i in campaign.items.all()]
    client.post(url("item_bulk", campaign.pk), {"ids": ids, "do": "assign", "assignee": county.pk})
    assert campaign.items.filter(assignee=county).count() == 2
    answer = client.post(
        url("item_bulk", campaign.pk), {"ids": ids, "result": "moved_away"}, follow=True
    )
    assert "已将 2 家单位标记为“迁出”" in text(answer)
    again = client.post(
        url("item_bulk", campaign.pk), {"ids": ids, "result": "active"}, follow=True
    )
    assert "刚被他人改动" in text(again)


def test_close_page_lists_the_changes_then_writes_them(
    campaign: VerificationCampaign, personas: Personas, tree: Tree, client_for: Any
) -> None:
    county = personas["county_cadre"]
    client = client_for(county)
    item = campaign.items.get(employer=tree.jiangan_employer)
    services.item_mark(acting_user=county, item=item, result="moved_away", note="搬到汉阳")
    summary = text(client.get(url("campaign_close", campaign.pk)))
    assert "<strong>1</strong> 家单位的登记状态将按核查结果更新" in summary
    assert "尚未核查的：1 家" in summary and "搬到汉阳" in summary
    refused = client.post(url("campaign_close", campaign.pk), {})
    assert refused.status_code == 422 and "请勾选确认" in text(refused)
    done = client.post(url("campaign_close", campaign.pk), {"confirm": "yes"}, follow=True)
    assert "1 家单位的登记状态已更新（存续→迁出 1 家）" in text(done)
    employer_page = text(
        client.get(reverse("orgs:employer_detail", args=[tree.jiangan_employer.pk]))
    )
    assert "迁出" in employer_page and "登记状态" in employer_page
    item_page = text(client.get(url("item_detail", item.pk)))
    assert "已更新登记" in item_page and "江岸区总干部" in item_page


def test_export_is_an_audited_spreadsheet(
    campaign: VerificationCampaign, personas: Personas, client_for: Any
) -> None:
    answer = client_for(personas["county_cadre"]).get(url("campaign_export", campaign.pk))
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    content = b"".join(answer.streaming_content)
    assert content[:2] == b"PK"
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.detail["rows"] == 2 and entry.object_id == str(campaign.pk)


def test_my_items_lists_what_is_given_to_me(
    campaign: VerificationCampaign, personas: Personas, client_for: Any
) -> None:
    county = personas["county_cadre"]
    services.campaign_split(acting_user=county, campaign=campaign, staff=[county])
    page = text(client_for(county).get(url("my_items")))
    assert "武汉长江机械有限公司" in page and JIANGAN_CAMPAIGN in page
    assert 'data-mine="pending">2<' in page


def test_item_list_takes_the_same_queries_for_five_or_fifty_items(
    tree: Tree, personas: Personas, client_for: Any
) -> None:
    county = personas["county_cadre"]
    client = client_for(county)

    def queries_for(n: int, name: str) -> int:
        Employer.objects.filter(owner=tree.jiangan, status=EmployerStatus.ACTIVE).update(
            status=EmployerStatus.DEREGISTERED
        )
        for i in range(n):
            EmployerFactory(owner=tree.jiangan, name=f"{name}{i}有限公司")
        campaign = services.campaign_create(
            acting_user=county,
            union=tree.jiangan,
            name=name,
            filters=EmployerFilters(status=EmployerStatus.ACTIVE),
        )
        campaign = services.campaign_open(acting_user=county, campaign=campaign)
        services.campaign_split(acting_user=county, campaign=campaign, staff=[county])
        address = url("item_list", campaign.pk)
        client.get(address)  # warm the session and the caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(address).status_code == 200
        return len(captured)

    few, many = queries_for(5, "少量单位"), queries_for(50, "大量单位")
    assert few == many
    assert many <= 16
