"""The 50,000-join burst of a mass joining ceremony, the duplicate storm, and the bare-insert
reference, measured against the real HTTP endpoint under the production server settings.

    make bench-join                      (N=50000; see bench/README.md)
    .venv/bin/python bench/join_burst.py --n 50000 --concurrency 64

What one run does, on a throwaway PostgreSQL database (DATABASE_URL; created and marked as
throwaway if missing, refused if it holds other data unless --reset):

1. migrate, collect static files, empty the member, ceremony and audit tables, and set up a
   county with grassroots and joint unions, a cadre and ceremonies made through the services;
2. the bare-insert reference: ``bench.bare`` (a view that validates a small JSON body and
   inserts one row) under the same server configuration, N requests;
3. the burst: the server ``make run`` uses (granian; gunicorn with --server gunicorn) serving
   ``niangjia.wsgi`` with the production settings (DEBUG off, fresh SECRET_KEY and field
   keys), N distinct synthetic workers POSTing the join form of one
   ceremony's venues (``/j/v/<token>/``) over ``--concurrency`` keep-alive connections;
4. the duplicate storm: 1,000 people each submitting 10 times at once, through an
   auto-approving venue (answers: already a member) and through one that waits for approval
   (answers: already applied);
5. the checks in the database, and the figures. The last line is
   ``join-burst: N=<n> ok=<n> lost=<n> dup=<n> rate=<joins/s> p50=<ms> p99=<ms>``.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import os
import random
import re
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen, people, serve
from bench.common import REPO_ROOT, BenchError

HOST = "127.0.0.1"
DEFAULT_N = 50_000
DEFAULT_CONCURRENCY = 64
DEFAULT_PORT = 8200
WORK_DIR = REPO_ROOT / "var" / "bench-join"
THROWAWAY_MARK = "niangjia bench: throwaway"
MAX_N = 2_000_000

# Person indexes (bench.people) of each group, so no two groups share an ID number.
WARMUP_BASE = people.ID_SPACE - 200_000
STORM_BASE = people.ID_SPACE - 100_000

CEREMONY_NAME = "基准测试：万人集中入会仪式"
WARMUP_NAME = "基准测试：预热"
STORM_AUTO_NAME = "基准测试：重复提交（现场自动批准）"
STORM_REVIEW_NAME = "基准测试：重复提交（待审批）"
ADMIN_USERNAME = "bench_join_admin"

ALREADY_MEMBER = "您已是工会会员"
ALREADY_APPLIED = "您已提交过入会申请"
DONE_PREFIX = "/j/done/"


# --- Command line


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为正整数，收到“{text}”") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"应为正整数，收到 {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/join_burst.py",
        description="集中入会仪式压测：N 名职工经真实 HTTP 入会页面并发提交，随后核对数据库。"
        "只用于基准测试专用的 PostgreSQL 数据库（DATABASE_URL）。",
    )
    parser.add_argument("--n", type=_positive, default=DEFAULT_N, help="入会人数，默认 50000")
    parser.add_argument(
        "--concurrency", type=_positive, default=DEFAULT_CONCURRENCY, help="并发连接数，默认 64"
    )
    parser.add_argument("--venues", type=_positive, default=4, help="会场数，默认 4")
    parser.add_argument(
        "--flow",
        choices=("post", "full"),
        default="post",
        help="post：每人一次提交（CSRF 令牌在开始前取一次）；full：每人先打开表单页、"
        "提交、再打开结果页",
    )
    parser.add_argument("--storm-people", type=int, default=1_000, help="重复提交的人数")
    parser.add_argument("--storm-repeat", type=int, default=10, help="每人重复提交次数")
    parser.add_argument("--bare-n", type=int, default=None, help="对照接口的请求数，默认同 N")
    parser.add_argument("--no-bare", action="store_true", help="不测对照接口")
    parser.add_argument(
        "--server",
        choices=serve.SERVERS,
        default="granian",
        help="应用服务器，默认 granian（同 make run）",
    )
    parser.add_argument(
        "--workers", type=_positive, default=2, help="进程数，默认 2（同 make run）"
    )
    parser.add_argument(
        "--threads", type=_positive, default=2, help="每进程线程数，默认 2（同 make run）"
    )
    parser.add_argument(
        "--worker-class", choices=("gthread", "sync"), default="gthread", help="gunicorn 的工作类"
    )
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="访问日志（同 make run；写入 var/bench-join/ 下的服务器日志文件）",
    )
    parser.add_argument("--port", type=_positive, default=DEFAULT_PORT, help="本机端口")
    parser.add_argument("--timeout", type=float, default=30.0, help="单个请求超时（秒）")
    parser.add_argument("--deadline", type=float, default=900.0, help="每个阶段的时间上限（秒）")
    parser.add_argument("--seed", type=int, default=2024, help="随机种子")
    parser.add_argument(
        "--reset",
        action="store_true",
        help="数据库里已有不属于压测的数据时仍然使用它：先清空工会树、用人单位、账号和会员",
    )
    return parser


# --- Environment of the run (this process and the servers share keys and database)


def run_environment(database_url: str) -> dict[str, str]:
    """The production settings of ``make run``, with fresh secrets for this run only."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "FIELD_", "SECRET_KEY"))
    }
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="niangjia.settings",
        DEBUG="false",
        SECURE_COOKIES="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECRET_KEY=secrets.token_urlsafe(48),
        FIELD_ENCRYPTION_KEYS="1:" + base64.b64encode(os.urandom(32)).decode(),
        FIELD_HASH_KEY=base64.b64encode(os.urandom(32)).decode(),
        NIANGJIA_VAR_DIR=str(WORK_DIR),
        STATIC_ROOT=str(WORK_DIR / "static"),
        PYTHONPATH=str(REPO_ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


def setup(database_url: str, env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


# --- The database: created if missing, guarded, reset between runs


def ensure_database(database_url: str) -> bool:
    """Create the database when it does not exist; True when created here."""
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name or ""):
        raise BenchError(f"数据库名“{name}”只能含字母、数字和下划线")
    try:
        psycopg.connect(database_url, connect_timeout=5).close()
        return False
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise BenchError(f"无法连接数据库：{exc}") from exc
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{THROWAWAY_MARK}'")
    print(f"join-burst: 已新建压测数据库 {name}")
    return True


def guard_database(*, reset: bool) -> None:
    """Use a database marked as throwaway, or an empty one (then mark it); another one only
    with --reset, after emptying the tree, employers, accounts and members."""
    from django.db import connection

    from bench.common import require_postgresql

    require_postgresql(connection)
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        )
        row = cursor.fetchone()
        marked = bool(row and row[0] == THROWAWAY_MARK)
        if marked:
            return
        tables = set(connection.introspection.table_names(cursor))
        counts: dict[str, int] = {}
        for table, label in (
            ("accounts_user", "账号"),
            ("orgs_union", "工会"),
            ("orgs_employer", "用人单位"),
            ("members_member", "会员"),
        ):
            if table in tables:
                cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 2) t")
                counts[label] = cursor.fetchone()[0]
        has_data = any(
            n > (1 if label == "工会" else 0) for label, n in counts.items()
        )  # the migrations create the national root
        if has_data and not reset:
            found = "、".join(f"{label} {n}+" for label, n in counts.items() if n)
            raise BenchError(
                f"数据库 {name} 不是压测专用库（没有压测标记），且已有数据（{found}）。拒绝使用。"
                "请换一个新库名（会自动新建），或确认可以清空后加 --reset。"
            )
        if has_data:
            cursor.execute(
                "TRUNCATE orgs_union, orgs_employer, accounts_user RESTART IDENTITY CASCADE"
            )
            print(f"join-burst: --reset：已清空 {name} 的工会树、用人单位、账号及其引用的数据")
        cursor.execute(f"COMMENT ON DATABASE \"{name}\" IS '{THROWAWAY_MARK}'")


