"""Time hardship relief at scale (after bench/relief_generate.py):

1. the cadre file list (``selectors.file_list``, the workbench's first page of 50 by
   ``selectors.file_page`` and its capped count) with three filters, for the bench cadres of a county, a city and a province:
   p50/p95 per scope (target p95 ≤ 200 ms);
2. a disbursement batch of 100,000 payments from a national fund: drawn
   (``services.batch_create``), then approved by a finance officer and posted to the ledger
   (``batch_approve`` + ``batch_post``; target ≤ 60 s), and checked: the fund's balance is
   exactly what it was less the batch, the ledger adds up to it, every payment has its paid
   assistance record and timeline line.

    make bench-relief
    .venv/bin/python bench/relief_bench.py [--repeat 30] [--payments 100000]

Prints one line of figures at the end. Writes only the batch (and its fund) it posts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BenchError, server_cpu_seconds

SCOPES = (("county", "bench_county"), ("city", "bench_city"), ("province", "bench_province"))
# Three filters each, as a cadre combines them on the workbench.
FILTERS = (
    {"state": "filed", "category": "deep", "cause": "01"},
    {"state": "filed", "category": "relative", "level": "county"},
    {"state": "filed", "cause": "06", "level": "city"},
    {"category": "deep", "level": "province", "cause": "03"},
    {"state": "exited", "category": "relative", "cause": "07"},
    {"state": "filed", "overdue_review": True, "category": "deep"},
)
FINANCE_USERNAME = "bench_finance"
AMOUNT = Decimal("800")


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def time_list(user: Any, repeat: int) -> tuple[float, float, int]:
    """p50 and p95 (ms) of first page + capped count over the filter combinations."""
    from niangjia.relief import selectors

    samples: list[float] = []
    rows_seen = 0
    for round_ in range(repeat):
        for filters in FILTERS:
            rows = selectors.file_list(user=user, filters=selectors.FileFilters(**filters))
            if round_ == 0:  # warm: plans, caches, the first touch of the index pages
                selectors.file_page(rows, limit=50)
                selectors.capped_count(rows)
            begin = time.perf_counter()
            page = selectors.file_page(rows, limit=50)
            counted = selectors.capped_count(rows)
            samples.append((time.perf_counter() - begin) * 1000)
            rows_seen = max(rows_seen, counted.count if page or counted.count else 0)
    return statistics.median(samples), _p95(samples), rows_seen


def _finance_officer() -> Any:
    from niangjia.accounts.choices import Role
    from niangjia.accounts.models import RoleAssignment, User
    from niangjia.orgs.models import Union

    user, _ = User.objects.get_or_create(
        username=FINANCE_USERNAME, defaults={"full_name": "基准测试财务人员"}
    )
    RoleAssignment.objects.get_or_create(
        user=user, union=Union.objects.get(depth=1), role=Role.FINANCE
    )
    return user


def run_batch(payments: int, out: Any) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Sum
    from django.utils import timezone

    from niangjia.accounts.models import User
    from niangjia.orgs.models import Union
    from niangjia.relief import services
    from niangjia.relief.choices import AssistanceState, FundSource, PaymentState
    from niangjia.relief.models import Assistance, BatchPayment, FileEvent, LedgerEntry

    national = User.objects.get(username="bench_national")
    finance = _finance_officer()
    root = Union.objects.get(depth=1)
    year = timezone.localdate().year
    budget = AMOUNT * payments + Decimal("12345.67")
    fund = services.fund_create(
        union=root,
        name=f"基准测试批量发放资金 {timezone.now():%H%M%S}",
        source=FundSource.UNION,
        year=year,
        acting_user=national,
    )
    services.fund_receive(fund=fund, amount=budget, acting_user=national)
    events_before = FileEvent.objects.count()
    # The type with the fewest records this year leaves the most households eligible.
    begin = time.perf_counter()
    batch = services.batch_create(
        fund=fund,
        name=f"基准测试批量发放（{payments} 户）",
        assistance_type="training",
        amount=AMOUNT,
        criteria=services.BatchCriteria(limit=payments),
        acting_user=national,
    )
    created = time.perf_counter() - begin
    out.write(f"  批次选户：{batch.payment_count} 户，{created:.1f} 秒\n")
    if batch.payment_count < payments:
        raise BenchError(f"符合条件的在档户只有 {batch.payment_count} 户，不足 {payments} 户")
    cpu_before = server_cpu_seconds(connection)
    begin = time.perf_counter()
    batch = services.batch_approve(batch=batch, acting_user=finance)
    result = services.batch_post(batch=batch, acting_user=national)
    posted = time.perf_counter() - begin
    cpu_after = server_cpu_seconds(connection)
    fund.refresh_from_db()
    ledger_total = LedgerEntry.objects.filter(fund=fund).aggregate(s=Sum("amount"))["s"]
    paid_records = Assistance.objects.filter(
        batch_payment__batch=batch, state=AssistanceState.PAID
    ).count()
    paid_rows = BatchPayment.objects.filter(batch=batch, state=PaymentState.PAID).count()
    events = FileEvent.objects.count() - events_before
    expected = budget - AMOUNT * payments
    exact = (
        fund.balance == expected == ledger_total == result.balance_after
        and result.paid == paid_records == paid_rows == events == payments
    )
    if not exact:
        raise BenchError(
            f"核对不符：余额 {fund.balance}（应为 {expected}），台账合计 {ledger_total}，"
            f"已发放 {result.paid}/{paid_records}/{paid_rows}，记录 {events}"
        )
    out.write(f"  审批并发放：{posted:.1f} 秒；余额 {fund.balance} 元，与台账一致\n")
    return {
        "created": created,
        "posted": posted,
        "paid": result.paid,
        "total": result.total,
        "cpu": (cpu_after - cpu_before)
        if cpu_before is not None and cpu_after is not None
        else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="困难职工帮扶基准测试：档案列表与批量发放")
    parser.add_argument("--repeat", type=int, default=20, help="每种筛选组合重复次数")
    parser.add_argument("--payments", type=int, default=100_000, help="批量发放户数")
    parser.add_argument("--no-batch", action="store_true", help="只测档案列表")
    args = parser.parse_args(argv)
    from bench.common import require_postgresql, setup_django

    setup_django()
    from django.db import connection

    from niangjia.accounts.models import User
    from niangjia.relief.models import HardshipFile

    out = sys.stdout
    try:
        require_postgresql(connection)
        if not HardshipFile.objects.exists():
            raise BenchError(
                "库中没有困难职工档案：请先运行 bench/relief_generate.py（make bench-relief）"
            )
        parts = [f"files={HardshipFile.objects.count()}"]
        for scope, username in SCOPES:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise BenchError(f"缺少基准测试账号 {username}：请先运行 make bench-data")
            p50, p95, rows = time_list(user, args.repeat)
            out.write(f"  档案列表 {scope}：p50 {p50:.1f} ms，p95 {p95:.1f} ms（最多 {rows} 行）\n")
            parts.append(f"list_{scope}_p50={p50:.1f}ms list_{scope}_p95={p95:.1f}ms")
        if not args.no_batch:
            batch = run_batch(args.payments, out)
            parts.append(
                f"batch={batch['paid']} draw={batch['created']:.1f}s "
                f"approve_post={batch['posted']:.1f}s balance=exact"
            )
            if batch["cpu"] is not None:
                parts.append(f"post_db_cpu={batch['cpu']:.1f}s")
    except BenchError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print("relief-bench: " + " ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
