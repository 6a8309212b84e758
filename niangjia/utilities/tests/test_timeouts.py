"""The time limit of a group of read queries."""

from __future__ import annotations

import pytest
from django.db import connection

from niangjia.utilities.timeouts import QueryTooSlow, time_limit

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's"
)


@on_postgresql
def test_a_query_past_the_limit_is_stopped_and_the_connection_stays_usable():
    with pytest.raises(QueryTooSlow), time_limit(50), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(1)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1


@on_postgresql
def test_queries_within_the_limit_run_and_the_limit_ends_with_the_block():
    with time_limit(2_000), connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "2s"
        cursor.execute("SELECT pg_sleep(0.01)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


def test_other_databases_and_a_zero_limit_run_without_a_limit():
    with time_limit(0), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1
