"""The folder: keeps ``StatValue`` equal to a recount of the raw tables, within a second.

Nothing is counted on the write path: a join, a decision or an employer's change writes only
its own rows (and its audit row, as every write does). The folder, run every half second by
``manage.py stats_fold`` (tests call ``fold_once()`` directly), reads what committed since the
last fold from two append-only sources:

- ``MemberEvent`` (every join, status change and transfer): each new event adds to the month's
  flows (joins, transfers in and out, leavings) of its union, and marks its union changed;
- ``AuditEntry`` (written in the same transaction as every change): marks the unions a change
  touched — the union of an application, both ends of a transfer, an employer's old and new
  unions, a union created, dissolved or merged — and tells of changes to the tree itself
  (a move, a merge, a new industry link).

A changed union's own stock figures (``StatOwnValue``: its members by status, household and
employment form, its pending applications, its employers …) are recounted from the raw tables;
the difference, with the new flows, is added to the union and to every node it counts under:
the prefixes of its tree path and of its industry union's path (``Union.counted_subtree``), each
node once. All of it is written in one transaction with the new read position, so each change
is folded exactly once. A change to the tree itself recounts the nodes whose subtree changed.

Read position. On SQLite one transaction writes at a time, so ids are handed out in commit
order and "ids above the last folded" is exact. On PostgreSQL a row with a lower id can commit
after a higher one was read; there the sources carry the id of their writing transaction
(``stats_xact``, a column default ``pg_current_xact_id()`` added by this app's migration) and
the folder keeps the snapshot (``pg_current_snapshot()``) of its last fold. Its transaction runs
at REPEATABLE READ, so everything it reads and recounts sees one snapshot; the rows to fold are
those whose transaction is visible now but was not visible in the last snapshot: transactions
at or above that snapshot's ``xmax``, and those of its in-progress list that have committed
since. No row is folded twice or missed, whatever the commit order, and a long transaction
only costs a look-up of its id until it ends.

Anything that writes source rows in bulk without events or audit rows (``COPY`` by the bench
generators, a roster import that bypasses the services) must end with ``manage.py
stats_rebuild``, which recounts everything from the raw tables in the same way.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.members.models import JoinApplication, Member, MemberEvent, Transfer
from niangjia.orgs.models import Employer, Union
from niangjia.relief.models import FileEvent, Fund, HardshipFile, LedgerEntry
from niangjia.stats import sources
from niangjia.stats.models import FoldState, StatOwnValue, StatValue
from niangjia.stats.periods import month_key
from niangjia.stats.sources import Key, Own

log = logging.getLogger(__name__)

STATE = "main"
# pg_try_advisory_lock key: one folder at a time across processes.
LOCK_KEY = 0x6E6A5354
# More new events than this in one fold: recount everything instead (a bulk load).
REBUILD_ABOVE = 2_000_000
# With nothing new, the read position is written at most this often (``folded_at`` tells when the
# figures were last known current).
IDLE_WRITE = datetime.timedelta(seconds=10)
# Rows per INSERT statement.
CHUNK = 2000

# Audit rows about objects of these apps can change figures; other apps' rows never do.
RELEVANT_APPS = ("orgs.", "members.", "relief.")
# Audit rows that change nothing (sign-ins, refusals, reads and exports).
QUIET_ACTIONS = frozenset(
    {"login", "logout", "login_failed", "permission_denied", "export", "reveal", "search"}
)


def config_fingerprint() -> str:
    """What the stored figures depend on besides the data: a change means a rebuild."""
    return f"v2;n={sources.formation_min_staff()}"


@dataclass
class FoldResult:
    events: int = 0
    audits: int = 0
    dirty: int = 0
    rows: int = 0
    recounted: int = 0
    rebuilt: bool = False
    seconds: float = 0.0

    def __str__(self) -> str:
        if self.rebuilt:
            return f"rebuilt rows={self.rows} seconds={self.seconds:.2f}"
        return (
            f"events={self.events} audits={self.audits} dirty={self.dirty} rows={self.rows} "
            f"recounted={self.recounted} seconds={self.seconds:.3f}"
        )


# --- Entry points


def fold_once() -> FoldResult | None:
    """Fold everything committed since the last fold. None when another process is folding.
    Rebuilds instead when nothing was folded yet or the configuration changed."""
    with _exclusive() as mine:
        if not mine:
            return None
        started = time.monotonic()
        with _consistent_transaction():
            state = FoldState.objects.filter(name=STATE).first()
            if state is None or state.config != config_fingerprint():
                result = _rebuild(state)
            else:
                result = _fold(state)
        result.seconds = time.monotonic() - started
        return result


@contextmanager
def up_to_date() -> Iterator[FoldResult]:
    """Fold, then stay in the fold's transaction: what the caller reads there (stored figures
    and raw tables alike) is one snapshot with nothing left to fold. Holds the folder's lock:
    keep it short."""
    with _exclusive(wait=True):
        started = time.monotonic()
        with _consistent_transaction():
            state = FoldState.objects.filter(name=STATE).first()
            if state is None or state.config != config_fingerprint():
                result = _rebuild(state)
            else:
                result = _fold(state)
            result.seconds = time.monotonic() - started
            yield result


def rebuild() -> FoldResult:
    """Recount every figure from the raw tables (waits for a running fold)."""
    with _exclusive(wait=True):
        started = time.monotonic()
        with _consistent_transaction():
            result = _rebuild(FoldState.objects.filter(name=STATE).first())
        result.seconds = time.monotonic() - started
        return result


_local = threading.local()


def _own_transaction_possible() -> bool:
    """PostgreSQL, and not inside a caller's transaction: the folder can run its own
    REPEATABLE READ transaction and read by snapshot. Inside a caller's transaction (the test
    suite) its writes and the caller's are one transaction: there it reads by id, as on
    SQLite, which is exact with one writer."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _by_snapshot() -> bool:
    """Does the fold under way read by snapshot (decided when its transaction began)?"""
    return bool(getattr(_local, "by_snapshot", False))


