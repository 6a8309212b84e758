"""/api/v1/regions (reference data) and /api/v1/me (the caller and their scope)."""

from __future__ import annotations

from collections.abc import Callable

from niangjia.accounts.models import User
from niangjia.api.tests.helpers import JsonClient, errors_by_field
from niangjia.utilities.testing.personas import Tree

ApiAs = Callable[[User], JsonClient]


def codes(body: dict[str, object]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [item["code"] for item in items]


def test_regions_without_filters_are_the_provinces(worker: User, api_as: ApiAs) -> None:
    body = api_as(worker).get("/api/v1/regions", {"limit": 200}).json()

    assert body["count"] == 34
    assert codes(body)[:2] == ["110000", "120000"]


def test_regions_under_a_parent(worker: User, api_as: ApiAs) -> None:
    body = api_as(worker).get("/api/v1/regions", {"parent": "420100"}).json()

    assert "420102" in codes(body)
    assert all(code.startswith("4201") for code in codes(body))
    assert body["items"][0]["parent"] == {"code": "420100", "name": "武汉市", "level": "city"}


def test_regions_of_a_level_by_name(worker: User, api_as: ApiAs) -> None:
    body = api_as(worker).get("/api/v1/regions", {"level": "county", "q": "江岸"}).json()

    assert codes(body) == ["420102"]


def test_regions_under_an_unknown_parent(worker: User, api_as: ApiAs) -> None:
    response = api_as(worker).get("/api/v1/regions", {"parent": "990000"})

    assert errors_by_field(response) == {"parent": ["上级区划代码：行政区划代码“990000”不存在"]}


def test_region_detail(worker: User, api_as: ApiAs) -> None:
    body = api_as(worker).get("/api/v1/regions/420100").json()

    assert body["full_name"] == "湖北省武汉市"
    assert body["level_label"] == "地级"
    assert body["children_count"] == 13


def test_unknown_region_is_404_in_chinese(worker: User, api_as: ApiAs) -> None:
    response = api_as(worker).get("/api/v1/regions/990000")

    assert response.status_code == 404
    assert response.json() == {"detail": "行政区划代码“990000”不存在"}


def test_me_lists_roles_and_the_reach_of_each_action(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    body = api_as(county_cadre).get("/api/v1/me").json()

    assert body["full_name"] == "江岸区总干部"
    jiangan = {"id": tree.jiangan.pk, "name": "江岸区总工会", "level": "county"}
    assert body["roles"] == [
        {
            "union": jiangan,
            "role": "cadre",
            "role_label": "工会干部",
            "actions": ["add", "change", "export", "view"],
        }
    ]
    assert body["scope"] == {
        "view": [jiangan],
        "add": [jiangan],
        "change": [jiangan],
        "export": [jiangan],
    }


def test_me_of_an_auditor_reaches_only_view(tree: Tree, auditor: User, api_as: ApiAs) -> None:
    body = api_as(auditor).get("/api/v1/me").json()

    assert list(body["scope"]) == ["view"]


def test_me_of_a_worker_has_no_scope(worker: User, api_as: ApiAs) -> None:
    body = api_as(worker).get("/api/v1/me").json()

    assert (body["roles"], body["scope"]) == ([], {})
