"""Each indicator against what the small populated tree holds (see conftest.populate), and
every stored figure against a direct recount of the raw tables."""

import datetime

import pytest
from django.utils import timezone

from niangjia.members import services as member_services
from niangjia.members.models import MemberEvent
from niangjia.orgs import services as org_services
from niangjia.stats import registry, selectors
from niangjia.stats.periods import Period
from niangjia.stats.tests.conftest import assert_exact, fold_now, value

pytestmark = pytest.mark.django_db


def test_every_figure_of_every_node_equals_a_recount(populated):
    assert_exact()


def test_members_count_those_holding_a_membership_where_they_are(populated):
    t = populated.tree
    assert value(t.root, "members") == 9
    assert value(t.jiangan, "members") == 6  # five in its grassroots union, one it holds itself
    assert value(t.jiangan_grassroots, "members") == 5
    assert value(t.jianghan, "members") == 3  # the member in transfer still counts here
    assert value(t.root, "members", dims="status=active") == 7
    assert value(t.root, "members", dims="status=reserved") == 1
    assert value(t.root, "members", dims="status=transferring") == 1


def test_a_grassroots_union_under_an_industry_union_counts_there_and_once_above(populated):
    t = populated.tree
    assert value(t.transport_industry, "members") == 3
    assert value(t.transport_industry, "unions") == 2
    assert value(t.transport_industry, "grassroots_unions") == 1
    # 湖北 holds 江汉's grassroots union by path and through its industry union: counted once.
    assert value(t.hubei, "members") == 9
    assert value(t.hubei, "unions") == 7
    assert value(t.root, "grassroots_unions") == 2


def test_migrant_and_gig_members(populated):
    t = populated.tree
    assert value(t.root, "migrant_members") == 3
    assert value(t.transport_industry, "migrant_members") == 2
    assert value(t.root, "gig_members") == 2
    assert value(t.root, "gig_members", dims="gig_occupation=courier") == 1
    assert value(t.root, "gig_members", dims="gig_occupation=delivery_rider") == 1
    assert value(t.root, "gig_members", dims="gig_occupation=truck_driver") == 0


def test_unions_by_level_and_kind(populated):
    t = populated.tree
    assert value(t.root, "unions") == 8
    assert value(t.root, "unions", dims="level=county") == 2
    assert value(t.root, "unions", dims="kind=industry") == 1
    assert value(t.wuhan, "unions", dims="level=grassroots") == 2


def test_employers_formation_and_membership_rates(populated):
    t = populated.tree
    assert value(t.root, "employers") == 2
    assert value(t.root, "employers", dims="section=C") == 1
    assert value(t.root, "employers_organised") == 2
    assert value(t.root, "formation_rate") == 100.0
    assert value(t.root, "covered_headcount") == 470
    # Standard members of grassroots unions: five in 江岸's, the one in transfer in 江汉's.
    assert value(t.root, "members_covered") == 6
    assert value(t.root, "membership_rate") == round(100 * 6 / 470, 1)
    assert value(t.jiangan, "membership_rate") == round(100 * 5 / 320, 1)
    # The industry union registers no employer: no rate rather than a division by zero.
    assert value(t.transport_industry, "formation_rate") is None


def test_the_formation_rate_counts_employers_of_at_least_n_staff(
    populated, settings, national_admin
):
    t = populated.tree
    org_services.employer_update(
        acting_user=national_admin, employer=t.jianghan_employer, headcount=20
    )
    fold_now()
    assert value(t.root, "employers_sized") == 1
    assert value(t.root, "employers_organised_sized") == 1
    assert value(t.root, "formation_rate") == 100.0
    assert value(t.root, "employers_organised") == 2
    settings.STATS_FORMATION_MIN_STAFF = 15  # a new N: the next fold recounts everything
    fold_now()
    assert value(t.root, "employers_sized") == 2
    assert "N = 15" in registry.computation_of(registry.get("formation_rate"))
    assert_exact()


def test_joins_leavings_and_net_change_in_the_period(populated):
    t = populated.tree
    assert value(t.root, "joins") == 11
    assert value(t.root, "leavings") == 2
    assert value(t.root, "leavings", dims="to_status=deceased") == 1
    assert value(t.root, "members_net") == 9
    assert value(t.jiangan, "joins") == 7


def test_a_transfer_counts_out_where_it_left_and_in_where_it_arrived(populated, national_admin):
    t = populated.tree
    transfer = populated.members["moving"].transfers.get()
    member_services.transfer_accept(transfer=transfer, acting_user=national_admin)
    fold_now()
    assert value(t.jianghan, "transfers_out") == 1
    assert value(t.jianghan, "members") == 2
    assert value(t.jiangan, "transfers_in") == 1
    assert value(t.jiangan, "members") == 7
    # Above both ends the member moved within: in and out, no net change.
    assert value(t.wuhan, "transfers_in") == value(t.wuhan, "transfers_out") == 1
    assert value(t.wuhan, "members_net") == 9
    assert_exact()


