"""Generate millions of members (default 10,000,000) on top of the bench tree, with COPY.

    make bench-members                            (after make bench-data; see bench/README.md)
    .venv/bin/python bench/members_generate.py --members 10000000 [--reset]

Members are spread over the active grassroots and joint unions in proportion to the
headcount of the employers each covers (times a membership rate drawn per union); joint unions
of couriers, riders, drivers and domestic workers also hold gig workers without a registered
employer, and county federations hold a few workers of employers without a union. Each member
has a valid, distinct resident ID number and phone, encrypted (AES-GCM) and keyed-hashed as
the application does it, a join date after their 18th birthday, a status (active, reserved,
transferring, left, deceased) with its history rows, and — for transferring members — an open
transfer. Refuses SQLite and a member table that is not empty unless --reset.

Workers (multiprocessing, one per core by default) turn union chunks into COPY text; the main
process streams it into PostgreSQL inside one transaction, with the member and history tables'
secondary indexes and foreign keys dropped during the load and rebuilt after it.

The field keys come from FIELD_ENCRYPTION_KEYS / FIELD_HASH_KEY (or their _FILE forms); when
neither is set, keys generated once into var/bench-members/ (mode 600) are used, so the server and the
list benchmark started by make bench-members-list read the same data.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import datetime
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, TextIO

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import people
from bench.common import REPO_ROOT, BenchError, Timer
from bench.names import words

DEFAULT_MEMBERS = 10_000_000
MAX_MEMBERS = people.ID_SPACE - 1
DEFAULT_SEED = 2024
UNIONS_PER_CHUNK = 600
# Keys and spill files of the generator (var/bench/ belongs to the server comparison).
KEY_DIR = REPO_ROOT / "var" / "bench-members"
TODAY = datetime.date(2024, 12, 31)  # joins and status changes up to this day

MEMBER_COLUMNS = words(
    "id name id_type id_number_enc id_hash id_masked sex birth_date phone_enc phone_hash "
    "phone_masked ethnic_group education household employment_form gig_occupation occupation "
    "employer_id employer_name union_id union_path join_date status status_changed_on "
    "legacy_number created_at updated_at"
)
EVENT_COLUMNS = words(
    "id member_id kind from_status to_status union_id date reason actor_id created_at"
)
TRANSFER_COLUMNS = words(
    "member_id from_union_id to_union_id new_employer_id new_employer_name status reason "
    "released_at released_by_id decided_at decided_by_id refusal_reason"
)

# --- Distributions (illustrative, in the spirit of the ACFTU's statistical reports)

STATUSES = (
    ("active", 92.4),
    ("reserved", 3.2),
    ("transferring", 0.2),
    ("left", 3.5),
    ("deceased", 0.7),
)
RESERVE_REASONS = ("退休", "失业", "单位关闭")
LEFT_REASONS = ("本人申请退会", "出国定居", "长期失联，经会员大会决定除名")
# Rural household registration (migrant workers) by industry section; gig workers 65 %.
RURAL_SHARE = {"C": 0.45, "E": 0.6, "G": 0.4, "H": 0.42, "F": 0.3, "O": 0.5, "A": 0.55}
RURAL_SHARE_LOW = {"P": 0.05, "Q": 0.08, "S": 0.03, "J": 0.06, "M": 0.1, "I": 0.12}
GIG_RURAL_SHARE = 0.65
MIGRANT_BORN_ELSEWHERE = 0.8  # migrants born in another province's county
LOCAL_BORN = 0.85  # urban residents born in the union's own county
# Provinces many migrant workers come from, by weight.
SENDING_PROVINCES = {
    "41": 14, "51": 12, "34": 10, "43": 9, "42": 8, "36": 8, "52": 6, "45": 6, "50": 5,
    "37": 5, "13": 4, "61": 3, "62": 3, "23": 2, "22": 2, "53": 3,
}  # fmt: skip
EDUCATION_SKILLED = (("college", 25), ("bachelor", 45), ("postgraduate", 15), ("senior", 15))
EDUCATION_GENERAL = (
    ("primary", 5),
    ("junior", 32),
    ("senior", 38),
    ("college", 15),
    ("bachelor", 10),
)
SKILLED_SECTIONS = frozenset("IJMPQS")
OCCUPATIONS = {
    "C": "操作工 装配工 质检员 技术员 车工 焊工 电工 仓管员 班组长 工程师",
    "E": "钢筋工 木工 瓦工 架子工 电焊工 施工员 安全员",
    "G": "货车司机 装卸工 调度员 仓管员 分拣员",
    "F": "营业员 收银员 理货员 销售员 店长",
    "H": "厨师 服务员 保洁员 前台 配菜员",
    "I": "软件工程师 测试工程师 运维工程师 产品经理",
    "J": "柜员 客户经理 会计 风险经理",
    "P": "教师 班主任 后勤人员",
    "Q": "护士 医生 药剂师 护工 检验技师",
    "O": "维修工 保洁员 家政服务员 理发师",
    "S": "科员 办事员 专员",
    "K": "物业管理员 保安 维修工 置业顾问",
    "L": "人事专员 业务员 保安员 保洁员",
    "M": "检测员 工程师 研究员",
}
DEFAULT_OCCUPATIONS = "职员 业务员 技术员 后勤人员"
# Gig workers of joint unions, by the theme in the union's name.
GIG_THEMES = {
    "快递": (("courier", 90), ("other", 10)),
    "外卖": (("delivery_rider", 92), ("other", 8)),
    "网约车": (("ride_hailing", 95), ("other", 5)),
    "货车司机": (("truck_driver", 95), ("other", 5)),
    "家政": (("domestic", 90), ("other", 10)),
}
GIG_SHARE_IN_THEMED_JOINT = 0.85
GIG_OCCUPATION_NAMES = {
    "courier": "快递员",
    "delivery_rider": "外卖骑手",
    "ride_hailing": "网约车司机",
    "truck_driver": "货车司机",
    "domestic": "家政服务员",
    "other": "网络主播",
}
GIG_EMPLOYERS = {
    "courier": "顺丰速运 中通快递 圆通速递 韵达快递 申通快递 京东物流 极兔速递 邮政快递",
    "delivery_rider": "美团外卖配送站 饿了么配送站 闪送",
    "ride_hailing": "滴滴出行 曹操出行 T3出行 高德打车 个体",
    "truck_driver": "满帮平台 货拉拉 个体运输户 物流公司挂靠",
    "domestic": "家政服务公司 个体 58到家",
    "other": "个体 网络平台",
}
# Ethnic groups (GB/T 3304) of people born in a province, beside the Han majority.
ETHNIC_BY_PROVINCE = {
    "65": (("05", 40), ("17", 6), ("03", 4)),
    "54": (("04", 85),),
    "45": (("08", 30), ("13", 2)),
    "64": (("03", 35),),
    "15": (("02", 17), ("03", 1)),
    "52": (("06", 11), ("09", 8), ("12", 4)),
    "53": (("07", 10), ("14", 4), ("16", 4)),
    "43": (("15", 4), ("06", 3)),
    "22": (("10", 4), ("11", 3)),
    "21": (("11", 11),),
    "46": (("19", 15),),
    "63": (("04", 22), ("03", 15), ("30", 4)),
    "62": (("03", 5), ("26", 2)),
    "50": (("15", 5),),
}
OTHER_ETHNIC = (("03", 40), ("11", 30), ("06", 10), ("08", 10), ("15", 10))
OTHER_ETHNIC_SHARE = 0.02
COUNTY_HOLDING_RATE = 0.05  # members per worker of an employer without a union
JOINT_GIG_WORKERS = (20, 150)  # gig workers a themed joint union holds, uniform range
LEGACY_SHARE = 0.04  # members migrated from an older system keep its number
TRANSFER_REASONS = ("更换工作单位", "单位迁址", "劳动合同到期后到新单位就业")


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _weighted(table: Sequence[tuple[str, float]]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    keys = tuple(k for k, _ in table)
    return keys, tuple(accumulate(w for _, w in table))


def _pick(rng: random.Random, table: tuple[tuple[str, ...], tuple[float, ...]]) -> str:
    keys, cumulative = table
    return keys[min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(keys) - 1)]


# --- The plan: how many members each union holds


@dataclass
class Holder:
    """A union that holds members, with what the workers are drawn from."""

    union_id: int
    path: str
    county: str  # region code of the county the union sits in (six digits)
    section: str  # main industry section of its employers
    employers: list[tuple[int, int]]  # (employer id, headcount), covered or (county) uncovered
    employer_names: dict[int, str]
    gig_theme: str = ""
    gig_workers: int = 0
    members: int = 0


@dataclass
class Chunk:
    number: int
    first_index: int  # person index of the chunk's first member (member id = index + 1)
    holders: list[Holder]


@dataclass
class Report:
    members: int = 0
    events: int = 0
    transfers: int = 0
    holders: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    gig: int = 0
    rural: int = 0
    legacy: int = 0
    seconds: float = 0.0
    python_cpu_seconds: float = 0.0
    worker_cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None
    checked: int = 0

    def summary_line(self) -> str:
        share = (lambda n: f"{n / self.members:.1%}") if self.members else (lambda n: "0")
        return (
            f"members-generate: members={self.members} events={self.events} "
            f"transfers={self.transfers} unions={self.holders} "
            f"active={share(self.by_status.get('active', 0))} gig={share(self.gig)} "
            f"migrant={share(self.rural)} seconds={self.seconds:.1f}"
        )


def _theme(name: str) -> str:
    for theme in GIG_THEMES:
        if theme in name:
            return theme
    return ""


def plan_holders(*, members: int, seed: int) -> list[Holder]:
    """Read the bench tree and share ``members`` among the unions that hold members."""
    from django.db import connection

    from bench.synthetic import allocate
    from niangjia.orgs.choices import EmployerStatus, UnionKind, UnionLevel, UnionStatus
    from niangjia.orgs.models import Employer, Union

    rng = random.Random(seed)
    holders: dict[int, Holder] = {}
    unions = (
        Union.objects.filter(
            status=UnionStatus.ACTIVE,
            kind__in=[UnionKind.GRASSROOTS, UnionKind.JOINT],
        )
        .order_by("path")
        .values_list("id", "path", "name", "region__code")
    )
    for union_id, path, name, county in unions.iterator(chunk_size=20_000):
        holders[union_id] = Holder(union_id, path, county or "110101", "", [], {})
        holders[union_id].gig_theme = _theme(name)
    counties = (
        Union.objects.filter(
            status=UnionStatus.ACTIVE, kind=UnionKind.FEDERATION, level=UnionLevel.COUNTY
        )
        .order_by("path")
        .values_list("id", "path", "region__code")
    )
    county_holders = {
        union_id: Holder(union_id, path, county, "", [], {}) for union_id, path, county in counties
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, name, headcount, industry_section, covering_union_id, owner_id "
            f"FROM {Employer._meta.db_table} WHERE status = %s",
            [EmployerStatus.ACTIVE],
        )
        for employer_id, name, headcount, section, covering, owner in cursor:
            holder = holders.get(covering) if covering else county_holders.get(owner)
            if holder is None:
                continue
            holder.employers.append((employer_id, max(1, headcount)))
            holder.employer_names[employer_id] = name
            if not holder.section or rng.random() < 0.3:
                holder.section = section
    weights: list[float] = []
    ordered = [*holders.values(), *county_holders.values()]
    for holder in ordered:
        headcount = sum(h for _, h in holder.employers)
        if holder.union_id in county_holders:
            weight = headcount * COUNTY_HOLDING_RATE
        else:
            weight = headcount * rng.uniform(0.25, 0.9)
        if holder.gig_theme:
            holder.gig_workers = rng.randint(*JOINT_GIG_WORKERS)
            weight += holder.gig_workers
        weights.append(weight)
    for holder, count in zip(ordered, allocate(members, weights), strict=True):
        holder.members = count
    return [h for h in ordered if h.members]


def chunks_of(holders: Sequence[Holder], seed: int) -> Iterator[Chunk]:
    first = 0
    for number, start in enumerate(range(0, len(holders), UNIONS_PER_CHUNK)):
        part = list(holders[start : start + UNIONS_PER_CHUNK])
        yield Chunk(number, first, part)
        first += sum(h.members for h in part)


# --- Turning a chunk into COPY text (runs in the worker processes)


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    return str(value)


class ChunkMaker:
    """Everything a worker needs, built once per process (after the fork)."""

    def __init__(self, seed: int, transfer_targets: Sequence[int], now: str) -> None:
        from niangjia.members.models import ID_PURPOSE, PHONE_PURPOSE
        from niangjia.utilities import crypto
        from niangjia.utilities.masking import mask_id_number, mask_phone

        self.seed = seed
        self.ids = people.IdMaker()
        self.encrypt = crypto.encrypt
        self.keyed_hash = crypto.keyed_hash
        self.mask_id = mask_id_number
        self.mask_phone = mask_phone
        self.id_purpose, self.phone_purpose = ID_PURPOSE, PHONE_PURPOSE
        self.now = now
        self.transfer_targets = list(transfer_targets)
        counties = people.county_codes()
        by_province: dict[str, list[str]] = defaultdict(list)
        for code in counties:
            by_province[code[:2]].append(code)
        self.by_province = by_province
        self.sending = _weighted(list(SENDING_PROVINCES.items()))
        self.statuses = _weighted(STATUSES)
        self.education_skilled = _weighted(EDUCATION_SKILLED)
        self.education_general = _weighted(EDUCATION_GENERAL)
        self.ethnic = {
            p: _weighted([*t, ("01", 100 - sum(w for _, w in t))])
            for p, t in ETHNIC_BY_PROVINCE.items()
        }
        self.other_ethnic = _weighted(OTHER_ETHNIC)
        self.gig = {theme: _weighted(table) for theme, table in GIG_THEMES.items()}
        self.occupations = {s: text.split() for s, text in OCCUPATIONS.items()}
        self.default_occupations = DEFAULT_OCCUPATIONS.split()
        self.gig_employers = {k: v.split() for k, v in GIG_EMPLOYERS.items()}
        years = list(range(1985, TODAY.year + 1))
        # More joins in recent years: campaigns, mass ceremonies, gig workers from 2018 on.
        self.join_years = (
            tuple(years),
            tuple(accumulate(1 + (y - 1985) ** 1.3 / 8 for y in years)),
        )

    def make(self, chunk: Chunk) -> tuple[bytes, bytes, bytes, dict[str, int]]:
        rng = random.Random(self.seed * 7_919 + chunk.number)
        members: list[str] = []
        events: list[str] = []
        transfers: list[str] = []
        stats: Counter[str] = Counter()
        index = chunk.first_index
        for holder in chunk.holders:
            employer_ids = [e for e, _ in holder.employers]
            employer_cum = list(accumulate(h for _, h in holder.employers))
            gig_share = (
                min(1.0, holder.gig_workers / holder.members) * GIG_SHARE_IN_THEMED_JOINT
                if holder.gig_theme and holder.members
                else 0.0
            )
            for _ in range(holder.members):
                self._member(rng, holder, index, employer_ids, employer_cum, gig_share,
                             members, events, transfers, stats)  # fmt: skip
                index += 1
        return (
            "".join(members).encode(),
            "".join(events).encode(),
            "".join(transfers).encode(),
            dict(stats),
        )

    def _member(
        self,
        rng: random.Random,
        holder: Holder,
        index: int,
        employer_ids: list[int],
        employer_cum: list[int],
        gig_share: float,
        members: list[str],
        events: list[str],
        transfers: list[str],
        stats: Counter[str],
    ) -> None:
        pk = index + 1
        gig = gig_share > 0 and rng.random() < gig_share
        section = holder.section or "L"
        if gig:
            rural = rng.random() < GIG_RURAL_SHARE
        else:
            rural = rng.random() < RURAL_SHARE.get(section, RURAL_SHARE_LOW.get(section, 0.25))
        if rural and rng.random() < MIGRANT_BORN_ELSEWHERE:
            province = _pick(rng, self.sending)
            region = rng.choice(self.by_province.get(province) or [holder.county])
        elif rng.random() < LOCAL_BORN:
            region = holder.county
        else:
            region = rng.choice(self.by_province.get(holder.county[:2]) or [holder.county])
        id_number, birth, sex = self.ids.make(index, region)
        phone = people.phone(index)
        # Joined at 18 at the earliest; the year drawn with more weight on recent years.
        year = int(_pick(rng, self.join_years))
        join = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        adult = _years_after(birth, 18)
        if join < adult:
            join = adult + datetime.timedelta(days=rng.randrange(720))
        if join > TODAY:
            join = TODAY - datetime.timedelta(days=rng.randrange(30))
        status = _pick(rng, self.statuses)
        age = (TODAY - birth).days // 365
        if status == "deceased" and age < 40 and rng.random() < 0.7:
            status = "left"
        if status == "reserved" and age < 45 and rng.random() < 0.5:
            status = "active"
        changed = join
        if status != "active":
            span = (TODAY - join).days
            changed = join + datetime.timedelta(days=rng.randrange(span + 1)) if span > 0 else join
        if gig:
            occupation_kind = _pick(rng, self.gig[holder.gig_theme])
            occupation = GIG_OCCUPATION_NAMES[occupation_kind]
            employer_id = None
            employer_name = rng.choice(self.gig_employers[occupation_kind])
            employment_form, gig_occupation = "gig", occupation_kind
        else:
            occupation = rng.choice(self.occupations.get(section, self.default_occupations))
            employment_form, gig_occupation = "standard", ""
            if employer_ids:
                position = bisect.bisect_right(employer_cum, rng.random() * employer_cum[-1])
                employer_id = employer_ids[min(position, len(employer_ids) - 1)]
                employer_name = ""
            else:
                employer_id, employer_name = None, "单位名称待核实"
        education = _pick(
            rng,
            self.education_skilled
            if section in SKILLED_SECTIONS and not gig
            else self.education_general,
        )
        ethnic_table = self.ethnic.get(region[:2])
        if ethnic_table is not None:
            ethnic = _pick(rng, ethnic_table)
        elif rng.random() < OTHER_ETHNIC_SHARE:
            ethnic = _pick(rng, self.other_ethnic)
        else:
            ethnic = "01"
        legacy = (
            f"GH{holder.county}{index:09d}"
            if join.year < 2015 and rng.random() < LEGACY_SHARE
            else None
        )
        name = people.name(rng, sex)
        row = (
            pk,
            name,
            "resident",
            self.encrypt(id_number, purpose=self.id_purpose),
            self.keyed_hash(id_number, purpose=self.id_purpose),
            self.mask_id(id_number),
            sex,
            birth.isoformat(),
            self.encrypt(phone, purpose=self.phone_purpose),
            self.keyed_hash(phone, purpose=self.phone_purpose),
            self.mask_phone(phone),
            ethnic,
            education,
            "rural" if rural else "urban",
            employment_form,
            gig_occupation,
            occupation,
            employer_id,
            employer_name,
            holder.union_id,
            holder.path,
            join.isoformat(),
            status,
            changed.isoformat(),
            legacy,
            self.now,
            self.now,
        )
        members.append("\t".join(map(_copy_text, row)) + "\n")
        event_id = pk * 2 - 1
        events.append(
            f"{event_id}\t{pk}\tjoined\t\tactive\t{holder.union_id}\t{join.isoformat()}\t"
            f"入会\t\\N\t{self.now}\n"
        )
        if status == "transferring":
            target = rng.choice(self.transfer_targets)
            if target == holder.union_id:
                target = self.transfer_targets[0]
            reason = rng.choice(TRANSFER_REASONS)
            events.append(
                f"{event_id + 1}\t{pk}\ttransfer_out\tactive\ttransferring\t{holder.union_id}\t"
                f"{changed.isoformat()}\t{reason}\t\\N\t{self.now}\n"
            )
            transfers.append(
                f"{pk}\t{holder.union_id}\t{target}\t\\N\t\treleased\t{reason}\t"
                f"{changed.isoformat()} 10:00:00+08\t\\N\t\\N\t\\N\t\n"
            )
        elif status != "active":
            reason = {
                "reserved": rng.choice(RESERVE_REASONS),
                "left": rng.choice(LEFT_REASONS),
                "deceased": "病故",
            }[status]
            events.append(
                f"{event_id + 1}\t{pk}\tstatus\tactive\t{status}\t{holder.union_id}\t"
                f"{changed.isoformat()}\t{reason}\t\\N\t{self.now}\n"
            )
        stats[status] += 1
        stats["members"] += 1
        stats["gig"] += gig
        stats["rural"] += rural
        stats["legacy"] += legacy is not None
        stats["events"] += 1 + (status != "active")
        stats["transfers"] += status == "transferring"


_maker: ChunkMaker | None = None


def _init_worker(seed: int, targets: Sequence[int], now: str) -> None:
    global _maker
    _maker = ChunkMaker(seed, targets, now)


def _make_chunk(chunk: Chunk) -> tuple[bytes, bytes, bytes, dict[str, int], float]:
    assert _maker is not None
    begin = time.process_time()
    result = _maker.make(chunk)
    return (*result, time.process_time() - begin)


# --- Loading


def refuse_unless_empty(*, reset: bool) -> None:
    from niangjia.members.models import JoinApplication, Member
    from niangjia.orgs.models import Union

    unions = Union.objects.count()
    if unions < 100:
        raise BenchError(
            f"库中只有 {unions} 个工会：请先用 make bench-data 生成基准测试的工会树和用人单位。"
        )
    if reset:
        return
    members = Member.objects.count()
    applications = JoinApplication.objects.count()
    if members or applications:
        raise BenchError(
            f"库中已有会员 {members} 名、入会申请 {applications} 份，拒绝重复生成。确认这是"
            "基准测试专用库后，加 --reset 清空会员、入会申请、会籍记录和转接后重新生成。"
        )


def generate(
    *,
    members: int = DEFAULT_MEMBERS,
    seed: int = DEFAULT_SEED,
    reset: bool = False,
    workers: int = 2,
    out: TextIO | None = None,
) -> Report:
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.common import bulk_load, require_postgresql, server_cpu_seconds
    from niangjia.members.models import (
        CeremonyVenue,
        JoinApplication,
        JoinCeremony,
        Member,
        MemberEvent,
        Transfer,
    )

    require_postgresql(connection)
    if not 0 < members <= MAX_MEMBERS:
        raise BenchError(f"会员数应在 1 到 {MAX_MEMBERS} 之间")
    _check_columns(Member, MEMBER_COLUMNS)
    _check_columns(MemberEvent, EVENT_COLUMNS)
    _check_columns(Transfer, [*TRANSFER_COLUMNS, "id"])
    timer = Timer(out)
    python_cpu = time.process_time()
    server_cpu = server_cpu_seconds(connection)
    report = Report()
    now = timezone.now().isoformat()
    member_table, event_table = Member._meta.db_table, MemberEvent._meta.db_table
    transfer_table = Transfer._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {member_table}, {event_table} IN EXCLUSIVE MODE")
        if reset:
            with timer.phase("清空旧会员数据"):
                tables = [
                    m._meta.db_table
                    for m in (
                        Transfer,
                        MemberEvent,
                        JoinApplication,
                        CeremonyVenue,
                        JoinCeremony,
                        Member,
                    )
                ]
                # CASCADE: rows of other modules that point at members (hardship files of a
                # member, import staging) go with them in a bench database.
                cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            refuse_unless_empty(reset=False)
        with timer.phase("读取工会与用人单位、分配会员"):
            holders = plan_holders(members=members, seed=seed)
            targets = random.Random(seed).sample(
                [h.union_id for h in holders], min(2_000, len(holders))
            )
        report.holders = len(holders)
        chunks = list(chunks_of(holders, seed))
        KEY_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryDirectory(dir=KEY_DIR) as spill:
            events_path = Path(spill) / "events.copy"
            transfers_path = Path(spill) / "transfers.copy"
            stats: Counter[str] = Counter()
            with (
                bulk_load(cursor, [member_table, event_table], timer),
                events_path.open("wb") as events_file,
                transfers_path.open("wb") as transfers_file,
            ):
                with timer.phase(f"会员 COPY（{workers} 个生成进程）"):
                    context = multiprocessing.get_context("fork")
                    with (
                        context.Pool(
                            workers, initializer=_init_worker, initargs=(seed, targets, now)
                        ) as pool,
                        cursor.copy(
                            f"COPY {member_table} ({', '.join(MEMBER_COLUMNS)}) FROM STDIN"
                        ) as copy,
                    ):
                        for member_rows, event_rows, transfer_rows, counts, cpu in pool.imap(
                            _make_chunk, chunks
                        ):
                            copy.write(member_rows)
                            events_file.write(event_rows)
                            transfers_file.write(transfer_rows)
                            before = stats["members"]
                            stats.update(counts)
                            report.worker_cpu_seconds += cpu
                            if (
                                out is not None
                                and stats["members"] // 1_000_000 > before // 1_000_000
                            ):
                                out.write(f"    … {stats['members']:,} 名\n")
                                out.flush()
                events_file.close()
                transfers_file.close()
                with timer.phase("会籍记录 COPY"):
                    _copy_file(cursor, event_table, EVENT_COLUMNS, events_path)
            with timer.phase("会籍转接 COPY"):
                _copy_file(cursor, transfer_table, TRANSFER_COLUMNS, transfers_path)
        for table in (member_table, event_table):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {table}))",
                [table],
            )
        with timer.phase("其余延迟约束检查"):
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with timer.phase("ANALYZE"), connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {member_table}, {event_table}, {transfer_table}")
    with timer.phase("核对"):
        report.checked = check(members, seed=seed)
    report.members = stats["members"]
    report.by_status = {s: stats[s] for s, _ in STATUSES}
    report.events, report.transfers = stats["events"], stats["transfers"]
    report.gig, report.rural, report.legacy = stats["gig"], stats["rural"], stats["legacy"]
    report.seconds = timer.total
    report.python_cpu_seconds = time.process_time() - python_cpu
    after = server_cpu_seconds(connection)
    if server_cpu is not None and after is not None:
        report.server_cpu_seconds = after - server_cpu
    if out is not None:
        _print_report(report, out)
    return report


def _copy_file(cursor: Any, table: str, columns: Sequence[str], path: Path) -> None:
    with (
        path.open("rb") as fh,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        while block := fh.read(1 << 20):
            copy.write(block)


def _check_columns(model: Any, columns: Sequence[str]) -> None:
    actual = {f.column for f in model._meta.concrete_fields}
    if set(columns) != actual:
        raise BenchError(
            f"{model._meta.db_table} 的列与生成器不一致：多 {sorted(set(columns) - actual)}，"
            f"少 {sorted(actual - set(columns))}（模型变了，请更新 bench/members_generate.py）"
        )


def check(members: int, *, seed: int) -> int:
    """Counts, and a sample of members read back as the application reads them: the ID number
    decrypts, its check digit is valid, the keyed hash finds the member, the masked copy
    matches, and the holding union's path is the union's."""
    from stdnum.cn import ric

    from niangjia.members.models import Member, id_hash_of, phone_hash_of
    from niangjia.utilities.masking import mask_id_number

    count = Member.objects.count()
    if count != members:
        raise BenchError(f"装载后有会员 {count} 名，应为 {members}")
    rng = random.Random(seed)
    sample_ids = rng.sample(range(1, members + 1), min(200, members))
    checked = 0
    for member in Member.objects.filter(pk__in=sample_ids).select_related("union"):
        number = member.reveal_id_number()
        phone = member.reveal_phone()
        problems = []
        if ric.calc_check_digit(number) != number[-1]:
            problems.append("校验位")
        if member.id_hash != id_hash_of(number) or member.phone_hash != phone_hash_of(phone):
            problems.append("散列")
        if member.id_masked != mask_id_number(number):
            problems.append("打码")
        if member.union_path != member.union.path:
            problems.append("工会路径")
        if member.birth_date is None or member.join_date < member.birth_date.replace(
            year=member.birth_date.year + 17
        ):
            problems.append("入会日期")
        if problems:
            raise BenchError(f"会员 {member.pk} 核对失败：{'、'.join(problems)}")
        if Member.objects.filter(id_hash=id_hash_of(number)).count() != 1:
            raise BenchError(f"按证件号散列找不到会员 {member.pk}")
        checked += 1
    return checked


def _print_report(report: Report, out: TextIO) -> None:
    out.write(
        f"已装载：会员 {report.members:,} 名（{report.holders:,} 个工会），会籍记录 "
        f"{report.events:,} 条，待接收的转接 {report.transfers:,} 件；抽查 {report.checked} 名"
        "（解密、校验位、散列查找、打码、工会路径、入会年龄）全部通过\n"
    )
    status_text = "，".join(f"{k} {v / report.members:.1%}" for k, v in report.by_status.items())
    out.write(
        f"会籍状态：{status_text}；新就业形态 {report.gig / report.members:.1%}，"
        f"农民工（农村户籍）{report.rural / report.members:.1%}，带原会员编号 "
        f"{report.legacy / report.members:.1%}\n"
    )
    server = (
        "未知（数据库不在本机）"
        if report.server_cpu_seconds is None
        else f"{report.server_cpu_seconds:.1f} 秒"
    )
    out.write(
        f"CPU 时间：主进程 {report.python_cpu_seconds:.1f} 秒，生成进程合计 "
        f"{report.worker_cpu_seconds:.1f} 秒，PostgreSQL 后端 {server}；总耗时 "
        f"{report.seconds:.1f} 秒\n"
    )


# --- Command line


def use_bench_keys() -> None:
    """FIELD_ENCRYPTION_KEYS / FIELD_HASH_KEY from the environment, else the bench's own keys
    in var/bench-members/ (made once, mode 600)."""
    pairs = (
        ("FIELD_ENCRYPTION_KEYS", "field_encryption_keys", lambda: "0:" + _new_key()),
        ("FIELD_HASH_KEY", "field_hash_key", _new_key),
    )
    KEY_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, file_name, make in pairs:
        if os.environ.get(name) or os.environ.get(f"{name}_FILE"):
            continue
        path = KEY_DIR / file_name
        if not path.exists():
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as fh:
                fh.write(make() + "\n")
        os.environ[f"{name}_FILE"] = str(path)


def _new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为正整数，收到“{text}”") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"应为正整数，收到 {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/members_generate.py",
        description="在基准测试库的工会树上生成会员（默认 1000 万），用 COPY 批量装载。",
    )
    parser.add_argument("--members", type=_count, default=DEFAULT_MEMBERS, metavar="N")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S")
    parser.add_argument("--workers", type=_count, default=os.cpu_count() or 2, metavar="N")
    parser.add_argument(
        "--reset",
        action="store_true",
        help="先清空会员、入会申请、会籍记录、转接和入会仪式，再重新生成",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bench.common import migrate_if_needed, require_postgresql, setup_django

    try:
        from django.core.exceptions import ImproperlyConfigured
        from django.db import DatabaseError

        use_bench_keys()
        try:
            setup_django()
        except ImproperlyConfigured as exc:
            raise BenchError(f"配置错误：{exc}") from exc
        from django.db import connection

        require_postgresql(connection)
        try:
            connection.ensure_connection()
        except DatabaseError as exc:
            raise BenchError(f"无法连接数据库：{exc}") from exc
        settings = connection.settings_dict
        print(
            f"members-generate: 目标数据库 {settings['NAME']}（{settings.get('HOST') or '本机'}:"
            f"{settings.get('PORT') or 5432}），{args.members:,} 名会员"
        )
        try:
            migrate_if_needed(connection, sys.stdout)
            refuse_unless_empty(reset=args.reset)
            report = generate(
                members=args.members,
                seed=args.seed,
                reset=args.reset,
                workers=args.workers,
                out=sys.stdout,
            )
        except DatabaseError as exc:
            raise BenchError(f"数据库出错，已全部回滚：{exc}") from exc
    except BenchError as exc:
        print(f"members-generate: 错误：{exc}", file=sys.stderr)
        return 2
    print(report.summary_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
