"""Helpers of the statistics tests: a populated tree, the folder, and the exactness check."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from niangjia.members import services as member_services
from niangjia.members.choices import (
    ApplicationChannel,
    EmploymentForm,
    GigOccupation,
    Household,
    MemberStatus,
)
from niangjia.members.models import JoinApplication, Member
from niangjia.orgs.models import Union
from niangjia.stats import fold, selectors, sources
from niangjia.stats.models import StatValue
from niangjia.stats.periods import Period
from niangjia.utilities.testing.members import join_data, make_member
from niangjia.utilities.testing.personas import Tree


def stored(node: Union) -> dict[tuple[str, str, str], int]:
    return {
        (m, d, p): v
        for m, d, p, v in StatValue.objects.filter(node_id=node.pk).values_list(
            "measure", "dims", "period", "value"
        )
        if v
    }


def assert_exact(nodes: Iterable[Union] | None = None) -> None:
    """Every stored figure of every node equals a direct recount of the raw tables."""
    for node in nodes if nodes is not None else Union.objects.order_by("path"):
        want = dict(sources.recount(node))
        got = stored(node)
        assert got == want, (
            f"{node.name}: stored {sorted(set(got.items()) - set(want.items()))} "
            f"recounted {sorted(set(want.items()) - set(got.items()))}"
        )


def value(node: Union, code: str, period: Period | str | None = None, dims: str = "") -> Any:
    """What the API serves for one indicator (optionally one cut)."""
    if period is None:
        period = Period.current("stat_year")
    elif isinstance(period, str):
        period = Period.parse(period)
    result = selectors.figures(node=node, period=period, indicators=[code], dims=bool(dims))
    item = result["figures"][0]
    if not dims:
        return item["value"]
    dimension, key = dims.split("=")
    for cut in item["breakdown"]:
        if cut["dimension"] == dimension and cut["key"] == key:
            return cut["value"]
    raise AssertionError(f"{code} has no cut {dims}")


def fold_now() -> fold.FoldResult:
    result = fold.fold_once()
    assert result is not None
    return result


@dataclass
class Populated:
    tree: Tree
    members: dict[str, Member]
    pending: list[JoinApplication]


def member_in(union: Union, **overrides: Any) -> Member:
    return make_member(union, **overrides)


def populate(tree: Tree, cadre: Any) -> Populated:
    """Members in several states on both sides of the tree.

    江岸 grassroots: 3 standard urban active, 1 rural active, 1 reserved, 1 left.
    江汉 grassroots (also under the transport industry union): a courier and a delivery rider
    (gig, rural), 1 standard member in transfer towards 江岸, 1 deceased.
    江岸 county federation holds 1 member of an unorganised employer.
    Applications: 2 waiting in 江岸 grassroots (one overdue), 1 rejected.
    """
    g1, g2 = tree.jiangan_grassroots, tree.jianghan_grassroots
    members = {
        "a1": member_in(g1),
        "a2": member_in(g1),
        "a3": member_in(g1),
        "rural": member_in(g1, household=Household.RURAL),
        "reserved": member_in(g1),
        "left": member_in(g1),
        "courier": member_in(
            g2,
            employment_form=EmploymentForm.GIG,
            gig_occupation=GigOccupation.COURIER,
            household=Household.RURAL,
        ),
        "rider": member_in(
            g2,
            employment_form=EmploymentForm.GIG,
            gig_occupation=GigOccupation.DELIVERY_RIDER,
            household=Household.RURAL,
        ),
        "moving": member_in(g2),
        "deceased": member_in(g2),
        "held": member_in(tree.jiangan),
    }
    member_services.member_change_status(
        member=members["reserved"],
        to_status=MemberStatus.RESERVED,
        reason="退休",
        acting_user=cadre,
    )
    member_services.member_change_status(
        member=members["left"], to_status=MemberStatus.LEFT, reason="离职", acting_user=cadre
    )
    member_services.member_change_status(
        member=members["deceased"],
        to_status=MemberStatus.DECEASED,
        reason="病故",
        acting_user=cadre,
    )
    member_services.transfer_release(
        member=members["moving"], to_union=g1, reason="调动", acting_user=cadre
    )
    pending = [
        member_services.application_submit(
            union=g1, data=join_data(), channel=ApplicationChannel.ONLINE, phone_verified=True
        )
        for _ in range(3)
    ]
    JoinApplication.objects.filter(pk=pending[0].pk).update(
        due_date=datetime.date.today() - datetime.timedelta(days=3)
    )
    member_services.application_reject(
        application=pending[2], acting_user=cadre, reason="不符合条件"
    )
    for obj in [*members.values(), *pending]:
        obj.refresh_from_db()
    return Populated(tree=tree, members=members, pending=pending[:2])


@pytest.fixture
def populated(tree: Tree, national_admin: Any) -> Populated:
    fold_now()  # the first fold counts the empty tree
    result = populate(tree, national_admin)
    fold_now()
    return result
