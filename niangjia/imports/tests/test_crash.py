"""A roster import whose worker is killed with SIGKILL half-way, then finished by another worker.

Real processes on a real database, as in niangjia/jobs/tests/test_worker_processes.py (whose
helpers these tests use): on PostgreSQL the test database itself, on SQLite a throwaway file
database. A fresh process prepares the tree, the county cadre and the uploaded roster; a
``manage.py run_jobs`` process takes the job and is killed while the test watches the
database; a second worker takes the job back once its heartbeat is stale and finishes it.

- Commit: a few thousand staged rows in small chunks (``IMPORT_COMMIT_CHUNK``); the kill lands
  when about a third of the chunks are written. What is in the registry then is exactly what
  the recorded chunks say; at the end every good row is a member once, every chunk is recorded
  once with its audit row, and the run is committed.
- Dry run: a file big enough to be checked by forked processes (on PostgreSQL; by the worker on
  SQLite), killed once the first rows are staged; the checking processes do not outlive their
  worker, and the dry run done again from the start finds the same counts (nothing left over
  from the killed one), then commits.
"""

from __future__ import annotations

import csv
import datetime
import itertools
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from niangjia.imports.models import ImportChunk, StagedMember
from niangjia.jobs.tests import test_worker_processes as worker_processes
from niangjia.jobs.tests.test_worker_processes import WAIT, WorkerProcess, _python

# The database of the test's processes: the test database on PostgreSQL, a migrated file on SQLite.
crash_database = worker_processes.crash_database

pytestmark = pytest.mark.django_db(transaction=True)

UNION = "武汉长江机械有限公司工会"
COMMIT_ROWS = 3000
COMMIT_CHUNK = 40  # rows per chunk: about 72 chunks
DRY_RUN_ROWS = 21_000  # above engine.PARALLEL_FROM_ROWS: two forked processes on PostgreSQL
# Seconds a worker may take over a whole dry run or commit (the machine may be shared).
LONG_WAIT = 300
HEADERS = ["序号", "姓名", "身份证号码", "手机号码", "所在工会", "入会日期"]


# --- The roster ---------------------------------------------------------------------------------


def person(n: int) -> tuple[str, str]:
    """The ID number and phone of person ``n`` (distinct for every n below 1,000,000)."""
    from niangjia.utilities.testing.members import make_id_number, make_phone

    birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=n // 1000)
    return make_id_number(birth=birth.strftime("%Y%m%d"), serial=n % 1000), make_phone(serial=n)


def roster_rows(count: int) -> Iterator[list[Any]]:
    """``count`` data rows; four in every hundred are bad, each in its own way."""
    for n in range(1, count + 1):
        id_number, phone = person(n)
        union = UNION
        kind = n % 100
        if kind == 7:  # a wrong check character
            id_number = id_number[:17] + ("0" if id_number[17] != "0" else "1")
        elif kind == 23:  # ten digits
            phone = phone[:10]
        elif kind == 41:
            union = "不存在的工会"
        elif kind == 59:  # the person of the row above, again
            id_number = person(n - 1)[0]
        yield [n, f"会员{n}", id_number, phone, union, "2024-01-05"]


BAD_KINDS = (7, 23, 41, 59)


def good_row(n: int) -> bool:
    return n % 100 not in BAD_KINDS


def bad_rows(count: int) -> int:
    return sum(1 for n in range(1, count + 1) if not good_row(n))


def prepare(rows: int, directory: str, step: str) -> dict[str, int]:
    """In a fresh process: the tree, the county cadre, the roster uploaded by them and its
    ``step`` queued for a worker: "dry_run", or "commit" (after a dry run done here)."""
    from django.conf import settings

    from niangjia.imports import services
    from niangjia.imports.models import ImportRun
    from niangjia.orgs.choices import UnionKind, UnionLevel
    from niangjia.orgs.models import Region, Union
    from niangjia.orgs.regions import REGIONS_CSV, read_rows
    from niangjia.utilities.testing.personas import build_tree, make_persona

    # A transactional test empties the database afterwards, the data migrations' rows too.
    wanted = ("420000", "420100", "420102", "420103")
    by_code = {r["code"]: r for r in read_rows(REGIONS_CSV) if r["code"] in wanted}
    for code in wanted:
        r = by_code[code]
        parent = Region.objects.get(code=r["parent_code"]) if r["parent_code"] else None
        Region.objects.get_or_create(
            code=code,
            defaults={
                "name": r["name"],
                "level": r["level"],
                "revision": r["revision"],
                "parent": parent,
            },
        )
    if not Union.objects.filter(depth=1).exists():
        Union.objects.add_root(
            instance=Union(
                name="中华全国总工会", level=UnionLevel.NATIONAL, kind=UnionKind.FEDERATION
            )
        )
    tree = build_tree()
    cadre = make_persona("county_cadre", tree)
    path = Path(directory) / "名册.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(roster_rows(rows))
    with path.open("rb") as handle:
        run = services.import_upload(
            acting_user=cadre,
            union=tree.jiangan,
            kind="members",
            file=handle,
            original_name="江岸区会员名册.csv",
        )
    if step == "commit":
        services.import_dry_run(run=run, acting_user=cadre)  # JOBS_INLINE: done here and now
        run = ImportRun.objects.get(pk=run.pk)
        assert run.state == "validated", (run.state, run.message)
    settings.JOBS_INLINE = False
    if step == "dry_run":
        job = services.import_dry_run(run=run, acting_user=cadre)
    else:
        job = services.import_commit(run=run, acting_user=cadre)
    assert job is not None
    return {"run": run.pk, "job": job.pk}


