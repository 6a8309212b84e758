"""Rows as INSERT … SELECT parts: the select list worked out once per place in a statement,
the values gathered per call; the prepared cursor kept per database connection."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from niangjia.orgs.models import Region
from niangjia.utilities.sqlinsert import Params, prepared_cursor, row_from, row_of

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements with $n are PostgreSQL's"
)


def test_rows_number_their_values_after_what_the_statement_already_holds():
    first = Region(code="420102", name="江岸区", level="county", parent_id=7, revision="2023")
    second = Region(code="420103", name="江汉区", level="county", parent_id=None, revision="")
    params = Params()
    stamp = params.add("x", "text")
    one = row_of(first, params)
    two = row_of(second, params, expressions={"parent_id": "parent.id"})
    assert stamp == "$1::text"
    assert [p.split("::")[0] for p in one.placeholders.values()] == ["$2", "$3", "$4", "$5", "$6"]
    assert list(one.placeholders) == ["code", "name", "level", "parent_id", "revision"]
    assert [p.split("::")[0] for p in two.placeholders.values()] == [
        "$7",
        "$8",
        "$9",
        "parent.id",
        "$10",
    ]
    assert params.values == [
        "x",
        *("420102", "江岸区", "county", 7, "2023"),
        *("420103", "江汉区", "county", ""),
    ]
    # The same row at the same place in another statement: the same text, its own values.
    again = Params()
    again.add("y", "text")
    third = row_of(second, again)
    assert third.select == one.select and third.columns == one.columns
    assert again.values == ["y", "420103", "江汉区", "county", None, ""]


def test_a_row_from_values_takes_defaults_for_the_rest():
    params = Params()
    row = row_from(Region, {"code": "420104", "name": "硚口区"}, params)
    assert list(row.placeholders) == ["code", "name", "level", "parent_id", "revision"]
    assert params.values == ["420104", "硚口区", "", None, ""]


@pytest.mark.django_db
@postgresql_only
def test_the_prepared_cursor_is_kept_per_connection_and_statements_are_still_logged():
    with prepared_cursor() as cursor:
        cursor.execute("SELECT $1::int + 1", [41])
        assert cursor.fetchone() == (42,)
        kept = cursor.cursor
    assert not kept.closed
    with CaptureQueriesContext(connection) as queries, prepared_cursor() as cursor:
        cursor.execute("SELECT $1::text", ["再来"])
        assert cursor.fetchone() == ("再来",) and cursor.cursor is kept
    assert [q["sql"] for q in queries.captured_queries] == ["SELECT $1::text"]


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_a_new_database_connection_gets_a_new_cursor():
    with prepared_cursor() as cursor:
        kept = cursor.cursor
    connection.close()
    with prepared_cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,) and cursor.cursor is not kept
