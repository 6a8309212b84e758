"""Reads of the organisation registry: always within the caller's scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.orgs import selectors
from niangjia.orgs.choices import UnionKind, UnionLevel, UnionStatus
from niangjia.orgs.models import Employer, Region, Union
from niangjia.utilities.testing.factories import make_uscc
from niangjia.utilities.testing.personas import Tree


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


def test_union_list_keeps_to_the_users_subtree(tree: Tree, county_cadre: User) -> None:
    unions = selectors.union_list(user=county_cadre)

    assert list(unions) == [tree.jiangan, tree.jiangan_grassroots]


def test_union_list_for_an_action_the_user_lacks_is_empty(tree: Tree, auditor: User) -> None:
    assert selectors.union_list(user=auditor, action=Action.CHANGE).count() == 0
    assert selectors.union_list(user=auditor).count() == 8 - 1  # all of 湖北, not the root


def test_industry_union_sees_its_linked_grassroots_union(tree: Tree) -> None:
    industry_cadre = User.objects.create(username="industry_cadre")
    industry_cadre.role_assignments.create(union=tree.transport_industry, role="cadre")

    assert set(selectors.union_list(user=industry_cadre)) == {
        tree.transport_industry,
        tree.jianghan_grassroots,
    }


def test_union_list_searches_name_and_normalised_code(tree: Tree, provincial_cadre: User) -> None:
    code = make_uscc(region_code="420103", prefix="81")
    Union.objects.filter(pk=tree.jianghan.pk).update(uscc=code)

    assert list(selectors.union_list(user=provincial_cadre, q=" 江汉区 ")) == [tree.jianghan]
    spaced = f"{code[:4]} {code[4:10]}".lower()
    assert list(selectors.union_list(user=provincial_cadre, q=spaced)) == [tree.jianghan]


def test_parent_and_within_filters(tree: Tree, provincial_cadre: User) -> None:
    children = selectors.union_list(user=provincial_cadre, parent=tree.hubei)
    subtree = selectors.union_list(user=provincial_cadre, within=tree.jiangan)

    assert list(children) == [tree.wuhan, tree.transport_industry]
    assert list(subtree) == [tree.jiangan, tree.jiangan_grassroots]


def test_union_search_prefers_higher_levels_and_skips_closed_unions(
    tree: Tree, provincial_cadre: User
) -> None:
    add_grassroots(tree.jiangan, "江岸区已撤销工会", status=UnionStatus.DISSOLVED)

    found = selectors.union_search(user=provincial_cadre, q="江岸")

    assert found == [tree.jiangan]
    assert selectors.union_search(user=provincial_cadre, q="工会", limit=2) == [
        tree.hubei,
        tree.wuhan,
    ]
    assert selectors.union_search(user=provincial_cadre, q="  ") == []


def test_union_children_pages_by_keyset(tree: Tree, county_cadre: User) -> None:
    for i in range(4):
        add_grassroots(tree.jiangan, f"江岸第{i}工会")

    first = selectors.union_children(user=county_cadre, parent=tree.jiangan, limit=3)
    second = selectors.union_children(
        user=county_cadre, parent=tree.jiangan, cursor=first.next_cursor, limit=3
    )

    assert first.total == second.total == 5
    assert [u.name for u in first.items] == [
        tree.jiangan_grassroots.name,
        "江岸第0工会",
        "江岸第1工会",
    ]
    assert [u.name for u in second.items] == ["江岸第2工会", "江岸第3工会"]
    assert second.next_cursor is None


def test_union_children_page_size_defaults_to_the_setting(
    tree: Tree, county_cadre: User, settings: Any
) -> None:
    settings.ORG_CHILDREN_PAGE_SIZE = 2
    for i in range(3):
        add_grassroots(tree.jiangan, f"江岸第{i}工会")

    page = selectors.union_children(user=county_cadre, parent=tree.jiangan)

    assert len(page.items) == 2
    assert page.next_cursor is not None


@pytest.mark.parametrize("cursor", ["garbage", "0001", "00010001000100010001000100"])
def test_union_children_refuses_a_foreign_cursor(
    tree: Tree, county_cadre: User, cursor: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        selectors.union_children(user=county_cadre, parent=tree.jiangan, cursor=cursor)

    assert caught.value.message_dict == {"cursor": ["翻页游标无效，请从第一页重新开始"]}


def test_union_children_out_of_scope_are_not_shown(tree: Tree, sibling_cadre: User) -> None:
    page = selectors.union_children(user=sibling_cadre, parent=tree.jiangan)

    assert page.items == []


def test_union_child_counts(tree: Tree) -> None:
    add_grassroots(tree.jiangan, "已合并工会", status=UnionStatus.MERGED)

    counts = selectors.union_child_counts(tree.jiangan)

    assert counts == {
        "children": 2,
        "children_by_level": {"grassroots": 2},
        "children_by_kind": {"grassroots": 2},
        "children_by_status": {"active": 1, "merged": 1},
        "employers_registered": 1,
        "employers_covered": 0,
    }
    assert selectors.union_child_counts(tree.jiangan_grassroots)["employers_covered"] == 1


def test_employer_list_is_scoped_by_owner_or_covering_union(
    tree: Tree, county_cadre: User, grassroots_cadre: User, sibling_cadre: User
) -> None:
    assert list(selectors.employer_list(user=county_cadre)) == [tree.jiangan_employer]
    assert list(selectors.employer_list(user=grassroots_cadre)) == [tree.jiangan_employer]
    assert list(selectors.employer_list(user=sibling_cadre)) == [tree.jianghan_employer]


def test_employer_list_filters(tree: Tree, provincial_cadre: User) -> None:
    wuhan = Region.objects.get(code="420100")
    jianghan_region = Region.objects.get(code="420103")
    Employer.objects.filter(pk=tree.jiangan_employer.pk).update(covering_union=None)

    def names(**filters: object) -> list[str]:
        return [e.name for e in selectors.employer_list(user=provincial_cadre, **filters)]

    assert names(region=wuhan) == ["武汉汉江物流有限公司", "武汉长江机械有限公司"]
    assert names(region=jianghan_region) == ["武汉汉江物流有限公司"]
    assert names(organised=False) == ["武汉长江机械有限公司"]
    assert names(organised=True) == ["武汉汉江物流有限公司"]
    assert names(within=tree.jianghan) == ["武汉汉江物流有限公司"]
    assert names(owner=tree.jiangan) == ["武汉长江机械有限公司"]
    assert names(q="长江") == ["武汉长江机械有限公司"]


def test_region_list_defaults_to_provinces(db: None) -> None:
    provinces = selectors.region_list()

    assert provinces.count() == 34
    assert {r.level for r in provinces} == {"province"}


def test_region_list_children_and_code_prefix(db: None) -> None:
    wuhan = Region.objects.get(code="420100")

    assert "420102" in [r.code for r in selectors.region_list(parent=wuhan)]
    assert [r.code for r in selectors.region_list(q="42010")] == [
        r.code for r in Region.objects.filter(code__startswith="42010").order_by("code")
    ]


@pytest.mark.parametrize(
    ("code", "prefix"), [("420000", "42"), ("420100", "4201"), ("420102", "420102")]
)
def test_region_code_prefix(db: None, code: str, prefix: str) -> None:
    assert selectors.region_code_prefix(Region.objects.get(code=code)) == prefix