def commit_here(run_id: int) -> dict[str, Any]:
    """In a fresh process: commit a dry-run result at once (JOBS_INLINE); what it comes to."""
    from niangjia.imports import services
    from niangjia.imports.models import ImportRun

    run = ImportRun.objects.select_related("created_by").get(pk=run_id)
    services.import_commit(run=run, acting_user=run.created_by)
    return outcome(run_id)


def outcome(run_id: int) -> dict[str, Any]:
    """In a fresh process: what the run, its job and the registry say now."""
    from django.db.models import Count, Sum

    from niangjia.audit.models import AuditEntry
    from niangjia.imports.models import ImportProblem, ImportRun
    from niangjia.members.models import Member, MemberEvent

    run = ImportRun.objects.select_related("job").get(pk=run_id)
    chunks = list(run.chunks.order_by("lo").values_list("lo", "hi", "new"))
    members = Member.objects.filter(union__name=UNION)
    return {
        "state": run.state,
        "counts": [run.rows_total, run.rows_new, run.rows_error, run.rows_conflict],
        "committed": [run.committed_new, run.committed_updated, run.committed_conflict],
        "header_row": run.header_row,
        "job": [run.job.state, run.job.attempts] if run.job else None,
        "members": members.count(),
        "people": members.values("id_hash").distinct().count(),
        "twice": members.values("id_hash").annotate(n=Count("id")).filter(n__gt=1).count(),
        "joined_events": MemberEvent.objects.filter(kind="joined", member__in=members).count(),
        "chunks": chunks,
        "chunk_new": run.chunks.aggregate(n=Sum("new"))["n"] or 0,
        "chunk_audits": AuditEntry.objects.filter(
            action="import", object_type="imports.importrun", object_id=str(run.pk)
        ).count(),
        "staged": StagedMember.objects.filter(run=run).count(),
        "problems": ImportProblem.objects.filter(run=run).count(),
    }


# --- Watching the database from the test ---------------------------------------------------------


def counter(url: str) -> Callable[[str, list[Any]], int]:
    """``count(sql, params)`` on the crash database, read in autocommit from this process (the
    file database directly on SQLite; the test's own connection on PostgreSQL)."""
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=10, isolation_level=None)

        def count_sqlite(sql: str, params: list[Any]) -> int:
            return int(db.execute(sql.replace("%s", "?"), params).fetchone()[0])

        return count_sqlite

    def count_postgres(sql: str, params: list[Any]) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.fetchone()[0])

    return count_postgres


def wait_until(test: Callable[[], bool], what: str, worker: WorkerProcess) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if test():
            return
        if worker.process.poll() is not None:
            break
        time.sleep(0.005)
    worker.wait_for("never printed", timeout=0.1)  # fails, showing what the worker said
    raise AssertionError(f"never: {what}")


def children_of(pid: int) -> list[int]:
    """The process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def crash_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """What the processes of the test share: the upload directory and the chunk size; the
    commit as in production (two connections at a time on PostgreSQL)."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setenv("TEST_IMPORT_DIR", str(uploads))
    monkeypatch.setenv("IMPORT_COMMIT_CHUNK", str(COMMIT_CHUNK))
    monkeypatch.setenv("TEST_IMPORT_COMMIT_WORKERS", "2")
    return tmp_path


def _call(url: str, code: str) -> Any:
    return _python(url, "from niangjia.imports.tests.test_crash import *\n" + code)


@contextmanager
def worker(url: str) -> Iterator[WorkerProcess]:
    """A worker that must end cleanly (SIGTERM); killed if the test fails meanwhile."""
    process = WorkerProcess(url)
    try:
        yield process
    except BaseException:
        process.kill()
        raise
    assert process.stop() == 0


# --- The tests -----------------------------------------------------------------------------------


