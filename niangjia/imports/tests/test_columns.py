"""Roster columns and header recognition."""

from __future__ import annotations

import pytest

from niangjia.imports.columns import (
    COLUMN_SETS,
    EMPLOYER_COLUMNS,
    HEADER_SCAN_ROWS,
    MEMBER_COLUMNS,
    Column,
    ColumnKind,
    Duplicate,
    apply_mapping,
    column_letter,
    columns_by_key,
    detect_header,
    mapping_problems,
    match_header,
    normalize_label,
    row_extractor,
)
from niangjia.imports.files import head_rows, inspect_upload, read_rows
from niangjia.imports.tests.builders import write_xlsx
from niangjia.members.choices import ETHNIC_GROUPS
from niangjia.members.models import Member
from niangjia.orgs.models import Employer

MEMBERS = columns_by_key(MEMBER_COLUMNS)
EMPLOYERS = columns_by_key(EMPLOYER_COLUMNS)


# --- The columns ---------------------------------------------------------------------------------


def test_member_columns_cover_the_roster_fields():
    assert list(MEMBERS) == [
        "name",
        "id_type",
        "id_number",
        "phone",
        "sex",
        "ethnic_group",
        "education",
        "household",
        "employment_form",
        "gig_occupation",
        "occupation",
        "employer_name",
        "employer_uscc",
        "union",
        "join_date",
        "status",
    ]
    assert [c.key for c in MEMBER_COLUMNS if c.required] == ["name", "id_number", "phone"]


def test_employer_columns_cover_the_registry_fields():
    assert list(EMPLOYERS) == [
        "name",
        "uscc",
        "region",
        "industry_section",
        "ownership",
        "headcount",
        "status",
        "owner",
        "covering_union",
    ]
    assert [c.key for c in EMPLOYER_COLUMNS if c.required] == [
        "name",
        "uscc",
        "region",
        "industry_section",
        "ownership",
    ]


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("id_type", "id_type"),
        ("sex", "sex"),
        ("ethnic_group", "ethnic_group"),
        ("education", "education"),
        ("household", "household"),
        ("employment_form", "employment_form"),
        ("gig_occupation", "gig_occupation"),
    ],
)
def test_member_coded_columns_offer_exactly_the_registrys_choices(key, field):
    column = MEMBERS[key]
    assert column.kind == ColumnKind.CHOICE
    model_choices = [
        (str(code), str(label)) for code, label in Member._meta.get_field(field).choices
    ]
    assert list(column.choices) == model_choices
    assert column.label == Member._meta.get_field(field).verbose_name


@pytest.mark.parametrize(
    ("key", "field"),
    [("industry_section", "industry_section"), ("ownership", "ownership"), ("status", "status")],
)
def test_employer_coded_columns_offer_exactly_the_registrys_choices(key, field):
    model_choices = [
        (str(code), str(label)) for code, label in Employer._meta.get_field(field).choices
    ]
    assert list(EMPLOYERS[key].choices) == model_choices


def test_ethnic_groups_follow_gb_3304_with_labels_mapping_to_codes():
    column = MEMBERS["ethnic_group"]
    assert len(column.choices) == len(ETHNIC_GROUPS) == 58
    assert column.codes_by_label["汉族"] == "01"
    assert column.codes_by_label["维吾尔族"] == "05"
    assert column.codes_by_label["外国血统中国籍人士"] == "98"


def test_employer_status_offers_active_moved_away_and_deregistered():
    assert EMPLOYERS["status"].labels == ["存续", "迁出", "注销"]


def test_the_member_status_column_only_offers_active():
    assert MEMBERS["status"].labels == ["在会"]


def test_id_phone_and_code_columns_are_kept_as_text():
    assert MEMBERS["id_number"].kind == ColumnKind.CODE
    assert MEMBERS["phone"].kind == ColumnKind.CODE
    assert MEMBERS["employer_uscc"].kind == ColumnKind.CODE
    assert EMPLOYERS["uscc"].kind == ColumnKind.CODE


@pytest.mark.parametrize("columns", [MEMBER_COLUMNS, EMPLOYER_COLUMNS])
def test_every_column_has_a_note_and_every_example_of_a_coded_column_is_one_of_its_labels(columns):
    for column in columns:
        assert column.note, column.key
        if column.choices and column.example:
            assert column.example in column.labels, column.key


@pytest.mark.parametrize("columns", [MEMBER_COLUMNS, EMPLOYER_COLUMNS])
def test_no_header_names_two_columns_of_a_set(columns):
    seen: dict[str, str] = {}
    for column in columns:
        for name in column.names:
            normal = normalize_label(name, keep_notes=True)
            assert seen.setdefault(normal, column.key) == column.key, name
            assert match_header(name, columns) == column.key, name


