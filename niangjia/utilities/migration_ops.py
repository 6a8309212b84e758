"""Migration operations shared by several apps' migrations. Migrations import them, so what is
here must keep doing what it did: add, do not change."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import migrations


def _index_sql(
    schema_editor: Any, table: str, kept: Sequence[tuple[str, str, str]], *, forwards: bool
) -> Iterator[str]:
    quote = schema_editor.quote_name
    for column, suffix, name in kept:
        auto_name = schema_editor._create_index_name(table, [column], suffix=suffix)
        twin_suffix = "" if suffix else "_like"
        twin = schema_editor._create_index_name(table, [column], suffix=twin_suffix)
        if forwards:
            yield f"DROP INDEX {quote(twin)}"
            yield f"ALTER INDEX {quote(auto_name)} RENAME TO {quote(name)}"
        else:
            opclass = " varchar_pattern_ops" if twin_suffix else ""
            yield f"ALTER INDEX {quote(name)} RENAME TO {quote(auto_name)}"
            yield f"CREATE INDEX {quote(twin)} ON {quote(table)} ({quote(column)}{opclass})"


def keep_one_index_on_postgresql(
    table: str, kept: Sequence[tuple[str, str, str]]
) -> migrations.RunPython:
    """PostgreSQL: of the pair of indexes ``db_index`` made on a character column (a plain one
    and a varchar_pattern_ops twin), keep one under a new name and drop the other — nothing is
    built, so it is quick on a large table. ``kept``: (column, the index kept: "" the plain one,
    "_like" the twin, its new name). Backwards: the old names back and the twins rebuilt."""

    def run(forwards: bool) -> Callable[[Any, Any], None]:
        def operation(apps: Any, schema_editor: Any) -> None:
            if schema_editor.connection.vendor == "postgresql":
                for sql in _index_sql(schema_editor, table, kept, forwards=forwards):
                    schema_editor.execute(sql)

        return operation

    return migrations.RunPython(run(True), run(False))


class ExceptOnPostgreSQL(migrations.SeparateDatabaseAndState):
    """Its operations run on the database except on PostgreSQL, where the renames of
    ``keep_one_index_on_postgresql`` stand for them; the model state is the enclosing
    operation's."""

    def __init__(self, operations: list[Any]) -> None:
        super().__init__(database_operations=operations)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def id_cache_on_postgresql(tables: Sequence[str], size: int) -> migrations.RunPython:
    """PostgreSQL: the identity column ``id`` of each table hands out ``size`` ids at a time to
    each connection (backwards: one at a time)."""

    def cache(count: int) -> Callable[[Any, Any], None]:
        def operation(apps: Any, schema_editor: Any) -> None:
            if schema_editor.connection.vendor == "postgresql":
                for table in tables:
                    schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN id SET CACHE {count}")

        return operation

    return migrations.RunPython(cache(size), cache(1))
