"""Roster import benchmark: a million-row members workbook, dry run + commit, checked.

    make bench-import                        (ROWS=1000000 by default; needs DATABASE_URL)
    .venv/bin/python bench/import_bench.py --rows 1000000 [--compare 20000]

On the synthetic tree of ``make bench-data`` (bench/generate.py), the script
1. chooses the province federation with the most grassroots unions and imports into it;
2. registers ~1 % of the file's people as members of a union in another province (they are
   the conflicts the import must find, never second memberships);
3. writes a realistic members workbook (10 columns, rows spread over the province's unions
   named by their USCC or name, a mix of spellings that must be normalised: full-width
   digits, +86 phones, dates as 2024/1/5, 20240105, 2024年1月5日 and Excel serial numbers) with
   ~1 % bad rows of known kinds (wrong ID check character, an ID stored as a number in
   scientific notation, a bad phone, a union outside the province, a join date in the future,
   the same person twice);
4. runs the import as the UI does (niangjia.imports.services: upload, the proposed column
   mapping, the dry run and the commit, each a background job run by the job worker code),
   timed from upload to committed;
5. checks the counts in the database and the rows of the error report against what it wrote,
   and that importing the same file again changes nothing;
6. imports a slice (``--compare`` rows, default 20,000) of another file with
   django-import-export through an equivalent resource (the same checks, encryption and keyed
   hashes, upsert on the hash), and prints the ratio of rows per second.

Prints ``import: rows=<n> ok=<n> errors=<n> conflicts=<n> seconds=<s> rows_per_s=<r>
peak_rss_mb=<m>`` and ``import-export: rows=<n> seconds=<s> rows_per_s=<r> ratio=<x>``.
Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import people
from bench.common import REPO_ROOT, BenchError, require_postgresql, setup_django

WORK_DIR = REPO_ROOT / "var" / "bench-import"
HEADERS = [
    "姓名",
    "身份证号码",
    "手机号码",
    "民族",
    "学历",
    "户籍类型",
    "就业形态",
    "工作单位",
    "所在工会",
    "入会日期",
]
BAD_KINDS = ("check_digit", "scientific", "phone", "union", "future", "duplicate")
ETHNIC = ["汉族"] * 12 + ["回族", "壮族", "满族", "土家族", "苗族", "蒙古族"]
EDUCATION = ["初中", "高中/中专/技校", "大专", "本科", "研究生", "小学及以下", "高中", "大学本科"]
HOUSEHOLD = ["城镇户籍", "农村户籍", "农业户口", "非农业户口"]
FORMS = ["标准劳动关系"] * 9 + ["新就业形态"]
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
# Person indexes of the bench's own people: far above those of members_generate.py.
PERSON_BASE = 12_000_000


@dataclass
class Expected:
    rows: int = 0
    ok: int = 0
    errors: int = 0
    conflicts: int = 0
    bad_kinds: dict[str, int] = field(default_factory=dict)


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _target() -> tuple[Any, list[Any], Any, set[str]]:
    from django.db.models import Count

    from niangjia.orgs.choices import UnionLevel, UnionStatus
    from niangjia.orgs.models import Union

    provinces = Union.objects.filter(level=UnionLevel.PROVINCE, status=UnionStatus.ACTIVE)
    if not provinces.exists():
        raise BenchError("基准库中没有工会树：请先运行 make bench-data")
    best = None
    best_count = -1
    for province in provinces:
        count = Union.objects.filter(
            path__startswith=province.path, level=UnionLevel.GRASSROOTS, status=UnionStatus.ACTIVE
        ).count()
        if count > best_count:
            best, best_count = province, count
    assert best is not None
    unions = list(
        Union.objects.filter(
            path__startswith=best.path, level=UnionLevel.GRASSROOTS, status=UnionStatus.ACTIVE
        ).only("pk", "name", "uscc", "path")
    )
    names = Count("pk")
    dup_names = {
        row["name"]
        for row in Union.objects.filter(path__startswith=best.path)
        .order_by()
        .values("name")
        .annotate(n=names)
        .filter(n__gt=1)
    }
    usable = [u for u in unions if u.uscc or u.name not in dup_names]
    other = (
        Union.objects.filter(level=UnionLevel.GRASSROOTS, status=UnionStatus.ACTIVE)
        .exclude(path__startswith=best.path)
        .first()
    )
    return best, usable, other, dup_names


def write_workbook(
    path: Path,
    *,
    rows: int,
    unions: list[Any],
    duplicated: set[str],
    seed: int,
    first_person: int,
) -> tuple[Expected, list[int]]:
    """The members workbook; returns what the import must find and the people to pre-register
    as members elsewhere (the conflicts)."""
    from niangjia.utilities.xlsx import write_xlsx

    rng = random.Random(seed)
    ids = people.IdMaker()
    counties = people.county_codes()
    expected = Expected(rows=rows)
    conflicts: list[int] = []
    today = datetime.date.today()
    union_labels = [
        u.uscc if u.uscc and (rng.random() < 0.5 or u.name in duplicated) else u.name
        for u in unions
    ]

    def generate() -> Any:
        previous_ids: list[str] = []
        for i in range(rows):
            person = first_person + i
            number, birth, sex = ids.make(
                person % people.ID_SPACE, counties[person % len(counties)]
            )
            phone: Any = people.phone(person)
            name = people.name(rng, sex)
            union = union_labels[rng.randrange(len(union_labels))]
            earliest = birth + datetime.timedelta(days=18 * 366)
            span = max((today - earliest).days, 1)
            joined = earliest + datetime.timedelta(days=rng.randrange(span))
            spelling = rng.randrange(6)
            join: Any
            if spelling == 0:
                join = f"{joined.year}/{joined.month}/{joined.day}"
            elif spelling == 1:
                join = joined.strftime("%Y%m%d")
            elif spelling == 2:
                join = f"{joined.year}年{joined.month}月{joined.day}日"
            elif spelling == 3:
                join = (joined - datetime.date(1899, 12, 30)).days  # an Excel serial number
            else:
                join = joined.isoformat()
            id_cell: Any = number
            if rng.random() < 0.02:
                id_cell = number.translate(FULL_WIDTH)
            if rng.random() < 0.05:
                phone = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
            kind = None
            roll = rng.random()
            if roll < 0.01 and i > 10:
                kind = BAD_KINDS[i % len(BAD_KINDS)]
            elif roll < 0.02:
                conflicts.append(person)
            if kind == "check_digit":
                wrong = "0" if number[17] != "0" else "1"
                id_cell = number[:17] + wrong
            elif kind == "scientific":
                id_cell = float(number[:17] + "0")
            elif kind == "phone":
                phone = "1380013800"
            elif kind == "union":
                union = "不存在的某某公司工会"
            elif kind == "future":
                join = (today + datetime.timedelta(days=30)).isoformat()
            elif kind == "duplicate":
                id_cell = previous_ids[rng.randrange(len(previous_ids))]
            if kind:
                expected.errors += 1
                expected.bad_kinds[kind] = expected.bad_kinds.get(kind, 0) + 1
            elif person in conflicts[-1:]:
                expected.conflicts += 1
            else:
                expected.ok += 1
                if len(previous_ids) < 1000:
                    previous_ids.append(number)
            yield [
                name,
                id_cell,
                phone,
                ETHNIC[person % len(ETHNIC)],
                EDUCATION[person % len(EDUCATION)],
                HOUSEHOLD[person % len(HOUSEHOLD)],
                FORMS[person % len(FORMS)],
                f"某某{person % 5000}号有限公司",
                union,
                join,
            ]

    with path.open("wb+") as out:
        write_xlsx(title="会员名册", headers=HEADERS, rows=generate(), into=out)
    return expected, conflicts


def register_conflicts(persons: list[int], union: Any) -> None:
    """The conflict people as members of a union in another province."""
    from niangjia.members.models import Member

    ids = people.IdMaker()
    counties = people.county_codes()
    members = []
    for person in persons:
        number, birth, sex = ids.make(person % people.ID_SPACE, counties[person % len(counties)])
        member = Member(
            name="冲突会员",
            sex=sex,
            birth_date=birth,
            union=union,
            union_path=union.path,
            join_date=datetime.date(2020, 1, 1),
        )
        member.set_id_number(number)
        member.set_phone(people.phone(person + 50_000_000))
        members.append(member)
    Member.objects.bulk_create(members, batch_size=2000)


def run_import(path: Path, *, user: Any, union: Any) -> tuple[Any, float]:
    """Upload → mapping as proposed → dry run job → commit job, as the UI does it."""
    from niangjia.imports import services
    from niangjia.imports.models import ImportRun
    from niangjia.jobs.services import run_one

    started = time.perf_counter()
    cpu_started = _cpu_s()
    with path.open("rb") as handle:
        run = services.import_upload(
            acting_user=user, union=union, kind="members", file=handle, original_name=path.name
        )
    services.import_dry_run(run=run, acting_user=user)
    while run_one("bench-import"):
        pass
    run = ImportRun.objects.get(pk=run.pk)
    if run.state != "validated":
        raise BenchError(f"试导入未完成：{run.state} {run.message}")
    validated = time.perf_counter()
    services.import_commit(run=run, acting_user=user)
    while run_one("bench-import"):
        pass
    run = ImportRun.objects.get(pk=run.pk)
    if run.state != "committed":
        raise BenchError(f"正式导入未完成：{run.state} {run.message}")
    print(
        f"  dry run {validated - started:.1f} s, commit {time.perf_counter() - validated:.1f} s,"
        f" CPU of this process and its checkers {_cpu_s() - cpu_started:.1f} s",
        flush=True,
    )
    return run, time.perf_counter() - started


def check(run: Any, expected: Expected, *, province_path: str) -> list[str]:
    from openpyxl import load_workbook

    from niangjia.imports.models import ImportProblem
    from niangjia.imports.report import problem_report
    from niangjia.members.models import Member

    failures = []
    in_province = Member.objects.filter(union_path__startswith=province_path).count()
    if in_province != expected.ok:
        failures.append(f"会员数 {in_province} ≠ 预期 {expected.ok}")
    if run.committed_new != expected.ok:
        failures.append(f"新增 {run.committed_new} ≠ 预期 {expected.ok}")
    if run.rows_error != expected.errors:
        failures.append(f"有误 {run.rows_error} ≠ 预期 {expected.errors}")
    if run.rows_conflict != expected.conflicts:
        failures.append(f"冲突 {run.rows_conflict} ≠ 预期 {expected.conflicts}")
    problems = ImportProblem.objects.filter(run=run).count()
    report = problem_report(run=run, acting_user=run.created_by)
    sheet = load_workbook(report.file, read_only=True).worksheets[0]
    report_rows = sum(1 for _ in sheet.iter_rows(min_row=2))
    report.file.close()
    if report_rows != problems or problems != expected.errors + expected.conflicts:
        failures.append(
            f"问题行报告 {report_rows} 行、问题行 {problems} 行 ≠ 预期 {expected.errors + expected.conflicts}"
        )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/import_bench.py")
    parser.add_argument("--rows", type=int, default=int(os.environ.get("ROWS", 1_000_000)))
    parser.add_argument(
        "--compare", type=int, default=20_000, help="django-import-export 对照的行数，0 跳过"
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--skip-reimport", action="store_true")
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    require_postgresql(connection)
    from bench.common import migrate_if_needed

    migrate_if_needed(connection, sys.stdout)
    from niangjia.accounts.models import User

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    province, unions, other, duplicated = _target()
    user = User.objects.filter(username="bench_national").first()
    if user is None:
        raise BenchError("缺少基准账号 bench_national：请先运行 make bench-data")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE imports_importrun, imports_importproblem, imports_stagedmember,"
            " members_memberevent, members_joinapplication, members_transfer, members_member CASCADE"
        )
    print(f"bench-import: {province.name}，{len(unions)} 个基层工会，{args.rows} 行", flush=True)
    path = WORK_DIR / f"members-{args.rows}-{args.seed}.xlsx"
    t = time.perf_counter()
    expected, conflicts = write_workbook(
        path,
        rows=args.rows,
        unions=unions,
        duplicated=duplicated,
        seed=args.seed,
        first_person=PERSON_BASE,
    )
    print(
        f"  workbook {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s",
        flush=True,
    )
    register_conflicts(conflicts, other)
    connection.close()
    run, seconds = run_import(path, user=user, union=province)
    failures = check(run, expected, province_path=province.path)
    ok = run.committed_new + run.committed_updated
    rate = args.rows / seconds
    print(
        f"import: rows={run.rows_total} ok={ok} errors={run.rows_error} "
        f"conflicts={run.rows_conflict} seconds={seconds:.1f} rows_per_s={rate:.0f} "
        f"peak_rss_mb={_rss_mb():.0f}",
        flush=True,
    )
    if not args.skip_reimport:
        again, _ = run_import(path, user=user, union=province)
        if again.committed_new or again.committed_updated or again.rows_unchanged != expected.ok:
            failures.append(
                f"同一文件再次导入：新增 {again.committed_new}、更新 {again.committed_updated}、"
                f"无变化 {again.rows_unchanged}（应为 0、0、{expected.ok}）"
            )
        else:
            print(f"reimport: unchanged={again.rows_unchanged} new=0 updated=0", flush=True)
    if args.compare:
        from bench.import_export_compare import compare

        theirs_rate = compare(rows=args.compare, unions=unions, seed=args.seed + 1, user=user)
        print(
            f"import-export: rows={args.compare} rows_per_s={theirs_rate:.0f} "
            f"ratio={rate / theirs_rate:.1f}",
            flush=True,
        )
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench-import: {exc}", file=sys.stderr)
        sys.exit(2)