def test_a_set_whose_columns_share_a_header_is_a_programming_error():
    clash = (Column(key="a", label="姓名"), Column(key="b", label="名称", synonyms=("姓名",)))
    with pytest.raises(ValueError, match="claimed by both"):
        detect_header([["姓名"]], clash)


def test_required_columns_are_marked_in_their_header():
    assert MEMBERS["name"].header == "*姓名"
    assert MEMBERS["sex"].header == "性别"


def test_column_sets_are_found_by_import_kind():
    assert COLUMN_SETS["members"] is MEMBER_COLUMNS
    assert COLUMN_SETS["employers"] is EMPLOYER_COLUMNS


# --- Normalising and matching headers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("姓名", "姓名"),
        ("*姓名", "姓名"),
        ("＊姓名（必填）", "姓名"),
        ("　姓　名　", "姓名"),
        ("身份证号码(18位)", "身份证号码"),
        ("身份证号码【必填】", "身份证号码"),
        ("手机号码：", "手机号码"),
        ("ＩＤ Number", "idnumber"),
        ("职业/岗位", "职业岗位"),
        ("入会_日期", "入会日期"),
        ("\n民族\n", "民族"),
    ],
)
def test_headers_are_normalised_before_comparison(text, expected):
    assert normalize_label(text) == expected


def test_bracketed_notes_are_kept_on_request():
    assert normalize_label("身份证号码（18位）", keep_notes=True) == "身份证号码18位"


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("身份证号", "id_number"),
        ("身份证", "id_number"),
        ("公民身份号码", "id_number"),
        ("证件号码", "id_number"),
        ("身份证号码(18位)", "id_number"),
        ("*身份证号码（必填）", "id_number"),
        ("手机", "phone"),
        ("手机号", "phone"),
        ("联系电话", "phone"),
        ("电话", "phone"),
        ("ＭＯＢＩＬＥ", None),
        ("文化程度", "education"),
        ("户口性质", "household"),
        ("工会名称", "union"),
        ("工会", "union"),
        ("统一社会信用代码", "employer_uscc"),
        ("单位名称", "employer_name"),
        ("入会时间", "join_date"),
        ("备注", None),
        ("", None),
        (None, None),
        (12, None),
    ],
)
def test_member_headers_are_recognised_by_label_or_synonym(header, key):
    assert match_header(header, MEMBER_COLUMNS) == key


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("会员身份证号码", "id_number"),  # contains a name
        ("本人手机号码", "phone"),
        ("最高学历（学位）", "education"),
        ("工作单位统一社会信用代码（18位）", "employer_uscc"),  # the longest contained name wins
        ("工会会员证号", None),  # "工会" is only recognised on its own
        ("户籍所在地", None),  # neither is "户籍"
        ("单位地址", None),
    ],
)
def test_a_header_containing_a_name_is_recognised_unless_the_name_is_too_generic(header, key):
    assert match_header(header, MEMBER_COLUMNS) == key


def test_a_header_containing_two_fields_names_of_the_same_length_is_not_guessed():
    columns = (Column(key="a", label="甲乙"), Column(key="b", label="丙丁"))
    assert match_header("甲乙丙丁", columns) is None
    assert match_header("甲乙之外", columns) == "a"


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("单位名称", "name"),
        ("企业名称", "name"),
        ("统一社会信用代码", "uscc"),
        ("纳税人识别号", "uscc"),
        ("行政区划代码", "region"),
        ("所属行业", "industry_section"),
        ("登记注册类型", "ownership"),
        ("从业人数", "headcount"),
        ("经营状态", "status"),
        ("所属工会", "covering_union"),
        ("覆盖工会", "covering_union"),
    ],
)
def test_employer_headers_are_recognised(header, key):
    assert match_header(header, EMPLOYER_COLUMNS) == key


# --- Detecting the header row --------------------------------------------------------------------


def test_a_header_on_the_first_row_maps_every_column():
    rows = [["姓名", "身份证号码", "手机号码"], ["张三", "11010519491231002X", "13800138000"]]
    guess = detect_header(rows, MEMBER_COLUMNS)
    assert guess.row == 0
    assert guess.row_number == 1
    assert guess.mapping == {0: "name", 1: "id_number", 2: "phone"}
    assert guess.missing == ()
    assert guess.duplicates == ()
    assert guess.unmapped == {}
    assert guess.ok
    assert guess.messages(MEMBER_COLUMNS) == []