def reset_run_tables() -> None:
    """Empty what a run writes: members, applications, ceremonies, audit rows, bare rows."""
    from django.db import connection

    from bench.bare import CREATE_SQL, TABLE
    from niangjia.audit.models import AuditEntry
    from niangjia.members.models import (
        CeremonyVenue,
        JoinApplication,
        JoinCeremony,
        Member,
        MemberEvent,
        SmsCode,
        Transfer,
    )

    tables = [
        m._meta.db_table
        for m in (
            Transfer,
            MemberEvent,
            JoinApplication,
            Member,
            CeremonyVenue,
            JoinCeremony,
            SmsCode,
            AuditEntry,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(CREATE_SQL)
        # CASCADE: rows of later modules that refer to members (relief files) go with them.
        cursor.execute(f"TRUNCATE {', '.join([*tables, TABLE])} RESTART IDENTITY CASCADE")
        cursor.execute("DELETE FROM django_session")


# --- The tree, the cadre and the ceremonies, made through the services


@dataclass
class VenuePlan:
    token: str
    union_id: int
    union_name: str
    employer_name: str  # what its workers type
    gig: bool


@dataclass
class Scene:
    main: list[VenuePlan]
    main_ceremony_id: int
    warmup: VenuePlan
    storm_auto: VenuePlan
    storm_review: VenuePlan


def build_scene(*, venues: int) -> Scene:
    from django.db import transaction
    from django.utils import timezone

    from niangjia.accounts.choices import Role
    from niangjia.accounts.models import RoleAssignment, User
    from niangjia.members import services as member_services
    from niangjia.orgs import services as org_services
    from niangjia.orgs.choices import UnionKind, UnionLevel
    from niangjia.orgs.models import Employer, Region, Union

    root = Union.objects.get(depth=1)
    admin = User.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        admin = User(username=ADMIN_USERNAME, full_name="压测管理员", created_under=root)
        admin.set_unusable_password()
        admin.save()
    if not RoleAssignment.objects.filter(user=admin, union=root, role=Role.ADMIN).exists():
        RoleAssignment.objects.create(user=admin, union=root, role=Role.ADMIN)
    admin.forget_roles()

    def federation(parent: Union, code: str, level: str) -> Union:
        region = Region.objects.get(code=code)
        existing = Union.objects.filter(region=region, kind=UnionKind.FEDERATION).first()
        if existing is not None:
            return existing
        return org_services.union_create(
            acting_user=admin,
            parent=parent,
            name=f"{region.name}总工会",
            level=level,
            kind=UnionKind.FEDERATION,
            region=region,
        )

    def child(parent: Union, name: str, kind: str) -> Union:
        existing = Union.objects.filter(name=name, path__startswith=parent.path).first()
        if existing is not None:
            return existing
        return org_services.union_create(
            acting_user=admin,
            parent=parent,
            name=name,
            level=UnionLevel.GRASSROOTS,
            kind=kind,
            region=parent.region,
        )

    def employer(name: str, county: Union, covering: Union, headcount: int) -> Employer:
        existing = Employer.objects.filter(name=name).first()
        if existing is not None:
            return existing
        return org_services.employer_create(
            acting_user=admin,
            name=name,
            region=county.region,
            industry_section="C",
            ownership="private",
            headcount=headcount,
            owner=county,
            covering_union=covering,
        )

    with transaction.atomic():
        province = federation(root, "440000", UnionLevel.PROVINCE)
        city = federation(province, "440300", UnionLevel.CITY)
        county = federation(city, "440305", UnionLevel.COUNTY)
        plans: list[VenuePlan] = []
        factories = ("精密电子", "新能源电池", "智能装备", "光电科技", "汽车零部件", "医疗器械")
        for index in range(venues):
            if index == venues - 1 and venues > 1:
                union = child(county, "南山区快递外卖行业联合工会委员会", UnionKind.JOINT)
                plans.append(
                    VenuePlan("", union.pk, union.name, "深圳市顺达快递服务有限公司", True)
                )
                continue
            trade = factories[index % len(factories)]
            company = f"深圳市鹏城{trade}有限公司" + (
                f"第{index // len(factories) + 1}分公司" if index >= len(factories) else ""
            )
            union = child(county, f"{company}工会委员会", UnionKind.GRASSROOTS)
            employer(company, county, union, 20_000)
            plans.append(VenuePlan("", union.pk, union.name, company, False))
        extra = child(county, "深圳市鹏城压测预热有限公司工会委员会", UnionKind.GRASSROOTS)
        employer("深圳市鹏城压测预热有限公司", county, extra, 500)

        now = timezone.now()
        start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=6)

        def ceremony(name: str, targets: Sequence[VenuePlan], *, auto: bool) -> int:
            made = member_services.ceremony_create(
                acting_user=admin,
                union=county,
                name=name,
                starts_at=start,
                ends_at=end,
                auto_approve=auto,
                require_sms=False,
            )
            for number, plan in enumerate(targets, 1):
                venue = member_services.venue_add(
                    ceremony=made,
                    acting_user=admin,
                    name=f"第{number}会场·{plan.union_name[:40]}",
                    union=Union.objects.get(pk=plan.union_id),
                )
                plan.token = venue.token
            return made.pk

        main_id = ceremony(CEREMONY_NAME, plans, auto=True)
        side = VenuePlan("", extra.pk, extra.name, "深圳市鹏城压测预热有限公司", False)
        warmup = VenuePlan(**{**side.__dict__})
        storm_auto = VenuePlan(**{**side.__dict__})
        storm_review = VenuePlan(**{**side.__dict__})
        ceremony(WARMUP_NAME, [warmup], auto=True)
        ceremony(STORM_AUTO_NAME, [storm_auto], auto=True)
        ceremony(STORM_REVIEW_NAME, [storm_review], auto=False)
    return Scene(plans, main_id, warmup, storm_auto, storm_review)


# --- Synthetic workers and their requests


EDUCATION = (("junior", 25), ("senior", 35), ("college", 20), ("bachelor", 15), ("", 5))
GIG_OCCUPATIONS = (("courier", 40), ("delivery_rider", 45), ("ride_hailing", 10), ("other", 5))
FACTORY_JOBS = ("操作工", "装配工", "质检员", "技术员", "仓管员", "设备维修工", "班组长")
GIG_JOBS = {"courier": "快递员", "delivery_rider": "骑手", "ride_hailing": "网约车司机"}


def _pick(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


@dataclass
class Worker:
    index: int
    id_number: str
    fields: list[tuple[str, str]]


class WorkerMaker:
    def __init__(self, seed: int) -> None:
        self.ids = people.IdMaker()
        self.counties = people.county_codes()
        self.seed = seed

    def make(self, index: int, venue: VenuePlan) -> Worker:
        rng = random.Random(self.seed * 1_000_003 + index)
        local = rng.random() < 0.35
        region = "440305" if local else rng.choice(self.counties)
        id_number, _birth, sex = self.ids.make(index, region)
        fields = [
            ("name", people.name(rng, sex)),
            ("id_type", "resident"),
            ("id_number", id_number),
            ("phone", people.phone(index)),
            ("code", ""),
            ("employer_name", venue.employer_name),
            ("employer", ""),
        ]
        if venue.gig:
            occupation = _pick(rng, GIG_OCCUPATIONS)
            fields += [
                ("employment_form", "gig"),
                ("gig_occupation", occupation),
                ("occupation", GIG_JOBS.get(occupation, "配送员")),
            ]
        else:
            fields += [
                ("employment_form", "standard"),
                ("gig_occupation", ""),
                ("occupation", rng.choice(FACTORY_JOBS)),
            ]
        fields += [
            ("household", "rural" if not local and rng.random() < 0.7 else "urban"),
            ("ethnic_group", "01" if rng.random() < 0.92 else rng.choice(("03", "06", "08"))),
            ("education", _pick(rng, EDUCATION)),
        ]
        return Worker(index, id_number, fields)


@dataclass
class Csrf:
    cookie: str
    token: str


_TOKEN_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_from(response: loadgen.Response, client: loadgen.Client) -> Csrf:
    match = _TOKEN_RE.search(response.body)
    if response.status != 200 or match is None or "csrftoken" not in client.cookies:
        raise BenchError(
            f"入会页面没有返回表单和 CSRF 令牌（HTTP {response.status}）："
            f"{response.body[:300].decode(errors='replace')}"
        )
    return Csrf(f"csrftoken={client.cookies['csrftoken']}", match.group(1).decode())


def post_join(token: str, worker: Worker, csrf: Csrf) -> bytes:
    body = loadgen.form_body([("csrfmiddlewaretoken", csrf.token), *worker.fields])
    return loadgen.post_request(
        HOST,
        f"/j/v/{token}/",
        body,
        content_type="application/x-www-form-urlencoded",
        cookie=csrf.cookie,
    )


def classify(response: loadgen.Response) -> tuple[str, str]:
    """("ok" | "already_member" | "already_applied" | "error", detail)."""
    if response.status in (302, 303) and response.headers.get("location", "").startswith(
        DONE_PREFIX
    ):
        return "ok", ""
    if response.status == 409:
        text = response.body.decode("utf-8", errors="replace")
        if ALREADY_MEMBER in text and "无需重复入会" in text:
            return "already_member", ""
        if ALREADY_APPLIED in text and "请勿重复提交" in text:
            return "already_applied", ""
    text = response.body[:400].decode("utf-8", errors="replace")
    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', text, re.S)
    detail = re.sub(r"<[^>]+>", " ", " ".join(errors) or text)
    return "error", f"HTTP {response.status} {' '.join(detail.split())[:160]}"


# --- CPU sampling during a phase


class CpuSampler:
    """Samples, every half second, the CPU time of the server's process group and of the
    PostgreSQL backends of the bench database (so backends that close mid-run still count)."""

    def __init__(self, server: serve.Server, database: str) -> None:
        self.server, self.database = server, database
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.server_before = 0.0
        self.server_after = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        for pid, seconds in serve.postgres_backend_cpu(self.database).items():
            self.first.setdefault(pid, seconds)
            self.last[pid] = seconds

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self.server_before = self.server.cpu_seconds()
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.server_after = self.server.cpu_seconds()

    @property
    def server_seconds(self) -> float:
        return self.server_after - self.server_before

    @property
    def postgres_seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


# --- Phases


@dataclass
class Phase:
    label: str
    result: loadgen.RunResult
    server_cpu: float
    postgres_cpu: float
    units: int

    @property
    def rate(self) -> float:
        return self.units / self.result.seconds if self.result.seconds else 0.0

    def latency_ms(self, fraction: float, kinds: Sequence[str] | None = None) -> float:
        values = [o.seconds for o in self.result.outcomes if kinds is None or o.kind in kinds]
        return loadgen.percentile(values, fraction) * 1000

    def cpu_line(self) -> str:
        per = 1000 / self.units if self.units else 0.0
        return (
            f"  CPU 每次（毫秒）：服务器 {self.server_cpu * per:.2f}，PostgreSQL 后端 "
            f"{self.postgres_cpu * per:.2f}，压测客户端 {self.result.cpu_seconds * per:.2f}；"
            f"耗时 {self.result.seconds:.1f} 秒，连接 {self.result.connects} 次"
        )


def measure(
    label: str,
    server: serve.Server,
    database: str,
    keys: Sequence[int],
    worker: loadgen.Worker,
    *,
    args: argparse.Namespace,
    prepare: Callable[[loadgen.Client], Any] | None = None,
) -> Phase:
    with CpuSampler(server, database) as cpu:
        result = loadgen.run(
            HOST,
            args.port,
            keys,
            worker,
            concurrency=args.concurrency,
            timeout=args.timeout,
            deadline=args.deadline,
            prepare=prepare,
        )
    if result.timed_out:
        print(f"  {label}：超过 {args.deadline:.0f} 秒的时间上限，未完成的请求计为丢失")
    return Phase(label, result, cpu.server_seconds, cpu.postgres_seconds, len(keys))


def fetch_csrf(port: int, token: str, timeout: float) -> Csrf:
    holder: dict[str, Csrf] = {}

    async def once(client: loadgen.Client, _key: int) -> loadgen.Outcome:
        response = await client.send(loadgen.get_request(HOST, f"/j/v/{token}/"))
        holder["csrf"] = csrf_from(response, client)
        return loadgen.Outcome(0, "ok", response.status, response.seconds)

    result = loadgen.run(HOST, port, [0], once, concurrency=1, timeout=timeout, deadline=60)
    if "csrf" not in holder:
        detail = result.outcomes[0].detail if result.outcomes else "无响应"
        raise BenchError(f"打不开会场入会页面：{detail}")
    return holder["csrf"]


def bare_phase(args: argparse.Namespace, env: dict[str, str], database: str) -> Phase:
    import json

    count = args.bare_n or args.n
    config = server_config(args)
    server = serve.Server(
        "bench.bare.wsgi:application",
        port=args.port,
        config=config,
        env={**env, "DJANGO_SETTINGS_MODULE": "bench.bare.settings"},
        log_path=WORK_DIR / "bare-server.log",
    )
    maker = people.IdMaker()
    counties = people.county_codes()
    requests = [
        loadgen.post_request(
            HOST,
            "/insert",
            json.dumps(
                {"name": "张伟", "code": maker.make(i, counties[i % len(counties)])[0]}
            ).encode(),
            content_type="application/json",
        )
        for i in range(count + args.concurrency * 5)
    ]

    async def insert(client: loadgen.Client, key: int) -> loadgen.Outcome:
        response = await client.send(requests[key])
        kind = "ok" if response.status == 201 else "error"
        return loadgen.Outcome(key, kind, response.status, response.seconds)

    with server:
        loadgen.run(
            HOST,
            args.port,
            range(count, count + args.concurrency * 5),
            insert,
            concurrency=args.concurrency,
            timeout=args.timeout,
        )
        return measure("对照：裸插入", server, database, range(count), insert, args=args)


def server_config(args: argparse.Namespace) -> serve.ServerConfig:
    return serve.ServerConfig(
        server=args.server,
        worker_class=args.worker_class,
        workers=args.workers,
        threads=args.threads,
        access_log=args.access_log,
    )


@dataclass
class JoinRun:
    burst: Phase
    storms: list[tuple[VenuePlan, Phase]] = field(default_factory=list)


def join_phases(
    args: argparse.Namespace, env: dict[str, str], database: str, scene: Scene
) -> JoinRun:
    makers = WorkerMaker(args.seed)
    server = serve.Server(
        "niangjia.wsgi:application",
        port=args.port,
        config=server_config(args),
        env=env,
        log_path=WORK_DIR / "server.log",
    )
    with server:
        csrf = fetch_csrf(args.port, scene.warmup.token, args.timeout)

        # Warm-up through its own ceremony: every server thread opens its database
        # connection and loads its templates before the clock starts.
        warm = [makers.make(WARMUP_BASE + i, scene.warmup) for i in range(args.concurrency * 5)]
        warm_requests = [post_join(scene.warmup.token, w, csrf) for w in warm]

        async def warm_join(client: loadgen.Client, key: int) -> loadgen.Outcome:
            response = await client.send(warm_requests[key])
            kind, detail = classify(response)
            return loadgen.Outcome(key, kind, response.status, response.seconds, detail)

        warmed = loadgen.run(
            HOST,
            args.port,
            range(len(warm_requests)),
            warm_join,
            concurrency=args.concurrency,
            timeout=args.timeout,
        )
        if warmed.count("ok") != len(warm_requests):
            errors = Counter(o.detail for o in warmed.outcomes if o.kind != "ok")
            raise BenchError(f"预热提交失败：{errors.most_common(3)}")

        print(f"  生成 {args.n} 名职工的请求 …", flush=True)
        venues = scene.main
        workers = [makers.make(i, venues[i % len(venues)]) for i in range(args.n)]
        if args.flow == "post":
            requests = [
                post_join(venues[i % len(venues)].token, w, csrf) for i, w in enumerate(workers)
            ]

            async def join(client: loadgen.Client, key: int) -> loadgen.Outcome:
                response = await client.send(requests[key])
                kind, detail = classify(response)
                return loadgen.Outcome(key, kind, response.status, response.seconds, detail)

        else:

            async def join(client: loadgen.Client, key: int) -> loadgen.Outcome:
                token = venues[key % len(venues)].token
                client.cookies.clear()  # a new phone: no cookie yet
                begin = time.perf_counter()
                page = await client.send(loadgen.get_request(HOST, f"/j/v/{token}/"))
                own = csrf_from(page, client)
                response = await client.send(post_join(token, workers[key], own))
                kind, detail = classify(response)
                if kind == "ok":
                    done = await client.send(
                        loadgen.get_request(HOST, response.headers["location"], cookie=own.cookie)
                    )
                    if done.status != 200:
                        kind, detail = "error", f"结果页 HTTP {done.status}"
                seconds = time.perf_counter() - begin
                return loadgen.Outcome(key, kind, response.status, seconds, detail)

        print(f"  入会提交：{args.n} 人，{args.concurrency} 并发 …", flush=True)
        burst = measure("入会", server, database, range(args.n), join, args=args)
        run = JoinRun(burst)
        run.workers = workers  # type: ignore[attr-defined]

        for plan in (scene.storm_auto, scene.storm_review):
            if args.storm_people <= 0 or args.storm_repeat <= 0:
                break
            base = STORM_BASE + (0 if plan is scene.storm_auto else 50_000)
            storm_workers = [makers.make(base + p, plan) for p in range(args.storm_people)]
            storm_requests = [post_join(plan.token, w, csrf) for w in storm_workers]
            # Each person's copies are adjacent: free connections pick them up together.
            keys = [p for p in range(args.storm_people) for _ in range(args.storm_repeat)]

            async def submit(
                client: loadgen.Client, key: int, reqs: list[bytes] = storm_requests
            ) -> loadgen.Outcome:
                response = await client.send(reqs[key])
                kind, detail = classify(response)
                return loadgen.Outcome(key, kind, response.status, response.seconds, detail)

            phase = measure("重复提交", server, database, keys, submit, args=args)
            phase.workers = storm_workers  # type: ignore[attr-defined]
            run.storms.append((plan, phase))
    return run


# --- Checks in the database


@dataclass
class Check:
    rows: int
    distinct: int
    lost: int
    dup: int
    problems: list[str]


def check_burst(scene: Scene, workers: Sequence[Worker]) -> Check:
    from django.db import connection
    from django.db.models import Count, Sum

    from niangjia.audit.models import AuditEntry
    from niangjia.members.choices import ApplicationStatus
    from niangjia.members.models import (
        CeremonyVenue,
        JoinApplication,
        JoinCeremony,
        Member,
        MemberEvent,
        id_hash_of,
    )

    n = len(workers)
    problems: list[str] = []
    apps = JoinApplication.objects.filter(venue__ceremony_id=scene.main_ceremony_id)
    rows = apps.count()
    distinct = apps.values("id_hash").distinct().count()
    expected = {id_hash_of(w.id_number) for w in workers}
    found = set(apps.values_list("id_hash", flat=True))
    lost = len(expected - found)
    strangers = len(found - expected)
    if strangers:
        problems.append(f"有 {strangers} 份申请不属于本次的合成职工")
    if rows != n:
        problems.append(f"申请 {rows} 份，应为 {n}")
    not_approved = apps.exclude(status=ApplicationStatus.APPROVED).count()
    if not_approved:
        problems.append(f"{not_approved} 份申请没有自动批准")
    members = Member.objects.filter(applications__venue__ceremony_id=scene.main_ceremony_id)
    member_rows = members.count()
    if member_rows != n:
        problems.append(f"会员 {member_rows} 名，应为 {n}")
    if Member.objects.values("id_hash").annotate(c=Count("id")).filter(c__gt=1).exists():
        problems.append("同一证件号有多条会员记录")
    events = MemberEvent.objects.filter(
        kind=MemberEvent.Kind.JOINED, member__in=members.values("pk")
    ).count()
    if events != n:
        problems.append(f"入会记录 {events} 条，应为 {n}")
    ceremony = JoinCeremony.objects.get(pk=scene.main_ceremony_id)
    venue_sum = CeremonyVenue.objects.filter(ceremony=ceremony).aggregate(s=Sum("joined_count"))[
        "s"
    ]
    if ceremony.joined_count != n:
        problems.append(f"仪式计数 {ceremony.joined_count}，应为 {n}")
    if venue_sum != ceremony.joined_count:
        problems.append(f"各会场计数之和 {venue_sum} ≠ 仪式计数 {ceremony.joined_count}")
    for venue in CeremonyVenue.objects.filter(ceremony=ceremony):
        actual = apps.filter(venue=venue, status=ApplicationStatus.APPROVED).count()
        if venue.joined_count != actual:
            problems.append(f"{venue.name} 计数 {venue.joined_count}，实际入会 {actual}")
    app_table = JoinApplication._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(DISTINCT a.object_id), count(*) FROM {AuditEntry._meta.db_table} a "
            f"JOIN {app_table} j ON a.object_id = j.id::text "
            "JOIN members_ceremonyvenue v ON v.id = j.venue_id "
            "WHERE a.object_type = 'members.joinapplication' AND v.ceremony_id = %s",
            [scene.main_ceremony_id],
        )
        audited, audit_rows = cursor.fetchone()
    if audited != rows:
        problems.append(f"只有 {audited} 份申请有审计记录，应为 {rows}")
    print(
        f"  核对：申请 {rows}（不同证件号 {distinct}），会员 {member_rows}，入会记录 {events}，"
        f"仪式计数 {ceremony.joined_count}，会场计数之和 {venue_sum}，"
        f"审计记录 {audit_rows} 条（覆盖 {audited} 份申请）"
    )
    return Check(rows, distinct, lost, rows - distinct, problems)


def check_storm(plan: VenuePlan, *, people_count: int) -> tuple[int, list[str]]:
    from niangjia.members.models import JoinApplication

    apps = JoinApplication.objects.filter(venue__token=plan.token)
    rows = apps.count()
    distinct = apps.values("id_hash").distinct().count()
    problems = []
    if rows != people_count or distinct != people_count:
        problems.append(f"申请 {rows} 份（不同证件号 {distinct}），应为 {people_count}")
    return rows, problems


# --- Main


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.n > MAX_N:
        print(f"join-burst: 错误：--n 不能超过 {MAX_N}", file=sys.stderr)
        return 2
    if args.storm_people > 50_000:
        print("join-burst: 错误：--storm-people 不能超过 50000", file=sys.stderr)
        return 2
    database_url = os.environ.get("DATABASE_URL", "")
    try:
        if not database_url.startswith(("postgres://", "postgresql://")):
            raise BenchError(
                "需要 DATABASE_URL=postgresql://…（基准测试专用库；不存在时自动新建）。"
                "不支持 SQLite。"
            )
        return _main(args, database_url)
    except BenchError as exc:
        print(f"join-burst: 错误：{exc}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace, database_url: str) -> int:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    ensure_database(database_url)
    env = run_environment(database_url)
    setup(database_url, env)

    from django.core.management import call_command
    from django.db import connection

    from bench.common import migrate_if_needed

    guard_database(reset=args.reset)
    migrate_if_needed(connection, sys.stdout)
    call_command("collectstatic", interactive=False, verbosity=0)
    reset_run_tables()
    scene = build_scene(venues=args.venues)
    database = connection.settings_dict["NAME"]
    connection.close()
    config = server_config(args)
    print(
        f"join-burst: 数据库 {database}，{config.describe()}，{args.concurrency} 并发，"
        f"本机 {os.cpu_count()} 核，负载 {os.getloadavg()[0]:.1f}"
    )

    bare = None
    if not args.no_bare:
        print("  对照：裸插入接口 …", flush=True)
        bare = bare_phase(args, env, database)
        print(
            f"bare-insert: N={bare.units} ok={bare.result.count('ok')} rate={bare.rate:.0f} "
            f"p50={bare.latency_ms(0.5):.0f} p99={bare.latency_ms(0.99):.0f}"
        )
        print(bare.cpu_line())

    run = join_phases(args, env, database, scene)
    burst = run.burst
    workers = run.workers  # type: ignore[attr-defined]
    check = check_burst(scene, workers)
    failures = check.problems[:]
    kinds = Counter(o.kind for o in burst.result.outcomes)
    ok = kinds["ok"]
    errors = Counter(o.detail for o in burst.result.outcomes if o.kind != "ok")
    if errors:
        failures.append(f"{sum(errors.values())} 次提交没有成功：{errors.most_common(3)}")
    print(burst.cpu_line())

    for plan, phase in run.storms:
        people_count = args.storm_people
        rows, problems = check_storm(plan, people_count=people_count)
        storm_kinds = Counter(o.kind for o in phase.result.outcomes)
        expected_answer = "already_member" if plan is scene.storm_auto else "already_applied"
        answers = storm_kinds[expected_answer]
        other_answers = sum(storm_kinds.values()) - storm_kinds["ok"] - answers
        repeats = people_count * (args.storm_repeat - 1)
        if storm_kinds["ok"] != people_count:
            problems.append(f"成功 {storm_kinds['ok']} 次，应为 {people_count}")
        if answers != repeats:
            detail = Counter(o.detail for o in phase.result.outcomes if o.kind == "error")
            problems.append(f"明确答复 {answers} 次，应为 {repeats}；其他：{detail.most_common(3)}")
        failures += problems
        label = "already-member" if plan is scene.storm_auto else "already-applied"
        print(
            f"dup-storm: people={people_count} submissions={len(phase.result.outcomes)} "
            f"applications={rows} ok={storm_kinds['ok']} {label}={answers} "
            f"other={other_answers} rate={phase.rate:.0f} p99={phase.latency_ms(0.99):.0f}"
        )

    if bare is not None:
        print(
            f"  对照：裸插入 {bare.rate:.0f} 次/秒；入会 {burst.rate:.0f} 次/秒，"
            f"为裸插入的 {burst.rate / bare.rate:.0%}"
        )
    for problem in failures:
        print(f"  问题：{problem}")
    print(
        f"join-burst: N={args.n} ok={ok} lost={check.lost} dup={check.dup} "
        f"rate={burst.rate:.0f} p50={burst.latency_ms(0.5):.0f} p99={burst.latency_ms(0.99):.0f}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
