"""A time limit for one group of read queries (PostgreSQL's ``statement_timeout``).

A list page over millions of rows answers quickly when an index serves its filters; when none
does, the query is stopped after the limit and the page asks for narrower filters instead of
holding a database process for minutes. Other databases run without a limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction

QUERY_CANCELED = "57014"  # SQLSTATE of a statement stopped by statement_timeout


class QueryTooSlow(Exception):
    """A query ran past the time limit and was stopped."""


@contextmanager
def time_limit(milliseconds: int) -> Iterator[None]:
    """Stop any query of the block that runs longer than ``milliseconds``; QueryTooSlow."""
    if connection.vendor != "postgresql" or milliseconds <= 0:
        yield
        return
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(milliseconds)}")
            yield
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == QUERY_CANCELED:
            raise QueryTooSlow from exc
        raise