def test_pending_and_overdue_applications(populated):
    t = populated.tree
    assert value(t.root, "applications_pending") == 2
    assert value(t.jiangan_grassroots, "applications_overdue") == 1
    assert value(t.jianghan, "applications_pending") == 0


def test_overdue_applications_grow_with_the_calendar_without_any_write(populated, monkeypatch):
    t = populated.tree
    later = timezone.localdate() + datetime.timedelta(days=60)
    monkeypatch.setattr(selectors, "_today", lambda: later)
    assert value(t.root, "applications_overdue", Period.containing("stat_year", later)) == 2


def test_flows_fall_in_the_period_of_their_date_across_the_statistical_year(
    populated, national_admin
):
    t = populated.tree
    today = timezone.localdate()
    september = datetime.date(today.year - 1, 9, 30)
    october = datetime.date(today.year - 1, 10, 1)
    member = populated.members["a1"]
    event = member.events.get(kind=MemberEvent.Kind.JOINED)
    MemberEvent.objects.filter(pk=event.pk).update(date=september)
    MemberEvent.objects.create(
        member=member, kind=MemberEvent.Kind.JOINED, union=member.union, date=october
    )
    from niangjia.stats import fold

    fold.rebuild()
    assert value(t.root, "joins", f"{today.year - 1}S") == 1
    assert value(t.root, "joins", f"{today.year - 1}-09") == 1
    assert value(t.root, "joins", f"{today.year - 1}Q4") == 1
    assert value(t.root, "joins", f"{today.year - 1}-10") == 1
    assert_exact()


def test_members_at_the_end_of_a_past_period_are_derived_from_the_later_changes(
    populated, national_admin
):
    t = populated.tree
    today = timezone.localdate()
    last_year = Period.containing("stat_year", today).previous()
    # Everyone joined this statistical year: none were members at the end of the last one.
    assert value(t.root, "members", last_year) == 0
    assert value(t.root, "members", Period.containing("stat_year", today)) == 9
    # A cut cannot be derived for a past period, nor can other stocks.
    assert value(t.root, "migrant_members", last_year) is None
    assert value(t.root, "unions", last_year) is None
    future = Period.containing("stat_year", today).shifted(1)
    assert value(t.root, "members", future) is None


def test_figures_give_the_previous_period_and_a_year_ago_with_the_change(populated):
    t = populated.tree
    period = Period.current("month")
    item = selectors.figures(node=t.root, period=period, indicators=["joins"])["figures"][0]
    assert item["value"] == 11
    assert item["previous"] == 0 and item["change"] == 11 and item["change_rate"] is None
    assert item["year_ago"] == 0


def test_children_breakdown_lists_the_child_unions_with_their_regions(populated):
    t = populated.tree
    result = selectors.children_breakdown(
        node=t.wuhan, indicator="members", period=Period.current("month")
    )
    assert result["total"] == 9
    assert [(c["name"], c["value"], c["region_code"]) for c in result["children"]] == [
        ("江岸区总工会", 6, "420102"),
        ("江汉区总工会", 3, "420103"),
    ]
    industry = selectors.children_breakdown(
        node=t.transport_industry, indicator="members", period=Period.current("month")
    )
    assert [(c["name"], c["value"]) for c in industry["children"]] == [
        ("武汉汉江物流有限公司工会", 3)
    ]


def test_trend_gives_one_value_per_period_oldest_first(populated):
    t = populated.tree
    periods = [Period.current("month").shifted(-1), Period.current("month")]
    points = selectors.trend(node=t.root, indicator="members", periods=periods)["points"]
    assert [p["value"] for p in points] == [0, 9]


def test_the_registry_defines_every_indicator_in_words():
    for entry in selectors.indicator_list():
        assert entry.name and entry.unit and entry.definition and entry.computation
        for dimension in entry.dimensions:
            assert dimension["values"], f"{entry.code}: {dimension['code']} has no values"


def test_children_come_in_pages_with_the_count_of_all(populated):
    t = populated.tree
    month = Period.current("month")
    page = selectors.children_breakdown(
        node=t.wuhan, indicator="members", period=month, offset=1, limit=1
    )
    assert page["count"] == 2 and [c["name"] for c in page["children"]] == ["江汉区总工会"]
    linked = selectors.children_breakdown(
        node=t.transport_industry, indicator="members", period=month, offset=0, limit=5
    )
    assert linked["count"] == 1 and linked["children"][0]["value"] == 3
    beyond = selectors.children_breakdown(
        node=t.transport_industry, indicator="members", period=month, offset=1, limit=5
    )
    assert beyond["children"] == []
