"""Time employer verification campaigns on PostgreSQL: a county with N employers (800 by default,
the size of the issue's example), and the services as the pages call them — creating the
campaign (the list selected in scope and bulk-inserted), splitting it between two staff, one
mark, a bulk mark of 100, the item list's first page with the progress, and closing with the
findings written to the registry (10 % moved away, 5 % deregistered). Prints one line.

    make bench-verification
    DATABASE_URL=postgresql://… .venv/bin/python bench/verification.py [--employers 800] [--repeat 10]

Runs on its own throwaway database (created when missing); everything it writes is rolled back,
so the database keeps only its migrations.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BenchError, setup_django


def ensure_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name or ""):
        raise BenchError(f"数据库名“{name}”只能含字母、数字和下划线")
    try:
        psycopg.connect(database_url, connect_timeout=5).close()
        return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise BenchError(f"无法连接数据库：{exc}") from exc
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    print(f"verification: 已新建基准测试库 {name}")


class _Rollback(Exception):
    pass


def _ms(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return f"{statistics.median(ms):.0f}ms"


def _timed(
    fn: Callable[[Any], Any], repeat: int, *, prepare: Callable[[], Any] = lambda: None
) -> str:
    """p50 of ``fn(prepare())`` over ``repeat`` runs (``prepare`` untimed), each in a savepoint
    rolled back afterwards."""
    from django.db import transaction

    samples = []
    for _ in range(repeat + 1):  # the first run warms plans and caches
        try:
            with transaction.atomic():
                state = prepare()
                begin = time.perf_counter()
                fn(state)
                samples.append(time.perf_counter() - begin)
                raise _Rollback
        except _Rollback:
            pass
    return _ms(samples[1:])


def build_county(employers: int) -> tuple[Any, list[Any]]:
    """A county federation (江岸区) with two street federations, ``employers`` employers and
    two cadres of the county."""
    from stdnum.cn import uscc as stdnum_uscc

    from niangjia.accounts.models import RoleAssignment, User
    from niangjia.orgs.choices import EmployerStatus, IndustrySection, OwnershipType
    from niangjia.orgs.models import Employer, Region, Union
    from niangjia.web.demo import gb11714_check

    def uscc(i: int) -> str:
        body = f"{60_000_000 + i:08d}"
        code = f"91420102{body}{gb11714_check(body)}"
        return code + stdnum_uscc.calc_check_digit(code)

    regions = {r.code: r for r in Region.objects.filter(code__in=["420000", "420100", "420102"])}
    root = Union.objects.get(depth=1)

    def child(parent: Any, name: str, level: str, region: Any) -> Any:
        return Union.objects.add_child(
            parent, instance=Union(name=name, level=level, kind="federation", region=region)
        )

    hubei = child(root, "湖北省总工会（基准）", "province", regions["420000"])
    wuhan = child(hubei, "武汉市总工会（基准）", "city", regions["420100"])
    county = child(wuhan, "江岸区总工会（基准）", "county", regions["420102"])
    owners = [county]
    for code, name in (("420102002", "大智街道"), ("420102003", "一元街道")):
        region, _ = Region.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "level": "township",
                "parent": regions["420102"],
                "revision": "demo",
            },
        )
        owners.append(child(county, f"{name}总工会（基准）", "township", region))
    Employer.objects.bulk_create(
        [
            Employer(
                name=f"基准核查单位{i:06d}有限公司",
                uscc=uscc(i),
                region=regions["420102"],
                industry_section=IndustrySection.F,
                ownership=OwnershipType.PRIVATE,
                headcount=10 + i % 200,
                status=EmployerStatus.ACTIVE,
                owner=owners[i % len(owners)],
                address=f"解放大道{i}号",
            )
            for i in range(employers)
        ],
        batch_size=2000,
    )
    staff = []
    for username in ("bench_verify_a", "bench_verify_b"):
        user = User.objects.create(username=username, full_name=username)
        RoleAssignment.objects.create(user=user, union=county, role="cadre")
        staff.append(user)
    return county, staff


def run(employers: int, repeat: int) -> str:
    from django.db import connection, transaction

    from bench.common import migrate_if_needed, require_postgresql
    from niangjia.utilities.paging import offset_page
    from niangjia.verification import selectors, services
    from niangjia.verification.models import VerificationCampaign

    require_postgresql(connection)
    migrate_if_needed(connection, sys.stdout)
    figures: dict[str, str] = {}
    try:
        with transaction.atomic():
            county, staff = build_county(employers)
            cadre = staff[0]

            def create() -> VerificationCampaign:
                return services.campaign_create(acting_user=cadre, union=county, name="基准核查")

            def opened() -> VerificationCampaign:
                campaign = create()
                services.campaign_split(acting_user=cadre, campaign=campaign, staff=staff)
                return services.campaign_open(acting_user=cadre, campaign=campaign)

            figures["create"] = _timed(lambda _: create(), repeat)
            figures["split"] = _timed(
                lambda c: services.campaign_split(acting_user=cadre, campaign=c, staff=staff),
                repeat,
                prepare=create,
            )

            def mark_one(campaign: VerificationCampaign) -> None:
                item = campaign.items.filter(assignee=staff[1]).order_by("id").first()
                services.item_mark(
                    acting_user=staff[1], item=item, result="moved_away", note="已迁出", version=1
                )

            figures["mark"] = _timed(mark_one, repeat, prepare=opened)

            def mark_bulk(campaign: VerificationCampaign) -> None:
                ids = list(campaign.items.order_by("id").values_list("pk", flat=True)[:100])
                services.items_mark(
                    acting_user=cadre, campaign=campaign, item_ids=ids, result="active"
                )

            figures["bulk100"] = _timed(mark_bulk, repeat, prepare=opened)

            def list_page(campaign: VerificationCampaign) -> None:
                selectors.campaign_progress(campaign)
                items = selectors.campaign_items(user=cadre, campaign=campaign)
                offset_page(items, page=1, per_page=50)

            figures["list"] = _timed(list_page, repeat, prepare=opened)

            def all_marked() -> VerificationCampaign:
                campaign = opened()
                ids = list(campaign.items.order_by("id").values_list("pk", flat=True))
                groups = {
                    "moved_away": ids[::10],
                    "deregistered": ids[5::20],
                }
                rest = set(ids) - set(groups["moved_away"]) - set(groups["deregistered"])
                groups["active"] = sorted(rest)
                for result, chosen in groups.items():
                    services.items_mark(
                        acting_user=cadre, campaign=campaign, item_ids=chosen, result=result
                    )
                return campaign

            changed: list[int] = []

            def close(campaign: VerificationCampaign) -> None:
                changed.append(
                    services.campaign_close(acting_user=cadre, campaign=campaign).changed
                )

            figures["close"] = _timed(close, repeat, prepare=all_marked)
            raise _Rollback
    except _Rollback:
        pass
    return (
        f"verification: employers={employers} repeat={repeat} "
        f"create={figures['create']} split={figures['split']} mark={figures['mark']} "
        f"bulk100={figures['bulk100']} list={figures['list']} "
        f"close={figures['close']} (writes {changed[-1]} status changes)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="用人单位核查的基准测试（PostgreSQL）")
    parser.add_argument("--employers", type=int, default=800, help="县里的用人单位数（默认 800）")
    parser.add_argument("--repeat", type=int, default=10, help="每项重复次数（取中位数）")
    args = parser.parse_args(argv)
    if not 1 <= args.employers <= 20_000:
        print("verification: 错误：--employers 应在 1 到 20000 之间", file=sys.stderr)
        return 2
    database_url = os.environ.get("DATABASE_URL", "")
    try:
        if not database_url.startswith(("postgres://", "postgresql://")):
            raise BenchError("需要 DATABASE_URL=postgresql://…（基准测试专用库；不存在时自动新建）")
        ensure_database(database_url)
        setup_django()
        print(run(args.employers, max(1, args.repeat)))
    except BenchError as exc:
        print(f"verification: 错误：{exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