@contextmanager
def _exclusive(*, wait: bool = False) -> Iterator[bool]:
    if connection.vendor != "postgresql":
        yield True  # SQLite: the folder's IMMEDIATE transaction is already the only writer
        return
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
            got = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


@contextmanager
def _consistent_transaction() -> Iterator[None]:
    """One transaction seeing one snapshot throughout (REPEATABLE READ on PostgreSQL; on SQLite
    the settings' IMMEDIATE transactions hold the write lock from the start)."""
    snapshot = _own_transaction_possible()
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        _local.by_snapshot = snapshot
        try:
            yield
        finally:
            _local.by_snapshot = False


# --- Reading the sources


@dataclass(frozen=True)
class Source:
    """An append-only table the folder reads: each new row marks a union changed (membership
    events also carry flows). ``columns`` are read from ``t`` (the table) and ``joins``."""

    name: str
    table: str
    columns: str
    joins: str = ""


SOURCES = (
    Source(
        "events",
        MemberEvent._meta.db_table,
        "t.id, t.member_id, t.kind, t.from_status, t.to_status, t.union_id, t.date",
    ),
    Source(
        "audit",
        AuditEntry._meta.db_table,
        "t.id, t.action, t.object_type, t.object_id, t.union_path, t.before, t.after",
    ),
    # A relief file's timeline: every step, assistance decision and payment of the file
    # (batch payments too, which write one audit row for the whole batch).
    Source(
        "file_events",
        FileEvent._meta.db_table,
        "t.id, f.union_id",
        f"JOIN {HardshipFile._meta.db_table} f ON f.id = t.file_id",
    ),
    # Every movement of a relief fund's balance.
    Source(
        "ledger",
        LedgerEntry._meta.db_table,
        "t.id, f.union_id",
        f"JOIN {Fund._meta.db_table} f ON f.id = t.fund_id",
    ),
)


@dataclass
class Position:
    snapshot: str = ""
    last_ids: dict[str, int] = field(default_factory=dict)


def _scalar(sql: str, params: Sequence[Any] = ()) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def _current_position() -> Position:
    position = Position(
        last_ids={
            source.name: _scalar(f"SELECT max(id) FROM {source.table}") or 0  # noqa: S608
            for source in SOURCES
        }
    )
    if connection.vendor == "postgresql":
        position.snapshot = _scalar("SELECT pg_current_snapshot()::text")
    return position


