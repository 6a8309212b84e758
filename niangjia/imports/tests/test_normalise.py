import datetime

import pytest

from niangjia.imports import normalise
from niangjia.imports.normalise import CellError, Codes

TODAY = datetime.date(2026, 11, 21)


def test_text_turns_full_width_into_half_width_and_squeezes_spaces():
    assert normalise.text("  ＡＢＣ１２３　 ") == "ABC123"
    assert normalise.text("武汉  市\t江岸区") == "武汉 市 江岸区"
    assert normalise.text(None) == ""
    assert normalise.text(12.0) == "12"
    assert normalise.text("'420102199001011234") == "420102199001011234"


def test_chinese_names_lose_their_spaces_and_keep_one_middle_dot():
    assert normalise.person_name(" 张 三 ") == "张三"
    assert normalise.person_name("买买提．艾力") == "买买提·艾力"
    assert normalise.person_name("John Smith") == "John Smith"


def test_an_id_number_stored_by_excel_as_a_number_is_refused_with_the_reason():
    with pytest.raises(CellError, match="科学计数法"):
        normalise.id_number_text(4.20102199001011e17)
    with pytest.raises(CellError, match="科学计数法"):
        normalise.id_number_text("4.20102E+17")
    with pytest.raises(CellError, match="科学计数法"):
        normalise.id_number_text(420102199001011234)


def test_a_fifteen_digit_number_cell_survives_and_is_converted():
    number, sex, birth = normalise.resident_id(
        normalise.id_number_text(420102900101123), today=TODAY
    )
    assert len(number) == 18 and number.startswith("42010219900101123")
    assert birth == datetime.date(1990, 1, 1)
    assert sex == "M"


def test_resident_id_check_character_and_birth_date_are_checked():
    good = "11010519491231002X"
    assert (
        normalise.resident_id(
            normalise.id_number_text(" １１０１０５１９４９１２３１００２ｘ "), today=TODAY
        )[0]
        == good
    )
    with pytest.raises(CellError, match="校验位不正确（最后一位应为 X）"):
        normalise.resident_id("110105194912310021", today=TODAY)
    with pytest.raises(CellError, match="18 位"):
        normalise.resident_id("1101051949", today=TODAY)
    with pytest.raises(CellError, match="出生日期无效"):
        body = "11010520991231002"
        normalise.resident_id(body + normalise.ric_check(body), today=TODAY)


def test_residence_permits_need_their_prefix():
    body = "81000019900101123"
    number = body + normalise.ric_check(body)
    with pytest.raises(CellError, match="港澳台"):
        normalise.resident_id(number, today=TODAY)
    assert (
        normalise.resident_id(number, today=TODAY, permit_prefixes=("810000", "820000"))[0]
        == number
    )
    with pytest.raises(CellError, match="830000"):
        normalise.resident_id(number, today=TODAY, permit_prefixes=("830000",))


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "0086-138-1234-5678",
        "8613812345678",
        13812345678,
        "１３８１２３４５６７８",
    ],
)
def test_phone_spellings_are_normalised(raw):
    assert normalise.mobile_phone(raw) == "13812345678"


def test_bad_phones_are_refused():
    with pytest.raises(CellError, match="11 位"):
        normalise.mobile_phone("1381234567")
    with pytest.raises(CellError, match="未填写"):
        normalise.mobile_phone("")


@pytest.mark.parametrize(
    "raw",
    [
        "2024/1/5",
        "2024-01-05",
        "2024.1.5",
        "20240105",
        20240105,
        "2024年1月5日",
        "２０２４年１月５日",
        45296,
        45296.0,
        datetime.datetime(2024, 1, 5, 0, 0),
        datetime.date(2024, 1, 5),
    ],
)
def test_date_spellings_and_excel_serials_give_the_same_day(raw):
    assert normalise.date(raw) == datetime.date(2024, 1, 5)


def test_bad_dates_say_why():
    with pytest.raises(CellError, match="不是存在的日期"):
        normalise.date("2024-02-30")
    with pytest.raises(CellError, match="无法识别"):
        normalise.date("去年春天")
    assert normalise.date("") is None
    assert normalise.date("2024年3月") == datetime.date(2024, 3, 1)


def test_codes_accept_label_code_and_synonyms_and_list_choices_when_wrong():
    codes = Codes([("urban", "城镇户籍"), ("rural", "农村户籍")], {"农业户口": "rural"})
    assert codes("农村户籍") == "rural"
    assert codes("rural") == "rural"
    assert codes(" 农业户口 ") == "rural"
    with pytest.raises(CellError, match="可填：城镇户籍、农村户籍"):
        codes("外星户籍")
