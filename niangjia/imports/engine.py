"""The member importer's engine: dry run (read, check, stage) and commit (write, chunk by chunk).

Dry run
    The file is read once, row by row. Rows are checked in batches by ``MemberRowChecker`` —
    in two forked processes for a big file, so reading, checking and writing overlap on a
    two-core machine — then, in this process, a batch at a time: employers are resolved,
    duplicates inside the file caught (the first row of a person wins), and every good row
    compared with the registry by the keyed hash of its ID number: new, update (the same
    person in the same union, something changed; or a former member joining again),
    unchanged, or conflict (the person holds a membership in another union, or is recorded
    as deceased). Good rows go to ``StagedMember`` (PostgreSQL: COPY), bad and conflicting
    rows to ``ImportProblem`` with their original cells. A dry run writes nothing to the
    registry and starts from scratch when repeated.

Commit
    Staged rows are written in chunks of ``IMPORT_COMMIT_CHUNK`` rows (a setting), two at a
    time on PostgreSQL (each in its own connection). The committing user's scope and the
    unions are checked again when the commit starts (and whenever it resumes): the rows of a
    union since closed, merged or moved out of scope are refused. Each chunk is one
    transaction that claims its ``ImportChunk`` row (unique per run and range), inserts the
    new members with their history rows (``ON CONFLICT`` on the one-person index: a person
    who joined elsewhere since the dry run becomes a conflict, never a second membership),
    applies the updates and records one audit row with the counts and the file's SHA-256 —
    so after a crash or ``kill -9`` the commit resumes with the chunks that have no row yet,
    and every row is written exactly once. The same file imported again stages only
    unchanged rows, and its commit writes nothing.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import queue
import re
import signal
import traceback
import zipfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.imports.choices import ImportState, Outcome
from niangjia.imports.files import RejectedFile
from niangjia.imports.member_rows import (
    STAGED_FIELDS,
    CheckedRow,
    F,
    MemberRowChecker,
    RowProblem,
    UnionTarget,
    copy_line,
    union_key,
)
from niangjia.imports.models import ImportChunk, ImportProblem, ImportRun, StagedMember
from niangjia.members.choices import HOLDING_STATUSES, MemberStatus
from niangjia.members.models import Member, MemberEvent
from niangjia.orgs.choices import UnionLevel, UnionStatus
from niangjia.orgs.models import Employer, Union

BATCH = 5000
# Below this many rows a file is checked in this process (forking costs more than it saves).
PARALLEL_FROM_ROWS = 20_000
DRY_RUN_WORKERS = 2


class Cancelled(Exception):
    """The cadre cancelled the job; the dry run or commit stops at a batch boundary."""


ProgressFn = Callable[[int, int | None], None]
CancelFn = Callable[[], bool]


def import_dir() -> Path:
    path = Path(settings.IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def stored_path(run: ImportRun) -> Path:
    return import_dir() / run.stored_name


# --- Reading ----------------------------------------------------------------------------------

_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


def row_count_hint(path: Path, file_kind: str) -> int | None:
    """How many rows the sheet has, read from its declared dimension (xlsx) or estimated from
    the first lines (csv); only for the progress bar."""
    try:
        if file_kind == "xlsx":
            with zipfile.ZipFile(path) as archive:
                names = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
                if not names:
                    return None
                with archive.open(names[0]) as sheet:
                    head = sheet.read(4096)
            match = _DIMENSION.search(head)
            return int(match.group(1)) if match else None
        size = path.stat().st_size
        with path.open("rb") as handle:
            sample = handle.read(1 << 16)
        lines = sample.count(b"\n")
        if not lines:
            return 1
        return max(1, round(size / (len(sample) / lines)))
    except (OSError, zipfile.BadZipFile, ValueError):
        return None


def data_rows(run: ImportRun) -> Iterator[tuple[int, list[Any]]]:
    """(spreadsheet row number, cells) of every non-empty row below the header."""
    from niangjia.imports.files import read_rows

    rows = read_rows(stored_path(run), run.file_kind, sheet=run.sheet or 0)
    yield from _data_only(run, enumerate(rows, start=1))


def _data_only(
    run: ImportRun, numbered: Iterable[tuple[int, list[Any]]]
) -> Iterator[tuple[int, list[Any]]]:
    """The rows below the header that hold something, without the template's example row."""
    from niangjia.imports.columns import apply_mapping
    from niangjia.imports.services import columns_for
    from niangjia.imports.templates import is_example_row

    header_row = run.header_row
    example_row = header_row + 1
    columns = None
    for row_no, cells in numbered:
        if row_no <= header_row:
            continue
        for cell in cells:
            if cell is not None and cell != "":
                break
        else:
            continue  # an empty row
        # The template's example row, left in place, is not a member.
        if row_no == example_row:
            columns = columns or columns_for(run.kind)
            if is_example_row(apply_mapping(cells, run.mapping), columns):
                continue
        yield row_no, cells if isinstance(cells, list) else list(cells)


def data_row_parts(
    run: ImportRun, worker: int, workers: int
) -> Iterator[tuple[int, list[tuple[int, list[Any]]]]]:
    """(part number, its data rows) of the parts of the file that fall to ``worker`` of
    ``workers``: part p to worker p mod workers. Every worker sees the same parts, in file
    order; a big sheet's parts are its slices, parsed only by the worker they fall to."""
    from niangjia.imports.parts import read_row_parts

    parts = read_row_parts(
        stored_path(run), run.file_kind, sheet=run.sheet or 0, worker=worker, workers=workers
    )
    for part_no, first_row_no, rows in parts:
        yield part_no, list(_data_only(run, enumerate(rows, start=first_row_no)))


