"""``MemberRowChecker`` without a database: its COPY lines, its remembered unions and dates."""

from __future__ import annotations

import datetime
import decimal
import pickle

import pytest

from niangjia.imports.member_rows import (
    STAGED_FIELDS,
    CheckedRow,
    MemberRowChecker,
    RowProblem,
    UnionTarget,
    copy_line,
    union_key,
)
from niangjia.members.choices import IdType
from niangjia.members.models import ID_PURPOSE, PHONE_PURPOSE
from niangjia.utilities import crypto
from niangjia.utilities.testing.members import make_id_number

TODAY = datetime.date(2026, 11, 21)
HEADERS = {
    "name": "姓名",
    "id_type": "证件类型",
    "id_number": "身份证号码",
    "phone": "手机号码",
    "occupation": "职业",
    "employer_name": "工作单位",
    "union": "所在工会",
    "join_date": "入会日期",
}
UNION = UnionTarget(7, "0001.0002.0007", "武汉长江机械有限公司工会")
TWINS = [UnionTarget(8, "0001.0003.0008", "同名工会"), UnionTarget(9, "0001.0004.0009", "同名工会")]
UNION_CODE = "91420100MA4K0000X1"


def checker(*, copy_lines: bool = True, default: UnionTarget | None = None) -> MemberRowChecker:
    return MemberRowChecker(
        columns={key: (i, header) for i, (key, header) in enumerate(HEADERS.items())},
        default_union=default,
        unions_by_name={union_key(UNION.name): [UNION], union_key("同名工会"): TWINS},
        unions_by_code={UNION_CODE: UNION},
        today=TODAY,
        copy_lines=copy_lines,
    )


def row(**cells: object) -> list[object]:
    values = {
        "name": "张三",
        "id_type": "",
        "id_number": make_id_number(birth="19900101", serial=123),
        "phone": "13812345678",
        "occupation": "焊工",
        "employer_name": "武汉长江机械有限公司",
        "union": UNION.name,
        "join_date": "2024/1/5",
        **cells,
    }
    return [values[key] for key in HEADERS]


def test_copy_line_escapes_text_and_spells_every_type_as_postgresql_copy_reads_it():
    values = [
        None,
        "",
        "plain 文本",
        "a\\b",
        "x\ty",
        "l\nm",
        "c\rr",
        "\\\t\n\r",
        b"\x00\xff",
        b"",
        datetime.date(2024, 1, 5),
        datetime.datetime(2024, 1, 5, 6, 7),
        12,
        -3,
        True,
        1.5,
        decimal.Decimal("2.50"),
        IdType.RESIDENT,
    ]
    assert copy_line(values).split("\t") == [
        "\\N",
        "",
        "plain 文本",
        "a\\\\b",
        "x\\ty",
        "l\\nm",
        "c\\rr",
        "\\\\\\t\\n\\r",
        "\\\\x00ff",
        "\\\\x",
        "2024-01-05",
        "2024-01-05T06:07:00",
        "12",
        "-3",
        "True",
        "1.5",
        "2.50",
        "resident",
    ]
    assert copy_line([]) == ""


def _opened(values: list[object]) -> list[object]:
    """The values with the two ciphertexts decrypted (they differ at every sealing)."""
    opened = list(values)
    opened[2] = crypto.decrypt(opened[2], purpose=ID_PURPOSE)  # type: ignore[arg-type]
    opened[7] = crypto.decrypt(opened[7], purpose=PHONE_PURPOSE)  # type: ignore[arg-type]
    return opened


@pytest.mark.parametrize(
    "cells",
    [
        {},
        {"name": "A\\B Smith", "occupation": "焊工\\电工"},
        {"employer_name": "某\\公司"},
        {"id_type": "护照", "id_number": "E12345678"},  # no birth date: \N in the line
        {"id_type": "护照", "id_number": "E12345678", "name": "Back\\Slash"},
        {"occupation": 12.0, "join_date": 45296.0},
    ],
)
def test_the_line_of_a_checked_row_is_copy_line_of_its_values(cells):
    checked = checker().check(2, row(**cells))
    assert isinstance(checked, CheckedRow)
    assert len(checked.values) == len(STAGED_FIELDS)
    assert checked.line == copy_line(checked.values)
    fields = checked.line.split("\t")
    assert len(fields) == len(STAGED_FIELDS)
    assert fields[0] == checked.values[0].replace("\\", "\\\\")  # type: ignore[union-attr]
    assert fields[2] == "\\\\x" + checked.values[2].hex()  # type: ignore[union-attr]
    assert fields[6] == ("\\N" if checked.values[6] is None else "1990-01-01")


def test_without_copy_lines_a_checked_row_has_no_line_and_the_same_values():
    with_lines = checker().check(2, row())
    without = checker(copy_lines=False).check(2, row())
    assert isinstance(with_lines, CheckedRow) and isinstance(without, CheckedRow)
    assert without.line == ""
    assert _opened(without.values) == _opened(with_lines.values)


def test_unions_and_dates_are_remembered_with_their_refusals():
    check = checker()
    for n in range(3):
        ok = check.check(2 + n, row(union=UNION_CODE.lower(), join_date="2024年1月5日"))
        assert isinstance(ok, CheckedRow)
        assert ok.values[17:] == [7, UNION.path, datetime.date(2024, 1, 5)]
    for _ in range(2):
        missing = check.check(9, row(union="不存在的工会", join_date="2024-02-30"))
        assert isinstance(missing, RowProblem)
        assert missing.messages == [
            "「所在工会」“不存在的工会”不是本次导入范围内可接收会员的工会",
            "「入会日期」“2024-02-30”不是存在的日期",
        ]
        twins = check.check(10, row(union="同名工会"))
        assert isinstance(twins, RowProblem)
        assert twins.messages == [
            "「所在工会」“同名工会”在导入范围内有同名工会，请改填工会的统一社会信用代码"
        ]
        empty = check.check(11, row(union=""))
        assert isinstance(empty, RowProblem)
        assert empty.messages == [
            "「所在工会」未填写（本次导入的工会下有多个基层工会，须逐行注明）"
        ]
    # A join date that was fine yesterday is still checked against today, row by row.
    future = check.check(12, row(join_date="2026-11-22"))
    assert isinstance(future, RowProblem)
    assert future.messages == ["「入会日期」不能晚于今天"]
    assert checker(default=UNION).check(13, row(union=None)).values[17] == 7  # type: ignore[union-attr]


def test_a_pickled_checker_checks_as_before():
    original = checker()
    original.check(2, row())
    copy = pickle.loads(pickle.dumps(original))  # noqa: S301 (made by this test)
    checked = copy.check(2, row())
    assert isinstance(checked, CheckedRow)
    assert checked.line == copy_line(checked.values)
    assert checked.values[3] == crypto.keyed_hash(row()[2], purpose=ID_PURPOSE)  # type: ignore[arg-type]


def test_a_short_row_is_padded_and_its_missing_cells_are_empty():
    problem = checker().check(5, ["张三"])
    assert isinstance(problem, RowProblem)
    assert problem.raw == ["张三", *([None] * (len(HEADERS) - 1))]
    assert problem.messages[0] == "「身份证号码」未填写"
