"""Time the cadre member list at scale (after make bench-members): the selector the list page
uses (``selectors.member_search`` then ``member_keyset_page``, keyset on (union_path, id)) for
the bench cadres of the national root, a province and a county — the first page, deep pages
(cursors at random positions in the cadre's whole list, forward and back), a filtered first
page, and the page's capped count — and print p50/p95 per scope.

    make bench-members-list
    .venv/bin/python bench/members_list.py [--repeat 30]

Read-only. Uses the field keys of make bench-members (var/bench-members/).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BenchError

SCOPES = (
    ("national", "bench_national"),
    ("province", "bench_province"),
    ("county", "bench_county"),
)


@dataclass
class Timing:
    scope: str
    what: str
    samples: list[float]
    rows: int

    def line(self) -> str:
        ms = sorted(s * 1000 for s in self.samples)
        p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
        return (
            f"members-list: scope={self.scope} page={self.what} n={len(ms)} "
            f"p50={statistics.median(ms):.1f}ms p95={p95:.1f}ms rows={self.rows}"
        )


def _time(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    fn()  # warm: plans, caches, the first touch of the index pages
    samples, result = [], None
    for _ in range(repeat):
        begin = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - begin)
    return samples, result


def deep_cursors(user: Any, count: int, seed: int) -> list[str]:
    """Cursors of members at random places in ``user``'s whole list (random ids in scope)."""
    from django.db.models import Max

    from niangjia.accounts.choices import Action
    from niangjia.members.models import Member
    from niangjia.members.selectors import member_cursor

    rng = random.Random(seed)
    top = Member.objects.aggregate(m=Max("id"))["m"] or 0
    scoped = Member.objects.restrict(user, Action.VIEW)
    found: list[str] = []
    for _ in range(200):
        ids = [rng.randint(1, top) for _ in range(20_000)]
        for member in scoped.filter(pk__in=ids).only("id", "union_path")[: count - len(found)]:
            found.append(member_cursor(member))
        if len(found) >= count:
            break
    rng.shuffle(found)
    return found


def measure(scope: str, username: str, *, repeat: int, seed: int) -> list[Timing]:
    from niangjia.accounts.models import User
    from niangjia.members import selectors
    from niangjia.members.forms_cadre import MemberFilterForm

    user = User.objects.filter(username=username).first()
    if user is None:
        raise BenchError(f"找不到基准测试干部账号 {username}：请先运行 make bench-data")
    form = MemberFilterForm({}, user=user)
    form.is_valid()
    rows = selectors.member_search(user=user, filters=form.filters())
    timings = []
    samples, page = _time(lambda: selectors.member_keyset_page(rows), repeat)
    timings.append(Timing(scope, "first", samples, len(page.items)))

    cursors = deep_cursors(user, repeat + 1, seed)
    if cursors:
        queue = iter(cursors * 2)
        samples, page = _time(lambda: selectors.member_keyset_page(rows, after=next(queue)), repeat)
        timings.append(Timing(scope, "deep", samples, len(page.items)))
        queue = iter(cursors * 2)
        samples, page = _time(
            lambda: selectors.member_keyset_page(rows, before=next(queue)), repeat
        )
        timings.append(Timing(scope, "deep-back", samples, len(page.items)))

    filtered_form = MemberFilterForm(
        {"status": "active", "employment_form": "gig", "migrant": "yes"}, user=user
    )
    filtered_form.is_valid()
    filtered = selectors.member_search(user=user, filters=filtered_form.filters())
    samples, page = _time(lambda: selectors.member_keyset_page(filtered), repeat)
    timings.append(Timing(scope, "first-gig-migrant-active", samples, len(page.items)))

    samples, count = _time(lambda: selectors.capped_count(rows), repeat)
    timings.append(Timing(scope, "count", samples, count.total))
    return timings


def explain_deep(username: str, seed: int) -> list[str]:
    """The query plan of one deep page for ``username`` (should be one index range scan)."""
    from django.db import connection
    from django.db.models import F
    from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan

    from niangjia.accounts.models import User
    from niangjia.members import selectors
    from niangjia.members.selectors import parse_member_cursor

    user = User.objects.get(username=username)
    cursor = deep_cursors(user, 1, seed)[0]
    rows = selectors.member_list(user=user).filter(
        TupleGreaterThan(Tuple(F("union_path"), F("id")), parse_member_cursor(cursor))
    )
    sql, params = rows.order_by("union_path", "id")[:51].query.sql_with_params()
    with connection.cursor() as db:
        db.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [line for (line,) in db.fetchall()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/members_list.py", description=__doc__)
    parser.add_argument("--repeat", type=int, default=30, help="每项计时次数，默认 30")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 1000:
        print("members-list: 错误：--repeat 应在 1 到 1000 之间", file=sys.stderr)
        return 2
    from bench.common import require_postgresql, setup_django
    from bench.members_generate import use_bench_keys

    try:
        use_bench_keys()
        setup_django()
        from django.db import connection

        from niangjia.members.models import Member

        require_postgresql(connection)
        total = Member.objects.order_by().count()
        if total < 1000:
            raise BenchError(f"库中只有 {total} 名会员：请先运行 make bench-members")
        print(f"members-list: 数据库 {connection.settings_dict['NAME']}，会员 {total:,} 名")
        for scope, username in SCOPES:
            for timing in measure(scope, username, repeat=args.repeat, seed=args.seed):
                print(timing.line(), flush=True)
        print("全国范围深页的查询计划：")
        for line in explain_deep("bench_national", args.seed):
            print(f"    {line}")
    except BenchError as exc:
        print(f"members-list: 错误：{exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
