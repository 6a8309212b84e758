"""Rows of model instances as ``INSERT … SELECT`` parts, for a hot path that chains several
inserts into one PostgreSQL statement (data-modifying ``WITH`` queries), run prepared.

The columns come from the model, the values from the fields' own ``pre_save`` and
``get_db_prep_save`` (so ``auto_now`` dates and JSON, binary and address columns are prepared
exactly as ``Model.save()`` prepares them); each value is cast to its column's base type, so
a value too long for its column is refused by the database rather than cut. A column may take
an SQL expression instead of a value, e.g. the id returned by an earlier insert.

Statements use PostgreSQL's native ``$n`` placeholders (``Params``) and run on a
``prepared_cursor``: the text is the same on every call, so the server parses and plans it
once per connection. For the same reason the select list of a row is the same on every call
with the same expressions at the same place in the statement: it is worked out once per
process (``_plan``), and each call only gathers the values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field, Model
from django.utils import timezone

_LENGTH = re.compile(r"\(.*\)")


@dataclass
class Params:
    """The values of one statement, referred to as ``$1``, ``$2`` … in its text."""

    values: list[Any] = field(default_factory=list)

    def add(self, value: Any, cast: str) -> str:
        self.values.append(value)
        return f"${len(self.values)}::{cast}"


@dataclass(frozen=True)
class Row:
    table: str
    columns: str  # "a", "b", …
    select: str  # $1::text, member.id, …
    placeholders: Mapping[str, str]  # attribute name -> what the select list holds for it


# Fields whose database value is the attribute itself on PostgreSQL (Django's preparation
# only checks or wraps it), so the per-field preparation chain can be skipped for them.
_AS_IS = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.DateField,
    models.BinaryField,
    models.ForeignKey,
)


@cache
def _columns(model: type[Model]) -> tuple[str, tuple[tuple[Field[Any, Any], str, bool], ...]]:
    """The quoted column list and (field, cast, as is) of every column but an automatic
    primary key."""
    fields = []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key and model_field.get_internal_type() in (
            "AutoField",
            "BigAutoField",
        ):
            continue
        cast = _LENGTH.sub("", model_field.cast_db_type(connection) or "")
        as_is = (
            isinstance(model_field, _AS_IS)
            and not getattr(model_field, "auto_now", False)
            and not getattr(model_field, "auto_now_add", False)
        )
        fields.append((model_field, cast, as_is))
    quote = connection.ops.quote_name
    return ", ".join(quote(f.column) for f, _cast, _as_is in fields), tuple(fields)


@dataclass(frozen=True)
class _Plan:
    """A row's select list for given expressions, its values starting at a given ``$n``: the
    text, and the fields whose values are added, in order, as (field, attribute, as is,
    ``auto_now`` or ``auto_now_add``)."""

    select: str
    placeholders: Mapping[str, str]
    valued: tuple[tuple[Field[Any, Any], str, bool, bool], ...]


_plans: dict[tuple[type[Model], int, tuple[tuple[str, str], ...]], _Plan] = {}
_PLANS_KEPT = 1_000


def _plan(model: type[Model], start: int, expressions: Mapping[str, str]) -> _Plan:
    key = (model, start, tuple(expressions.items()))
    plan = _plans.get(key)
    if plan is None:
        _columns_sql, fields = _columns(model)
        select: dict[str, str] = {}
        valued = []
        for model_field, cast, as_is in fields:
            name = model_field.attname
            if name in expressions:
                select[name] = expressions[name]
            else:
                auto = getattr(model_field, "auto_now", False) or getattr(
                    model_field, "auto_now_add", False
                )
                valued.append((model_field, name, as_is, auto))
                select[name] = f"${start + len(valued)}::{cast}"
        plan = _Plan(", ".join(select.values()), MappingProxyType(select), tuple(valued))
        if len(_plans) >= _PLANS_KEPT:  # a statement built with varying expressions
            _plans.clear()
        _plans[key] = plan
    return plan


def row_of(obj: Model, params: Params, *, expressions: Mapping[str, str] | None = None) -> Row:
    """``obj`` as the column list and select list of an INSERT, its values added to
    ``params``. ``expressions`` maps an attribute name (``member_id``) to SQL used instead of
    the value: an earlier insert's id, or a placeholder another row already holds (see
    ``Row.placeholders``), so a value shared by several rows is sent once."""
    model = type(obj)
    plan = _plan(model, len(params.values), expressions or {})
    db = connections[obj._state.db or DEFAULT_DB_ALIAS]  # once, not per field via the proxy
    append = params.values.append
    for model_field, name, as_is, _auto in plan.valued:
        if as_is:
            append(getattr(obj, name))
        else:
            append(model_field.get_db_prep_save(model_field.pre_save(obj, add=True), db))
    return Row(model._meta.db_table, _columns(model)[0], plan.select, plan.placeholders)


def row_from(
    model: type[Model],
    values: Mapping[str, Any],
    params: Params,
    *,
    expressions: Mapping[str, str] | None = None,
) -> Row:
    """Like ``row_of`` for a row given as attribute values (no model instance is built):
    columns not given take their field's default, ``auto_now`` dates the current time."""
    plan = _plan(model, len(params.values), expressions or {})
    db = connections[DEFAULT_DB_ALIAS]
    now = None
    append = params.values.append
    for model_field, name, as_is, auto in plan.valued:
        if name in values:
            value = values[name]
        elif auto:
            now = now or timezone.now()
            value = now
        else:
            value = model_field.get_default()
        append(value if as_is else model_field.get_db_prep_save(value, db))
    return Row(model._meta.db_table, _columns(model)[0], plan.select, plan.placeholders)


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """A cursor for statements with ``$n`` placeholders (PostgreSQL, psycopg 3), each prepared
    on the server at its first use on the connection; wrapped like Django's own cursors, so
    query logging and execute wrappers still apply. Django turns psycopg's preparation off for
    its connections (its own cursors bind on the client and never prepare), so it is turned
    back on here, which affects only cursors made by this function. (Behind a pooler in
    transaction mode this needs protocol-level prepared statements, as PgBouncer ≥ 1.21 has.)

    The cursor itself is made once per database connection and kept open: making one costs
    more than a short statement's own work on the client, and a kept cursor also keeps the
    adapters it has looked up for its parameters' types. Its last result stays in it until
    the next statement."""
    db = connections[DEFAULT_DB_ALIAS]  # once, not per attribute via the proxy
    db.ensure_connection()
    db.validate_thread_sharing()
    raw_connection = db.connection
    kept = getattr(db, "_prepared_cursor", None)
    if kept is None or kept[0] is not raw_connection or kept[1].closed:
        if raw_connection.prepare_threshold is None:
            raw_connection.prepare_threshold = 5
        kept = (raw_connection, _preparing_cursor_class()(raw_connection))
        db._prepared_cursor = kept  # type: ignore[attr-defined]
    raw = kept[1]
    # Not ``with`` the wrapper: its exit would close the kept cursor.
    yield _DebugWrapper(raw, db) if db.queries_logged else CursorWrapper(raw, db)


class _DebugWrapper(CursorDebugWrapper):
    """Logs the statement as written (``$n`` placeholders; the values go to the log record's
    ``params``): a prepared statement's text is not kept by psycopg for Django to read back."""

    def execute(self, sql: str, params: Any = None) -> Any:
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


@cache
def _preparing_cursor_class() -> type[Any]:
    import psycopg

    class PreparingRawCursor(psycopg.RawCursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs.setdefault("prepare", True)
            return super().execute(query, params, **kwargs)

    return PreparingRawCursor