def test_a_commit_killed_half_way_resumes_on_another_worker_with_exact_counts(
    crash_database: str, crash_env: Path
) -> None:
    url = crash_database
    good = COMMIT_ROWS - bad_rows(COMMIT_ROWS)
    started = _call(url, f"print(json.dumps(prepare({COMMIT_ROWS}, {str(crash_env)!r}, 'commit')))")
    run_id, job_id = started["run"], started["job"]
    chunks_in_all = -(-good // COMMIT_CHUNK)
    count = counter(url)
    chunks_sql = f"SELECT count(*) FROM {ImportChunk._meta.db_table} WHERE run_id = %s"  # noqa: S608

    first = WorkerProcess(url)
    try:
        first.wait_for(f"job {job_id} (imports.commit) started by")
        wait_until(
            lambda: count(chunks_sql, [run_id]) >= chunks_in_all // 3,
            "a third of the chunks written",
            first,
        )
    finally:
        first.kill()
    assert first.process.returncode == -signal.SIGKILL

    middle = _call(url, f"print(json.dumps(outcome({run_id})))")
    written = len(middle["chunks"])
    assert middle["state"] == "committing"
    assert middle["job"] == ["running", 1]  # nobody knows yet that its worker is gone
    assert chunks_in_all // 3 <= written < chunks_in_all, "the kill came too late to test"
    # Exactly what the recorded chunks wrote, nothing of the chunks the kill interrupted.
    assert middle["members"] == middle["chunk_new"] == middle["joined_events"]
    assert middle["chunk_audits"] == written
    assert middle["twice"] == 0

    with worker(url) as second:
        second.wait_for("stale jobs: 1 requeued")
        second.wait_for(f"job {job_id} succeeded", timeout=LONG_WAIT)

    end = _call(url, f"print(json.dumps(outcome({run_id})))")
    assert end["state"] == "committed"
    assert end["job"] == ["succeeded", 2]
    assert end["committed"] == [good, 0, 0]
    assert end["members"] == end["people"] == end["joined_events"] == good
    assert end["twice"] == 0
    # Every chunk recorded once, end to end without a gap or an overlap, each with its audit row.
    chunks = end["chunks"]
    assert len(chunks) == chunks_in_all
    assert chunks[0][0] == end["header_row"]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
    last_good = max(n for n in range(COMMIT_ROWS + 1) if good_row(n))
    assert chunks[-1][1] == end["header_row"] + last_good
    # The chunks written before the kill were left as they were (the resumed commit skipped them).
    assert all(chunk in chunks for chunk in middle["chunks"])
    assert end["chunk_new"] == good
    assert end["chunk_audits"] == chunks_in_all
    assert end["staged"] == 0  # the personal data is not kept twice


def test_a_dry_run_killed_half_way_starts_again_and_ends_with_the_same_counts(
    crash_database: str, crash_env: Path
) -> None:
    url = crash_database
    bad = bad_rows(DRY_RUN_ROWS)
    good = DRY_RUN_ROWS - bad
    started = _call(
        url, f"print(json.dumps(prepare({DRY_RUN_ROWS}, {str(crash_env)!r}, 'dry_run')))"
    )
    run_id, job_id = started["run"], started["job"]
    count = counter(url)
    staged_sql = f"SELECT count(*) FROM {StagedMember._meta.db_table} WHERE run_id = %s"  # noqa: S608

    first = WorkerProcess(url)
    checkers: list[int] = []
    try:
        first.wait_for(f"job {job_id} (imports.dry_run) started by")
        wait_until(lambda: count(staged_sql, [run_id]) > 0, "the first rows staged", first)
        checkers = children_of(first.process.pid)
    finally:
        first.kill()
    # PostgreSQL: two forked processes read, check and stage the file (SQLite: the worker).
    assert bool(checkers) == url.startswith("postgres"), checkers

    staged = count(staged_sql, [run_id])
    assert 0 < staged < good, "the kill came too late to test"
    middle = _call(url, f"print(json.dumps(outcome({run_id})))")
    assert middle["state"] == "validating" and middle["job"] == ["running", 1]
    # The checking processes see their worker gone and leave (no orphans holding memory).
    deadline = time.monotonic() + WAIT
    while any(alive(pid) for pid in checkers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in checkers if alive(pid)], "forked checkers outlived their worker"

    with worker(url) as second:
        second.wait_for("stale jobs: 1 requeued")
        second.wait_for(f"job {job_id} succeeded", timeout=LONG_WAIT)

    end = _call(url, f"print(json.dumps(outcome({run_id})))")
    assert end["state"] == "validated"
    assert end["job"] == ["succeeded", 2]
    assert end["counts"] == [DRY_RUN_ROWS, good, bad, 0]
    # The rows of the killed dry run were cleared, not added to.
    assert end["staged"] == good and end["problems"] == bad
    assert end["members"] == 0  # a dry run writes nothing to the registry

    end = _call(url, f"print(json.dumps(commit_here({run_id})))")
    assert end["state"] == "committed"
    assert end["committed"] == [good, 0, 0]
    assert end["members"] == end["people"] == good and end["twice"] == 0
