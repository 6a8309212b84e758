"""The verification API: campaigns with progress, items in keyset pages, marking with versions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from niangjia.utilities.testing.factories import EmployerFactory
from niangjia.utilities.testing.personas import Personas, Tree
from niangjia.verification import services
from niangjia.verification.choices import VerificationResult
from niangjia.verification.models import VerificationCampaign, VerificationItem


@pytest.fixture
def campaign(tree: Tree, personas: Personas) -> VerificationCampaign:
    for i in range(4):
        EmployerFactory(owner=tree.jiangan, name=f"武汉接口核查{i}有限公司")
    cadre = personas["county_cadre"]
    created = services.campaign_create(acting_user=cadre, union=tree.jiangan, name="接口核查")
    return services.campaign_open(acting_user=cadre, campaign=created)


def post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/verification{path}", json.dumps(body), content_type="application/json"
    )


def test_campaign_detail_carries_the_progress_per_person(
    campaign: VerificationCampaign, personas: Personas, api_client_for: Any
) -> None:
    cadre = personas["county_cadre"]
    services.campaign_split(
        acting_user=cadre, campaign=campaign, staff=[cadre], counts={cadre.pk: 3}
    )
    item = campaign.items.filter(assignee=cadre).first()
    assert item is not None
    services.item_mark(acting_user=cadre, item=item, result=VerificationResult.MOVED_AWAY)
    body = api_client_for(cadre).get(f"/api/v1/verification/campaigns/{campaign.pk}").json()
    assert body["item_count"] == 5 and body["state"] == "open" and body["state_label"] == "核查中"
    assert body["progress"]["overall"] == {
        "assignee": None,
        "assigned": 5,
        "done": 1,
        "pending": 4,
        "active": 0,
        "moved_away": 1,
        "deregistered": 0,
    }
    assert body["progress"]["people"][0]["assignee"] == {"id": cadre.pk, "name": "江岸区总干部"}
    assert body["progress"]["unassigned"]["assigned"] == 2


def test_items_come_in_keyset_pages_with_filters(
    campaign: VerificationCampaign, personas: Personas, api_client_for: Any
) -> None:
    client = api_client_for(personas["county_cadre"])
    address = f"/api/v1/verification/campaigns/{campaign.pk}/items"
    first = client.get(address, {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_after"] == first["items"][-1]["id"]
    seen = [i["id"] for i in first["items"]]
    cursor = first["next_after"]
    while cursor:
        page = client.get(address, {"limit": 2, "after": cursor}).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_after"]
    assert seen == sorted(campaign.items.values_list("pk", flat=True))
    found = client.get(address, {"q": "接口核查2"}).json()["items"]
    assert [i["employer"]["name"] for i in found] == ["武汉接口核查2有限公司"]
    assert client.get(address, {"result": "moved_away"}).json()["items"] == []
    assert client.get(address, {"unassigned": "true"}).json()["items"][0]["assignee"] is None


def test_marking_with_a_stale_version_is_a_conflict(
    campaign: VerificationCampaign, personas: Personas, api_client_for: Any
) -> None:
    client = api_client_for(personas["county_cadre"])
    item = campaign.items.order_by("id").first()
    assert item is not None
    ok = post(client, f"/items/{item.pk}/mark", {"result": "deregistered", "version": 1})
    assert ok.status_code == 200
    assert ok.json()["result"] == "deregistered" and ok.json()["version"] == 2
    assert ok.json()["checked_by"]["name"] == "江岸区总干部"
    stale = post(client, f"/items/{item.pk}/mark", {"result": "active", "version": 1})
    assert stale.status_code == 409
    assert "江岸区总干部" in stale.json()["detail"] and "“注销”" in stale.json()["detail"]
    assert VerificationItem.objects.get(pk=item.pk).result == VerificationResult.DEREGISTERED


def test_bad_marks_are_422_in_chinese(
    campaign: VerificationCampaign, personas: Personas, api_client_for: Any
) -> None:
    client = api_client_for(personas["county_cadre"])
    item = campaign.items.order_by("id").first()
    assert item is not None
    answer = post(client, f"/items/{item.pk}/mark", {"result": "closed", "version": 1})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"].startswith("核查结果：取值无效")
    missing = post(client, f"/items/{item.pk}/mark", {"result": "active"})
    assert missing.json()["detail"][0]["msg"] == "版本：必须填写"
    long = post(
        client, f"/items/{item.pk}/mark", {"result": "active", "version": 1, "note": "字" * 501}
    )
    assert long.json()["detail"][0]["msg"] == "备注：不能超过 500 个字符"
    services.campaign_close(acting_user=personas["county_cadre"], campaign=campaign)
    closed = post(client, f"/items/{item.pk}/mark", {"result": "active", "version": 1})
    assert closed.status_code == 422
    assert closed.json()["detail"][0]["msg"] == "核查结果：该核查已结束，不能标记"
