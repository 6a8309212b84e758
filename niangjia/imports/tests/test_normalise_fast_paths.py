"""The short cuts of ``normalise`` give what the long way gives: check characters, ID numbers,
phones, dates, and ``CellCache``."""

from __future__ import annotations

import datetime
import random

import pytest

from niangjia.imports import normalise
from niangjia.imports.normalise import CellCache, CellError

TODAY = datetime.date(2026, 11, 21)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643(first17: str) -> str:
    """The check character as GB 11643 defines it: the weighted sum of the digits, mod 11."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def test_ric_check_is_the_weighted_sum_of_the_standard():
    rng = random.Random(11643)
    bodies = ["0" * 17, "9" * 17, "11010519491231002", "42010219900101123"]
    bodies += ["".join(rng.choice("0123456789") for _ in range(17)) for _ in range(20_000)]
    assert {normalise.ric_check(body) for body in bodies} == set("0123456789X")
    for body in bodies:
        assert normalise.ric_check(body) == gb11643(body), body
    assert normalise.ric_check("11010519491231002") == "X"


def test_ric_check_of_other_digits_and_lengths_is_as_before():
    # Digits of other scripts are counted by their code point (what the loop always did): such
    # a number never passes, whatever its last character.
    arabic = "١" * 17
    assert (
        normalise.ric_check(arabic) == "10X98765432"[sum(w * (ord("١") - 48) for w in WEIGHTS) % 11]
    )
    with pytest.raises(ValueError):
        normalise.ric_check("1234")


def test_a_birth_date_seen_before_is_still_checked_against_today():
    number = "11010519491231002X"
    assert normalise.resident_id(number, today=TODAY)[2] == datetime.date(1949, 12, 31)
    with pytest.raises(CellError, match="出生日期无效"):
        normalise.resident_id(number, today=datetime.date(1949, 12, 30))
    bad = "11010519490230001"
    for _ in range(2):  # an impossible date is refused every time
        with pytest.raises(CellError, match="出生日期无效"):
            normalise.resident_id(bad + normalise.ric_check(bad), today=TODAY)


def test_a_fifteen_digit_number_gets_its_check_character():
    number, sex, birth = normalise.resident_id("110105491231002", today=TODAY)
    assert number == "11010519491231002X"
    assert (sex, birth) == ("F", datetime.date(1949, 12, 31))


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("42010219900101123x", "42010219900101123X"),
        ("E12345678", "E12345678"),
        (" 4201-0219 9001 0112 3X ", "42010219900101123X"),
        ("'42010219900101123X", "42010219900101123X"),
    ],
)
def test_id_number_text_upper_cases_and_compacts(raw, number):
    assert normalise.id_number_text(raw) == number


def test_an_alphanumeric_id_in_scientific_notation_is_still_refused():
    with pytest.raises(CellError, match="科学计数法"):
        normalise.id_number_text("4E17")
    with pytest.raises(CellError, match="科学计数法"):
        normalise.id_number_text("4e17")


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("19912345678", "19912345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("(138) 1234 5678", "13812345678"),
        (13812345678.0, "13812345678"),
    ],
)
def test_phone_spellings(raw, phone):
    assert normalise.mobile_phone(raw) == phone


@pytest.mark.parametrize("raw", ["12812345678", "138123456789", "1381234567", "0086138"])
def test_phones_that_are_digits_but_not_mobile_numbers_are_refused(raw):
    with pytest.raises(CellError, match="11 位"):
        normalise.mobile_phone(raw)


@pytest.mark.parametrize("serial", [1, 1.5, 59, 60, 61, 45296, 45296.0, 2_958_465])
def test_excel_serials_count_days_from_the_end_of_1899(serial):
    expected = datetime.date(1899, 12, 30) + datetime.timedelta(days=int(serial))
    assert normalise.date(serial) == expected
    assert normalise.date(2_958_465) == datetime.date(9999, 12, 31)


@pytest.mark.parametrize("serial", [0, 0.5, -1, 2_958_466, float("nan"), float("inf")])
def test_serials_outside_excels_calendar_are_refused(serial):
    with pytest.raises(CellError, match="不是有效的日期"):
        normalise.date(serial)


def test_text_dates_and_empty_cells():
    assert normalise.date("") is None
    assert normalise.date("   ") is None
    assert normalise.date(" 2024 年 1 月 5 日 ") == datetime.date(2024, 1, 5)
    assert normalise.date("2024.01") == datetime.date(2024, 1, 1)


def test_names_keep_their_characters_when_there_is_no_dot_to_unify():
    assert normalise.person_name("欧阳 娜娜") == "欧阳娜娜"
    assert normalise.person_name("阿依古丽•买买提") == "阿依古丽·买买提"
    assert normalise.person_name("Anna.Li") == "Anna.Li"  # ASCII names keep their full stop


# --- CellCache --------------------------------------------------------------------------------


class Counting:
    def __init__(self, clean):
        self.clean = clean
        self.calls: list[object] = []

    def __call__(self, value):
        self.calls.append(value)
        return self.clean(value)


def test_a_cell_cache_cleans_each_text_or_float_once():
    counting = Counting(normalise.date)
    cached = CellCache(counting)
    for _ in range(3):
        assert cached("2024/1/5") == datetime.date(2024, 1, 5)
        assert cached(45296.0) == datetime.date(2024, 1, 5)
    assert counting.calls == ["2024/1/5", 45296.0]


def test_a_cell_cache_raises_a_remembered_refusal_afresh():
    counting = Counting(normalise.date)
    cached = CellCache(counting)
    raised = []
    for _ in range(2):
        with pytest.raises(CellError) as info:
            cached("2024-02-30")
        raised.append(info.value)
    assert [str(exc) for exc in raised] == ["“2024-02-30”不是存在的日期"] * 2
    assert raised[0] is not raised[1]
    assert counting.calls == ["2024-02-30"]


def test_a_cell_cache_does_not_mix_up_equal_cells_of_other_types():
    counting = Counting(normalise.text)
    cached = CellCache(counting)
    # 1 == 1.0 == True, and they are one dict key; only the float is remembered.
    assert [cached(1.0), cached(True), cached(1), cached(1.0), cached(True)] == [
        "1",
        "是",
        "1",
        "1",
        "是",
    ]
    assert counting.calls == [1.0, True, 1, True]
    assert cached(datetime.date(2024, 1, 5)) == "2024-01-05"
    assert len(cached) == 1


def test_a_cell_cache_stays_within_its_limit():
    counting = Counting(normalise.text)
    cached = CellCache(counting, limit=100)
    for n in range(1_000):
        assert cached(f" v{n} ") == f"v{n}"
        assert len(cached) <= 100
    assert cached(" v999 ") == "v999"
    assert len(counting.calls) == 1_000  # the latest values are still there
