"""Figures per subtree for the statistics module, and the workbench's list filters."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from niangjia.relief import selectors, services
from niangjia.relief.choices import (
    ArchiveLevel,
    AssistanceType,
    Category,
    FileState,
    HardshipCause,
)
from niangjia.relief.models import HardshipFile
from niangjia.utilities.testing.relief import make_file, make_fund, set_threshold, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(tree, personas):
    set_threshold(tree)
    return {
        "deep": make_file(tree, personas),
        "relative": make_file(
            tree,
            personas,
            category=Category.RELATIVE,
            level=ArchiveLevel.CITY,
            main_cause=HardshipCause.UNEMPLOYMENT,
        ),
        "applied": make_file(tree, personas, state=FileState.APPLIED),
        "sibling": make_file(tree, personas, union=tree.jianghan_grassroots),
    }


def test_files_by_dimension_count_the_users_subtree(tree, personas, files):
    county = personas["county_cadre"]
    assert selectors.files_by(user=county, dimension="category") == {"deep": 1, "relative": 1}
    assert selectors.files_by(user=county, dimension="level") == {"county": 1, "city": 1}
    assert selectors.files_by(user=county, dimension="cause") == {"01": 1, "06": 1}
    assert selectors.files_by(user=county, dimension="state", states=None) == {
        "filed": 2,
        "applied": 1,
    }
    province = personas["provincial_cadre"]
    assert selectors.files_by(user=province, dimension="category") == {"deep": 2, "relative": 1}
    assert selectors.files_by(user=province, dimension="category", within=tree.jianghan) == {
        "deep": 1
    }
    with pytest.raises(ValueError):
        selectors.files_by(user=county, dimension="colour")


def test_assistance_figures_by_type_and_fund_with_person_times(tree, personas, files):
    county, recorder = personas["county_cadre"], personas["grassroots_cadre"]
    fund = make_fund(tree, personas, amount="10000")
    for file, amount in ((files["deep"], "800"), (files["relative"], "500")):
        record = services.assistance_create(
            file=file,
            assistance_type=AssistanceType.LIVING,
            amount=Decimal(amount),
            fund=fund,
            acting_user=recorder,
        )
        services.assistance_pay(
            assistance=services.assistance_approve(assistance=record, acting_user=county),
            acting_user=county,
        )
    goods = services.assistance_create(
        file=files["deep"],
        assistance_type=AssistanceType.WARMTH,
        in_kind_value=Decimal("300"),
        goods="米面油",
        acting_user=recorder,
    )
    services.assistance_pay(
        assistance=services.assistance_approve(assistance=goods, acting_user=county),
        acting_user=county,
    )
    services.assistance_create(  # pending: not counted
        file=files["relative"],
        assistance_type=AssistanceType.MEDICAL,
        amount=Decimal("900"),
        fund=fund,
        acting_user=recorder,
    )
    rows = selectors.assistance_figures(
        user=county, start=today() - datetime.timedelta(days=30), end=today()
    )
    by_key = {(r.assistance_type, r.fund_id): r for r in rows}
    living = by_key[(AssistanceType.LIVING, fund.pk)]
    assert (living.amount, living.person_times, living.households) == (Decimal("1300.00"), 2, 2)
    warmth = by_key[(AssistanceType.WARMTH, None)]
    assert (warmth.in_kind_value, warmth.person_times) == (Decimal("300.00"), 1)
    assert len(rows) == 2
    assert (
        selectors.assistance_figures(user=personas["sibling_cadre"], start=today(), end=today())
        == []
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"category": Category.DEEP}, {"deep"}),
        ({"cause": HardshipCause.UNEMPLOYMENT}, {"relative"}),
        ({"level": ArchiveLevel.CITY}, {"relative"}),
        ({"state": FileState.APPLIED}, {"applied"}),
        ({"state": "open"}, {"deep", "relative", "applied"}),
        ({"q": "刘"}, {"deep", "relative", "applied"}),
    ],
)
def test_the_workbench_filters(tree, personas, files, filters, expected):
    names = {v.pk: k for k, v in files.items()}
    rows = selectors.file_list(
        user=personas["county_cadre"], filters=selectors.FileFilters(**filters)
    )
    assert {names[f.pk] for f in selectors.file_page(rows, limit=50)} == expected


def test_overdue_reviews_are_listed(tree, personas, files):
    HardshipFile.objects.filter(pk=files["deep"].pk).update(
        review_due_on=today() - datetime.timedelta(days=1)
    )
    rows = selectors.file_list(
        user=personas["county_cadre"], filters=selectors.FileFilters(overdue_review=True)
    )
    assert [f.pk for f in rows] == [files["deep"].pk]
    assert str(selectors.capped_count(rows)) == "1"
