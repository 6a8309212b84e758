"""/api/v1/unions: search, detail, paged children and the writes, with Chinese messages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from niangjia.accounts.models import User
from niangjia.api.tests.helpers import JsonClient, errors_by_field
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs.choices import UnionKind, UnionLevel, UnionStatus
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.testing.factories import make_uscc
from niangjia.utilities.testing.personas import Tree

API = "/api/v1/unions"
ApiAs = Callable[[User], JsonClient]


def add_grassroots(parent: Union, name: str, **fields: object) -> Union:
    node: Union = Union.objects.add_child(
        parent,
        instance=Union(
            name=name,
            level=UnionLevel.GRASSROOTS,
            kind=UnionKind.GRASSROOTS,
            region=parent.region,
            **fields,
        ),
    )
    parent.refresh_from_db()
    return node


def names(response_json: dict[str, object]) -> list[str]:
    items = response_json["items"]
    assert isinstance(items, list)
    return [item["name"] for item in items]


# --- Reading


def test_list_shows_only_the_callers_subtree(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    body = api_as(county_cadre).get(API).json()

    assert body["count"] == 2
    assert names(body) == [tree.jiangan.name, tree.jiangan_grassroots.name]


def test_search_by_name_and_by_credit_code(
    tree: Tree, provincial_cadre: User, api_as: ApiAs
) -> None:
    code = make_uscc(region_code="420102", prefix="81")
    Union.objects.filter(pk=tree.jiangan_grassroots.pk).update(uscc=code)
    api = api_as(provincial_cadre)

    assert names(api.get(API, {"q": "江岸"}).json()) == [tree.jiangan.name]
    assert names(api.get(API, {"q": code[:10].lower()}).json()) == [tree.jiangan_grassroots.name]


def test_filters_by_level_kind_parent_and_subtree(
    tree: Tree, provincial_cadre: User, api_as: ApiAs
) -> None:
    api = api_as(provincial_cadre)

    assert names(api.get(API, {"level": "county"}).json()) == [
        tree.jiangan.name,
        tree.jianghan.name,
    ]
    assert names(api.get(API, {"kind": "industry"}).json()) == [tree.transport_industry.name]
    assert names(api.get(API, {"parent": tree.wuhan.pk}).json()) == [
        tree.jiangan.name,
        tree.jianghan.name,
    ]
    assert names(api.get(API, {"within": tree.jianghan.pk}).json()) == [
        tree.jianghan.name,
        tree.jianghan_grassroots.name,
    ]


def test_status_filter(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    closed = add_grassroots(tree.jiangan, "已撤销的工会", status=UnionStatus.DISSOLVED)

    body = api_as(county_cadre).get(API, {"status": "dissolved"}).json()

    assert names(body) == [closed.name]


def test_list_pages_with_limit_and_offset(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    for i in range(5):
        add_grassroots(tree.jiangan, f"江岸第{i}工会")

    body = api_as(county_cadre).get(API, {"limit": 3, "offset": 3}).json()

    assert body["count"] == 7
    assert (body["limit"], body["offset"]) == (3, 3)
    assert len(body["items"]) == 3


def test_list_limit_above_200_is_refused_naming_the_field(
    county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).get(API, {"limit": 201})

    assert response.json()["detail"] == [
        {"loc": ["query", "limit"], "msg": "每页条数：不能大于 200", "type": "less_than_equal"}
    ]


def test_parent_filter_outside_the_scope_is_refused(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).get(API, {"parent": tree.jianghan.pk})

    assert errors_by_field(response) == {
        "parent": [f"上级工会：编号为 {tree.jianghan.pk} 的工会不存在或不在您的管辖范围内"]
    }


def test_detail_has_parent_and_figures(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    add_grassroots(tree.jiangan, "已合并的工会", status=UnionStatus.MERGED)

    body = api_as(county_cadre).get(f"{API}/{tree.jiangan.pk}").json()

    assert body["name"] == "江岸区总工会"
    assert body["level_label"] == "县级"
    assert body["region"] == {"code": "420102", "name": "江岸区", "level": "county"}
    assert body["parent"] == {"id": tree.wuhan.pk, "name": "武汉市总工会", "level": "city"}
    assert body["counts"] == {
        "children": 2,
        "children_by_level": {"grassroots": 2},
        "children_by_kind": {"grassroots": 2},
        "children_by_status": {"active": 1, "merged": 1},
        "employers_registered": 1,
        "employers_covered": 0,
    }


def test_county_cadre_cannot_read_the_sibling_countys_union(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    api = api_as(county_cadre)

    for url in (f"{API}/{tree.jianghan.pk}", f"{API}/{tree.jianghan_grassroots.pk}/children"):
        response = api.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "工会不存在或不在您的管辖范围内"}


def test_children_page_by_cursor_until_the_last(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    for i in range(6):
        add_grassroots(tree.jiangan, f"江岸第{i}工会")
    api = api_as(county_cadre)
    url = f"{API}/{tree.jiangan.pk}/children"

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = api.get(url, params).json()
        assert body["total"] == 7
        seen += names(body)
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == [tree.jiangan_grassroots.name] + [f"江岸第{i}工会" for i in range(6)]


def test_children_page_costs_the_same_for_many_children(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    api = api_as(county_cadre)
    url = f"{API}/{tree.jiangan.pk}/children"
    api.get(url)  # the token's first use is written once

    with CaptureQueriesContext(connection) as few:
        assert api.get(url, {"limit": 10}).status_code == 200
    for i in range(40):
        add_grassroots(tree.jiangan, f"江岸第{i:02d}工会")
    with CaptureQueriesContext(connection) as many:
        body = api.get(url, {"limit": 10}).json()

    assert len(body["items"]) == 10
    assert len(many.captured_queries) == len(few.captured_queries)


def test_tampered_children_cursor_is_refused(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).get(
        f"{API}/{tree.jiangan.pk}/children", {"cursor": tree.jianghan.path + "0001"}
    )

    assert errors_by_field(response) == {"cursor": ["翻页游标无效，请从第一页重新开始"]}


# --- Writing


def new_union(tree: Tree, **overrides: object) -> dict[str, object]:
    return {
        "parent": tree.jiangan.pk,
        "name": "武汉江岸食品有限公司工会",
        "level": "grassroots",
        "kind": "grassroots",
        "region": "420102",
        **overrides,
    }


def test_create_places_the_union_and_audits_it(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    code = make_uscc(region_code="420102", prefix="81")

    response = api_as(county_cadre).post(
        API, new_union(tree, name="  武汉江岸食品有限公司工会 ", uscc=code.lower())
    )

    assert response.status_code == 201
    body = response.json()
    union = Union.objects.get(pk=body["id"])
    assert union.name == "武汉江岸食品有限公司工会"
    assert union.uscc == code
    assert Union.objects.get_parent(union) == tree.jiangan
    assert body["parent"]["id"] == tree.jiangan.pk
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_id=str(union.pk))
    assert entry.actor == county_cadre


def test_create_without_name_names_the_field(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    body = new_union(tree)
    del body["name"]

    response = api_as(county_cadre).post(API, body)

    assert response.json()["detail"] == [
        {"loc": ["body", "name"], "msg": "名称：必须填写", "type": "missing"}
    ]


def test_create_with_blank_name_and_unknown_field(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).post(API, new_union(tree, name="   ", colour="红"))

    assert errors_by_field(response) == {
        "name": ["名称：不能为空"],
        "colour": ["colour：不是可识别的字段，请删去"],
    }


def test_create_with_a_level_outside_the_choices_lists_them(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).post(API, new_union(tree, level="village"))

    (message,) = errors_by_field(response)["level"]
    assert message.startswith("层级：取值无效，可选值：national, province")


def test_create_breaking_a_placement_rule_is_explained(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).post(API, new_union(tree, level="county", kind="federation"))

    errors = errors_by_field(response)
    assert "层级：县级工会不能设在县级工会“江岸区总工会”之下" in errors["level"]
    assert not Union.objects.filter(name="武汉江岸食品有限公司工会").exists()


def test_create_with_an_unknown_region_code(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).post(API, new_union(tree, region="990000"))

    assert errors_by_field(response) == {"region": ["所在行政区划：行政区划代码“990000”不存在"]}


def test_create_with_a_malformed_region_code(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).post(API, new_union(tree, region="42-01"))

    assert errors_by_field(response) == {"region": ["所在行政区划：格式不正确"]}


def test_create_with_a_wrong_credit_code_check_character(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    code = make_uscc(region_code="420102", prefix="81")
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")

    response = api_as(county_cadre).post(API, new_union(tree, uscc=wrong))

    (message,) = errors_by_field(response)["uscc"]
    assert message.startswith("统一社会信用代码校验位不正确")


def test_create_with_an_industry_union_outside_the_scope(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).post(
        API, new_union(tree, industry_union=tree.transport_industry.pk)
    )

    pk = tree.transport_industry.pk
    assert errors_by_field(response) == {
        "industry_union": [f"所属产业工会：编号为 {pk} 的工会不存在或不在您的管辖范围内"]
    }


def test_create_with_control_characters_is_refused(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).post(API, new_union(tree, name="工会\x00名"))

    assert errors_by_field(response) == {"name": ["名称：含有不允许的控制字符"]}


def test_update_changes_only_the_fields_sent(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    Union.objects.filter(pk=tree.jiangan.pk).update(contact_phone="027-82800000")

    response = api_as(county_cadre).patch(
        f"{API}/{tree.jiangan.pk}", {"address": "武汉市江岸区沿江大道 1 号"}
    )

    assert response.status_code == 200
    tree.jiangan.refresh_from_db()
    assert tree.jiangan.address == "武汉市江岸区沿江大道 1 号"
    assert tree.jiangan.contact_phone == "027-82800000"
    entry = AuditEntry.objects.get(action=AuditAction.CHANGE, object_id=str(tree.jiangan.pk))
    assert entry.after == {"address": "武汉市江岸区沿江大道 1 号"}


def test_update_null_clears_a_field_that_may_be_empty(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    code = make_uscc(region_code="420102", prefix="81")
    Union.objects.filter(pk=tree.jiangan.pk).update(uscc=code)

    response = api_as(county_cadre).patch(f"{API}/{tree.jiangan.pk}", {"uscc": None})

    assert response.status_code == 200
    assert response.json()["uscc"] is None


def test_update_cannot_null_the_name(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).patch(f"{API}/{tree.jiangan.pk}", {"name": None})

    assert errors_by_field(response) == {"name": ["名称：应为文本"]}


def test_update_region_must_match_the_level(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).patch(f"{API}/{tree.jiangan.pk}", {"region": "420100"})

    (message,) = errors_by_field(response)["region"]
    assert "县级总工会应对应县级行政区划" in message


def test_refused_update_leaves_a_denial_row(tree: Tree, auditor: User, api_as: ApiAs) -> None:
    response = api_as(auditor).patch(f"{API}/{tree.jiangan.pk}", {"address": "不该写入"})

    assert response.status_code == 403
    assert response.json() == {"detail": "您没有对“江岸区总工会”执行此操作的权限"}
    entry = AuditEntry.objects.get(action=AuditAction.PERMISSION_DENIED)
    assert entry.actor == auditor
    assert entry.object_id == str(tree.jiangan.pk)
    assert entry.union_path == tree.jiangan.path
    assert entry.detail["method"] == "PATCH"
    tree.jiangan.refresh_from_db()
    assert tree.jiangan.address == ""


def test_move_takes_the_subtree_along(tree: Tree, provincial_cadre: User, api_as: ApiAs) -> None:
    joint: Union = Union.objects.add_child(
        tree.jianghan,
        instance=Union(name="江汉区联合工会", level=UnionLevel.TOWNSHIP, kind=UnionKind.JOINT),
    )

    response = api_as(provincial_cadre).post(
        f"{API}/{tree.jiangan_grassroots.pk}/move", {"parent": joint.pk}
    )

    assert response.status_code == 200
    assert response.json()["parent"]["id"] == joint.pk
    moved = Union.objects.get(pk=tree.jiangan_grassroots.pk)
    assert moved.path.startswith(joint.path)
    assert AuditEntry.objects.filter(action=AuditAction.MOVE, object_id=str(moved.pk)).exists()


def test_move_under_a_parent_outside_the_scope(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).post(
        f"{API}/{tree.jiangan_grassroots.pk}/move", {"parent": tree.jianghan.pk}
    )

    assert errors_by_field(response) == {
        "parent": [f"新上级工会：编号为 {tree.jianghan.pk} 的工会不存在或不在您的管辖范围内"]
    }


def test_move_under_its_own_descendant_is_refused(
    tree: Tree, provincial_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(provincial_cadre).post(
        f"{API}/{tree.wuhan.pk}/move", {"parent": tree.jiangan.pk}
    )

    assert errors_by_field(response)["parent"] == ["新上级工会：不能把工会移到它自己或它的下级之下"]


def test_merge_moves_children_and_employers_to_the_target(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    source = add_grassroots(tree.jiangan, "武汉长江机械二厂工会")
    employer = Employer.objects.get(pk=tree.jiangan_employer.pk)
    employer.covering_union = source
    employer.save()

    response = api_as(county_cadre).post(
        f"{API}/{source.pk}/merge", {"target": tree.jiangan_grassroots.pk}
    )

    assert response.status_code == 200
    assert response.json()["id"] == tree.jiangan_grassroots.pk
    source.refresh_from_db()
    assert source.status == UnionStatus.MERGED
    assert source.merged_into_id == tree.jiangan_grassroots.pk
    employer.refresh_from_db()
    assert employer.covering_union_id == tree.jiangan_grassroots.pk


def test_merge_of_different_levels_is_refused(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).post(
        f"{API}/{tree.jiangan_grassroots.pk}/merge", {"target": tree.jiangan.pk}
    )

    assert errors_by_field(response) == {"target": ["并入的工会：只能合并同层级、同类型的工会"]}


def test_merge_into_a_union_outside_the_scope(
    tree: Tree, county_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(county_cadre).post(
        f"{API}/{tree.jiangan_grassroots.pk}/merge", {"target": tree.jianghan_grassroots.pk}
    )

    pk = tree.jianghan_grassroots.pk
    assert errors_by_field(response) == {
        "target": [f"并入的工会：编号为 {pk} 的工会不存在或不在您的管辖范围内"]
    }


def test_dissolve_records_the_reason(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    response = api_as(county_cadre).post(
        f"{API}/{tree.jiangan_grassroots.pk}/dissolve", {"reason": "企业破产清算"}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "dissolved"
    entry = AuditEntry.objects.get(action=AuditAction.DISSOLVE)
    assert entry.detail["reason"] == "企业破产清算"


@pytest.mark.parametrize("reason", ["", "   "])
def test_dissolve_needs_a_reason(
    tree: Tree, county_cadre: User, api_as: ApiAs, reason: str
) -> None:
    response = api_as(county_cadre).post(
        f"{API}/{tree.jiangan_grassroots.pk}/dissolve", {"reason": reason}
    )

    assert errors_by_field(response) == {"reason": ["撤销原因：不能为空"]}


def test_dissolve_of_a_federation_with_active_children_is_refused(
    tree: Tree, provincial_cadre: User, api_as: ApiAs
) -> None:
    response = api_as(provincial_cadre).post(
        f"{API}/{tree.jiangan.pk}/dissolve", {"reason": "区划调整"}
    )

    (message,) = errors_by_field(response)["reason"]
    assert "还有 1 个存续的下级工会" in message


def test_delete_of_an_empty_union(tree: Tree, national_admin: User, api_as: ApiAs) -> None:
    empty = add_grassroots(tree.jiangan, "误建的工会")

    response = api_as(national_admin).delete(f"{API}/{empty.pk}")

    assert response.status_code == 204
    assert not Union.objects.filter(pk=empty.pk).exists()
    assert AuditEntry.objects.filter(action=AuditAction.DELETE, object_id=str(empty.pk)).exists()


def test_delete_of_a_union_with_children_explains_why_not(
    tree: Tree, national_admin: User, api_as: ApiAs
) -> None:
    response = api_as(national_admin).delete(f"{API}/{tree.jiangan.pk}")

    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert item["loc"] == ["path"]
    assert item["msg"].startswith("该工会不能删除（有 1 个下级工会")
    assert Union.objects.filter(pk=tree.jiangan.pk).exists()


def test_list_costs_the_same_for_many_unions(tree: Tree, county_cadre: User, api_as: ApiAs) -> None:
    api = api_as(county_cadre)
    api.get(API)  # the token's first use is written once

    with CaptureQueriesContext(connection) as few:
        api.get(API)
    for i in range(20):
        add_grassroots(tree.jiangan, f"江岸第{i:02d}工会", industry_union=tree.transport_industry)
    with CaptureQueriesContext(connection) as many:
        assert api.get(API).json()["count"] == 22

    assert len(many.captured_queries) == len(few.captured_queries)