def _committed_since(state: FoldState, now: Position) -> list[str]:
    """Transactions in progress at the last fold that are visible (committed) now."""
    committed: list[str] = _scalar(
        "SELECT coalesce(array_agg(x::text), '{}') FROM pg_snapshot_xip(%s::pg_snapshot) AS x "
        "WHERE pg_visible_in_snapshot(x, %s::pg_snapshot)",
        [state.snapshot, now.snapshot],
    )
    return committed


def _new_rows(
    source: Source, state: FoldState, committed: list[str] | None
) -> list[tuple[Any, ...]]:
    """Rows of ``source`` committed since ``state``'s position: by snapshot (``committed``
    given) or by id."""
    select = f"SELECT {source.columns} FROM {source.table} t {source.joins}"  # noqa: S608
    with connection.cursor() as cursor:
        if committed is None:
            cursor.execute(
                f"{select} WHERE t.id > %s ORDER BY t.id",
                [int(state.last_ids.get(source.name, 0))],
            )
            return list(cursor.fetchall())
        cursor.execute(
            f"{select} WHERE t.stats_xact >= pg_snapshot_xmax(%s::pg_snapshot) ORDER BY t.id",
            [state.snapshot],
        )
        rows = list(cursor.fetchall())
        if committed:
            cursor.execute(
                f"{select} WHERE t.stats_xact = ANY(%s::xid8[]) ORDER BY t.id", [committed]
            )
            rows += cursor.fetchall()
    return rows


# --- The fold


@dataclass
class Batch:
    """What one fold found: flows to add, unions to recount, nodes to recount whole."""

    flows: Own = field(default_factory=lambda: defaultdict(Counter))
    dirty: set[int] = field(default_factory=set)
    # Deleted unions: id -> (tree path, industry union id) from the audit row.
    ghosts: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    # Tree changes, resolved into the nodes whose counted subtree changed.
    moved: list[tuple[int | None, int | None]] = field(default_factory=list)
    merged: list[tuple[int, int | None]] = field(default_factory=list)
    relinked: list[tuple[int, int | None, int | None]] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)
    objects: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))


# Keys of an audit row's before/after that name a union whose own figures may have changed.
UNION_KEYS = ("owner_id", "covering_union_id", "union", "union_id", "from_union", "to_union")


def _fold(state: FoldState) -> FoldResult:
    now = _current_position()
    result = FoldResult()
    batch = Batch()
    committed = _committed_since(state, now) if _by_snapshot() and state.snapshot else None
    rows = {source.name: _new_rows(source, state, committed) for source in SOURCES}
    if len(rows["events"]) > REBUILD_ABOVE:
        log.warning("%s new membership events: recounting everything", len(rows["events"]))
        return _rebuild(state)
    result.events, result.audits = len(rows["events"]), len(rows["audit"])
    idle = not any(rows.values()) and state.folded_at is not None
    if idle and timezone.now() - state.folded_at < IDLE_WRITE:
        return result  # nothing new: no write (the next fold reads from the same position)
    _read_events(rows["events"], batch)
    _read_audits(rows["audit"], batch)
    for name in ("file_events", "ledger"):
        batch.dirty.update(union_id for _pk, union_id in rows[name])
    _resolve_dirty(batch)
    result.dirty = len(batch.dirty)
    deltas = _recount_own(batch.dirty)
    for union_id, flows in batch.flows.items():
        deltas[union_id].update(flows)
    result.rows = _add_to_ancestors(deltas, batch.ghosts)
    affected = _tree_changes(batch)
    for node in Union.objects.filter(pk__in=affected):
        _replace_node(node)
    result.recounted = len(affected)
    if batch.ghosts:
        StatValue.objects.filter(node_id__in=list(batch.ghosts)).delete()
    _save_position(state, now, rows)
    return result


