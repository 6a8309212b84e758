"""The shape of error answers, and the OpenAPI schema and docs page served offline."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from niangjia.accounts.models import User
from niangjia.api.tests.helpers import JsonClient
from niangjia.orgs import selectors
from niangjia.utilities.testing.personas import Tree

ApiAs = Callable[[User], JsonClient]


def test_a_body_that_is_not_json_is_400_in_chinese(county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).client.post(
        "/api/v1/unions", "{不是 JSON", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "请求体无法解析，请发送 UTF-8 编码的 JSON"}


def test_a_body_that_is_not_an_object(county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).post("/api/v1/unions", [1, 2])

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body"], "msg": "请求体：应为 JSON 对象", "type": "model_attributes_type"}
    ]


def test_schema_and_service_errors_share_one_shape(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    api = api_as(county_cadre)
    schema_error = api.post("/api/v1/unions", {"parent": tree.jiangan.pk}).json()["detail"][0]
    dissolve = f"/api/v1/unions/{tree.jiangan_grassroots.pk}/dissolve"
    assert api.post(dissolve, {"reason": "企业注销"}).status_code == 200
    service_error = api.post(dissolve, {"reason": "再次撤销"}).json()["detail"][0]

    assert set(schema_error) == set(service_error) == {"loc", "msg", "type"}
    assert service_error["loc"] == ["body", "reason"]
    assert service_error["msg"] == "撤销原因：该工会已撤销"


def test_path_id_out_of_range_is_422_not_a_crash(county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).get(f"/api/v1/unions/{2**70}")

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == f"工会编号：不能大于 {2**63 - 1}"


def test_an_unexpected_error_is_a_json_500_with_the_request_id(
    county_cadre: User, api_as: ApiAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "union_list", broken)

    response = api_as(county_cadre).get("/api/v1/unions")

    assert response.status_code == 500
    assert response.json()["detail"].startswith("服务器内部错误")
    assert response["X-Request-ID"] in response.json()["detail"]


def test_openapi_schema_describes_every_operation(db: None) -> None:
    schema = Client().get("/api/v1/openapi.json").json()

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "娘家工会平台 API"
    operations = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, item in schema["paths"].items()
        for method in item
    }
    assert operations == {
        ("GET", "/me"),
        ("GET", "/regions"),
        ("GET", "/regions/{code}"),
        ("GET", "/unions"),
        ("POST", "/unions"),
        ("GET", "/unions/{union_id}"),
        ("PATCH", "/unions/{union_id}"),
        ("DELETE", "/unions/{union_id}"),
        ("GET", "/unions/{union_id}/children"),
        ("POST", "/unions/{union_id}/move"),
        ("POST", "/unions/{union_id}/merge"),
        ("POST", "/unions/{union_id}/dissolve"),
        ("GET", "/employers"),
        ("POST", "/employers"),
        ("GET", "/employers/{employer_id}"),
        ("PATCH", "/employers/{employer_id}"),
        ("POST", "/unions/{union_id}/join-applications"),
        ("GET", "/members"),
        ("POST", "/members/search"),
        ("GET", "/members/{member_id}"),
        ("POST", "/members/{member_id}/reveal"),
        ("POST", "/members/{member_id}/status"),
        ("POST", "/members/{member_id}/transfer"),
        ("GET", "/applications"),
        ("POST", "/applications/bulk"),
        ("GET", "/applications/{application_id}"),
        ("POST", "/applications/{application_id}/approve"),
        ("POST", "/applications/{application_id}/reject"),
        ("GET", "/transfers"),
        ("POST", "/transfers/{transfer_id}/accept"),
        ("POST", "/transfers/{transfer_id}/refuse"),
        ("POST", "/transfers/{transfer_id}/cancel"),
        ("GET", "/ceremonies"),
        ("GET", "/ceremonies/{ceremony_id}"),
        ("GET", "/verification/campaigns"),
        ("GET", "/verification/campaigns/{campaign_id}"),
        ("GET", "/verification/campaigns/{campaign_id}/items"),
        ("POST", "/verification/items/{item_id}/mark"),
        ("GET", "/jobs/{job_id}"),
        ("POST", "/jobs/{job_id}/cancel"),
        ("GET", "/imports"),
        ("GET", "/imports/{run_id}"),
        ("GET", "/imports/{run_id}/problems"),
        ("POST", "/imports/{run_id}/dry-run"),
        ("POST", "/imports/{run_id}/commit"),
        ("GET", "/stats/indicators"),
        ("GET", "/stats/nodes/{node_id}/figures"),
        ("GET", "/stats/nodes/{node_id}/children"),
        ("GET", "/stats/nodes/{node_id}/trend"),
        ("GET", "/relief/files"),
        ("POST", "/relief/files"),
        ("GET", "/relief/files/{file_id}"),
        ("GET", "/relief/assistance"),
        ("POST", "/relief/files/{file_id}/assistance"),
        ("POST", "/relief/assistance/{assistance_id}/approve"),
        ("POST", "/relief/assistance/{assistance_id}/second-approve"),
        ("POST", "/relief/assistance/{assistance_id}/pay"),
        ("GET", "/relief/funds"),
        ("GET", "/relief/funds/{fund_id}/usage"),
        ("GET", "/relief/batches"),
        ("POST", "/relief/batches"),
        ("GET", "/relief/batches/{batch_id}"),
        ("POST", "/relief/batches/{batch_id}/approve"),
        ("POST", "/relief/batches/{batch_id}/post"),
        ("GET", "/relief/thresholds"),
        ("GET", "/relief/rules"),
        ("GET", "/relief/files/{file_id}/plan"),
        ("POST", "/relief/files/{file_id}/income-checks"),
        ("GET", "/relief/relapse-checks"),
        ("POST", "/relief/files/{file_id}/objections"),
        ("GET", "/relief/attachments/{attachment_id}"),
    }
    schemes = schema["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}


def test_docs_page_loads_nothing_from_another_host(db: None) -> None:
    response = Client().get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert '"validatorUrl": null' in html
    assets = re.findall(r"""(?:src|href)=["']/static/([^"']+)["']""", html)
    assert "ninja/swagger-ui-bundle.js" in assets
    for asset in assets:
        assert finders.find(asset), f"{asset} is not shipped with the static files"
