"""The shared persona tree and login helpers do what the rest of the suite relies on."""

from __future__ import annotations

import pytest
from django_otp import DEVICE_ID_SESSION_KEY

from niangjia.accounts.choices import Action
from niangjia.orgs.choices import UnionKind, UnionLevel
from niangjia.orgs.models import Employer, Union
from niangjia.orgs.rules import check_placement
from niangjia.orgs.validators import validate_uscc
from niangjia.utilities.testing.factories import (
    EmployerFactory,
    UnionFactory,
    UserFactory,
    make_uscc,
    wrong_check_character,
)
from niangjia.utilities.testing.personas import PERSONAS

pytestmark = pytest.mark.django_db


def test_tree_sits_on_real_regions(tree):
    assert tree.hubei.region.code == "420000"
    assert tree.wuhan.region.code == "420100"
    assert tree.jiangan.region.code == "420102"
    assert tree.jianghan.region.code == "420103"
    assert Union.objects.get_parent(tree.hubei) == tree.root
    assert Union.objects.get_parent(tree.jiangan) == tree.wuhan
    assert Union.objects.get_parent(tree.jiangan_grassroots) == tree.jiangan
    assert tree.jianghan_grassroots.industry_union == tree.transport_industry
    assert tree.union("江汉区总工会") == tree.jianghan
    assert tree.employer("武汉长江机械有限公司").covering_union == tree.jiangan_grassroots


def test_every_tree_node_passes_the_placement_rules(tree):
    for union in tree.unions.values():
        if union == tree.root:
            continue
        check_placement(
            parent=Union.objects.get_parent(union),
            level=union.level,
            kind=union.kind,
            region=union.region,
            industry_union=union.industry_union,
            union=union,
        )


def test_every_persona_fixture_holds_its_role(personas):
    for name, spec in PERSONAS.items():
        user = personas[name]
        roles = [(a.union, a.role) for a in user.active_roles()]
        if spec.role is None:
            assert roles == []
        else:
            assert roles == [(getattr(personas.tree, spec.node), spec.role)]
    assert personas["county_cadre"] is personas["county_cadre"]


def test_county_cadre_sees_own_county_but_not_sibling(county_cadre, tree):
    visible = set(Union.objects.restrict(county_cadre, Action.VIEW))
    assert visible == {tree.jiangan, tree.jiangan_grassroots}
    assert list(Employer.objects.restrict(county_cadre, Action.VIEW)) == [tree.jiangan_employer]


def test_admin_client_has_second_factor_passed(national_admin, client_for):
    client = client_for(national_admin)
    assert client.session[DEVICE_ID_SESSION_KEY]
    assert client.get("/").status_code == 200


def test_admin_client_without_second_factor_is_sent_to_otp(national_admin, client_for):
    response = client_for(national_admin, second_factor=False).get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/otp/")


def test_cadre_client_needs_no_second_factor(county_cadre, client_for):
    client = client_for(county_cadre)
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get("/").status_code == 200


def test_factories_make_valid_objects(tree):
    union = UnionFactory(parent=tree.jiangan)
    assert union.level == UnionLevel.GRASSROOTS and Union.objects.get_parent(union) == tree.jiangan
    county = UnionFactory(parent=tree.wuhan)
    assert county.level == UnionLevel.COUNTY and county.kind == UnionKind.FEDERATION
    assert county.region.parent.code == "420100"
    assert county.region not in (tree.jiangan.region, tree.jianghan.region)
    check_placement(
        parent=tree.wuhan,
        level=county.level,
        kind=county.kind,
        region=county.region,
        industry_union=None,
        union=county,
    )
    employer = EmployerFactory(owner=tree.jiangan, covering_union=union)
    validate_uscc(employer.uscc)
    employer.full_clean()
    assert UserFactory().check_password("Niangjia-Test-2024!")


def test_wrong_check_character_differs_only_in_the_last_place():
    code = make_uscc(region_code="420102", serial=7)
    bad = wrong_check_character(code)
    assert bad[:-1] == code[:-1] and bad[-1] != code[-1]
