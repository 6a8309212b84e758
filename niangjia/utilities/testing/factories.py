"""factory_boy factories for the organisation registry and accounts.

``UnionFactory(parent=...)`` places the new union with treebeard under ``parent`` and picks
a level, kind and region that pass ``niangjia.orgs.rules.check_placement``; pass them
explicitly when a test is about them. ``EmployerFactory`` gives every employer a valid
unified social credit code (GB 32100).
"""

from __future__ import annotations

import itertools
from typing import Any

import factory
from stdnum.cn import uscc as stdnum_uscc

from niangjia.accounts.models import RoleAssignment, User
from niangjia.orgs.choices import (
    LEVEL_RANK,
    REGION_LEVEL_FOR_UNION,
    EmployerStatus,
    IndustrySection,
    OwnershipType,
    UnionKind,
    UnionLevel,
)
from niangjia.orgs.models import Employer, Region, Union

_serials = itertools.count(1000)

# The organisation-code part (characters 9–17) of a USCC may use this alphabet.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(*, region_code: str = "420102", serial: int | None = None, prefix: str = "91") -> str:
    """A valid 18-character USCC: ``prefix`` (91 = enterprise, 81 = union), the region code,
    a 9-character organisation code from ``serial``, and the GB 32100 check character."""
    number = next(_serials) if serial is None else serial
    org_code = str(number).rjust(9, "0")[-9:]
    body = f"{prefix}{region_code}{org_code}"
    return body + stdnum_uscc.calc_check_digit(body)


def wrong_check_character(code: str) -> str:
    """``code`` with a check character that is not the right one."""
    right = code[-1]
    wrong = next(c for c in _USCC_ALPHABET if c != right)
    return code[:-1] + wrong


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    is_active = True
    password = factory.django.Password("Niangjia-Test-2024!")


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = "cadre"


def _default_level(parent: Union) -> str:
    if parent.kind in (UnionKind.INDUSTRY,) or parent.level == UnionLevel.COUNTY:
        return UnionLevel.GRASSROOTS
    if parent.level == UnionLevel.TOWNSHIP:
        return UnionLevel.GRASSROOTS
    order = sorted(LEVEL_RANK, key=LEVEL_RANK.__getitem__)
    return order[order.index(parent.level) + 1]


_PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "township": 9}


def _free_region(parent: Union, level: str) -> Region | None:
    """A region of the level ``level`` inside the parent's region with no active federation."""
    wanted = REGION_LEVEL_FOR_UNION.get(UnionLevel(level))
    if wanted is None:
        return parent.region
    regions = Region.objects.filter(level=wanted).exclude(
        unions__kind=UnionKind.FEDERATION, unions__status="active"
    )
    if parent.region is not None:
        prefix = parent.region.code[: _PREFIX_LENGTH.get(parent.region.level, 6)]
        candidates = regions.filter(code__startswith=prefix).select_related("parent__parent")
        return next((r for r in candidates if parent.region.contains(r)), None)
    return regions.first()


class UnionFactory(factory.django.DjangoModelFactory):
    """``UnionFactory(parent=tree.jiangan)`` makes a grassroots union under 江岸区总工会;
    ``UnionFactory(parent=tree.wuhan)`` the federation of a free county of 武汉市."""

    class Meta:
        model = Union

    name = factory.Sequence(lambda n: f"测试工会{n}")
    parent: Any = None

    @classmethod
    def _create(cls, model_class: type[Union], *args: Any, **kwargs: Any) -> Union:
        parent: Union | None = kwargs.pop("parent", None)
        if parent is None:
            parent = Union.objects.get(depth=1)
        level = kwargs.setdefault("level", _default_level(parent))
        if "kind" not in kwargs:
            kwargs["kind"] = (
                UnionKind.GRASSROOTS if level == UnionLevel.GRASSROOTS else UnionKind.FEDERATION
            )
        if "region" not in kwargs:
            if kwargs["kind"] == UnionKind.FEDERATION:
                kwargs["region"] = _free_region(parent, level)
            else:
                kwargs["region"] = parent.region
        node: Union = Union.objects.add_child(parent, instance=model_class(**kwargs))
        return node


class EmployerFactory(factory.django.DjangoModelFactory):
    """``EmployerFactory(owner=tree.jiangan)``: an unorganised employer in the owner's region;
    add ``covering_union=...`` for an organised one."""

    class Meta:
        model = Employer

    name = factory.Sequence(lambda n: f"武汉测试{n}有限公司")
    owner = factory.LazyFunction(lambda: Union.objects.get(depth=1))
    region = factory.LazyAttribute(lambda o: o.owner.region or Region.objects.get(code="420102"))
    uscc = factory.LazyAttribute(lambda o: make_uscc(region_code=o.region.code[:6]))
    industry_section = IndustrySection.C
    ownership = OwnershipType.PRIVATE
    headcount = 50
    status = EmployerStatus.ACTIVE
    covering_union = None