def test_a_header_on_row_3_below_a_merged_title_and_a_blank_row_is_found():
    rows = [
        ["武汉市江岸区某某公司工会会员花名册", "", "", "", ""],
        ["", "", "", "", ""],
        ["序号", "姓名", "身份证号", "手机", "民族"],
        [1, "张三", "11010519491231002X", "13800138000", "汉族"],
        [2, "李四", "420102199001011234", "13900139000", "回族"],
    ]
    guess = detect_header(rows, MEMBER_COLUMNS)
    assert guess.row == 2
    assert guess.row_number == 3
    assert guess.mapping == {1: "name", 2: "id_number", 3: "phone", 4: "ethnic_group"}
    assert guess.unmapped == {0: "序号"}
    assert guess.headers == ("序号", "姓名", "身份证号", "手机", "民族")


def test_full_width_and_annotated_headers_are_recognised():
    rows = [["＊姓　名（必填）", "身份证号码（18位）", "手机号码【11位】", "性 别", "学历："]]
    guess = detect_header(rows, MEMBER_COLUMNS)
    assert guess.mapping == {0: "name", 1: "id_number", 2: "phone", 3: "sex", 4: "education"}


def test_extra_columns_are_kept_aside_and_listed():
    rows = [["姓名", "籍贯", "身份证号码", "备注", "", "手机号码", "政治面貌"]]
    guess = detect_header(rows, MEMBER_COLUMNS)
    assert guess.mapping == {0: "name", 2: "id_number", 5: "phone"}
    assert guess.unmapped == {1: "籍贯", 3: "备注", 6: "政治面貌"}
    assert guess.messages(MEMBER_COLUMNS) == [
        "以下列不导入：B 列“籍贯”、D 列“备注”、G 列“政治面貌”。"
    ]


def test_missing_required_columns_are_reported_by_label():
    guess = detect_header([["姓名", "民族"]], MEMBER_COLUMNS)
    assert guess.missing == ("id_number", "phone")
    assert not guess.ok
    assert "缺少必填列：身份证号码、手机号码。" in guess.messages(MEMBER_COLUMNS)


def test_two_columns_for_one_field_keep_the_exact_name_and_report_the_other():
    rows = [["姓名", "会员身份证号码", "身份证号码", "手机号码", "紧急联系人姓名"]]
    guess = detect_header(rows, MEMBER_COLUMNS)
    assert guess.mapping == {0: "name", 2: "id_number", 3: "phone"}
    assert guess.duplicates == (Duplicate("name", 0, (4,)), Duplicate("id_number", 2, (1,)))
    assert guess.unmapped == {1: "会员身份证号码", 4: "紧急联系人姓名"}
    messages = guess.messages(MEMBER_COLUMNS)
    assert "“姓名”对应了多列：使用 A 列“姓名”，忽略 E 列“紧急联系人姓名”。" in messages
    assert "“身份证号码”对应了多列：使用 C 列“身份证号码”，忽略 B 列“会员身份证号码”。" in messages
    assert not any(m.startswith("以下列不导入") for m in messages)


def test_two_equally_good_columns_keep_the_leftmost():
    guess = detect_header([["电话", "手机号码", "联系电话", "姓名"]], MEMBER_COLUMNS)
    assert guess.mapping[1] == "phone"
    assert guess.duplicates == (Duplicate("phone", 1, (0, 2)),)


def test_data_rows_do_not_win_over_the_header():
    rows = [
        ["姓名", "户籍类型", "民族", "身份证号码"],
        ["城镇户籍", "农村户籍", "汉族", "身份证"],  # odd values that look like headers
    ]
    assert detect_header(rows, MEMBER_COLUMNS).row == 0


def test_the_row_naming_most_distinct_fields_wins_over_one_repeating_a_field():
    rows = [["手机", "电话", "联系电话", "手机号"], ["姓名", "身份证号码"]]
    assert detect_header(rows, MEMBER_COLUMNS).row == 1


def test_no_recognisable_header_gives_no_row_and_a_message():
    rows = [["a", "b"], [1, 2]]
    guess = detect_header(rows, MEMBER_COLUMNS)
    assert guess.row is None
    assert guess.row_number is None
    assert guess.mapping == {}
    assert guess.missing == ("name", "id_number", "phone")
    assert not guess.ok
    assert "没有找到可识别的表头" in guess.messages(MEMBER_COLUMNS)[0]


def test_only_the_first_rows_are_searched():
    rows = [[""]] * HEADER_SCAN_ROWS + [["姓名", "身份证号码", "手机号码"]]
    assert detect_header(rows, MEMBER_COLUMNS).row is None
    assert detect_header(rows[1:], MEMBER_COLUMNS).row == HEADER_SCAN_ROWS - 1


