"""The cadre pages of the organisation registry, persona by persona.

The tree and the personas come from ``niangjia/conftest.py`` (see
``niangjia.utilities.testing.personas``): the county cadre holds 江岸区总工会, the sibling
cadre 江汉区总工会, the auditor views 湖北省总工会 read-only.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs import services
from niangjia.orgs.choices import UnionStatus
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.testing.factories import (
    EmployerFactory,
    UnionFactory,
    make_uscc,
    wrong_check_character,
)

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(f"orgs:{name}", args=args)


def text(response: Any) -> str:
    return response.content.decode()


def option_values(html: str, name: str) -> set[str]:
    """The option values of the select named ``name`` in ``html``."""
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select {name}"
    return set(re.findall(r'<option value="([^"]*)"', match.group(1))) - {""}


def field_errors(response: Any, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def grassroots_data(**overrides: Any) -> dict[str, str]:
    data = {"name": "武汉江岸新建公司工会", "kind": "grassroots", "level": "grassroots"}
    data.update(overrides)
    return data


def employer_data(owner: Union, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "武汉新登记科技有限公司",
        "uscc": make_uscc(region_code="420102", serial=777),
        "region": "420102",
        "industry_section": "I",
        "ownership": "private",
        "headcount": "40",
        "status": "active",
        "owner": str(owner.pk),
        "covering_union": "",
        "address": "武汉市江岸区中山大道 1 号",
    }
    data.update(overrides)
    return data


# --- Everyone must sign in


def _all_get_urls(tree: Any) -> list[str]:
    u, e = tree.jiangan, tree.jiangan_employer
    return [
        url("union_tree"),
        url("union_lookup"),
        url("union_detail", u.pk),
        url("union_children", u.pk),
        url("union_create", u.pk),
        url("union_edit", u.pk),
        url("union_move", u.pk),
        url("union_merge", u.pk),
        url("union_dissolve", u.pk),
        url("union_delete", u.pk),
        url("union_export", u.pk),
        url("region_children"),
        url("employer_list"),
        url("employer_create"),
        url("employer_export"),
        url("employer_detail", e.pk),
        url("employer_edit", e.pk),
    ]


def test_anonymous_visitors_are_sent_to_login_on_every_page(tree, client_for):
    client = client_for(None)
    for address in _all_get_urls(tree):
        response = client.get(address)
        assert response.status_code == 302, address
        assert response["Location"].startswith(reverse("login")), address


def test_sibling_cadre_gets_404_for_every_page_of_another_county(tree, sibling_cadre, client_for):
    client = client_for(sibling_cadre)
    pages = [
        address
        for address in _all_get_urls(tree)
        if re.search(r"/\d+/", address)  # the pages about one object
    ]
    assert len(pages) == 11
    for address in pages:
        assert client.get(address).status_code == 404, address


def test_auditor_is_refused_every_write_page_with_403(tree, auditor, client_for):
    client = client_for(auditor)
    u, e = tree.jiangan, tree.jiangan_employer
    for address in [
        url("union_create", u.pk),
        url("union_edit", u.pk),
        url("union_move", u.pk),
        url("union_merge", u.pk),
        url("union_dissolve", u.pk),
        url("union_delete", u.pk),
        url("employer_create"),
        url("employer_edit", e.pk),
    ]:
        assert client.get(address).status_code == 403, address
    response = client.post(url("union_edit", u.pk), {"name": "审计员改名"})
    assert response.status_code == 403
    assert Union.objects.get(pk=u.pk).name == "江岸区总工会"


# --- The union tree


def test_county_cadre_tree_starts_at_their_own_county(tree, county_cadre, client_for):
    response = client_for(county_cadre).get(url("union_tree"))
    assert response.status_code == 200
    assert [u.name for u in response.context["roots"]] == ["江岸区总工会"]
    html = text(response)
    assert url("union_children", tree.jiangan.pk) in html
    assert "江汉区总工会" not in html
    assert "湖北省总工会" not in html


def test_provincial_cadre_tree_starts_at_the_province(tree, provincial_cadre, client_for):
    response = client_for(provincial_cadre).get(url("union_tree"))
    assert [u.name for u in response.context["roots"]] == ["湖北省总工会"]
    assert "下级 2" in text(response)  # 武汉市总工会 and the transport industry union


def test_worker_without_roles_sees_an_empty_tree(tree, worker, client_for):
    response = client_for(worker).get(url("union_tree"))
    assert response.status_code == 200
    assert response.context["roots"] == []
    assert "没有可查看的工会" in text(response)


def test_children_fragment_lists_rows_with_badges_and_counts(tree, provincial_cadre, client_for):
    response = client_for(provincial_cadre).get(url("union_children", tree.wuhan.pk))
    assert response.status_code == 200
    html = text(response)
    assert "江岸区总工会" in html and "江汉区总工会" in html
    assert "县级" in html and "地方总工会" in html and "存续" in html
    assert url("union_children", tree.jiangan.pk) in html  # expandable: it has a child
    assert "加载更多" not in html


def test_children_endpoint_pages_by_path_through_more_than_a_page(
    tree, county_cadre, client_for, settings
):
    settings.ORG_CHILDREN_PAGE_SIZE = 10
    for _ in range(24):
        UnionFactory(parent=tree.jiangan)
    expected = set(
        Union.objects.filter(
            path__startswith=tree.jiangan.path, depth=tree.jiangan.depth + 1
        ).values_list("name", flat=True)
    )
    assert len(expected) == 25
    client = client_for(county_cadre)
    seen: list[str] = []
    next_url: str | None = url("union_children", tree.jiangan.pk)
    pages = 0
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200
        rows = response.context["children"]
        assert len(rows) <= 10
        seen.extend(u.name for u in rows)
        next_url = response.context["next_url"]
        if next_url:
            assert "加载更多" in text(response)
            assert "after=" in next_url
        pages += 1
    assert pages == 3
    assert len(seen) == 25 and set(seen) == expected


def test_children_endpoint_answers_json_pages_too(tree, county_cadre, client_for, settings):
    settings.ORG_CHILDREN_PAGE_SIZE = 10
    for _ in range(11):
        UnionFactory(parent=tree.jiangan)
    client = client_for(county_cadre)
    first = client.get(url("union_children", tree.jiangan.pk), {"format": "json"}).json()
    assert first["total"] == 12
    assert len(first["results"]) == 10
    assert first["results"][0]["level_label"] == "基层"
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    names = [r["name"] for r in first["results"] + second["results"]]
    assert len(set(names)) == 12


def test_children_endpoint_rejects_a_cursor_of_another_parent(tree, provincial_cadre, client_for):
    response = client_for(provincial_cadre).get(
        url("union_children", tree.jiangan.pk), {"after": tree.jianghan_grassroots.path}
    )
    assert response.status_code == 400
    assert "翻页游标无效" in text(response)


def test_children_query_count_does_not_grow_with_rows(
    tree, county_cadre, client_for, settings, django_assert_max_num_queries
):
    settings.ORG_CHILDREN_PAGE_SIZE = 50
    client = client_for(county_cadre)
    client.get(url("union_children", tree.jiangan.pk))  # session warmed up
    with django_assert_max_num_queries(10) as few:
        client.get(url("union_children", tree.jiangan.pk))
    for _ in range(40):
        UnionFactory(parent=tree.jiangan)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("union_children", tree.jiangan.pk))
    assert len(response.context["children"]) == 41


def test_search_stays_within_the_cadres_scope(tree, county_cadre, provincial_cadre, client_for):
    county = client_for(county_cadre).get(url("union_tree"), {"q": "有限公司工会"})
    assert [u.name for u in county.context["results"].items] == ["武汉长江机械有限公司工会"]
    assert "武汉汉江物流有限公司工会" not in text(county)
    province = client_for(provincial_cadre).get(url("union_tree"), {"q": "有限公司工会"})
    assert {u.name for u in province.context["results"].items} == {
        "武汉长江机械有限公司工会",
        "武汉汉江物流有限公司工会",
    }


def test_search_hits_show_their_path_linking_only_ancestors_in_scope(
    tree, county_cadre, client_for
):
    response = client_for(county_cadre).get(url("union_tree"), {"q": "长江"})
    hit = response.context["results"].items[0]
    assert [c.name for c in hit.crumbs] == [
        "中华全国总工会",
        "湖北省总工会",
        "武汉市总工会",
        "江岸区总工会",
    ]
    assert [c.linked for c in hit.crumbs] == [False, False, False, True]
    html = text(response)
    assert f'href="{url("union_detail", tree.jiangan.pk)}"' in html
    assert f'href="{url("union_detail", tree.wuhan.pk)}"' not in html


def test_search_matches_latin_letters_in_any_case_and_credit_code_prefix(
    tree, county_cadre, client_for
):
    UnionFactory(parent=tree.jiangan, name="武汉ABC科技公司工会")
    code = make_uscc(region_code="420102", serial=4242, prefix="81")
    Union.objects.filter(pk=tree.jiangan_grassroots.pk).update(uscc=code)
    client = client_for(county_cadre)
    by_name = client.get(url("union_tree"), {"q": "abc"})
    assert [u.name for u in by_name.context["results"].items] == ["武汉ABC科技公司工会"]
    by_code = client.get(url("union_tree"), {"q": code[:12].lower()})
    assert [u.name for u in by_code.context["results"].items] == ["武汉长江机械有限公司工会"]


def test_search_results_are_paged(tree, county_cadre, client_for):
    for n in range(25):
        UnionFactory(parent=tree.jiangan, name=f"江岸测试{n:02d}公司工会")
    client = client_for(county_cadre)
    first = client.get(url("union_tree"), {"q": "江岸测试"})
    assert first.context["results"].total == 25
    assert len(first.context["results"].items) == 20
    second = client.get(url("union_tree"), {"q": "江岸测试", "page": "2"})
    assert len(second.context["results"].items) == 5
    names = {u.name for u in first.context["results"].items + second.context["results"].items}
    assert len(names) == 25


# --- Union detail


def test_county_cadre_sees_the_detail_of_their_county(tree, county_cadre, client_for):
    response = client_for(county_cadre).get(url("union_detail", tree.jiangan.pk))
    assert response.status_code == 200
    html = text(response)
    assert "湖北省武汉市江岸区" in html  # region full name
    assert "武汉长江机械有限公司工会" in html  # its child
    assert "武汉长江机械有限公司" in html  # employer registered here
    figures = response.context["figures"]
    assert figures["children"] == 1
    assert figures["children_by_level"] == [("基层", 1)]
    assert figures["grassroots_in_subtree"] == 1
    assert figures["employers_in_subtree"] == 1
    assert figures["formation_rate"] == 100.0
    assert "100.0%" in html
    for label in ("新建下级工会", "编辑", "移动", "合并", "撤销", "导出工会名册"):
        assert label in html
    assert url("union_delete", tree.jiangan.pk) not in html  # cadres may not delete


def test_detail_figures_count_employers_covered_from_elsewhere_and_the_unorganised(
    tree, county_cadre, provincial_cadre, client_for
):
    EmployerFactory(owner=tree.jiangan, name="江岸未建会商贸有限公司")
    EmployerFactory(owner=tree.hubei, covering_union=tree.jiangan_grassroots)
    EmployerFactory(owner=tree.jiangan, status="deregistered")  # not counted
    figures = client_for(county_cadre).get(url("union_detail", tree.jiangan.pk)).context["figures"]
    assert figures["employers_in_subtree"] == 3
    assert figures["employers_organised"] == 2
    assert round(figures["formation_rate"], 1) == 66.7
    industry = client_for(provincial_cadre).get(url("union_detail", tree.transport_industry.pk))
    assert industry.context["figures"]["grassroots_in_subtree"] == 1  # linked, not by path


def test_breadcrumbs_link_only_ancestors_within_the_scope(tree, county_cadre, client_for):
    response = client_for(county_cadre).get(url("union_detail", tree.jiangan_grassroots.pk))
    crumbs = response.context["crumbs"]
    assert [(c.name, c.linked) for c in crumbs] == [
        ("中华全国总工会", False),
        ("湖北省总工会", False),
        ("武汉市总工会", False),
        ("江岸区总工会", True),
    ]
    html = text(response)
    assert f'<a href="{url("union_detail", tree.jiangan.pk)}">江岸区总工会</a>' in html
    assert f'href="{url("union_detail", tree.wuhan.pk)}"' not in html


def test_auditor_sees_the_detail_without_any_action_button(tree, auditor, client_for):
    response = client_for(auditor).get(url("union_detail", tree.wuhan.pk))
    assert response.status_code == 200
    assert response.context["actions"] == {
        "add": False,
        "change": False,
        "move": False,
        "merge": False,
        "dissolve": False,
        "delete": False,
        "export": False,
        "add_employer": False,
    }
    html = text(response)
    assert url("union_edit", tree.wuhan.pk) not in html
    assert url("union_export", tree.wuhan.pk) not in html


def test_national_admin_sees_the_delete_button(tree, national_admin, client_for):
    response = client_for(national_admin).get(url("union_detail", tree.jianghan.pk))
    assert response.context["actions"]["delete"] is True
    assert url("union_delete", tree.jianghan.pk) in text(response)


def test_root_offers_neither_move_merge_dissolve_nor_delete(tree, national_admin, client_for):
    response = client_for(national_admin).get(url("union_detail", tree.root.pk))
    actions = response.context["actions"]
    assert actions["add"] and actions["change"]
    assert not (actions["move"] or actions["merge"] or actions["dissolve"] or actions["delete"])


def test_industry_union_lists_the_grassroots_unions_linked_to_it(
    tree, provincial_cadre, client_for
):
    response = client_for(provincial_cadre).get(url("union_detail", tree.transport_industry.pk))
    assert "隶属本产业工会的基层工会" in text(response)
    members = response.context["members"]
    assert [u.name for u in members] == ["武汉汉江物流有限公司工会"]
    assert members[0].parent_name == "江汉区总工会"


def test_grassroots_detail_shows_covered_employers_and_link_to_the_filtered_list(
    tree, county_cadre, client_for
):
    response = client_for(county_cadre).get(url("union_detail", tree.jiangan_grassroots.pk))
    assert response.context["covers"] is True
    assert [e.name for e in response.context["employers"]] == ["武汉长江机械有限公司"]
    assert f"covering_union={tree.jiangan_grassroots.pk}" in text(response)


def test_detail_history_lists_changes_with_actor_and_fields(tree, county_cadre, client_for):
    services.union_update(
        acting_user=county_cadre, union=tree.jiangan, address="武汉市江岸区沿江大道 100 号"
    )
    response = client_for(county_cadre).get(url("union_detail", tree.jiangan.pk))
    history = response.context["history"]
    assert len(history) == 1
    assert history[0].entry.action == AuditAction.CHANGE
    assert history[0].fields == ["地址"]
    html = text(response)
    assert "江岸区总干部" in html and "修改" in html


def test_detail_children_page_with_the_after_cursor_without_script(
    tree, county_cadre, client_for, settings
):
    settings.ORG_CHILDREN_PAGE_SIZE = 10
    for _ in range(12):
        UnionFactory(parent=tree.jiangan)
    client = client_for(county_cadre)
    first = client.get(url("union_detail", tree.jiangan.pk))
    cursor = first.context["children"].next_cursor
    assert cursor and f"?after={cursor}" in text(first)
    second = client.get(url("union_detail", tree.jiangan.pk), {"after": cursor})
    assert len(second.context["children"].items) == 3
    assert "回到第一页" in text(second)


def test_detail_query_count_is_bounded(
    tree, county_cadre, client_for, django_assert_max_num_queries
):
    for _ in range(30):
        UnionFactory(parent=tree.jiangan)
    client = client_for(county_cadre)
    client.get(url("union_detail", tree.jiangan.pk))
    with django_assert_max_num_queries(25):
        assert client.get(url("union_detail", tree.jiangan.pk)).status_code == 200


# --- Creating a union


def test_county_cadre_creates_a_grassroots_union_with_an_audit_row(tree, county_cadre, client_for):
    response = client_for(county_cadre).post(
        url("union_create", tree.jiangan.pk), grassroots_data(region="420102")
    )
    union = Union.objects.get(name="武汉江岸新建公司工会")
    assert response.status_code == 302
    assert response["Location"] == url("union_detail", union.pk)
    assert Union.objects.get_parent(union).pk == tree.jiangan.pk
    assert union.region.code == "420102"
    entry = AuditEntry.objects.get(object_type="orgs.union", object_id=str(union.pk))
    assert entry.action == AuditAction.CREATE and entry.actor == county_cadre


def test_create_form_offers_only_levels_and_kinds_that_fit_under_the_parent(
    tree, county_cadre, provincial_cadre, client_for
):
    county = client_for(county_cadre).get(url("union_create", tree.jiangan.pk))
    html = text(county)
    # County level only for an industry union standing beside the county federation.
    assert option_values(html, "level") == {"county", "township", "grassroots"}
    assert county.context["form"].options == {
        "federation": ["township"],
        "industry": ["county"],
        "joint": ["township", "grassroots"],
        "grassroots": ["grassroots"],
    }
    assert "national" not in option_values(html, "level")
    province = client_for(provincial_cadre).get(url("union_create", tree.hubei.pk))
    assert "province" in option_values(text(province), "level")  # industry beside federation


def test_grassroots_union_directly_under_national_is_refused_in_chinese(
    tree, national_admin, client_for
):
    response = client_for(national_admin).post(url("union_create", tree.root.pk), grassroots_data())
    assert response.status_code == 200
    assert any("基层工会不能直接隶属全国总工会" in e for e in field_errors(response, "level"))
    assert not Union.objects.filter(name="武汉江岸新建公司工会").exists()


def test_missing_name_is_named_in_the_error(tree, county_cadre, client_for):
    response = client_for(county_cadre).post(
        url("union_create", tree.jiangan.pk), grassroots_data(name="")
    )
    assert field_errors(response, "name") == ["请填写“名称”"]
    assert "请填写“名称”" in text(response)


def test_federation_without_region_gets_the_region_error(tree, provincial_cadre, client_for):
    response = client_for(provincial_cadre).post(
        url("union_create", tree.wuhan.pk),
        {"name": "武汉新区总工会", "kind": "federation", "level": "county", "region": ""},
    )
    assert field_errors(response, "region") == ["地方总工会必须对应一个行政区划"]


def test_malformed_and_unknown_region_codes_are_explained(tree, county_cadre, client_for):
    client = client_for(county_cadre)
    short = client.post(url("union_create", tree.jiangan.pk), grassroots_data(region="4201"))
    assert "“所在行政区划”应为 6 位或 9 位数字" in field_errors(short, "region")[0]
    unknown = client.post(url("union_create", tree.jiangan.pk), grassroots_data(region="429999"))
    assert "行政区划代码“429999”不存在" in field_errors(unknown, "region")[0]


def test_union_credit_code_with_a_wrong_check_character_is_refused_on_its_field(
    tree, county_cadre, client_for
):
    bad = wrong_check_character(make_uscc(region_code="420102", serial=99, prefix="81"))
    response = client_for(county_cadre).post(
        url("union_create", tree.jiangan.pk), grassroots_data(uscc=bad)
    )
    errors = field_errors(response, "uscc")
    assert errors and "校验位不正确" in errors[0]


def test_industry_union_picker_never_lists_unions_outside_the_scope(
    tree, county_cadre, provincial_cadre, client_for
):
    county = client_for(county_cadre).get(url("union_create", tree.jiangan.pk))
    assert option_values(text(county), "industry_union") == set()
    province = client_for(provincial_cadre).get(url("union_create", tree.jiangan.pk))
    assert option_values(text(province), "industry_union") == {str(tree.transport_industry.pk)}


def test_industry_union_outside_the_scope_cannot_be_posted(tree, county_cadre, client_for):
    response = client_for(county_cadre).post(
        url("union_create", tree.jiangan.pk),
        grassroots_data(industry_union=str(tree.transport_industry.pk)),
    )
    assert "“所属产业工会”的选择无效" in field_errors(response, "industry_union")[0]


def test_picker_search_button_re_renders_the_form_without_errors(
    tree, provincial_cadre, client_for
):
    response = client_for(provincial_cadre).post(
        url("union_create", tree.jiangan.pk),
        {"name": "半填的名称", "_picker_search": "industry_union", "industry_union_q": "交通"},
    )
    assert response.status_code == 200
    assert not response.context["form"].is_bound
    html = text(response)
    assert 'value="半填的名称"' in html
    assert "湖北省交通运输产业工会" in html
    assert "errorlist" not in html
    assert not Union.objects.filter(name="半填的名称").exists()


# --- Editing, moving, merging, dissolving, deleting


def test_county_cadre_renames_their_union_and_only_the_change_is_audited(
    tree, county_cadre, client_for
):
    client = client_for(county_cadre)
    form = client.get(url("union_edit", tree.jiangan.pk)).context["form"]
    data = {k: ("" if v is None else getattr(v, "code", v)) for k, v in form.initial.items()}
    data["name"] = "武汉市江岸区总工会"
    response = client.post(url("union_edit", tree.jiangan.pk), data)
    assert response.status_code == 302
    assert Union.objects.get(pk=tree.jiangan.pk).name == "武汉市江岸区总工会"
    entry = AuditEntry.objects.get(object_id=str(tree.jiangan.pk), action=AuditAction.CHANGE)
    assert entry.after == {"name": "武汉市江岸区总工会"}


def test_editing_a_union_linked_to_an_industry_union_outside_the_scope_keeps_the_link(
    tree, sibling_cadre, client_for
):
    union = tree.jianghan_grassroots
    client = client_for(sibling_cadre)
    form_page = client.get(url("union_edit", union.pk))
    assert str(tree.transport_industry.pk) in option_values(text(form_page), "industry_union")
    response = client.post(
        url("union_edit", union.pk),
        {
            "name": "武汉汉江物流有限公司工会委员会",
            "region": "420103",
            "industry_union": str(tree.transport_industry.pk),
        },
    )
    assert response.status_code == 302
    union.refresh_from_db()
    assert union.industry_union_id == tree.transport_industry.pk
    assert union.name == "武汉汉江物流有限公司工会委员会"


def test_provincial_cadre_moves_a_grassroots_union_to_the_sibling_county(
    tree, provincial_cadre, client_for
):
    union = UnionFactory(parent=tree.jiangan, name="武汉江岸待迁工会", region=None)
    response = client_for(provincial_cadre).post(
        url("union_move", union.pk), {"new_parent": str(tree.jianghan.pk)}
    )
    assert response.status_code == 302
    moved = Union.objects.get(pk=union.pk)
    assert Union.objects.get_parent(moved).pk == tree.jianghan.pk
    assert AuditEntry.objects.filter(object_id=str(moved.pk), action=AuditAction.MOVE).exists()


def test_a_union_on_a_region_cannot_move_out_of_it(tree, provincial_cadre, client_for):
    response = client_for(provincial_cadre).post(
        url("union_move", tree.jiangan_grassroots.pk), {"new_parent": str(tree.jianghan.pk)}
    )
    assert response.status_code == 200
    assert "“江岸区”不在上级工会所在的“江汉区”范围内" in response.content.decode()
    unmoved = Union.objects.get(pk=tree.jiangan_grassroots.pk)
    assert Union.objects.get_parent(unmoved).pk == tree.jiangan.pk


def test_county_cadre_cannot_move_into_the_sibling_county(tree, county_cadre, client_for):
    client = client_for(county_cadre)
    page = client.get(url("union_move", tree.jiangan_grassroots.pk))
    assert str(tree.jianghan.pk) not in option_values(text(page), "new_parent")
    response = client.post(
        url("union_move", tree.jiangan_grassroots.pk), {"new_parent": str(tree.jianghan.pk)}
    )
    assert "“新的上级工会”的选择无效" in field_errors(response, "new_parent")[0]
    unmoved = Union.objects.get(pk=tree.jiangan_grassroots.pk)
    assert Union.objects.get_parent(unmoved).pk == tree.jiangan.pk


def test_merge_needs_confirmation_then_moves_employers(tree, county_cadre, client_for):
    target = UnionFactory(parent=tree.jiangan, name="武汉长江机械联合工会")
    client = client_for(county_cadre)
    source = tree.jiangan_grassroots
    page = client.get(url("union_merge", source.pk))
    assert option_values(text(page), "target") == {str(target.pk)}
    unconfirmed = client.post(url("union_merge", source.pk), {"target": str(target.pk)})
    assert field_errors(unconfirmed, "confirm") == ["请勾选确认后再合并"]
    response = client.post(
        url("union_merge", source.pk), {"target": str(target.pk), "confirm": "on"}
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.status == UnionStatus.MERGED and source.merged_into_id == target.pk
    assert Employer.objects.get(pk=tree.jiangan_employer.pk).covering_union_id == target.pk


def test_dissolve_requires_a_reason(tree, county_cadre, client_for):
    client = client_for(county_cadre)
    union = tree.jiangan_grassroots
    empty = client.post(url("union_dissolve", union.pk), {"reason": "   "})
    assert field_errors(empty, "reason") == ["请填写“撤销原因”"]
    response = client.post(url("union_dissolve", union.pk), {"reason": "企业已注销"})
    assert response.status_code == 302
    union.refresh_from_db()
    assert union.status == UnionStatus.DISSOLVED
    assert not Employer.objects.get(pk=tree.jiangan_employer.pk).is_organised


def test_dissolving_a_union_with_active_children_shows_the_service_reason(
    tree, provincial_cadre, client_for
):
    response = client_for(provincial_cadre).post(
        url("union_dissolve", tree.jiangan.pk), {"reason": "区划调整"}
    )
    assert "还有 1 个存续的下级工会" in field_errors(response, "reason")[0]


def test_admin_deletes_an_empty_union_and_returns_to_its_parent(tree, national_admin, client_for):
    empty = UnionFactory(parent=tree.jiangan, name="误建的工会")
    response = client_for(national_admin).post(url("union_delete", empty.pk))
    assert response.status_code == 302
    assert response["Location"] == url("union_detail", tree.jiangan.pk)
    assert not Union.objects.filter(pk=empty.pk).exists()
    assert AuditEntry.objects.filter(object_id=str(empty.pk), action=AuditAction.DELETE).exists()


def test_union_with_children_cannot_be_deleted_and_says_why(tree, national_admin, client_for):
    client = client_for(national_admin)
    page = client.get(url("union_delete", tree.jiangan.pk))
    assert "有 1 个下级工会" in text(page)
    response = client.post(url("union_delete", tree.jiangan.pk))
    assert response.status_code == 200
    assert "该工会不能删除" in response.context["error"]
    assert Union.objects.filter(pk=tree.jiangan.pk).exists()


def test_county_cadre_may_not_delete(tree, county_cadre, client_for):
    empty = UnionFactory(parent=tree.jiangan)
    assert client_for(county_cadre).post(url("union_delete", empty.pk)).status_code == 403
    assert Union.objects.filter(pk=empty.pk).exists()


# --- Look-ups for the pickers and the region cascade


def test_union_lookup_returns_only_grassroots_unions_in_scope(
    tree, county_cadre, provincial_cadre, client_for
):
    county = client_for(county_cadre).get(url("union_lookup"), {"q": "有限公司"}).json()
    assert [r["name"] for r in county["results"]] == ["武汉长江机械有限公司工会"]
    province = client_for(provincial_cadre).get(url("union_lookup"), {"q": "工会"}).json()
    names = {r["name"] for r in province["results"]}
    assert names == {"武汉长江机械有限公司工会", "武汉汉江物流有限公司工会"}  # no federations


def test_union_lookup_for_a_merge_target_needs_the_union_and_stays_in_scope(
    tree, county_cadre, client_for
):
    client = client_for(county_cadre)
    assert client.get(url("union_lookup"), {"purpose": "target"}).status_code == 400
    assert client.get(url("union_lookup"), {"purpose": "nonsense"}).status_code == 400
    outside = client.get(
        url("union_lookup"), {"purpose": "target", "union": tree.jianghan_grassroots.pk}
    )
    assert outside.status_code == 404
    other = UnionFactory(parent=tree.jiangan, name="江岸另一家公司工会")
    found = client.get(
        url("union_lookup"), {"purpose": "target", "union": tree.jiangan_grassroots.pk}
    ).json()
    assert [r["id"] for r in found["results"]] == [other.pk]


def test_region_children_gives_provinces_then_cities_then_counties(tree, county_cadre, client_for):
    client = client_for(county_cadre)
    provinces = client.get(url("region_children")).json()["results"]
    assert {"code": "420000", "name": "湖北省", "level": "province"} in provinces
    counties = client.get(url("region_children"), {"parent": "420100"}).json()
    assert counties["parent"] == {"code": "420100", "name": "武汉市"}
    assert {r["code"] for r in counties["results"]} >= {"420102", "420103"}
    assert client.get(url("region_children"), {"parent": "42"}).status_code == 400
    assert client.get(url("region_children"), {"parent": "429999"}).status_code == 404


# --- Employers


def test_employer_list_shows_only_employers_in_scope(
    tree, county_cadre, provincial_cadre, client_for
):
    county = client_for(county_cadre).get(url("employer_list"))
    assert [e.name for e in county.context["page"].items] == ["武汉长江机械有限公司"]
    province = client_for(provincial_cadre).get(url("employer_list"))
    assert {e.name for e in province.context["page"].items} == {
        "武汉长江机械有限公司",
        "武汉汉江物流有限公司",
    }


def test_employer_list_filters(tree, provincial_cadre, client_for):
    EmployerFactory(owner=tree.jiangan, name="江岸未建会商贸有限公司")
    closed = EmployerFactory(owner=tree.jianghan, name="江汉已注销饭店", status="deregistered")
    client = client_for(provincial_cadre)

    def names(**params: Any) -> set[str]:
        response = client.get(url("employer_list"), params)
        assert response.status_code == 200
        return {e.name for e in response.context["page"].items}

    assert names(q="商贸") == {"江岸未建会商贸有限公司"}
    assert names(q=tree.jiangan_employer.uscc[:14]) == {"武汉长江机械有限公司"}
    assert names(organised="no") == {"江岸未建会商贸有限公司", closed.name}
    assert names(organised="yes") == {"武汉长江机械有限公司", "武汉汉江物流有限公司"}
    assert names(status="deregistered") == {closed.name}
    assert names(region="420103") == {"武汉汉江物流有限公司", closed.name}
    assert names(region="4201") == names()
    assert names(covering_union=tree.jianghan_grassroots.pk) == {"武汉汉江物流有限公司"}
    assert names(within=tree.jiangan.pk) == {"武汉长江机械有限公司", "江岸未建会商贸有限公司"}


def test_region_prefix_filter_preselects_the_cascade(tree, provincial_cadre, client_for):
    response = client_for(provincial_cadre).get(url("employer_list"), {"region": "4201"})
    html = text(response)
    assert 'data-chain="420000,420100"' in html
    assert 'value="4201"' in html


def test_employer_list_explains_a_bad_filter_in_chinese(tree, county_cadre, client_for):
    client = client_for(county_cadre)
    response = client.get(url("employer_list"), {"region": "42x"})
    assert "“行政区划”应为 2、4、6 或 9 位数字" in field_errors(response, "region")[0]
    outside = client.get(url("employer_list"), {"within": tree.jianghan.pk})
    assert "“工会及其下级”的选择无效" in field_errors(outside, "within")[0]
    assert [e.name for e in outside.context["page"].items] == ["武汉长江机械有限公司"]


def test_employer_list_pages_and_its_query_count_does_not_grow(
    tree, county_cadre, client_for, django_assert_max_num_queries
):
    client = client_for(county_cadre)
    client.get(url("employer_list"))
    for _ in range(5):
        EmployerFactory(owner=tree.jiangan, covering_union=tree.jiangan_grassroots)
    with django_assert_max_num_queries(12) as few:
        client.get(url("employer_list"))
    for _ in range(60):
        EmployerFactory(owner=tree.jiangan, covering_union=tree.jiangan_grassroots)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("employer_list"))
    page = response.context["page"]
    assert page.total == 66 and len(page.items) == 50 and page.num_pages == 2
    second = client.get(url("employer_list"), {"page": "2"})
    assert len(second.context["page"].items) == 16


def test_employer_detail_marks_a_legacy_credit_code_with_its_reason(tree, county_cadre, client_for):
    legacy = wrong_check_character(make_uscc(region_code="420102", serial=31))
    employer = EmployerFactory(
        owner=tree.jiangan,
        uscc=legacy,
        uscc_override=True,
        uscc_override_reason="2015 年换证前的旧代码",
    )
    response = client_for(county_cadre).get(url("employer_detail", employer.pk))
    html = text(response)
    assert "历史代码例外" in html and "2015 年换证前的旧代码" in html
    assert "湖北省武汉市江岸区" in html


def test_county_cadre_registers_an_employer(tree, county_cadre, client_for):
    response = client_for(county_cadre).post(
        url("employer_create"),
        employer_data(tree.jiangan, covering_union=str(tree.jiangan_grassroots.pk)),
    )
    employer = Employer.objects.get(name="武汉新登记科技有限公司")
    assert response.status_code == 302
    assert response["Location"] == url("employer_detail", employer.pk)
    assert employer.covering_union_id == tree.jiangan_grassroots.pk
    assert employer.created_by == county_cadre
    assert AuditEntry.objects.filter(
        object_type="orgs.employer", object_id=str(employer.pk), action=AuditAction.CREATE
    ).exists()


def test_wrong_check_character_is_shown_on_the_credit_code_field(tree, county_cadre, client_for):
    good = make_uscc(region_code="420102", serial=778)
    response = client_for(county_cadre).post(
        url("employer_create"), employer_data(tree.jiangan, uscc=wrong_check_character(good))
    )
    assert response.status_code == 200
    errors = field_errors(response, "uscc")
    assert errors == [f"统一社会信用代码校验位不正确（第 18 位应为 {good[-1]}）"]
    assert errors[0] in text(response)
    assert not Employer.objects.filter(name="武汉新登记科技有限公司").exists()


def test_legacy_code_needs_the_exception_ticked_and_a_reason(tree, county_cadre, client_for):
    client = client_for(county_cadre)
    legacy = wrong_check_character(make_uscc(region_code="420102", serial=779))
    no_reason = client.post(
        url("employer_create"), employer_data(tree.jiangan, uscc=legacy, uscc_override="on")
    )
    assert field_errors(no_reason, "uscc_override_reason") == [
        "历史代码未通过校验，保存时必须填写例外原因"
    ]
    saved = client.post(
        url("employer_create"),
        employer_data(
            tree.jiangan, uscc=legacy, uscc_override="on", uscc_override_reason="旧营业执照代码"
        ),
    )
    assert saved.status_code == 302
    employer = Employer.objects.get(uscc=legacy)
    assert employer.uscc_override and employer.uscc_override_reason == "旧营业执照代码"


def test_required_employer_fields_are_named(tree, county_cadre, client_for):
    bad = wrong_check_character(make_uscc(region_code="420102", serial=780))
    response = client_for(county_cadre).post(
        url("employer_create"),
        employer_data(tree.jiangan, name="", region="", ownership="", uscc=bad),
    )
    errors = response.context["form"].errors
    assert "校验位不正确" in errors["uscc"][0]  # shown together with the missing fields
    assert errors["name"] == ["请填写“单位名称”"]
    assert errors["region"] == ["请选择“所在行政区划”"]
    assert errors["ownership"] == ["请选择“经济类型”"]


def test_employer_owner_outside_the_scope_is_refused(tree, county_cadre, client_for):
    client = client_for(county_cadre)
    page = client.get(url("employer_create"))
    assert option_values(text(page), "owner") == {
        str(tree.jiangan.pk),
        str(tree.jiangan_grassroots.pk),
    }
    response = client.post(url("employer_create"), employer_data(tree.jianghan))
    assert "“管理工会”的选择无效" in field_errors(response, "owner")[0]


def test_county_cadre_edits_an_employer_and_only_changes_are_audited(
    tree, county_cadre, client_for
):
    employer = tree.jiangan_employer
    client = client_for(county_cadre)
    data = employer_data(
        tree.jiangan,
        name=employer.name,
        uscc=employer.uscc,
        headcount="400",
        industry_section=employer.industry_section,
        ownership=employer.ownership,
        covering_union=str(tree.jiangan_grassroots.pk),
        address="",
    )
    response = client.post(url("employer_edit", employer.pk), data)
    assert response.status_code == 302
    employer.refresh_from_db()
    assert employer.headcount == 400
    entry = AuditEntry.objects.get(object_id=str(employer.pk), action=AuditAction.CHANGE)
    assert entry.after == {"headcount": 400}
    detail = client.get(url("employer_detail", employer.pk))
    assert detail.context["history"][0].fields == ["职工人数"]
