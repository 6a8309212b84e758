"""/api/v1/employers: filters, detail, registration and edits, with Chinese messages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from niangjia.accounts.models import User
from niangjia.api.tests.helpers import JsonClient, errors_by_field
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs.choices import EmployerStatus, IndustrySection, OwnershipType
from niangjia.orgs.models import Employer, Region
from niangjia.utilities.testing.factories import make_uscc, wrong_check_character
from niangjia.utilities.testing.personas import Tree

API = "/api/v1/employers"
ApiAs = Callable[[User], JsonClient]


def names(body: dict[str, object]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [item["name"] for item in items]


def unorganised_employer(tree: Tree, **fields: object) -> Employer:
    values: dict[str, object] = {
        "name": "武汉江岸小微贸易商行",
        "region": Region.objects.get(code="420102"),
        "industry_section": IndustrySection.F,
        "ownership": OwnershipType.INDIVIDUAL,
        "headcount": 6,
        "owner": tree.jiangan,
    }
    values.update(fields)
    return Employer.objects.create(**values)


# --- Reading


def test_county_cadre_cannot_read_the_sibling_countys_employer(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    api = api_as(county_cadre)

    response = api.get(f"{API}/{tree.jianghan_employer.pk}")

    assert response.status_code == 404
    assert response.json() == {"detail": "用人单位不存在或不在您的管辖范围内"}
    assert names(api.get(API, {"q": "汉江"}).json()) == []


def test_detail_shows_owner_and_covering_union(
    tree: Tree, grassroots_cadre: User, api_as: ApiAs
) -> None:
    body = api_as(grassroots_cadre).get(f"{API}/{tree.jiangan_employer.pk}").json()

    assert body["name"] == "武汉长江机械有限公司"
    assert body["owner"] == {"id": tree.jiangan.pk, "name": "江岸区总工会", "level": "county"}
    assert body["covering_union"]["id"] == tree.jiangan_grassroots.pk
    assert body["is_organised"] is True
    assert body["industry_section_label"] == "C 制造业"


def test_filters_by_organised_status_and_union(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    unorganised_employer(tree)
    unorganised_employer(tree, name="已迁出的单位", status=EmployerStatus.MOVED_AWAY)
    api = api_as(county_cadre)

    assert names(api.get(API, {"organised": "true"}).json()) == ["武汉长江机械有限公司"]
    assert names(api.get(API, {"organised": "false", "status": "active"}).json()) == [
        "武汉江岸小微贸易商行"
    ]
    assert names(api.get(API, {"covering_union": tree.jiangan_grassroots.pk}).json()) == [
        "武汉长江机械有限公司"
    ]
    assert api.get(API, {"owner": tree.jiangan.pk}).json()["count"] == 3


def test_region_filter_includes_the_regions_inside(
    tree: Tree, provincial_cadre: User, api_as: ApiAs
) -> None:
    api = api_as(provincial_cadre)

    assert api.get(API, {"region": "420100"}).json()["count"] == 2
    assert names(api.get(API, {"region": "420103"}).json()) == ["武汉汉江物流有限公司"]
    assert api.get(API, {"region": "110000"}).json()["count"] == 0


def test_search_by_credit_code_prefix(tree: Tree, provincial_cadre: User, api_as: ApiAs) -> None:
    code = tree.jianghan_employer.uscc
    assert code is not None

    body = api_as(provincial_cadre).get(API, {"q": code[:12]}).json()

    assert names(body) == ["武汉汉江物流有限公司"]


def test_owner_filter_outside_the_scope_is_refused(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).get(API, {"owner": tree.jianghan.pk})

    assert errors_by_field(response) == {
        "owner": [f"管理工会：编号为 {tree.jianghan.pk} 的工会不存在或不在您的管辖范围内"]
    }


def test_filter_with_a_bad_boolean(county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).get(API, {"organised": "也许"})

    assert errors_by_field(response) == {"organised": ["是否已建会：应为 true 或 false"]}


# --- Writing


def new_employer(tree: Tree, **overrides: object) -> dict[str, object]:
    return {
        "name": "武汉江岸食品有限公司",
        "uscc": make_uscc(region_code="420102"),
        "region": "420102",
        "industry_section": "C",
        "ownership": "private",
        "headcount": 45,
        "owner": tree.jiangan.pk,
        **overrides,
    }


def test_create_registers_the_employer_and_audits_it(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).post(
        API, new_employer(tree, covering_union=tree.jiangan_grassroots.pk)
    )

    assert response.status_code == 201
    employer = Employer.objects.get(pk=response.json()["id"])
    assert employer.owner == tree.jiangan
    assert employer.covering_union == tree.jiangan_grassroots
    assert employer.created_by == county_cadre
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id=str(employer.pk)).exists()


def test_create_with_a_wrong_check_character(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    wrong = wrong_check_character(make_uscc(region_code="420102"))

    response = api_as(county_cadre).post(API, new_employer(tree, uscc=wrong))

    (message,) = errors_by_field(response)["uscc"]
    assert message.startswith("统一社会信用代码校验位不正确")


def test_historical_code_needs_a_reason(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    wrong = wrong_check_character(make_uscc(region_code="420102"))

    response = api_as(county_cadre).post(API, new_employer(tree, uscc=wrong, uscc_override=True))

    assert errors_by_field(response) == {
        "uscc_override_reason": ["例外原因：历史代码未通过校验，保存时必须填写例外原因"]
    }


def test_duplicate_credit_code_is_refused(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).post(API, new_employer(tree, uscc=tree.jiangan_employer.uscc))

    (message,) = errors_by_field(response)["uscc"]
    assert "已存在" in message


def test_create_with_missing_and_wrong_fields_names_each(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    body = new_employer(tree, headcount=-1, ownership="妈妈店")
    del body["industry_section"]

    response = api_as(county_cadre).post(API, body)

    errors = errors_by_field(response)
    assert errors["industry_section"] == ["行业门类：必须填写"]
    assert errors["headcount"] == ["职工人数：不能小于 0"]
    assert errors["ownership"][0].startswith("经济类型：取值无效，可选值：state")


def test_covering_union_must_be_a_grassroots_union(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).post(API, new_employer(tree, covering_union=tree.jiangan.pk))

    assert errors_by_field(response) == {
        "covering_union": ["所属基层工会：“江岸区总工会”不是基层工会或联合基层工会"]
    }


def test_auditor_may_not_register_employers(tree: Tree, auditor: User, api_as: ApiAs) -> None:
    response = api_as(auditor).post(API, new_employer(tree))

    assert response.status_code == 403
    assert not Employer.objects.filter(name="武汉江岸食品有限公司").exists()
    entry = AuditEntry.objects.get(action=AuditAction.PERMISSION_DENIED)
    assert entry.union_path == tree.jiangan.path


def test_update_changes_only_the_fields_sent(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).patch(
        f"{API}/{tree.jiangan_employer.pk}", {"headcount": 330, "status": "moved_away"}
    )

    assert response.status_code == 200
    employer = Employer.objects.get(pk=tree.jiangan_employer.pk)
    assert (employer.headcount, employer.status) == (330, EmployerStatus.MOVED_AWAY)
    assert employer.name == "武汉长江机械有限公司"
    entry = AuditEntry.objects.get(action=AuditAction.CHANGE, object_id=str(employer.pk))
    assert entry.after == {"headcount": 330, "status": "moved_away"}


def test_update_can_uncover_an_employer(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).patch(
        f"{API}/{tree.jiangan_employer.pk}", {"covering_union": None}
    )

    assert response.status_code == 200
    assert response.json()["is_organised"] is False


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": None}, "name", "单位名称：应为文本"),
        ({"name": ""}, "name", "单位名称：不能为空"),
        ({"headcount": 3_000_000_000}, "headcount", "职工人数：不能大于 2147483647"),
        ({"region": None}, "region", "所在行政区划：应为文本"),
    ],
)
def test_update_with_bad_values_names_the_field(
    tree: Tree, county_cadre: User, api_as: ApiAs, body: dict[str, object], field: str, message: str
) -> None:
    response = api_as(county_cadre).patch(f"{API}/{tree.jiangan_employer.pk}", body)

    assert errors_by_field(response) == {field: [message]}


def test_update_cannot_hand_the_employer_to_a_union_outside_the_scope(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).patch(
        f"{API}/{tree.jiangan_employer.pk}", {"owner": tree.jianghan.pk}
    )

    assert errors_by_field(response) == {
        "owner": [f"管理工会：编号为 {tree.jianghan.pk} 的工会不存在或不在您的管辖范围内"]
    }
    assert Employer.objects.get(pk=tree.jiangan_employer.pk).owner == tree.jiangan


def test_list_costs_the_same_for_many_employers(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    api = api_as(county_cadre)
    api.get(API)  # the token's first use is written once

    with CaptureQueriesContext(connection) as few:
        api.get(API)
    for i in range(20):
        unorganised_employer(tree, name=f"江岸商行{i:02d}", covering_union=tree.jiangan_grassroots)
    with CaptureQueriesContext(connection) as many:
        assert api.get(API).json()["count"] == 21

    assert len(many.captured_queries) == len(few.captured_queries)
