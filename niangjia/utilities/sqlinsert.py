"""Rows of model instances as ``INSERT … SELECT`` parts, for a hot path that chains several
inserts into one PostgreSQL statement (data-modifying ``WITH`` queries).

The columns come from the model, the values from the fields' own ``pre_save`` and
``get_db_prep_save`` (so ``auto_now`` dates and JSON, binary and address columns are prepared
exactly as ``Model.save()`` prepares them); each value is cast to its column's base type, so
a value too long for its column is refused by the database rather than cut. A column may take
an SQL expression instead of a value, e.g. the id returned by an earlier insert.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model

_LENGTH = re.compile(r"\(.*\)")


@dataclass(frozen=True)
class Row:
    table: str
    columns: str  # "a", "b", …
    select: str  # %s::text, member.id, …
    params: list[Any]


@cache
def _fields(model: type[Model]) -> tuple[tuple[Field[Any, Any], str], ...]:
    """(field, cast) of every concrete column but an automatic primary key."""
    fields = []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.get_internal_type() in ("AutoField", "BigAutoField"):
            continue
        cast = _LENGTH.sub("", field.cast_db_type(connection) or "")
        fields.append((field, cast))
    return tuple(fields)


def row_of(
    obj: Model, *, expressions: Mapping[str, tuple[str, Sequence[Any]]] | None = None
) -> Row:
    """``obj`` as the column list and select list of an INSERT. ``expressions`` maps an
    attribute name (``member_id``) to SQL and its parameters, used instead of the value."""
    expressions = expressions or {}
    columns: list[str] = []
    select: list[str] = []
    params: list[Any] = []
    quote = connection.ops.quote_name
    for field, cast in _fields(type(obj)):
        columns.append(quote(field.column))
        if field.attname in expressions:
            sql, values = expressions[field.attname]
            select.append(sql)
            params.extend(values)
            continue
        value = field.get_db_prep_save(field.pre_save(obj, add=True), connection)
        select.append(f"%s::{cast}")
        params.append(value)
    return Row(obj._meta.db_table, ", ".join(columns), ", ".join(select), params)
