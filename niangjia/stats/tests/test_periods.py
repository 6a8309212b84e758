import datetime

import pytest
from django.core.exceptions import ValidationError

from niangjia.stats.periods import MONTH, QUARTER, STAT_YEAR, YEAR, Period, recent


def test_the_statistical_year_runs_from_october_to_september_and_is_named_by_its_end():
    period = Period.parse("2024S")
    assert (period.start, period.end) == (datetime.date(2023, 10, 1), datetime.date(2024, 9, 30))
    assert period.months()[0] == "2023-10" and period.months()[-1] == "2024-09"
    assert len(period.months()) == 12
    assert period.label == "2024统计年度（2023年10月1日至2024年9月30日）"


def test_the_last_day_of_september_and_the_first_of_october_fall_in_different_statistical_years():
    assert Period.containing(STAT_YEAR, datetime.date(2024, 9, 30)).code == "2024S"
    assert Period.containing(STAT_YEAR, datetime.date(2024, 10, 1)).code == "2025S"
    assert Period.containing(STAT_YEAR, datetime.date(2025, 1, 1)).code == "2025S"


def test_months_quarters_and_years_cover_whole_months():
    assert Period.parse("2024-02").end == datetime.date(2024, 2, 29)
    quarter = Period.parse("2024Q4")
    assert (quarter.start, quarter.end) == (datetime.date(2024, 10, 1), datetime.date(2024, 12, 31))
    assert quarter.months() == ["2024-10", "2024-11", "2024-12"]
    assert Period.parse("2024").months()[-1] == "2024-12"
    assert Period.containing(QUARTER, datetime.date(2024, 5, 31)).code == "2024Q2"
    assert Period.containing(MONTH, datetime.date(2024, 5, 31)).code == "2024-05"
    assert Period.containing(YEAR, datetime.date(2024, 5, 31)).code == "2024"


def test_previous_periods_and_a_year_ago_cross_year_boundaries():
    assert Period.parse("2024-01").previous().code == "2023-12"
    assert Period.parse("2024-01").year_ago().code == "2023-01"
    assert Period.parse("2024Q1").previous().code == "2023Q4"
    assert Period.parse("2024Q1").year_ago().code == "2023Q1"
    assert Period.parse("2024S").previous().code == "2023S"
    assert Period.parse("2024").year_ago().code == "2023"


def test_recent_periods_end_with_the_given_one_oldest_first():
    codes = [p.code for p in recent(MONTH, 3, until=Period.parse("2024-02"))]
    assert codes == ["2023-12", "2024-01", "2024-02"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("2024-13", "月份应在 01 到 12 之间"),
        ("24", "格式不正确"),
        ("2024Q5", "格式不正确"),
        ("1900", "年份应在"),
        ("", "格式不正确"),
    ],
)
def test_a_mistyped_period_is_refused_in_chinese(code, message):
    with pytest.raises(ValidationError) as caught:
        Period.parse(code)
    assert message in caught.value.messages[0]
