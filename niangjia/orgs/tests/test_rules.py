"""The placement rules of the union tree (niangjia.orgs.rules.check_placement), each with the
Chinese message a cadre reads."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from niangjia.orgs.choices import UnionKind, UnionLevel, UnionStatus
from niangjia.orgs.models import Region, Union
from niangjia.orgs.rules import DELETION_CHECKS, check_placement, deletion_blockers
from niangjia.utilities.testing.factories import EmployerFactory, UnionFactory

pytestmark = pytest.mark.django_db


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def placement_errors(**kwargs) -> dict[str, list[str]]:
    kwargs.setdefault("region", None)
    kwargs.setdefault("industry_union", None)
    with pytest.raises(ValidationError) as excinfo:
        check_placement(**kwargs)
    return excinfo.value.message_dict


def assert_fits(**kwargs) -> None:
    kwargs.setdefault("region", None)
    kwargs.setdefault("industry_union", None)
    check_placement(**kwargs)


# --- Valid placements


def test_the_persona_tree_fits(tree):
    assert_fits(
        parent=tree.wuhan,
        level=UnionLevel.COUNTY,
        kind=UnionKind.FEDERATION,
        region=region("420106"),
    )
    assert_fits(parent=tree.jiangan, level=UnionLevel.GRASSROOTS, kind=UnionKind.GRASSROOTS)
    assert_fits(
        parent=tree.jianghan,
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        industry_union=tree.transport_industry,
    )


def test_industry_union_may_stand_at_its_federations_level(tree):
    assert_fits(parent=tree.hubei, level=UnionLevel.PROVINCE, kind=UnionKind.INDUSTRY)


def test_grassroots_union_may_sit_under_an_industry_union(tree):
    assert_fits(
        parent=tree.transport_industry, level=UnionLevel.GRASSROOTS, kind=UnionKind.GRASSROOTS
    )


def test_joint_union_fits_under_a_county(tree):
    assert_fits(parent=tree.jiangan, level=UnionLevel.GRASSROOTS, kind=UnionKind.JOINT)


def test_only_the_national_federation_has_no_parent():
    assert_fits(parent=None, level=UnionLevel.NATIONAL, kind=UnionKind.FEDERATION)


# --- Level and kind


@pytest.mark.parametrize(
    ("kind", "level", "message"),
    [
        (UnionKind.GRASSROOTS, UnionLevel.COUNTY, "基层工会不能设在县级层级"),
        (UnionKind.JOINT, UnionLevel.CITY, "联合基层工会不能设在市级层级"),
        (UnionKind.INDUSTRY, UnionLevel.GRASSROOTS, "产业工会不能设在基层层级"),
        (UnionKind.FEDERATION, UnionLevel.GRASSROOTS, "地方总工会不能设在基层层级"),
    ],
)
def test_kind_must_suit_its_level(tree, kind, level, message):
    errors = placement_errors(parent=tree.jiangan, level=level, kind=kind)
    assert message in errors["level"]


def test_union_without_parent_must_be_national():
    errors = placement_errors(parent=None, level=UnionLevel.PROVINCE, kind=UnionKind.FEDERATION)
    assert errors["parent"] == ["只有全国总工会可以没有上级工会"]


def test_level_must_be_below_the_parents(tree):
    errors = placement_errors(
        parent=tree.jiangan,
        level=UnionLevel.CITY,
        kind=UnionKind.FEDERATION,
        region=region("420100"),
    )
    assert "市级工会不能设在县级工会“江岸区总工会”之下" in errors["level"]


def test_same_level_federation_is_refused(tree):
    errors = placement_errors(
        parent=tree.wuhan,
        level=UnionLevel.CITY,
        kind=UnionKind.FEDERATION,
        region=region("420100"),
    )
    assert "市级工会不能设在市级工会“武汉市总工会”之下" in errors["level"]


def test_industry_union_below_the_level_of_its_industry_parent_is_refused(tree):
    errors = placement_errors(
        parent=tree.transport_industry, level=UnionLevel.PROVINCE, kind=UnionKind.INDUSTRY
    )
    assert "省级工会不能设在省级工会“湖北省交通运输产业工会”之下" in errors["level"]


def test_grassroots_union_not_directly_under_national(tree):
    errors = placement_errors(
        parent=tree.root, level=UnionLevel.GRASSROOTS, kind=UnionKind.GRASSROOTS
    )
    assert "基层工会不能直接隶属全国总工会，请设在省级及以下工会之下" in errors["level"]


def test_nothing_under_a_grassroots_union(tree):
    errors = placement_errors(
        parent=tree.jiangan_grassroots, level=UnionLevel.GRASSROOTS, kind=UnionKind.GRASSROOTS
    )
    assert errors["parent"] == ["基层工会之下不能再设工会"]


def test_no_federation_under_an_industry_union(tree):
    errors = placement_errors(
        parent=tree.transport_industry,
        level=UnionLevel.COUNTY,
        kind=UnionKind.FEDERATION,
        region=region("420102"),
    )
    assert errors["kind"] == ["产业工会之下不能设地方总工会"]


@pytest.mark.parametrize(
    ("status", "label"), [(UnionStatus.DISSOLVED, "已撤销"), (UnionStatus.MERGED, "已合并")]
)
def test_no_child_under_a_closed_union(tree, status, label):
    Union.objects.filter(pk=tree.jiangan.pk).update(status=status)
    tree.jiangan.refresh_from_db()
    errors = placement_errors(
        parent=tree.jiangan, level=UnionLevel.GRASSROOTS, kind=UnionKind.GRASSROOTS
    )
    assert errors["parent"] == [f"上级工会“江岸区总工会”{label}，不能再设下级"]


def test_union_cannot_move_under_itself_or_its_descendants(tree):
    for new_parent in (tree.wuhan, tree.jiangan):
        errors = placement_errors(
            parent=new_parent,
            level=UnionLevel.CITY,
            kind=UnionKind.FEDERATION,
            region=region("420100"),
            union=tree.wuhan,
        )
        assert "不能把工会移到它自己或它的下级之下" in errors["parent"]


# --- Regions of federations


def test_federation_needs_a_region(tree):
    errors = placement_errors(parent=tree.wuhan, level=UnionLevel.COUNTY, kind=UnionKind.FEDERATION)
    assert errors["region"] == ["地方总工会必须对应一个行政区划"]


def test_federation_region_level_must_match(tree):
    errors = placement_errors(
        parent=tree.wuhan,
        level=UnionLevel.COUNTY,
        kind=UnionKind.FEDERATION,
        region=region("420100"),
    )
    assert errors["region"] == ["县级总工会应对应县级行政区划，“武汉市”是地级"]


def test_federation_region_must_lie_inside_the_parents(tree):
    errors = placement_errors(
        parent=tree.hubei,
        level=UnionLevel.CITY,
        kind=UnionKind.FEDERATION,
        region=region("430100"),
    )
    assert errors["region"] == ["“长沙市”不在上级工会所在的“湖北省”范围内"]


def test_federation_region_under_a_direct_county_of_the_province_fits(tree):
    # 仙桃市 (429004) lies in 湖北省 through 省直辖县级行政区划, not through 武汉市.
    assert_fits(
        parent=tree.hubei,
        level=UnionLevel.CITY,
        kind=UnionKind.FEDERATION,
        region=region("429000"),
    )
    errors = placement_errors(
        parent=tree.wuhan,
        level=UnionLevel.COUNTY,
        kind=UnionKind.FEDERATION,
        region=region("429004"),
    )
    assert errors["region"] == ["“仙桃市”不在上级工会所在的“武汉市”范围内"]


def test_grassroots_union_needs_no_region(tree):
    assert_fits(parent=tree.jiangan, level=UnionLevel.GRASSROOTS, kind=UnionKind.GRASSROOTS)


# --- The industry-union link


def test_only_grassroots_unions_link_to_an_industry_union(tree):
    errors = placement_errors(
        parent=tree.wuhan,
        level=UnionLevel.COUNTY,
        kind=UnionKind.FEDERATION,
        region=region("420106"),
        industry_union=tree.transport_industry,
    )
    assert errors["industry_union"] == ["只有基层工会可以另属一个产业工会"]


def test_industry_link_must_name_an_industry_union(tree):
    errors = placement_errors(
        parent=tree.jiangan,
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        industry_union=tree.jianghan,
    )
    assert errors["industry_union"] == ["“江汉区总工会”不是产业工会"]


def test_industry_link_to_a_closed_industry_union_is_refused(tree):
    Union.objects.filter(pk=tree.transport_industry.pk).update(status=UnionStatus.DISSOLVED)
    tree.transport_industry.refresh_from_db()
    errors = placement_errors(
        parent=tree.jiangan,
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        industry_union=tree.transport_industry,
    )
    assert errors["industry_union"] == ["产业工会“湖北省交通运输产业工会”已撤销"]


def test_industry_link_to_the_regional_parent_itself_is_refused(tree):
    errors = placement_errors(
        parent=tree.transport_industry,
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        industry_union=tree.transport_industry,
    )
    assert errors["industry_union"] == ["该产业工会已是其上级，无需再次隶属"]


def test_several_errors_are_reported_together(tree):
    errors = placement_errors(
        parent=tree.jiangan_grassroots,
        level=UnionLevel.COUNTY,
        kind=UnionKind.FEDERATION,
        industry_union=tree.jianghan,
    )
    assert set(errors) == {"level", "parent", "region", "industry_union"}


# --- Deletion blockers


def test_a_bare_union_has_no_deletion_blockers(tree):
    assert deletion_blockers(UnionFactory(parent=tree.jiangan)) == []


def test_deletion_blockers_name_each_reason(tree):
    assert deletion_blockers(tree.jiangan) == ["有 1 个下级工会", "管理 1 家用人单位的登记"]
    assert deletion_blockers(tree.jiangan_grassroots) == ["覆盖 1 家用人单位"]
    assert deletion_blockers(tree.transport_industry) == ["有基层工会隶属于该产业工会"]


def test_merged_sources_block_deleting_their_target(tree):
    target = UnionFactory(parent=tree.jiangan)
    UnionFactory(parent=tree.jiangan, status=UnionStatus.MERGED, merged_into=target)
    assert deletion_blockers(target) == ["有其他工会并入该工会，需保留历史"]


def test_later_modules_add_deletion_checks(tree, monkeypatch):
    union = UnionFactory(parent=tree.jiangan)
    monkeypatch.setattr(
        "niangjia.orgs.rules.DELETION_CHECKS",
        [*DELETION_CHECKS, lambda u: "有 3 名会员" if u.pk == union.pk else None],
    )
    assert deletion_blockers(union) == ["有 3 名会员"]
    assert EmployerFactory(owner=tree.jiangan).owner == tree.jiangan


def test_grassroots_union_region_must_lie_inside_the_parents(tree):
    errors = placement_errors(
        parent=tree.jiangan,
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        region=region("420200"),
    )
    assert errors["region"] == ["“黄石市”不在上级工会所在的“江岸区”范围内"]
    assert_fits(
        parent=tree.jiangan,
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        region=region("420102"),
    )
