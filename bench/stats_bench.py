"""Time the statistics at scale (after make bench-data and make bench-members; the relief data of
make bench-relief are counted when present).

    make bench-stats
    .venv/bin/python bench/stats_bench.py [--repeat 50] [--joins 40] [--load 20] [--rebuild]

1. Brings the figures up to date: a full recount (``stats_rebuild``) when none was made yet (or
   with ``--rebuild``), timed; else one fold.
2. The dashboard API, ``GET /api/v1/stats/nodes/{id}/figures?dims=true`` (every indicator with
   its breakdowns, 环比 and 同比), through the whole Django stack with an API token, for the bench
   cadres of the national root, a province and a county: p50/p95 over ``--repeat`` requests;
   also the map's children and a 12-month trend.
3. The naive way, a direct recount of the same figures over the node's subtree from the raw
   tables (``stats.sources.recount``, what ``stats-verify`` compares with), once per node, and
   its ratio to the API's p50.
4. Write to visible: the folder runs as ``manage.py stats_fold`` (every 0.5 s) while a
   background thread keeps joining workers to other unions (``--load`` per second); ``--joins``
   workers join a grassroots union of the county through the services (submitted and approved
   by the county cadre), and the API is polled until each shows: p50/p95 from the approval's
   commit to the figure served.
5. ``stats-verify`` on a sample (the root, every province, an industry union, ``--verify-size``
   random nodes per level): any difference fails the run.

Writes the joined workers (members of the bench database from then on). The last line::

    stats-bench: members=… root_p95=…ms province_p95=…ms county_p95=…ms naive_root=…s
    ratio_root=…x … visible_p95=…ms verify=ok
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO_ROOT, BenchError

SCOPES = (
    ("root", "bench_national"),
    ("province", "bench_province"),
    ("county", "bench_county"),
)
# Person indexes of the joined workers (bench/people.py): above the 10 million of the member
# generator and the relief people (from 12 million), after those of earlier runs (counted by
# their name), below ID_SPACE.
FIRST_INDEX = 14_500_000
JOINER_NAME = "统计测试"


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


@dataclass
class Timing:
    scope: str
    what: str
    samples: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95(self) -> float:
        return p95(self.samples) * 1000

    def line(self) -> str:
        return (
            f"  {self.scope:<9} {self.what:<9} n={len(self.samples)} "
            f"p50={self.p50:.1f}ms p95={self.p95:.1f}ms"
        )


def _time(fn: Callable[[], Any], repeat: int) -> list[float]:
    for _ in range(3):
        fn()  # warm: plans, caches, the first touch of the index pages
    samples = []
    for _ in range(repeat):
        begin = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - begin)
    return samples


def _client(user: Any) -> Any:
    from django.test import Client

    from niangjia.accounts.models import ApiToken

    _, raw = ApiToken.issue(user=user, name="统计基准测试")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _get(client: Any, url: str) -> dict[str, Any]:
    response = client.get(url)
    if response.status_code != 200:
        raise BenchError(f"{url} 返回 {response.status_code}：{response.content[:300]!r}")
    result: dict[str, Any] = response.json()
    return result


def _scope_nodes() -> list[tuple[str, Any, Any]]:
    from niangjia.accounts.models import User

    found = []
    for scope, username in SCOPES:
        user = User.objects.filter(username=username).first()
        role = user.active_roles()[0] if user is not None and user.active_roles() else None
        if role is None:
            raise BenchError(f"找不到压测干部 {username}：请先运行 make bench-data")
        found.append((scope, user, role.union))
    return found


def bring_up_to_date(rebuild: bool, out: Any) -> str:
    from niangjia.stats import fold
    from niangjia.stats.models import FoldState

    if rebuild or not FoldState.objects.filter(name=fold.STATE).exists():
        result = fold.rebuild()
        out.write(f"  全部重新统计：{result.rows:,} 行，{result.seconds:.1f} 秒\n")
        return f"rebuild={result.seconds:.0f}s"
    result = fold.fold_once()
    out.write(f"  追上最新数据：{result}\n")
    return ""


def measure_api(nodes: list[tuple[str, Any, Any]], repeat: int, out: Any) -> dict[str, Timing]:
    timings: dict[str, Timing] = {}
    for scope, user, node in nodes:
        client = _client(user)
        base = f"/api/v1/stats/nodes/{node.pk}"
        for what, url in (
            ("figures", f"{base}/figures?dims=true"),
            ("children", f"{base}/children?indicator=members&limit=100"),
            ("trend", f"{base}/trend?indicator=members&kind=month&count=12"),
        ):
            timing = Timing(scope, what, _time(lambda c=client, u=url: _get(c, u), repeat))
            timings[f"{scope}.{what}"] = timing
            out.write(timing.line() + "\n")
            out.flush()
    return timings


def measure_naive(nodes: list[tuple[str, Any, Any]], out: Any) -> dict[str, float]:
    from niangjia.stats import sources

    seconds: dict[str, float] = {}
    for scope, _user, node in nodes:
        begin = time.perf_counter()
        figures = sources.recount(node)
        seconds[scope] = time.perf_counter() - begin
        out.write(f"  {scope:<9} 直接重新统计 {len(figures):,} 个数字：{seconds[scope]:.2f} 秒\n")
        out.flush()
    return seconds


class Joiner:
    """Workers joining through the services: submitted, then approved by the county cadre."""

    def __init__(self, cadre: Any, first_index: int) -> None:
        from bench.people import IdMaker

        self.cadre = cadre
        self.index = first_index
        self.ids = IdMaker()
        self.lock = threading.Lock()

    def join(self, union: Any) -> None:
        from django.db import transaction

        from bench.people import phone
        from niangjia.members import services
        from niangjia.members.choices import ApplicationChannel, IdType

        with self.lock:
            self.index += 1
            index = self.index
        number, _birth, _sex = self.ids.make(index, "440305")
        data = services.JoinData(
            name=JOINER_NAME,
            id_type=IdType.RESIDENT,
            id_number=number,
            phone=phone(index),
            employer_name="深圳某电子有限公司",
            occupation="装配工",
        )
        with transaction.atomic():
            application = services.application_submit(
                union=union,
                data=data,
                channel=ApplicationChannel.CADRE,
                phone_verified=True,
                acting_user=self.cadre,
            )
            services.application_approve(application=application, acting_user=self.cadre)


def start_folder(out: Any) -> subprocess.Popen[bytes]:
    log = REPO_ROOT / "var" / "bench-stats-folder.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "manage.py"), "stats_fold", "--interval", "0.5"],
        cwd=REPO_ROOT,
        env=os.environ.copy(),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    out.write(f"  汇总进程 {process.pid} 已启动（日志 {log.relative_to(REPO_ROOT)}）\n")
    return process


def measure_visible(
    county_cadre: Any, county: Any, joins: int, load: float, out: Any
) -> list[float]:
    from django.db import connections

    from niangjia.accounts.choices import Action
    from niangjia.orgs.choices import UnionKind, UnionStatus
    from niangjia.orgs.models import Union

    grassroots = list(
        Union.objects.filter(
            path__startswith=county.path, kind=UnionKind.GRASSROOTS, status=UnionStatus.ACTIVE
        )
        .order_by("path")
        .values_list("pk", flat=True)[:50]
    )
    if len(grassroots) < 2:
        raise BenchError(f"{county.name} 下的基层工会不足两个")
    target = Union.objects.get(pk=grassroots[0])
    others = list(Union.objects.restrict(county_cadre, Action.ADD).filter(pk__in=grassroots[1:]))
    from niangjia.members.models import Member

    earlier = Member.objects.filter(name=JOINER_NAME).count()
    joiner = Joiner(county_cadre, FIRST_INDEX + earlier)
    client = _client(county_cadre)
    url = f"/api/v1/stats/nodes/{target.pk}/figures?indicators=members"
    stop = threading.Event()
    background: list[int] = [0]

    def keep_joining() -> None:
        rng = random.Random(7)
        try:
            while not stop.is_set():
                begin = time.perf_counter()
                joiner.join(rng.choice(others))
                background[0] += 1
                if load > 0:
                    time.sleep(max(0.0, 1.0 / load - (time.perf_counter() - begin)))
        finally:
            connections.close_all()

    thread = threading.Thread(target=keep_joining, daemon=True)
    if load > 0:
        thread.start()
    samples: list[float] = []
    try:
        # The first join only waits for the folder to be up (its process is still starting).
        for attempt in range(joins + 1):
            before = _get(client, url)["figures"][0]["value"]
            joiner.join(target)
            committed = time.perf_counter()
            while True:
                if _get(client, url)["figures"][0]["value"] == before + 1:
                    if attempt:
                        samples.append(time.perf_counter() - committed)
                    break
                if time.perf_counter() - committed > 120:
                    raise BenchError(
                        "入会 2 分钟后仍未出现在统计数字中（汇总进程见 var/bench-stats-folder.log）"
                    )
                time.sleep(0.02)
            time.sleep(random.uniform(0.05, 0.5))  # joins fall at any moment of a fold cycle
    finally:
        stop.set()
        if load > 0:
            thread.join(30)
    out.write(
        f"  写入到可见：{len(samples)} 次，p50={statistics.median(samples) * 1000:.0f}ms "
        f"p95={p95(samples) * 1000:.0f}ms 最长 {max(samples) * 1000:.0f}ms；"
        f"其间另有 {background[0]} 人在其他基层工会入会\n"
    )
    return samples


def run_verify(size: int, out: Any) -> int:
    from niangjia.stats import verify

    begin = time.perf_counter()
    report = verify.verify(verify.sample(size=size))
    for difference in report.differences[:20]:
        out.write(f"  不一致：{difference}\n")
    out.write(
        f"  核对 {len(report.nodes)} 个工会、{report.figures:,} 个数字、{report.indicators:,} 个指标值："
        f"{len(report.differences)} 处不一致（{time.perf_counter() - begin:.0f} 秒）\n"
    )
    return len(report.differences)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/stats_bench.py", description=__doc__)
    parser.add_argument("--repeat", type=int, default=50, help="每项接口计时次数，默认 50")
    parser.add_argument("--joins", type=int, default=40, help="计时写入到可见的入会次数，默认 40")
    parser.add_argument("--load", type=float, default=20, help="其间每秒另有多少人入会，默认 20")
    parser.add_argument("--rebuild", action="store_true", help="先全部重新统计并计时")
    parser.add_argument("--verify-size", type=int, default=4, help="核对时每层随机抽取的工会数")
    parser.add_argument("--no-verify", action="store_true", help="不做最后的核对")
    args = parser.parse_args(argv)
    out = sys.stdout
    from bench.common import migrate_if_needed, require_postgresql, setup_django
    from bench.members_generate import use_bench_keys

    folder = None
    try:
        use_bench_keys()
        os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
        setup_django()
        from django.db import connection

        from niangjia.members.models import Member

        require_postgresql(connection)
        migrate_if_needed(connection, out)
        total = Member.objects.order_by().count()
        if total < 1000:
            raise BenchError(f"库中只有 {total} 名会员：请先运行 make bench-members")
        out.write(f"stats-bench: 数据库 {connection.settings_dict['NAME']}，会员 {total:,} 名\n")
        nodes = _scope_nodes()
        for scope, _user, node in nodes:
            out.write(f"  {scope:<9} {node.name}（编号 {node.pk}）\n")
        extra = [bring_up_to_date(args.rebuild, out)]
        out.write("接口（p50/p95，毫秒）：\n")
        api = measure_api(nodes, args.repeat, out)
        out.write("直接重新统计（从原始数据，各一次）：\n")
        naive = measure_naive(nodes, out)
        out.write("写入到可见：\n")
        folder = start_folder(out)
        time.sleep(2)
        county_scope = nodes[2]
        visible = measure_visible(county_scope[1], county_scope[2], args.joins, args.load, out)
        folder.terminate()
        folder.wait(30)
        folder = None
        differences = 0
        if not args.no_verify:
            out.write("核对（stats-verify）：\n")
            differences = run_verify(args.verify_size, out)
        parts = [f"members={total}"]
        for scope, _user, _node in nodes:
            parts.append(f"{scope}_p95={api[f'{scope}.figures'].p95:.1f}ms")
        for scope, _user, _node in nodes:
            parts.append(f"naive_{scope}={naive[scope]:.2f}s")
            parts.append(f"ratio_{scope}={naive[scope] * 1000 / api[f'{scope}.figures'].p50:.0f}x")
        parts.append(f"visible_p50={statistics.median(visible) * 1000:.0f}ms")
        parts.append(f"visible_p95={p95(visible) * 1000:.0f}ms")
        parts += [e for e in extra if e]
        if not args.no_verify:
            parts.append("verify=ok" if differences == 0 else f"verify=FAILED({differences})")
        out.write("stats-bench: " + " ".join(parts) + "\n")
        return 1 if differences else 0
    except BenchError as exc:
        print(f"stats-bench: 错误：{exc}", file=sys.stderr)
        return 2
    finally:
        if folder is not None:
            folder.terminate()
            folder.wait(30)


if __name__ == "__main__":
    sys.exit(main())
