"""The organisation models: regions, the union tree with its industry second parent, and the
database constraints behind the rules."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from niangjia.accounts.choices import Action, Role
from niangjia.accounts.models import RoleAssignment
from niangjia.orgs.choices import UnionKind, UnionLevel, UnionStatus
from niangjia.orgs.models import Employer, Region, Union
from niangjia.utilities.testing.factories import EmployerFactory, UnionFactory

pytestmark = pytest.mark.django_db


# --- Region


def test_region_full_name_walks_up_the_tree():
    assert Region.objects.get(code="420102").full_name == "湖北省武汉市江岸区"


def test_municipality_name_is_not_repeated():
    # 北京市 > 北京市 > 东城区 reads 北京市东城区.
    assert Region.objects.get(code="110101").full_name == "北京市东城区"


def test_region_contains_itself_and_what_lies_inside():
    hubei = Region.objects.get(code="420000")
    assert hubei.contains(hubei)
    assert hubei.contains(Region.objects.get(code="420102"))
    assert hubei.contains(Region.objects.get(code="429004"))  # 仙桃市, a direct county
    assert not hubei.contains(Region.objects.get(code="430102"))
    assert not Region.objects.get(code="420102").contains(hubei)


def test_region_str_shows_the_code():
    assert str(Region.objects.get(code="420103")) == "江汉区（420103）"


# --- The union tree


def test_subtree_is_the_path_prefix(tree):
    assert set(tree.jiangan.subtree()) == {tree.jiangan, tree.jiangan_grassroots}


def test_industry_union_counts_its_linked_grassroots_unions(tree):
    assert set(tree.transport_industry.counted_subtree()) == {
        tree.transport_industry,
        tree.jianghan_grassroots,
    }
    assert tree.jianghan_grassroots not in tree.transport_industry.subtree()


def test_grassroots_union_under_both_parents_is_counted_once(tree):
    # 武汉汉江物流有限公司工会 is under 湖北省总工会 by path and through its industry union.
    counted = list(tree.hubei.counted_subtree())
    assert len(counted) == len(set(counted)) == 8 - 1
    assert tree.hubei.counted_subtree().count() == 7
    assert tree.hubei.counted_subtree().filter(level=UnionLevel.GRASSROOTS).count() == 2


def test_industry_sub_union_members_count_under_the_upper_industry_union(tree):
    city_industry = UnionFactory(
        parent=tree.transport_industry,
        name="武汉市交通运输产业工会",
        level=UnionLevel.CITY,
        kind=UnionKind.INDUSTRY,
    )
    member = UnionFactory(parent=tree.jiangan, industry_union=city_industry)
    assert member in tree.transport_industry.counted_subtree()
    assert member in city_industry.counted_subtree()
    assert member not in tree.transport_industry.subtree()


def test_industry_cadre_sees_the_linked_grassroots_union(tree, worker):
    RoleAssignment.objects.create(user=worker, union=tree.transport_industry, role=Role.CADRE)
    assert set(Union.objects.restrict(worker, Action.VIEW)) == {
        tree.transport_industry,
        tree.jianghan_grassroots,
    }


def test_active_filters_out_closed_unions(tree):
    Union.objects.filter(pk=tree.jiangan_grassroots.pk).update(status=UnionStatus.DISSOLVED)
    assert tree.jiangan_grassroots not in Union.objects.get_queryset().active()
    assert tree.jianghan_grassroots in Union.objects.get_queryset().active()


def test_database_refuses_grassroots_union_directly_under_national(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Union.objects.add_child(
            tree.root,
            instance=Union(
                name="直属基层工会", level=UnionLevel.GRASSROOTS, kind=UnionKind.GRASSROOTS
            ),
        )


def test_database_allows_one_active_federation_per_region(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Union.objects.add_child(
            tree.wuhan,
            instance=Union(
                name="第二个江岸区总工会",
                level=UnionLevel.COUNTY,
                kind=UnionKind.FEDERATION,
                region=tree.jiangan.region,
            ),
        )


def test_closed_federation_frees_its_region(tree):
    Union.objects.filter(pk=tree.jiangan.pk).update(status=UnionStatus.MERGED)
    successor = Union.objects.add_child(
        tree.wuhan,
        instance=Union(
            name="新江岸区总工会",
            level=UnionLevel.COUNTY,
            kind=UnionKind.FEDERATION,
            region=tree.jiangan.region,
        ),
    )
    assert successor.region == tree.jiangan.region


# --- Employer


def test_employer_is_organised_when_covered(tree):
    assert tree.jiangan_employer.is_organised
    assert not EmployerFactory(owner=tree.jiangan).is_organised


def test_database_refuses_a_credit_code_override_without_reason(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Employer.objects.filter(pk=tree.jiangan_employer.pk).update(uscc_override=True)


def test_credit_codes_are_unique(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        EmployerFactory(owner=tree.jiangan, uscc=tree.jiangan_employer.uscc)


def test_employers_are_scoped_by_owner_or_covering_union(tree, worker):
    RoleAssignment.objects.create(user=worker, union=tree.jiangan_grassroots, role=Role.CADRE)
    # Registered with 江岸区总工会, covered by the grassroots union: visible to either.
    assert list(Employer.objects.restrict(worker, Action.VIEW)) == [tree.jiangan_employer]
