"""Pieces shared by the bench scripts: Django start-up, the PostgreSQL guard, phase timers
and bulk loading with COPY. Nothing here imports a model, so scripts can load it first."""

from __future__ import annotations

import base64
import os
import secrets
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """A refusal or failure reported to the person running the script, in Chinese."""


def setup_django() -> None:
    """Configure Django with the project's real settings (DATABASE_URL from the environment).

    Bench scripts never sign anything, so a throw-away SECRET_KEY is supplied when none is set;
    so are throw-away field keys, for scripts that store no personal data (a script that does,
    such as members_generate.py, sets its keys before calling this).
    """
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "niangjia.settings")
    if not os.environ.get("SECRET_KEY") and not os.environ.get("SECRET_KEY_FILE"):
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(48)
    throwaway = {
        "FIELD_ENCRYPTION_KEYS": lambda: "0:" + base64.b64encode(os.urandom(32)).decode(),
        "FIELD_HASH_KEY": lambda: base64.b64encode(os.urandom(32)).decode(),
    }
    for name, make in throwaway.items():
        if not os.environ.get(name) and not os.environ.get(f"{name}_FILE"):
            os.environ[name] = make()
    import django

    django.setup()


def require_postgresql(connection: Any) -> None:
    """Refuse any database but PostgreSQL: the loaders use COPY and PostgreSQL's planner."""
    if connection.vendor != "postgresql":
        raise BenchError(
            f"DATABASE_URL 指向的是 {connection.vendor} 数据库：基准数据生成器只支持 PostgreSQL"
            "（使用 COPY 批量装载）。请设置 DATABASE_URL=postgresql://用户@主机:端口/库名，"
            "建议使用单独的基准测试库。"
        )


def migrate_if_needed(connection: Any, out: TextIO) -> bool:
    """Apply unapplied migrations; True when something was migrated."""
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return False
    out.write(f"数据库尚未迁移（{len(plan)} 个迁移待执行），先执行 migrate …\n")
    call_command("migrate", interactive=False, verbosity=0)
    return True


@dataclass
class Timer:
    """Wall-clock time per named phase, printed as each phase ends."""

    out: TextIO | None = None
    phases: list[tuple[str, float]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def phase(self, label: str) -> Iterator[None]:
        begin = time.perf_counter()
        yield
        seconds = time.perf_counter() - begin
        self.phases.append((label, seconds))
        if self.out is not None:
            self.out.write(f"  {label}：{seconds:.2f} 秒\n")
            self.out.flush()

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


def server_cpu_seconds(connection: Any) -> float | None:
    """CPU time used so far by this connection's PostgreSQL backend process, when the server
    runs on this machine (read from /proc); None otherwise. Parallel workers not included.
    Unlike wall-clock time it hardly moves when other work shares the machine."""
    host = connection.settings_dict.get("HOST") or ""
    if host not in ("", "localhost", "127.0.0.1", "::1"):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
            return None  # the server runs elsewhere (a container, another host)
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime are fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the name).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def copy_rows(
    cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Stream ``rows`` into ``table`` with one PostgreSQL COPY; returns the number of rows."""
    count = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


@contextmanager
def bulk_load(cursor: Any, tables: Sequence[str], timer: Timer) -> Iterator[None]:
    """Load ``tables`` without index upkeep or per-row foreign-key checks, as PostgreSQL's
    "Populating a Database" advises: drop their secondary indexes and outgoing foreign keys,
    let the caller COPY, then rebuild the indexes (unique ones re-check every row) and re-add
    the foreign keys (each validated by one query over the whole table).

    Primary keys and unique constraints stay. Run it inside a transaction: on any failure
    the rollback restores every index and constraint as it was.
    """
    cursor.execute(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
        "ORDER BY conrelid, conname",
        [list(tables)],
    )
    foreign_keys: list[tuple[str, str, str]] = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY i.indrelid, i.indexrelid",
        [list(tables)],
    )
    indexes: list[tuple[str, str]] = cursor.fetchall()
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    # Deferred checks still queued for these tables would block ALTER TABLE: run them now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table, name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for index, _definition in indexes:
        cursor.execute(f"DROP INDEX {index}")
    yield
    with timer.phase(f"重建索引（{len(indexes)} 个）"):
        for _index, definition in indexes:
            cursor.execute(definition)
    with timer.phase(f"外键校验（{len(foreign_keys)} 个）"):
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
