"""CPU time per row of the roster import's row check (``MemberRowChecker.check``), no database.

    .venv/bin/python bench/check_rows.py [--rows 100000] [--repeat 3] [--no-lines]

The rows are those of bench/import_bench.py's workbook, as the xlsx reader hands them over
(numbers as floats): names, valid ID numbers (2 % in full-width digits), phones (5 % as
+86 138 1234 5678), ethnic group, education, household, employment form, employer, the union
by name or USCC among 3,000 synthetic unions, join dates in five spellings and as Excel serial
numbers, and ~1 % bad rows. Each pass checks every row with a fresh checker (its caches start
empty) and makes the COPY lines as on PostgreSQL unless ``--no-lines``; the garbage collector
is off while timing. Prints ``check: rows=<n> us_per_row=<best pass> problems=<n>``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import random
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import people
from bench.common import setup_django
from bench.import_bench import EDUCATION, ETHNIC, FORMS, FULL_WIDTH, HEADERS, HOUSEHOLD

KEYS = [
    "name",
    "id_number",
    "phone",
    "ethnic_group",
    "education",
    "household",
    "employment_form",
    "employer_name",
    "union",
    "join_date",
]
UNIONS = 3000
TODAY = datetime.date(2026, 11, 21)


def _uscc(i: int) -> str | None:
    return f"81420100MA{i:08d}" if i % 10 < 7 else None


def checker(*, copy_lines: bool) -> Any:
    from niangjia.imports.member_rows import MemberRowChecker, UnionTarget, union_key

    by_name: dict[str, list[Any]] = {}
    by_code: dict[str, Any] = {}
    for i in range(UNIONS):
        target = UnionTarget(1000 + i, f"0001.0002.{i:05d}", f"某某{i}号有限公司工会")
        by_name.setdefault(union_key(target.name), []).append(target)
        code = _uscc(i)
        if code:
            by_code[code] = target
    return MemberRowChecker(
        columns={
            key: (i, header) for i, (key, header) in enumerate(zip(KEYS, HEADERS, strict=True))
        },
        default_union=None,
        unions_by_name=by_name,
        unions_by_code=by_code,
        today=TODAY,
        copy_lines=copy_lines,
    )


def rows(count: int, seed: int = 1) -> list[list[Any]]:
    rng = random.Random(seed)
    ids = people.IdMaker()
    counties = people.county_codes()
    labels = [
        _uscc(i) if _uscc(i) and rng.random() < 0.5 else f"某某{i}号有限公司工会"
        for i in range(UNIONS)
    ]
    out: list[list[Any]] = []
    for i in range(count):
        person = 12_000_000 + i
        number, birth, sex = ids.make(person % people.ID_SPACE, counties[person % len(counties)])
        phone: Any = people.phone(person)
        earliest = birth + datetime.timedelta(days=18 * 366)
        joined = earliest + datetime.timedelta(days=rng.randrange(max((TODAY - earliest).days, 1)))
        spelling = rng.randrange(6)
        join: Any = joined.isoformat()
        if spelling == 0:
            join = f"{joined.year}/{joined.month}/{joined.day}"
        elif spelling == 1:
            join = joined.strftime("%Y%m%d")
        elif spelling == 2:
            join = f"{joined.year}年{joined.month}月{joined.day}日"
        elif spelling == 3:
            join = float((joined - datetime.date(1899, 12, 30)).days)
        id_cell: Any = number.translate(FULL_WIDTH) if rng.random() < 0.02 else number
        if rng.random() < 0.05:
            phone = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
        union = labels[rng.randrange(UNIONS)]
        if rng.random() < 0.01:
            kind = i % 5
            if kind == 0:
                id_cell = number[:17] + ("0" if number[17] != "0" else "1")
            elif kind == 1:
                id_cell = float(number[:17] + "0")
            elif kind == 2:
                phone = "1380013800"
            elif kind == 3:
                union = "不存在的某某公司工会"
            else:
                join = (TODAY + datetime.timedelta(days=30)).isoformat()
        out.append(
            [
                people.name(rng, sex),
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
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-lines", action="store_true", help="不生成 COPY 行（SQLite 的做法）")
    args = parser.parse_args()
    setup_django()
    data = rows(args.rows)
    best = float("inf")
    problems = 0
    for _ in range(args.repeat):
        check = checker(copy_lines=not args.no_lines).check
        gc.collect()
        gc.disable()
        started = time.process_time()
        results = [check(n, cells) for n, cells in enumerate(data, start=2)]
        best = min(best, time.process_time() - started)
        gc.enable()
        problems = sum(1 for result in results if hasattr(result, "messages"))
    print(f"check: rows={len(data)} us_per_row={best / len(data) * 1e6:.2f} problems={problems}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
