"""Fixtures of the verification tests, on the shared persona tree (``niangjia/conftest.py``).

江岸区总工会 gets a few more employers (``jiangan_employers``), a second county cadre
(``county_staff``) and a township federation with its own cadre (``township_cadre``): the
staff a county campaign is split between.
"""

from __future__ import annotations

from typing import Any

import pytest

from niangjia.accounts.models import RoleAssignment, User
from niangjia.orgs.choices import EmployerStatus, OwnershipType, UnionKind, UnionLevel
from niangjia.orgs.models import Employer, Region, Union
from niangjia.utilities.testing.factories import EmployerFactory, UserFactory
from niangjia.utilities.testing.personas import Personas, Tree
from niangjia.verification import services
from niangjia.verification.models import VerificationCampaign
from niangjia.verification.selectors import EmployerFilters


def make_staff(union: Union, username: str, full_name: str) -> User:
    user = UserFactory(username=username, full_name=full_name)
    RoleAssignment.objects.create(user=user, union=union, role="cadre")
    return user


def make_township(tree: Tree) -> Union:
    region, _ = Region.objects.get_or_create(
        code="420102002",
        defaults={
            "name": "大智街道",
            "level": "township",
            "parent": tree.jiangan.region,
            "revision": "demo",
        },
    )
    township: Union = Union.objects.add_child(
        tree.jiangan,
        instance=Union(
            name="大智街道总工会",
            level=UnionLevel.TOWNSHIP,
            kind=UnionKind.FEDERATION,
            region=region,
        ),
    )
    tree.jiangan.refresh_from_db()
    return township


@pytest.fixture
def jiangan_employers(tree: Tree) -> list[Employer]:
    """Six more employers registered with 江岸区总工会 (seven with the tree's own)."""
    made = [
        EmployerFactory(owner=tree.jiangan, name=f"武汉江岸测试{i}有限公司", headcount=10 * i)
        for i in range(1, 6)
    ]
    made.append(
        EmployerFactory(
            owner=tree.jiangan,
            name="武汉江岸早已迁出的商店",
            status=EmployerStatus.MOVED_AWAY,
            ownership=OwnershipType.INDIVIDUAL,
        )
    )
    return [tree.jiangan_employer, *made]


@pytest.fixture
def county_staff(tree: Tree) -> User:
    """A second cadre of 江岸区总工会."""
    return make_staff(tree.jiangan, "county_staff", "江岸区总核查员")


@pytest.fixture
def township(tree: Tree) -> Union:
    return make_township(tree)


@pytest.fixture
def township_cadre(township: Union) -> User:
    return make_staff(township, "township_cadre", "大智街道干部")


def new_campaign(user: User, union: Union, **filters: Any) -> VerificationCampaign:
    return services.campaign_create(
        acting_user=user,
        union=union,
        name="江岸区用人单位核查",
        filters=EmployerFilters(**filters),
    )


@pytest.fixture
def campaign(
    personas: Personas, tree: Tree, jiangan_employers: list[Employer]
) -> VerificationCampaign:
    """An open campaign of 江岸区总工会 over its seven employers, nobody assigned yet."""
    cadre = personas["county_cadre"]
    created = new_campaign(cadre, tree.jiangan)
    return services.campaign_open(acting_user=cadre, campaign=created)