def test_numeric_header_cells_are_shown_without_a_decimal_point():
    guess = detect_header([[1.0, "姓名", None, 2.5]], MEMBER_COLUMNS)
    assert guess.headers == ("1", "姓名", "", "2.5")
    assert guess.unmapped == {0: "1", 3: "2.5"}


def test_an_employer_roster_header_is_detected():
    rows = [
        ["用人单位名册（2024 年）"],
        [
            "单位名称",
            "统一社会信用代码",
            "所在行政区划",
            "行业门类",
            "经济类型",
            "职工人数",
            "单位状态",
            "所属工会",
        ],
    ]
    guess = detect_header(rows, EMPLOYER_COLUMNS)
    assert guess.row == 1
    assert list(guess.mapping.values()) == [
        "name",
        "uscc",
        "region",
        "industry_section",
        "ownership",
        "headcount",
        "status",
        "covering_union",
    ]
    assert guess.ok


# --- Using the mapping ---------------------------------------------------------------------------


def test_the_extractor_picks_the_mapped_cells_by_key():
    extract = row_extractor({0: "name", 2: "id_number", 5: "phone"})
    row = ["张三", "x", "11010519491231002X", "y", "z", "13800138000", "extra"]
    assert extract(row) == {
        "name": "张三",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
    }


def test_the_extractor_accepts_a_mapping_read_back_from_json():
    extract = row_extractor({"2": "phone", "0": "name"})
    assert extract(["张三", "", "13800138000"]) == {"name": "张三", "phone": "13800138000"}


def test_short_rows_give_empty_cells():
    extract = row_extractor({0: "name", 3: "phone"})
    assert extract(["张三"]) == {"name": "张三", "phone": ""}
    single = row_extractor({2: "name"})
    assert single(["a", "b", "c"]) == {"name": "c"}
    assert single([]) == {"name": ""}


def test_an_empty_mapping_extracts_nothing():
    assert row_extractor({})(["a"]) == {}


def test_apply_mapping_maps_one_row():
    assert apply_mapping(["张三", 1.0], {1: "phone", 0: "name"}) == {"name": "张三", "phone": 1.0}


def test_a_confirmed_mapping_without_problems_gives_none():
    assert mapping_problems({0: "name", 1: "id_number", 2: "phone"}, MEMBER_COLUMNS) == []


def test_a_confirmed_mapping_with_a_field_twice_an_unknown_field_or_a_missing_one_is_explained():
    problems = mapping_problems(
        {"0": "name", "1": "name", "3": "nickname"}, MEMBER_COLUMNS, ["姓名", "名字", "", "昵称"]
    )
    assert problems == [
        "“姓名”同时对应了 A 列和 B 列“名字”，只能选一列。",
        "D 列“昵称”对应的字段“nickname”不存在。",
        "缺少必填列：身份证号码、手机号码。",
    ]


@pytest.mark.parametrize(
    ("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letters_follow_the_spreadsheet(index, letter):
    assert column_letter(index) == letter


# --- Through real files ----------------------------------------------------------------------------


def test_a_workbook_with_a_merged_title_has_its_header_found_on_row_3(tmp_path):
    rows = [
        ["江岸区某某物流公司工会会员花名册（2024 年）"],
        [],
        ["序号", "＊姓　名", "公民身份号码", "联系电话", "民族", "文化程度", "籍贯", "入会时间"],
        [1, "张三", "11010519491231002X", "13800138000", "汉族", "本科", "湖北武汉", "2024-05-01"],
    ]
    path = write_xlsx(tmp_path / "花名册.xlsx", rows, merge=["A1:H1"])
    assert inspect_upload(path, original_name="花名册.xlsx") == "xlsx"
    guess = detect_header(head_rows(path, "xlsx"), MEMBER_COLUMNS)
    assert guess.row_number == 3
    assert guess.mapping == {
        1: "name",
        2: "id_number",
        3: "phone",
        4: "ethnic_group",
        5: "education",
        7: "join_date",
    }
    assert guess.unmapped == {0: "序号", 6: "籍贯"}
    assert guess.ok


def test_a_gb18030_csv_has_its_header_found_below_a_title_line(tmp_path):
    text = "会员名册\n\n姓名,身份证号,手机号,备注\n张三,11010519491231002X,13800138000,\n"
    path = tmp_path / "名册.csv"
    path.write_bytes(text.encode("gb18030"))
    assert inspect_upload(path, original_name="名册.csv") == "csv"
    guess = detect_header(list(read_rows(path, "csv")), MEMBER_COLUMNS)
    assert guess.row_number == 3
    assert guess.mapping == {0: "name", 1: "id_number", 2: "phone"}
    assert guess.unmapped == {3: "备注"}