def _save_position(state: FoldState, now: Position, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    state.snapshot = now.snapshot
    # By id, the highest folded; by snapshot, the highest visible (read only inside a caller's
    # transaction, where there is one writer).
    state.last_ids = {
        name: max([last, *(row[0] for row in rows.get(name, ()))])
        for name, last in now.last_ids.items()
    }
    state.folded_at = timezone.now()
    state.folds += 1
    state.save()


def _read_events(events: list[tuple[Any, ...]], batch: Batch) -> None:
    transfer_ins: list[tuple[int, int, str]] = []
    for pk, member_id, kind, from_status, to_status, union_id, date in events:
        month = month_key(date)
        batch.dirty.add(union_id)
        for key in sources.event_keys(kind, from_status, to_status, month):
            batch.flows[union_id][key] += 1
        if kind == MemberEvent.Kind.TRANSFER_IN:
            transfer_ins.append((pk, member_id, month))
    if not transfer_ins:
        return
    outs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pk, member_id, union_id in MemberEvent.objects.filter(
        member_id__in={m for _, m, _ in transfer_ins}, kind=MemberEvent.Kind.TRANSFER_OUT
    ).values_list("pk", "member_id", "union_id"):
        outs[member_id].append((pk, union_id))
    for pk, member_id, month in transfer_ins:
        earlier = [(out_pk, union_id) for out_pk, union_id in outs[member_id] if out_pk < pk]
        if earlier:
            from_union = max(earlier)[1]
            batch.dirty.add(from_union)
            batch.flows[from_union][sources.transfer_out_key(month)] += 1


def _ids(*values: Any) -> Iterator[int]:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            yield value
        elif isinstance(value, str) and value.isdigit():
            yield int(value)


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _read_audits(audits: list[tuple[Any, ...]], batch: Batch) -> None:
    for _pk, action, object_type, object_id, union_path, before, after in audits:
        if action in QUIET_ACTIONS or not object_type.startswith(RELEVANT_APPS):
            continue
        before, after = _json(before), _json(after)
        if union_path:
            batch.paths.add(union_path)
        ids = list(_ids(object_id))
        if ids:
            batch.objects[object_type].add(ids[0])
        if object_type == "orgs.union" and ids:
            union_id = ids[0]
            batch.dirty.add(union_id)
            if action == AuditAction.DELETE:
                batch.ghosts[union_id] = (
                    str(before.get("path", "")),
                    next(_ids(before.get("industry_union_id")), None),
                )
            elif action == AuditAction.MOVE:
                batch.moved.append(
                    (next(_ids(before.get("parent")), None), next(_ids(after.get("parent")), None))
                )
            elif action == AuditAction.MERGE:
                target = next(_ids(after.get("merged_into")), None)
                batch.merged.append((union_id, target))
                if target is not None:
                    batch.dirty.add(target)
            elif action == AuditAction.CHANGE and (
                "industry_union_id" in before or "industry_union_id" in after
            ):
                batch.relinked.append(
                    (
                        union_id,
                        next(_ids(before.get("industry_union_id")), None),
                        next(_ids(after.get("industry_union_id")), None),
                    )
                )
        # Old and new unions named in the change (an employer's owner or covering union …).
        for data in (before, after):
            for name in UNION_KEYS:
                batch.dirty.update(_ids(data.get(name)))


def _resolve_dirty(batch: Batch) -> None:
    """The unions of the objects the audit rows name, as they are now, and of their paths."""
    objects = batch.objects
    if objects.get("members.joinapplication"):
        batch.dirty.update(
            JoinApplication.objects.filter(pk__in=objects["members.joinapplication"]).values_list(
                "union_id", flat=True
            )
        )
    if objects.get("members.member"):
        batch.dirty.update(
            Member.objects.filter(pk__in=objects["members.member"]).values_list(
                "union_id", flat=True
            )
        )
    if objects.get("members.transfer"):
        for from_union, to_union in Transfer.objects.filter(
            pk__in=objects["members.transfer"]
        ).values_list("from_union_id", "to_union_id"):
            batch.dirty.update((from_union, to_union))
    if objects.get("orgs.employer"):
        for owner, cover in Employer.objects.filter(pk__in=objects["orgs.employer"]).values_list(
            "owner_id", "covering_union_id"
        ):
            batch.dirty.add(owner)
            if cover is not None:
                batch.dirty.add(cover)
    if batch.paths:
        batch.dirty.update(Union.objects.filter(path__in=batch.paths).values_list("pk", flat=True))
    batch.dirty.discard(None)  # type: ignore[arg-type]


def _recount_own(dirty: Collection[int]) -> dict[int, Counter[Key]]:
    """Recount the own figures of ``dirty`` unions, store them, and return the differences."""
    deltas: dict[int, Counter[Key]] = defaultdict(Counter)
    if not dirty:
        return deltas
    ids = sorted(dirty)
    new: Own = defaultdict(Counter)
    for family in sources.STOCK_FAMILIES:
        for union_id, figures in family.per_union(ids).items():
            new[union_id].update(figures)
    old: Own = defaultdict(Counter)
    for union_id, measure, dims, period, value in StatOwnValue.objects.filter(
        union_id__in=ids
    ).values_list("union_id", "measure", "dims", "period", "value"):
        old[union_id][(measure, dims, period)] = value
    changed: list[int] = []
    for union_id in ids:
        before, after = old.get(union_id, Counter()), new.get(union_id, Counter())
        if before == after:
            continue
        changed.append(union_id)
        delta = deltas[union_id]
        for key in before.keys() | after.keys():
            difference = after.get(key, 0) - before.get(key, 0)
            if difference:
                delta[key] = difference
    if changed:
        StatOwnValue.objects.filter(union_id__in=changed).delete()
        _insert(
            StatOwnValue._meta.db_table,
            ("union_id", "measure", "dims", "period", "value"),
            (
                (union_id, measure, dims, period, value)
                for union_id in changed
                for (measure, dims, period), value in new.get(union_id, Counter()).items()
                if value
            ),
        )
    return deltas


# --- Where a union counts


def _prefixes(path: str) -> list[str]:
    step = Union.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


def counted_chains(
    union_ids: Collection[int], ghosts: dict[int, tuple[str, int | None]] | None = None
) -> dict[int, set[int]]:
    """For each union, every node it counts under (itself, its path ancestors, and its
    industry union with that union's ancestors), each once. A deleted union (``ghosts``)
    counts under its ancestors as they were found by its old path."""
    ghosts = ghosts or {}
    info: dict[int, tuple[str, int | None]] = {
        pk: (path, industry)
        for pk, path, industry in Union.objects.filter(pk__in=list(union_ids)).values_list(
            "pk", "path", "industry_union_id"
        )
    }
    for pk, (path, industry) in ghosts.items():
        if pk in union_ids and pk not in info and path:
            info[pk] = (path, industry)
    industry_paths = dict(
        Union.objects.filter(
            pk__in={industry for _, industry in info.values() if industry}
        ).values_list("pk", "path")
    )
    wanted: set[str] = set()
    for pk, (path, industry) in info.items():
        own = _prefixes(path)
        wanted.update(own[:-1] if pk in ghosts else own)
        if industry in industry_paths:
            wanted.update(_prefixes(industry_paths[industry]))
    by_path = dict(Union.objects.filter(path__in=wanted).values_list("path", "pk"))
    chains: dict[int, set[int]] = {}
    for pk, (path, industry) in info.items():
        own = _prefixes(path)
        paths = own[:-1] if pk in ghosts else own
        if industry in industry_paths:
            paths = [*paths, *_prefixes(industry_paths[industry])]
        chains[pk] = {by_path[p] for p in paths if p in by_path}
    return chains


def _add_to_ancestors(
    deltas: dict[int, Counter[Key]], ghosts: dict[int, tuple[str, int | None]]
) -> int:
    deltas = {pk: delta for pk, delta in deltas.items() if delta}
    if not deltas:
        return 0
    chains = counted_chains(deltas.keys(), ghosts)
    totals: dict[tuple[int, str, str, str], int] = defaultdict(int)
    for union_id, delta in deltas.items():
        for node in chains.get(union_id, ()):
            for (measure, dims, period), value in delta.items():
                totals[(node, measure, dims, period)] += value
    rows = [(*key, value) for key, value in totals.items() if value]
    _upsert_add(rows)
    return len(rows)


def _upsert_add(rows: list[tuple[int, str, str, str, int]]) -> None:
    """Add each row's value to the stored figure (creating it); drop figures that reach 0."""
    table = StatValue._meta.db_table
    emptied: list[tuple[int, str, str, str]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (node_id, measure, dims, period, value) "  # noqa: S608
                f"VALUES {values} ON CONFLICT (node_id, measure, dims, period) "
                f"DO UPDATE SET value = {table}.value + excluded.value "
                "RETURNING node_id, measure, dims, period, value",
                [item for row in chunk for item in row],
            )
            emptied += [row[:4] for row in cursor.fetchall() if row[4] == 0]
        for start in range(0, len(emptied), CHUNK):
            chunk = emptied[start : start + CHUNK]
            condition = " OR ".join(
                ["(node_id = %s AND measure = %s AND dims = %s AND period = %s)"] * len(chunk)
            )
            cursor.execute(
                f"DELETE FROM {table} WHERE {condition}",  # noqa: S608
                [item for row in chunk for item in row],
            )


def _insert(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert many rows: COPY on PostgreSQL, multi-row INSERTs elsewhere."""
    count = 0
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        batch: list[tuple[Any, ...]] = []
        placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"

        def flush() -> None:
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
                + ", ".join([placeholders] * len(batch)),
                [item for row in batch for item in row],
            )
            batch.clear()

        for row in rows:
            batch.append(row)
            count += 1
            if len(batch) >= 150:
                flush()
        if batch:
            flush()
    return count


# --- Changes to the tree itself


def _path_chain(union_id: int | None, paths: dict[int, str], by_path: dict[str, int]) -> set[int]:
    if union_id is None or union_id not in paths:
        return set()
    return {by_path[p] for p in _prefixes(paths[union_id]) if p in by_path}


def _tree_changes(batch: Batch) -> set[int]:
    """The nodes whose counted subtree a move, merge or industry link changed."""
    if not (batch.moved or batch.merged or batch.relinked):
        return set()
    named: set[int] = set()
    for old, new in batch.moved:
        named.update(x for x in (old, new) if x is not None)
    for source, target in batch.merged:
        named.update(x for x in (source, target) if x is not None)
    for union_id, old, new in batch.relinked:
        named.update(x for x in (union_id, old, new) if x is not None)
    paths = dict(Union.objects.filter(pk__in=named).values_list("pk", "path"))
    wanted = {p for path in paths.values() for p in _prefixes(path)}
    by_path = dict(Union.objects.filter(path__in=wanted).values_list("path", "pk"))
    affected: set[int] = set()
    for old, new in batch.moved:
        affected |= _path_chain(old, paths, by_path) ^ _path_chain(new, paths, by_path)
    for source, target in batch.merged:
        affected |= _path_chain(source, paths, by_path) ^ _path_chain(target, paths, by_path)
    for union_id, old, new in batch.relinked:
        changed = _path_chain(old, paths, by_path) ^ _path_chain(new, paths, by_path)
        affected |= changed - _path_chain(union_id, paths, by_path)
    return affected


def _replace_node(node: Union) -> None:
    """Recount ``node`` from the raw tables and store the result as its figures."""
    figures = sources.recount(node)
    StatValue.objects.filter(node_id=node.pk).delete()
    _insert(
        StatValue._meta.db_table,
        ("node_id", "measure", "dims", "period", "value"),
        ((node.pk, *key, value) for key, value in figures.items()),
    )


# --- Rebuild


def _rebuild(state: FoldState | None) -> FoldResult:
    """Recount everything from the raw tables, at one snapshot, and start folding from it.

    Each union's own stock figures are counted per family and stored; then every node's
    figures are added up in the database: the own figures and the membership events' monthly
    flows of every union, joined to the nodes each union counts under (a temporary table of
    the counted chains), grouped by node, in key order.

    On PostgreSQL both tables are filled afresh beside the old ones and swapped in by name at
    the end (no dead rows to delete and vacuum, the index built from ordered rows); readers go
    on reading the old figures until then, and wait only for the swap itself. Elsewhere (a
    small SQLite database) the old rows are deleted first."""
    now = _current_position()
    value_table, own_table = StatValue._meta.db_table, StatOwnValue._meta.db_table
    fresh = connection.vendor == "postgresql"
    value_fill, own_fill = (
        (f"{value_table}_next", f"{own_table}_next")
        if fresh
        else (
            value_table,
            own_table,
        )
    )
    with connection.cursor() as cursor:
        if fresh:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            for table, fill in ((value_table, value_fill), (own_table, own_fill)):
                cursor.execute(f"DROP TABLE IF EXISTS {fill}")
                cursor.execute(f"CREATE TABLE {fill} (LIKE {table} INCLUDING ALL)")
        else:
            cursor.execute(f"DELETE FROM {value_table}")  # noqa: S608
            cursor.execute(f"DELETE FROM {own_table}")  # noqa: S608
    columns = ("union_id", "measure", "dims", "period", "value")
    for family in sources.STOCK_FAMILIES:
        _insert(
            own_fill,
            columns,
            (
                (union_id, measure, dims, period, value)
                for union_id, figures in family.per_union(None).items()
                for (measure, dims, period), value in figures.items()
                if value
            ),
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS stats_rebuild_chain")
        cursor.execute("DROP TABLE IF EXISTS stats_rebuild_flow")
        cursor.execute(
            "CREATE TEMPORARY TABLE stats_rebuild_chain (union_id bigint, node_id bigint)"
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE stats_rebuild_flow (union_id bigint, measure varchar(40), "
            "dims varchar(80), period varchar(7), value bigint)"
        )
    _insert(
        "stats_rebuild_chain",
        ("union_id", "node_id"),
        ((union_id, node) for union_id, chain in _all_chains().items() for node in chain),
    )
    with connection.cursor() as cursor:
        for select in sources.event_flow_selects(connection.vendor):
            cursor.execute(f"INSERT INTO stats_rebuild_flow {select}")
        cursor.execute(
            f"INSERT INTO {value_fill} (node_id, measure, dims, period, value) "  # noqa: S608
            "SELECT c.node_id, x.measure, x.dims, x.period, SUM(x.value) FROM ("
            f"SELECT union_id, measure, dims, period, value FROM {own_fill} UNION ALL "
            "SELECT union_id, measure, dims, period, value FROM stats_rebuild_flow) x "
            "JOIN stats_rebuild_chain c ON c.union_id = x.union_id "
            "GROUP BY c.node_id, x.measure, x.dims, x.period HAVING SUM(x.value) <> 0 "
            # In key order: each node's rows lie together on disk.
            "ORDER BY c.node_id, x.measure, x.period, x.dims"
        )
        rows = cursor.rowcount
        cursor.execute("DROP TABLE stats_rebuild_chain")
        cursor.execute("DROP TABLE stats_rebuild_flow")
        if fresh:
            # Fresh statistics for the planner: without them the folder's look-ups of a few
            # unions' rows are planned as if they were millions (and compiled, JIT).
            cursor.execute(f"ANALYZE {own_fill}, {value_fill}")
            cursor.execute(f"LOCK TABLE {value_table}, {own_table} IN ACCESS EXCLUSIVE MODE")
            for table, fill in ((value_table, value_fill), (own_table, own_fill)):
                cursor.execute(f"DROP TABLE {table}")
                cursor.execute(f"ALTER TABLE {fill} RENAME TO {table}")
                cursor.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {fill}_pkey TO {table}_pkey")
    state = state or FoldState(name=STATE)
    state.snapshot = now.snapshot
    state.last_ids = now.last_ids
    state.config = config_fingerprint()
    state.rebuilt_at = state.folded_at = timezone.now()
    state.folds += 1
    state.save()
    return FoldResult(rebuilt=True, rows=rows)


def _all_chains() -> dict[int, set[int]]:
    by_path: dict[str, int] = {}
    info: dict[int, tuple[str, int | None]] = {}
    for pk, path, industry in Union.objects.order_by().values_list(
        "pk", "path", "industry_union_id"
    ):
        by_path[path] = pk
        info[pk] = (path, industry)
    chains: dict[int, set[int]] = {}
    for pk, (path, industry) in info.items():
        chain = {by_path[p] for p in _prefixes(path) if p in by_path}
        if industry in info:
            chain |= {by_path[p] for p in _prefixes(info[industry][0]) if p in by_path}
        chains[pk] = chain
    return chains