def _batches(
    rows: Iterable[tuple[int, list[Any]]], size: int
) -> Iterator[list[tuple[int, list[Any]]]]:
    batch: list[tuple[int, list[Any]]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- Checking ---------------------------------------------------------------------------------


def build_checker(run: ImportRun) -> MemberRowChecker:
    """The checker of a run: the unions of its subtree that take members, by name and code."""
    columns = {
        key: (int(index), _header_text(run, int(index))) for index, key in run.mapping.items()
    }
    unions = Union.objects.filter(
        path__startswith=run.union_path, status=UnionStatus.ACTIVE
    ).exclude(level__in=[UnionLevel.NATIONAL, UnionLevel.PROVINCE, UnionLevel.CITY])
    by_name: dict[str, list[UnionTarget]] = {}
    by_code: dict[str, UnionTarget] = {}
    for pk, path, name, uscc in unions.values_list("pk", "path", "name", "uscc"):
        # Members belong to grassroots and joint unions; a county federation holds workers
        # of employers without a union of their own.
        target = UnionTarget(pk, path, name)
        by_name.setdefault(union_key(name), []).append(target)
        if uscc:
            by_code[uscc.upper()] = target
    default: UnionTarget | None = None
    root = run.union
    if root.level not in (UnionLevel.NATIONAL, UnionLevel.PROVINCE, UnionLevel.CITY):
        default = UnionTarget(root.pk, root.path, root.name)
    return MemberRowChecker(
        columns=columns,
        default_union=default,
        unions_by_name=by_name,
        unions_by_code=by_code,
        today=timezone.localdate(),
        copy_lines=connection.vendor == "postgresql",
    )


def _header_text(run: ImportRun, index: int) -> str:
    """A column's name as its header says, without the ``*`` the template puts before the
    name of a required column (a reason reads 「身份证号码」, not 「*身份证号码」)."""
    headers = run.headers or []
    text = str(headers[index] or "").strip().lstrip("*＊").strip() if index < len(headers) else ""
    return text or f"第 {index + 1} 列"


# --- Dry run ----------------------------------------------------------------------------------


@dataclass
class Tally:
    total: int = 0
    new: int = 0
    update: int = 0
    unchanged: int = 0
    error: int = 0
    conflict: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


# The registry columns a staged row is compared with to tell an update from an unchanged row.
_COMPARED = (
    "name",
    "id_type",
    "sex",
    "birth_date",
    "phone_hash",
    "ethnic_group",
    "education",
    "household",
    "employment_form",
    "gig_occupation",
    "occupation",
    "employer_name",
    "union_id",
    "join_date",
)
_COMPARED_INDEX = [F[name] for name in _COMPARED]
_EMPLOYER_NAME = F["employer_name"]


def member_dry_run(
    run: ImportRun, *, progress: ProgressFn | None = None, cancelled: CancelFn | None = None
) -> Tally:
    """Read, check and stage every row of ``run``'s file; see the module docstring."""
    _clear_staging(run)
    checker = build_checker(run)
    total_hint = row_count_hint(stored_path(run), run.file_kind)
    if total_hint is not None:
        total_hint = max(total_hint - run.header_row, 0)
    workers = dry_run_workers(run, total_hint)
    if workers == 1:

        def report(done: int) -> None:
            if progress is not None:
                progress(done, max(total_hint or 0, done) or None)
            if cancelled is not None and cancelled():
                raise Cancelled

        tally = _check_and_stage(run, checker, 0, 1, None, report)
    else:
        tally = _parallel_dry_run(run, checker, workers, total_hint, progress, cancelled)
    if connection.vendor == "postgresql":
        # Fresh statistics for the commit's joins over the staged rows (without them the
        # planner takes the freshly filled table for empty and loops over it).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {StagedMember._meta.db_table}")
    return tally


def dry_run_workers(run: ImportRun, total_hint: int | None) -> int:
    """Processes that check a file at once: two for a big file on PostgreSQL (each with its own
    connection, so that reading, checking and staging all run on both cores), else one."""
    big = (
        total_hint >= PARALLEL_FROM_ROWS
        if total_hint is not None
        else stored_path(run).stat().st_size >= PARALLEL_FROM_ROWS * 40  # ~40 bytes a row
    )
    if (
        not big
        or connection.vendor != "postgresql"
        or connection.in_atomic_block  # the workers could not see this transaction's rows
        or "fork" not in multiprocessing.get_all_start_methods()
        or getattr(settings, "IMPORT_SERIAL", False)
    ):
        return 1
    return DRY_RUN_WORKERS


def _person_key(item: CheckedRow) -> int:
    return int(item.values[F["id_hash"]][:16], 16)


def _check_and_stage(
    run: ImportRun,
    checker: MemberRowChecker,
    worker: int,
    workers: int,
    exchange: _Exchange | None,
    report: Callable[[int], None],
) -> Tally:
    """The dry run of the parts of the file that fall to ``worker``: check each batch, learn
    the people of the other workers' earlier parts (so that a person's first row wins across
    the whole file), then stage it."""
    tally = Tally()
    seen: dict[int, int] = {}  # person key → the first row with that person
    writer = _StagingWriter(run)
    check = checker.check
    for part_no, rows in data_row_parts(run, worker, workers):
        if exchange is None:
            for batch in _batches(rows, BATCH):
                checked = [check(row_no, cells) for row_no, cells in batch]
                _stage_batch(run, batch, checked, seen, writer, tally)
                report(tally.total)
            continue
        # The whole part is checked and its people told to the others before it is staged:
        # a worker waits for the parts before its own to be checked, not staged.
        batches = [
            (batch, [check(row_no, cells) for row_no, cells in batch])
            for batch in _batches(rows, BATCH)
        ]
        good = [item for _batch, checked in batches for item in checked if type(item) is CheckedRow]
        exchange.publish(
            part_no, [_person_key(item) for item in good], [item.row_no for item in good]
        )
        del good
        exchange.learn_before(part_no, seen)
        while batches:
            batch, checked = batches.pop(0)
            _stage_batch(run, batch, checked, seen, writer, tally)
            report(tally.total)
    writer.close()
    return tally


class _Stopped(Exception):
    """Another worker failed or the dry run was cancelled: this worker stops too."""


class _Exchange:
    """What each worker tells the others: the people (keys of their ID hashes) of the rows it
    has checked, part by part. A worker stages part p only once it knows every person of the
    parts before p; rows of later parts that arrive early are kept by their row number, so a
    person's first row in the file is the one that counts, whichever worker has it."""

    def __init__(self, worker: int, workers: int, inboxes: list[Any], stop: Any) -> None:
        self.worker = worker
        self.workers = workers
        self.inboxes = inboxes
        self.inbox = inboxes[worker]
        self.stop = stop
        self.complete: set[int] = set()  # other workers' parts received
        self.ended = 0  # other workers that have sent everything

    def publish(self, part_no: int, keys: list[int], row_nos: list[int]) -> None:
        message = (part_no, array("Q", keys).tobytes(), array("q", row_nos).tobytes())
        for index, inbox in enumerate(self.inboxes):
            if index != self.worker:
                inbox.put(message)

    def learn_before(self, part_no: int, seen: dict[int, int]) -> None:
        needed = [
            q for q in range(part_no) if q % self.workers != self.worker and q not in self.complete
        ]
        while any(q not in self.complete for q in needed):
            self._receive(seen)

    def finish(self) -> None:
        """Tell the others this worker is done, and read what they send until they are too
        (nothing is left in a pipe, so no process waits at exit to hand its messages over)."""
        for index, inbox in enumerate(self.inboxes):
            if index != self.worker:
                inbox.put(None)
        while self.ended < self.workers - 1:
            self._receive(None)

    def _receive(self, seen: dict[int, int] | None) -> None:
        """One message: a part's people into ``seen`` (None: read and let go)."""
        try:
            message = self.inbox.get(timeout=0.5)
        except queue.Empty:
            if self.stop.is_set():
                raise _Stopped from None
            return
        if message is None:
            self.ended += 1
            return
        if seen is None:
            return
        part_no, keys, row_nos = message
        get = seen.get
        for key, row_no in zip(array("Q", keys), array("q", row_nos), strict=True):
            first = get(key)
            if first is None or row_no < first:
                seen[key] = row_no
        self.complete.add(part_no)


def _die_with_parent(parent: int) -> None:
    """A checking process ends with the process that started it, even by ``kill -9`` (Linux:
    PR_SET_PDEATHSIG), so that a dry run started again never meets the rows of an orphan."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _dry_run_child(
    run: ImportRun,
    checker: MemberRowChecker,
    worker: int,
    workers: int,
    inboxes: list[Any],
    results: Any,
    stop: Any,
    done: Any,
    parent: int,
) -> None:
    _die_with_parent(parent)
    # SIGTERM ends it (the parent's handler, e.g. run_jobs' stop-at-next-batch, is not for
    # it); an interrupt is for the parent to handle.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exchange = _Exchange(worker, workers, inboxes, stop)
    counted = 0

    def report(total: int) -> None:
        nonlocal counted
        with done.get_lock():
            done.value += total - counted
        counted = total
        if stop.is_set():
            raise _Stopped

    try:
        tally = _check_and_stage(run, checker, worker, workers, exchange, report)
        exchange.finish()
        results.put(("ok", worker, tally))
    except _Stopped:
        results.put(("stopped", worker, None))
    except RejectedFile as exc:
        stop.set()
        results.put(("rejected", worker, str(exc)))
    except BaseException:
        stop.set()
        results.put(("error", worker, traceback.format_exc()))
    finally:
        for inbox in inboxes:
            inbox.cancel_join_thread()
        connection.close()


def _parallel_dry_run(
    run: ImportRun,
    checker: MemberRowChecker,
    workers: int,
    total_hint: int | None,
    progress: ProgressFn | None,
    cancelled: CancelFn | None,
) -> Tally:
    """The dry run in ``workers`` forked processes, each reading, checking and staging its own
    parts of the file with its own connection; this process follows their progress, passes a
    cancellation on, and adds up their counts."""
    context = multiprocessing.get_context("fork")
    inboxes = [context.Queue() for _ in range(workers)]
    results = context.Queue()
    stop = context.Event()
    done = context.Value("q", 0)
    # Forked without a connection: each process opens its own (the checker and the field
    # keys are inherited).
    connection.close()
    processes = [
        context.Process(
            target=_dry_run_child,
            args=(run, checker, k, workers, inboxes, results, stop, done, os.getpid()),
            daemon=True,
        )
        for k in range(workers)
    ]
    for process in processes:
        process.start()
    outcomes: dict[int, tuple[str, Any]] = {}
    try:
        while len(outcomes) < workers:
            try:
                kind, worker, payload = results.get(timeout=0.5)
            except queue.Empty:
                if not any(p.is_alive() for p in processes):
                    try:
                        kind, worker, payload = results.get(timeout=1)
                    except queue.Empty:
                        break  # killed: the missing outcome says so below
                    outcomes[worker] = (kind, payload)
            else:
                outcomes[worker] = (kind, payload)
            if progress is not None:
                progress(done.value, max(total_hint or 0, done.value) or None)
            if cancelled is not None and cancelled():
                stop.set()
                raise Cancelled
    finally:
        stop.set()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
    kinds = {kind for kind, _payload in outcomes.values()}
    for kind, payload in outcomes.values():
        if kind == "rejected":
            raise RejectedFile(payload)
    for kind, payload in outcomes.values():
        if kind == "error":
            raise RuntimeError(
                f"dry run of import {run.pk} failed in a checking process:\n{payload}"
            )
    if len(outcomes) < workers or kinds != {"ok"}:
        raise RuntimeError(f"dry run of import {run.pk}: a checking process ended without a result")
    tallies = [payload for _kind, payload in outcomes.values()]
    total = Tally()
    for tally in tallies:
        for name in ("total", "new", "update", "unchanged", "error", "conflict"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
    return total


def _clear_staging(run: ImportRun) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {StagedMember._meta.db_table} WHERE run_id = %s", [run.pk])
        cursor.execute(f"DELETE FROM {ImportProblem._meta.db_table} WHERE run_id = %s", [run.pk])


def _stage_batch(
    run: ImportRun,
    batch: list[tuple[int, list[Any]]],
    checked: list[CheckedRow | RowProblem],
    seen: dict[int, int],
    writer: _StagingWriter,
    tally: Tally,
) -> None:
    problems: list[ImportProblem] = []
    good: list[CheckedRow] = []
    for item in checked:
        tally.total += 1
        if isinstance(item, RowProblem):
            problems.append(_problem(run, item.row_no, Outcome.ERROR, item.messages, None))
            continue
        key = _person_key(item)
        first = seen.get(key)
        if first is not None and first < item.row_no:
            problems.append(
                _problem(
                    run,
                    item.row_no,
                    Outcome.ERROR,
                    [f"「{_id_header(run)}」与第 {first} 行是同一人，重复出现"],
                    None,
                )
            )
            continue
        seen[key] = item.row_no
        good.append(item)
    if good:
        employer_ids, employer_problems = _resolve_employers(run, good)
        existing = _existing_members(good)
        for item in good:
            reason = employer_problems.get(item.row_no)
            if reason:
                problems.append(_problem(run, item.row_no, Outcome.ERROR, [reason], None))
                continue
            employer_id = employer_ids.get(item.row_no)
            outcome, member_id, why = _classify(item, employer_id, existing)
            if outcome == Outcome.CONFLICT:
                problems.append(_problem(run, item.row_no, Outcome.CONFLICT, [why], None))
                continue
            tally.add(outcome)
            writer.add(item, outcome, member_id, employer_id)
    if problems:
        # Problem rows found after checking keep their original cells too.
        raw_by_row = dict(batch)
        for problem in problems:
            if problem.raw is None:
                problem.raw = _jsonable_row(raw_by_row[problem.row_no])
            tally.add(problem.outcome)
        writer.flush()
        ImportProblem.objects.bulk_create(problems, batch_size=1000)
    writer.flush()


def _id_header(run: ImportRun) -> str:
    for index, key in run.mapping.items():
        if key == "id_number":
            return _header_text(run, int(index))
    return "身份证号码"


def _problem(
    run: ImportRun, row_no: int, outcome: str, messages: list[str], raw: list[Any] | None
) -> ImportProblem:
    return ImportProblem(
        run=run,
        row_no=row_no,
        outcome=outcome,
        message="；".join(messages),
        raw=_jsonable_row(raw) if raw is not None else None,
    )


def _jsonable_row(raw: list[Any]) -> list[Any]:
    out: list[Any] = []
    for cell in raw:
        if isinstance(cell, datetime.datetime | datetime.date | datetime.time):
            out.append(cell.isoformat())
        elif cell is None or isinstance(cell, str | int | float | bool):
            out.append(cell)
        else:
            out.append(str(cell))
    return out


def _resolve_employers(
    run: ImportRun, good: list[CheckedRow]
) -> tuple[dict[int, int], dict[int, str]]:
    """Employer ids by row: by USCC (must be registered in the run's subtree) or else by exact
    name (when one employer of the subtree has it; otherwise the name stays as free text)."""
    codes = {item.employer_uscc for item in good if item.employer_uscc}
    names = {item.employer_name for item in good if item.employer_name and not item.employer_uscc}
    if not codes and not names:
        return {}, {}
    in_subtree = Q(owner__path__startswith=run.union_path) | Q(
        covering_union__path__startswith=run.union_path
    )
    # Looked up in the registry under the run's union only (checked against the user's scope
    # at upload and again at commit).
    by_code: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    if connection.vendor == "postgresql":
        # Thousands of names per batch: one array parameter instead of thousands.
        employers = Employer._meta.db_table
        unions = Union._meta.db_table
        subtree = (
            f" AND (EXISTS (SELECT 1 FROM {unions} u WHERE u.id = e.owner_id AND u.path LIKE %s)"
            f" OR EXISTS (SELECT 1 FROM {unions} u WHERE u.id = e.covering_union_id"
            f" AND u.path LIKE %s))"
        )
        prefix = run.union_path + "%"
        with connection.cursor() as cursor:
            if codes:
                cursor.execute(
                    f"SELECT e.uscc, e.id FROM {employers} e"
                    f" WHERE e.uscc = ANY(string_to_array(%s, ',')){subtree}",
                    [",".join(codes), prefix, prefix],
                )
                by_code = dict(cursor.fetchall())
            if names:
                cursor.execute(
                    f"SELECT e.id, e.name FROM {employers} e"
                    f" WHERE e.name = ANY(string_to_array(%s, E'\\x1f')){subtree}",
                    ["\x1f".join(names), prefix, prefix],
                )
                for pk, name in cursor.fetchall():
                    by_name.setdefault(name, []).append(pk)
    else:
        if codes:
            by_code = dict(
                Employer.objects.filter(in_subtree, uscc__in=codes).values_list("uscc", "pk")
            )
        if names:
            for pk, name in Employer.objects.filter(in_subtree, name__in=names).values_list(
                "pk", "name"
            ):
                by_name.setdefault(name, []).append(pk)
    ids: dict[int, int] = {}
    problems: dict[int, str] = {}
    uscc_header = _header_for(run, "employer_uscc", "统一社会信用代码")
    for item in good:
        if item.employer_uscc:
            pk = by_code.get(item.employer_uscc)
            if pk is None:
                problems[item.row_no] = (
                    f"「{uscc_header}」{item.employer_uscc} 的单位未在本工会范围内登记，"
                    "请先登记该单位，或清空此格只填单位名称"
                )
            else:
                ids[item.row_no] = pk
        elif item.employer_name:
            found = by_name.get(item.employer_name)
            if found and len(found) == 1:
                ids[item.row_no] = found[0]
    return ids, problems


def _header_for(run: ImportRun, key: str, default: str) -> str:
    for index, mapped in run.mapping.items():
        if mapped == key:
            return _header_text(run, int(index))
    return default


def _existing_members(good: list[CheckedRow]) -> dict[str, tuple[Any, ...]]:
    # The whole registry, not the user's scope: a person may be a member anywhere in the
    # country, and that is exactly the conflict the import must find. Only the comparison
    # columns and the holding union's name are read; nothing of it is shown unmasked.
    hashes = [item.values[F["id_hash"]] for item in good]
    found: dict[str, tuple[Any, ...]] = {}
    if connection.vendor == "postgresql":
        columns = ", ".join(f"m.{name}" for name in _COMPARED_MODEL)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT m.id_hash, m.id, m.status, u.name, m.id_masked, {columns}"
                f" FROM {Member._meta.db_table} m JOIN {Union._meta.db_table} u"
                f" ON u.id = m.union_id WHERE m.id_hash = ANY(string_to_array(%s, ','))",
                [",".join(hashes)],
            )
            for row in cursor.fetchall():
                found[row[0]] = row
        return found
    fields = ("id_hash", "pk", "status", "union__name", "id_masked", *_COMPARED_MODEL)
    for start in range(0, len(hashes), 2000):
        for row in Member.objects.filter(id_hash__in=hashes[start : start + 2000]).values_list(
            *fields
        ):
            found[row[0]] = row
    return found


# Member model columns in the order of _COMPARED, then the employer (compared separately).
_COMPARED_MODEL = (*_COMPARED, "employer_id")


def _classify(
    item: CheckedRow, employer_id: int | None, existing: dict[str, tuple[Any, ...]]
) -> tuple[str, int | None, str]:
    row = existing.get(item.values[F["id_hash"]])
    if row is None:
        return Outcome.NEW, None, ""
    _hash, pk, status, union_name, masked = row[:5]
    if status == MemberStatus.DECEASED:
        return Outcome.CONFLICT, pk, f"证件号码 {masked} 的人员在会员库中登记为已故，请核实"
    if status == MemberStatus.LEFT:
        return Outcome.UPDATE, pk, ""  # a former member joining again
    if row[5 + _COMPARED.index("union_id")] != item.values[F["union_id"]]:
        return (
            Outcome.CONFLICT,
            pk,
            f"证件号码 {masked} 的人员已是「{union_name}」的会员（一人只能有一个会籍），"
            "如确已调动，请由原工会办理会籍转接",
        )
    current = row[5:]
    values = item.values
    for position, index in enumerate(_COMPARED_INDEX):
        expected = values[index]
        if index == _EMPLOYER_NAME and employer_id is not None:
            expected = ""
        if current[position] != expected:
            return Outcome.UPDATE, pk, ""
    if current[-1] != employer_id:
        return Outcome.UPDATE, pk, ""
    return Outcome.UNCHANGED, pk, ""


# --- Writing the staging table ----------------------------------------------------------------

_STAGED_COLUMNS = ("run_id", "row_no", "outcome", "member_id", "employer_id", *STAGED_FIELDS)


class _StagingWriter:
    """Good rows into the staging table: COPY on PostgreSQL, batched INSERT elsewhere."""

    def __init__(self, run: ImportRun) -> None:
        self.run_id = run.pk
        self.postgres = connection.vendor == "postgresql"
        self.table = StagedMember._meta.db_table
        self.rows: list[Any] = []

    def add(
        self, item: CheckedRow, outcome: str, member_id: int | None, employer_id: int | None
    ) -> None:
        # The employer's name is kept as the file gives it; the commit writes it only when
        # no registered employer was found (Member.employer_name is for unregistered ones).
        if self.postgres:
            line = item.line or copy_line(item.values)
            head = copy_line([self.run_id, item.row_no, outcome, member_id, employer_id])
            self.rows.append(f"{head}\t{line}\n")
        else:
            self.rows.append(
                (self.run_id, item.row_no, outcome, member_id, employer_id, *item.values)
            )

    def flush(self) -> None:
        if not self.rows:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                raw = cursor.cursor
                with raw.copy(
                    f"COPY {self.table} ({', '.join(_STAGED_COLUMNS)}) FROM STDIN"
                ) as copy:
                    copy.write("".join(self.rows))
            else:
                marks = ", ".join(["%s"] * len(_STAGED_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({', '.join(_STAGED_COLUMNS)}) VALUES ({marks})",
                    self.rows,
                )
        self.rows = []

    def close(self) -> None:
        self.flush()


# --- Commit -----------------------------------------------------------------------------------


@dataclass
class ChunkResult:
    new: int = 0
    updated: int = 0
    late_conflicts: int = 0
    out_of_scope: int = 0


# The member columns a staged row fills (inserted, or updated on a corrected row).
MEMBER_FIELDS = (
    "name",
    "id_type",
    "id_number_enc",
    "id_hash",
    "id_masked",
    "sex",
    "birth_date",
    "phone_enc",
    "phone_hash",
    "phone_masked",
    "ethnic_group",
    "education",
    "household",
    "employment_form",
    "gig_occupation",
    "occupation",
    "employer_id",
    "employer_name",
    "union_id",
    "union_path",
    "join_date",
)


def chunk_bounds(run: ImportRun) -> list[tuple[int, int]]:
    """The commit's chunks: (lo, hi] ranges of row numbers holding ``IMPORT_COMMIT_CHUNK``
    staged rows each. Derived from the staged rows alone, so every run of the commit finds the
    same ones (the setting must not change while a commit is under way)."""
    table = StagedMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT row_no FROM (SELECT row_no, row_number() OVER (ORDER BY row_no) AS n"
            f" FROM {table} WHERE run_id = %s) t WHERE n %% %s = 0 ORDER BY row_no",
            [run.pk, settings.IMPORT_COMMIT_CHUNK],
        )
        cuts = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT max(row_no) FROM {table} WHERE run_id = %s", [run.pk])
        last = cursor.fetchone()[0]
    bounds: list[tuple[int, int]] = []
    lo = run.header_row
    for cut in cuts:
        bounds.append((lo, cut))
        lo = cut
    if last is not None and last > lo:
        bounds.append((lo, last))
    return bounds


def commit_workers() -> int:
    """Chunks written at once: each its own connection and transaction (PostgreSQL only;
    SQLite has a single writer)."""
    if connection.vendor != "postgresql":
        return 1
    return max(1, int(getattr(settings, "IMPORT_COMMIT_WORKERS", 2)))


def member_commit(
    run: ImportRun,
    *,
    acting_user: Any,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> ImportRun:
    """Write the staged rows chunk by chunk; see the module docstring.

    Each chunk is one transaction that first claims its ``ImportChunk`` row (unique per run
    and range): a chunk is written once, whichever worker or retry gets there first, and a
    resumed commit does only the chunks without a row. ``on_chunk(hi)`` runs inside each
    chunk's transaction (tests use it to stop half-way)."""
    bounds = chunk_bounds(run)
    done = set(ImportChunk.objects.filter(run=run).values_list("lo", flat=True))
    todo = [(lo, hi) for lo, hi in bounds if lo not in done]
    total = run.rows_new + run.rows_updated
    workers = min(commit_workers(), max(len(todo), 1))
    refused = _refused_unions(run, acting_user) if todo else []

    def report() -> None:
        if progress is not None:
            written = ImportChunk.objects.filter(run=run).aggregate(n=Sum("new"), u=Sum("updated"))
            progress((written["n"] or 0) + (written["u"] or 0), total or None)

    if workers == 1:
        for lo, hi in todo:
            _commit_one(run, lo, hi, acting_user, refused, on_chunk)
            report()
            if cancelled is not None and cancelled():
                raise Cancelled
    else:
        _commit_parallel(run, todo, acting_user, refused, workers, report, cancelled, on_chunk)
    return sum_chunks(run)


def _refused_unions(run: ImportRun, acting_user: Any) -> list[int]:
    """The scope, again, on what is about to be saved: the unions of the rows to write that
    are no longer active, or no longer inside what the committing user may add to. Checked
    once when the commit starts (and again whenever it resumes), over the distinct unions of
    the staged rows; each chunk then refuses the rows of these unions."""
    staged = StagedMember._meta.db_table
    unions = Union._meta.db_table
    paths = [
        p
        for p in paths_for(acting_user, Action.ADD)
        if run.union_path.startswith(p) or p.startswith(run.union_path)
    ]
    if paths:
        like = " OR ".join(["u.path LIKE %s"] * len(paths))
        scope_params = [p + "%" for p in paths]
    else:
        like, scope_params = "FALSE", []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.union_id FROM (SELECT DISTINCT s.union_id FROM {staged} s"
            f" WHERE s.run_id = %s AND s.outcome IN ('new', 'update')) d"
            f" WHERE NOT EXISTS (SELECT 1 FROM {unions} u WHERE u.id = d.union_id"
            f" AND u.status = 'active' AND ({like})) ORDER BY d.union_id",
            [run.pk, *scope_params],
        )
        return [row[0] for row in cursor.fetchall()]


def _commit_parallel(
    run: ImportRun,
    todo: list[tuple[int, int]],
    acting_user: Any,
    refused: list[int],
    workers: int,
    report: Callable[[], None],
    cancelled: CancelFn | None,
    on_chunk: Callable[[int], None] | None,
) -> None:
    import queue
    import threading

    pending: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
    for bound in todo:
        pending.put(bound)
    stop = threading.Event()
    errors: list[BaseException] = []
    finished: queue.SimpleQueue[int] = queue.SimpleQueue()

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    lo, hi = pending.get_nowait()
                except queue.Empty:
                    return
                _commit_one(run, lo, hi, acting_user, refused, on_chunk)
                finished.put(hi)
        except BaseException as exc:  # handed to the caller's thread
            errors.append(exc)
            stop.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    left = len(todo)
    while left and not errors:
        try:
            finished.get(timeout=0.5)
            left -= 1
            report()
        except queue.Empty:
            pass
        if cancelled is not None and cancelled():
            stop.set()
        if stop.is_set() and not any(t.is_alive() for t in threads):
            break
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    if stop.is_set():
        raise Cancelled


def _commit_one(
    run: ImportRun,
    lo: int,
    hi: int,
    acting_user: Any,
    refused: list[int],
    on_chunk: Callable[[int], None] | None,
) -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The chunk and its ImportChunk row commit together: a crash that loses this
            # commit loses both, and the chunk is simply written again on resume.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        try:
            with transaction.atomic():
                chunk = ImportChunk.objects.create(run=run, lo=lo, hi=hi)
        except IntegrityError:
            return  # written already (an earlier run of this commit, or another worker)
        result = _commit_chunk(run, lo, hi, acting_user, refused)
        chunk.new = result.new
        chunk.updated = result.updated
        chunk.conflicts = result.late_conflicts + result.out_of_scope
        chunk.save(update_fields=["new", "updated", "conflicts"])
        record(
            action=AuditAction.IMPORT,
            actor=acting_user,
            obj=run,
            detail={
                "rows": f"{lo + 1}-{hi}",
                "new": result.new,
                "updated": result.updated,
                "conflicts": result.late_conflicts,
                "out_of_scope": result.out_of_scope,
                "sha256": run.sha256,
                "file": run.original_name,
            },
        )
        if on_chunk is not None:
            on_chunk(hi)


def sum_chunks(run: ImportRun) -> ImportRun:
    totals = ImportChunk.objects.filter(run=run).aggregate(
        new=Sum("new"), updated=Sum("updated"), conflicts=Sum("conflicts"), rows=Max("hi")
    )
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        run.committed_new = totals["new"] or 0
        run.committed_updated = totals["updated"] or 0
        run.committed_conflict = totals["conflicts"] or 0
        run.checkpoint = totals["rows"] or 0
        run.save(
            update_fields=["committed_new", "committed_updated", "committed_conflict", "checkpoint"]
        )
    return run


def _range_sql(alias: str = "s") -> str:
    return f"{alias}.run_id = %s AND {alias}.row_no > %s AND {alias}.row_no <= %s"


def _commit_chunk(
    run: ImportRun, lo: int, hi: int, acting_user: Any, refused: list[int]
) -> ChunkResult:
    """One chunk's rows written; ``refused``: the unions whose rows may not be (see
    ``_refused_unions``)."""
    result = ChunkResult()
    staged = StagedMember._meta.db_table
    members = Member._meta.db_table
    events = MemberEvent._meta.db_table
    employers = Employer._meta.db_table
    now = timezone.now()
    today = timezone.localdate()
    reason = f"名册导入：{run.original_name}"[:200]
    actor_id = getattr(acting_user, "pk", None)
    postgres = connection.vendor == "postgresql"
    rng = [run.pk, lo, hi]
    with connection.cursor() as cursor:
        # 1. Scope, again: the rows of unions no longer active or in scope are refused.
        if refused:
            cursor.execute(
                f"SELECT s.row_no FROM {staged} s WHERE {_range_sql()}"
                f" AND s.outcome IN ('new', 'update')"
                f" AND s.union_id IN ({', '.join(['%s'] * len(refused))})",
                rng + refused,
            )
            out = [row[0] for row in cursor.fetchall()]
            if out:
                _demote(run, out, "所属工会已不在您的管辖范围内，或已撤销/合并，本行未导入")
                result.out_of_scope = len(out)
        # An employer deleted since the dry run: keep the row, without the employer link.
        cursor.execute(
            f"UPDATE {staged} SET employer_id = NULL WHERE run_id = %s AND row_no > %s"
            f" AND row_no <= %s AND employer_id IS NOT NULL"
            f" AND NOT EXISTS (SELECT 1 FROM {employers} e WHERE e.id = {staged}.employer_id)",
            rng,
        )
        cols = ", ".join(MEMBER_FIELDS)
        select_cols = ", ".join(
            "CASE WHEN s.employer_id IS NULL THEN s.employer_name ELSE '' END"
            if c == "employer_name"
            else f"s.{c}"
            for c in MEMBER_FIELDS
        )
        insert_head = (
            f"INSERT INTO {members} ({cols}, status, status_changed_on, created_at, updated_at)"
            f" SELECT {select_cols}, 'active', %s, %s, %s FROM {staged} s"
            f" WHERE {_range_sql()} AND s.outcome = 'new'"
        )
        if postgres:
            # The new members and their history rows in one statement, the staged rows read
            # once and never rewritten.
            cursor.execute(
                f"WITH ins AS ({insert_head} ORDER BY s.row_no ON CONFLICT (id_hash) DO NOTHING"
                f" RETURNING id, union_id, join_date),"
                f" ev AS (INSERT INTO {events} (member_id, kind, from_status, to_status, union_id,"
                f" date, reason, actor_id, created_at) SELECT id, 'joined', '', 'active', union_id,"
                f" join_date, %s, %s, %s FROM ins) SELECT id FROM ins",
                [today, now, now, *rng, reason, actor_id, now],
            )
            created = [row[0] for row in cursor.fetchall()]
            result.new = len(created)
            late = []
            cursor.execute(
                f"SELECT count(*) FROM {staged} s WHERE {_range_sql()} AND s.outcome = 'new'", rng
            )
            if cursor.fetchone()[0] > result.new:
                # New rows that did not go in: the person became a member elsewhere since the
                # dry run (the member with that ID hash is not one this chunk created).
                cursor.execute(
                    f"SELECT s.row_no FROM {staged} s JOIN {members} m ON m.id_hash = s.id_hash"
                    f" WHERE {_range_sql()} AND s.outcome = 'new' AND m.id <> ALL(%s)"
                    f" ORDER BY s.row_no",
                    [*rng, created],
                )
                late = [row[0] for row in cursor.fetchall()]
        else:
            # SQLite: one writer at a time (IMMEDIATE transactions), so the steps below see no
            # other writer between them.
            cursor.execute(
                f"SELECT s.row_no FROM {staged} s WHERE {_range_sql()} AND s.outcome = 'new'"
                f" AND EXISTS (SELECT 1 FROM {members} m WHERE m.id_hash = s.id_hash)",
                rng,
            )
            taken = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                f"{insert_head} ORDER BY s.row_no ON CONFLICT (id_hash) DO NOTHING",
                [today, now, now, *rng],
            )
            cursor.execute(
                f"UPDATE {staged} SET member_id = (SELECT m.id FROM {members} m"
                f" WHERE m.id_hash = {staged}.id_hash) WHERE run_id = %s AND row_no > %s"
                f" AND row_no <= %s AND outcome = 'new'"
                + (f" AND row_no NOT IN ({', '.join(['%s'] * len(taken))})" if taken else ""),
                rng + taken,
            )
            cursor.execute(
                f"INSERT INTO {events} (member_id, kind, from_status, to_status, union_id, date,"
                f" reason, actor_id, created_at) SELECT s.member_id, 'joined', '', 'active',"
                f" s.union_id, s.join_date, %s, %s, %s FROM {staged} s WHERE {_range_sql()}"
                f" AND s.outcome = 'new' AND s.member_id IS NOT NULL ORDER BY s.row_no",
                [reason, actor_id, now, *rng],
            )
            result.new = cursor.rowcount
            if taken:
                cursor.execute(
                    f"UPDATE {staged} SET member_id = NULL WHERE run_id = %s AND row_no IN"
                    f" ({', '.join(['%s'] * len(taken))})",
                    [run.pk, *taken],
                )
            # New rows that did not go in: the person became a member elsewhere meanwhile.
            cursor.execute(
                f"SELECT s.row_no FROM {staged} s WHERE {_range_sql()} AND s.outcome = 'new'"
                f" AND s.member_id IS NULL",
                rng,
            )
            late = [row[0] for row in cursor.fetchall()]
    if late:
        _demote(
            run,
            late,
            "试导入后该人员已在别处入会（一人只能有一个会籍），本行未导入；如确已调动，请办理会籍转接",
            outcome=Outcome.CONFLICT,
        )
        result.late_conflicts = len(late)
    result.updated = _commit_updates(run, lo, hi, acting_user, today, reason)
    return result


def _demote(
    run: ImportRun, row_nos: list[int], message: str, *, outcome: str = Outcome.ERROR
) -> None:
    """Rows refused at commit time: out of the staging table, into the problem list."""
    StagedMember.objects.filter(run=run, row_no__in=row_nos).update(outcome=outcome)
    ImportProblem.objects.bulk_create(
        [
            ImportProblem(run=run, row_no=row_no, outcome=outcome, message=message, raw=[])
            for row_no in row_nos
        ]
    )


# An update writes the same columns as an insert.
_UPDATED_FIELDS = MEMBER_FIELDS


def _commit_updates(
    run: ImportRun, lo: int, hi: int, acting_user: Any, today: datetime.date, reason: str
) -> int:
    """Updates are few (a re-sent roster with corrections): written through the ORM."""
    rows = list(
        StagedMember.objects.filter(
            run=run, row_no__gt=lo, row_no__lte=hi, outcome=Outcome.UPDATE
        ).order_by("row_no")
    )
    if not rows:
        return 0
    members = {
        m.pk: m
        for m in Member.objects.select_for_update().filter(pk__in=[r.member_id for r in rows])
    }
    changed: list[Member] = []
    event_rows: list[MemberEvent] = []
    stale: list[int] = []
    for row in rows:
        member = members.get(row.member_id)
        if member is None or not (
            member.status == MemberStatus.LEFT
            or (member.status in HOLDING_STATUSES and member.union_id == row.union_id)
        ):
            stale.append(row.row_no)
            continue
        rejoining = member.status == MemberStatus.LEFT
        from_status = member.status
        for name in _UPDATED_FIELDS:
            value = getattr(row, name)
            if isinstance(value, memoryview):
                value = bytes(value)
            setattr(member, name, value)
        if row.employer_id is not None:
            member.employer_name = ""
        if rejoining:
            member.status = MemberStatus.ACTIVE
            member.status_changed_on = today
        changed.append(member)
        event_rows.append(
            MemberEvent(
                member=member,
                kind=MemberEvent.Kind.JOINED if rejoining else MemberEvent.Kind.CHANGED,
                from_status=from_status if rejoining else "",
                to_status=MemberStatus.ACTIVE if rejoining else "",
                union_id=row.union_id,
                date=today,
                reason=reason,
                actor=acting_user if getattr(acting_user, "pk", None) else None,
            )
        )
    if changed:
        Member.objects.bulk_update(
            changed, [*_UPDATED_FIELDS, "status", "status_changed_on", "updated_at"], batch_size=500
        )
        MemberEvent.objects.bulk_create(event_rows, batch_size=1000)
    if stale:
        _demote(
            run,
            stale,
            "试导入后该会员的会籍已变更（转出、退会或已故），本行未导入，请重新试导入核对",
            outcome=Outcome.CONFLICT,
        )
    return len(changed)


def finish_commit(run: ImportRun) -> ImportRun:
    """After the last chunk: the run is committed and its staged personal data removed."""
    from niangjia.imports.models import StagedEmployer

    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        run.state = ImportState.COMMITTED
        run.committed_at = timezone.now()
        run.save(update_fields=["state", "committed_at"])
        _remove_staged(StagedMember, run)
        _remove_staged(StagedEmployer, run)
    return run


def _remove_staged(model: Any, run: ImportRun) -> None:
    """A run's staged rows, removed. On PostgreSQL, when no other run has rows staged (the
    usual case) and none is writing any, the table is emptied at once (TRUNCATE) instead of
    deleting a million rows one by one; the lock is only tried, never waited for."""
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            try:
                with transaction.atomic():
                    cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE NOWAIT")
            except OperationalError:
                pass  # another run is staging or committing: delete ours below
            else:
                cursor.execute(
                    f"SELECT EXISTS (SELECT 1 FROM {table} WHERE run_id <> %s)", [run.pk]
                )
                if not cursor.fetchone()[0]:
                    try:
                        with transaction.atomic():
                            cursor.execute(f"TRUNCATE {table}")
                        return
                    except OperationalError:
                        pass  # rows written in this very transaction (pending checks)
    model.objects.filter(run=run).delete()
