"""The statistics API and the definitions page: scope, answers, errors, query counts."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from niangjia.stats.models import StatValue
from niangjia.stats.periods import Period
from niangjia.stats.tests.conftest import fold_now
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import api_client

API = "/api/v1/stats"


def _folded(tree):
    fold_now()


class TestStatsScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="stats-indicator-page",
            url=lambda t: "/stats/indicators/",
            allowed=("county_cadre", "auditor"),
            forbidden=("worker",),
            contains=lambda t: ["指标说明", "建会率", "membership_rate", "统计年度"],
        ),
        ScopedCase(
            name="api-stats-indicators",
            url=lambda t: f"{API}/indicators",
            api=True,
            allowed=("county_cadre", "worker"),
            contains=lambda t: ["会员数", "formation_rate"],
        ),
        ScopedCase(
            name="api-stats-figures",
            url=lambda t: f"{API}/nodes/{t.jiangan.pk}/figures?indicators=members,unions",
            api=True,
            model=StatValue,
            setup=_folded,
            allowed=("county_cadre", "provincial_cadre", "auditor", "national_admin"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker"),
            contains=lambda t: ["江岸区总工会", "会员数"],
        ),
        ScopedCase(
            name="api-stats-children",
            url=lambda t: f"{API}/nodes/{t.wuhan.pk}/children?indicator=unions",
            api=True,
            model=StatValue,
            setup=_folded,
            allowed=("provincial_cadre", "auditor"),
            out_of_scope=("county_cadre", "sibling_cadre", "worker"),
            contains=lambda t: ["江岸区总工会", "江汉区总工会", "420102"],
        ),
        ScopedCase(
            name="api-stats-trend",
            url=lambda t: f"{API}/nodes/{t.jianghan.pk}/trend?indicator=joins&kind=quarter&count=4",
            api=True,
            model=StatValue,
            setup=_folded,
            allowed=("sibling_cadre", "provincial_cadre"),
            out_of_scope=("county_cadre", "worker"),
            contains=lambda t: ["江汉区总工会", "入会人数"],
        ),
    ]


pytestmark = pytest.mark.django_db


def _get(user, url):
    response = api_client(user).get(url)
    return response.status_code, json.loads(response.content)


def test_a_county_cadre_cannot_read_a_sibling_countys_figures(populated, county_cadre):
    t = populated.tree
    status, body = _get(county_cadre, f"{API}/nodes/{t.jianghan.pk}/figures")
    assert status == 404
    assert "不在您的管辖范围内" in body["detail"]
    status, _ = _get(
        county_cadre, f"{API}/nodes/{t.jianghan_grassroots.pk}/trend?indicator=members"
    )
    assert status == 404


def test_figures_answer_the_chosen_indicators_with_their_breakdown(populated, provincial_cadre):
    t = populated.tree
    status, body = _get(
        provincial_cadre,
        f"{API}/nodes/{t.hubei.pk}/figures?indicators=members,gig_members&dims=true",
    )
    assert status == 200
    assert body["period"]["code"] == Period.current("stat_year").code
    members, gig = body["figures"]
    assert (members["code"], members["value"], members["unit"]) == ("members", 9, "人")
    cuts = {(c["dimension"], c["key"]): c["value"] for c in members["breakdown"]}
    assert cuts[("household", "rural")] == 3
    assert {c["key"]: c["value"] for c in gig["breakdown"]}["courier"] == 1
    assert body["as_of"] is not None


def test_children_give_each_child_federation_its_region_for_the_map(populated, national_admin):
    t = populated.tree
    status, body = _get(national_admin, f"{API}/nodes/{t.wuhan.pk}/children?indicator=members")
    assert status == 200
    assert body["total"] == 9 and body["count"] == 2
    assert [(c["region_code"], c["value"]) for c in body["children"]] == [
        ("420102", 6),
        ("420103", 3),
    ]


def test_trend_gives_the_periods_oldest_first(populated, national_admin):
    t = populated.tree
    status, body = _get(
        national_admin, f"{API}/nodes/{t.root.pk}/trend?indicator=joins&kind=month&count=3"
    )
    assert status == 200
    assert [p["code"] for p in body["points"]][-1] == Period.current("month").code
    assert body["points"][-1]["value"] == 11


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("figures?period=2024-13", "period", "月份应在 01 到 12 之间"),
        ("figures?indicators=members,nonsense", "indicators", "没有代码为“nonsense”的指标"),
        ("children?indicator=nope", "indicator", "没有代码为“nope”的指标"),
        ("trend?indicator=joins&kind=month&until=2024Q1", "until", "应与期间类型一致"),
    ],
)
def test_bad_parameters_are_refused_in_chinese_on_their_field(
    populated, national_admin, query, field, words
):
    t = populated.tree
    status, body = _get(national_admin, f"{API}/nodes/{t.root.pk}/{query}")
    assert status == 422
    (error,) = body["detail"]
    assert error["loc"][-1] == field
    assert words in error["msg"]


def test_reading_figures_takes_a_fixed_handful_of_queries(populated, national_admin):
    t = populated.tree
    client = api_client(national_admin)
    urls = [
        f"{API}/nodes/{t.root.pk}/figures?dims=true",
        f"{API}/nodes/{t.jiangan_grassroots.pk}/figures",
        f"{API}/nodes/{t.wuhan.pk}/children?indicator=members",
        f"{API}/nodes/{t.root.pk}/trend?indicator=members&count=24",
    ]
    counts = []
    for url in urls:
        client.get(url)  # warm the token's last-use write
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    # Authentication (token, user, roles) plus the node, the figures and the fold time.
    assert max(counts) <= 9, counts
