"""The synthetic union tree and employer registry at national scale, loaded with COPY.

Federations follow the GB/T 2260 region tree: a provincial federation for each of the 31
mainland provinces, a city federation for each prefecture-level region and a county
federation for each county-level region under it. Region entries that only group counties
(the municipalities' own city entries, 省直辖县级行政区划) get no union of their own: their
county federations stand directly under the provincial federation, as in the real union
organisation. Grassroots and joint unions are spread over the county federations (and the
cities without counties, such as 东莞 and 中山) with more of them in big cities; employers
are registered with the federation of their county and about three in four are covered by a
grassroots union of that county.

Tree paths, depths and child counts are computed here and loaded with PostgreSQL COPY. Every
host county draws from its own random generators, seeded with ``seed`` and its region code,
so its employers can be rebuilt identically for the second COPY without holding the whole
registry in memory.
"""

from __future__ import annotations

import datetime
import itertools
import math
import random
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models import Count, Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import names
from bench.codes import MAX_CHILDREN, UsccMaker, path_step
from bench.common import (
    BenchError,
    Timer,
    bulk_load,
    copy_rows,
    require_postgresql,
    server_cpu_seconds,
)
from niangjia.accounts.choices import Role
from niangjia.accounts.models import RoleAssignment, User
from niangjia.orgs.choices import EmployerStatus, RegionLevel, UnionKind, UnionLevel, UnionStatus
from niangjia.orgs.models import Employer, Region, Union
from niangjia.orgs.regions import load_regions

DEFAULT_GRASSROOTS = 300_000
DEFAULT_EMPLOYERS = 500_000
DEFAULT_SEED = 2024
# Throw-away password of the benchmark cadres; only ever used on a benchmark database.
DEFAULT_CADRE_PASSWORD = "Bench-niangjia-2024"  # noqa: S105

COVERAGE = 0.75  # share of employers covered by a grassroots union
JOINT_SHARE = 0.05  # share of grassroots-level unions that are joint unions
DISSOLVED_SHARE = 0.01  # share of single-employer grassroots unions already dissolved
INDUSTRY_LINK_SHARE = 0.4  # share of grassroots unions in a matching industry linked to it
EMPLOYER_STATUSES = (
    (EmployerStatus.ACTIVE.value, 0.92),
    (EmployerStatus.DEREGISTERED.value, 0.05),
    (EmployerStatus.MOVED_AWAY.value, 0.03),
)
ESTABLISHED_FROM = datetime.date(1985, 1, 1).toordinal()
ESTABLISHED_TO = datetime.date(2022, 12, 31).toordinal()


def _table(text: str) -> dict[str, float]:
    """``"11:3.0 12:1.1"`` -> ``{"11": 3.0, "12": 1.1}``."""
    return {key: float(value) for key, value in (item.split(":") for item in text.split())}


MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
# Rough share of each province in the number of enterprises (illustrative, not statistics).
PROVINCE_WEIGHTS = _table(
    "11:3.0 12:1.1 13:3.5 14:1.4 15:0.9 21:1.7 22:0.8 23:0.9 31:3.0 32:7.5 33:6.5 34:3.0 "
    "35:3.0 36:1.8 37:6.0 41:4.0 42:3.0 43:2.6 44:9.0 45:1.7 46:0.7 50:1.6 51:3.5 52:1.2 "
    "53:1.5 54:0.15 61:2.0 62:0.7 63:0.2 64:0.3 65:0.8"
)
# Prefecture-level cities with far more workplaces than their province's average.
BIG_CITIES = _table(
    "440300:5.0 440100:1.6 441900:3.5 320500:4.0 440600:2.5 330200:2.5 370200:2.5 350200:2.0 "
    "210200:2.0 320200:2.5 330300:2.0 320100:1.5 330100:1.6 510100:1.6 420100:1.4"
)
CAPITAL_BOOST = 2.5
SAMPLE_PROVINCE_CODE = "440000"  # the province of the sample cadres, when it has unions

# (name after the province's name, sections of the grassroots unions that may join it)
INDUSTRY_UNIONS = (
    ("教育工会", "P"),
    ("金融工会", "J"),
    ("建设工会", "EK"),
    ("交通运输工会", "G"),
    ("医务工会", "Q"),
    ("能源化学工会", "BD"),
)
CADRE_USERNAME_PREFIX = "bench_"

# The columns loaded, in the order of the rows built below.
UNION_FIELDS = names.words(
    "id path depth numchild name uscc level kind region industry_union status merged_into "
    "established_on closed_on address contact_phone created_at updated_at"
)
EMPLOYER_FIELDS = names.words(
    "name uscc uscc_override uscc_override_reason region industry_section ownership headcount "
    "status owner covering_union address created_at updated_at created_by"
)


@dataclass(frozen=True)
class RegionRow:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None


@dataclass
class Fed:
    """A union above the grassroots: a regional federation or a provincial industry union."""

    id: int
    path: str
    level: str
    kind: str
    region: RegionRow
    name: str
    numchild: int = 0

    @property
    def depth(self) -> int:
        return len(self.path) // 4


@dataclass
class Host:
    """A federation that grassroots unions and employers hang from (a county, or a city
    without counties)."""

    fed: Fed
    province: Fed
    place: names.Place
    weight: float
    industry_ids: dict[str, int]
    grassroots: int = 0
    employers: int = 0
    first_union_id: int = 0
    union_serial: int = 0
    employer_serial: int = 0


@dataclass
class TreePlan:
    federations: list[Fed]  # provinces, cities, counties and industry unions, in path order
    hosts: list[Host]
    provinces: list[Fed]
    cities: int
    counties: int
    industry: int
    next_id: int  # first union id after everything planned


@dataclass
class Report:
    provinces: int = 0
    cities: int = 0
    counties: int = 0
    industry: int = 0
    grassroots: int = 0
    joint: int = 0
    linked_to_industry: int = 0
    employers: int = 0
    covered: int = 0
    cadres: dict[str, str] = field(default_factory=dict)
    sample_province: str = ""
    subtree_unions: int = 0
    subtree_seconds: float = 0.0
    subtree_plan: list[str] = field(default_factory=list)
    subtree_uses_index: bool = False
    seconds: float = 0.0
    python_cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None

    def summary_line(self) -> str:
        return (
            f"generate: provinces={self.provinces} cities={self.cities} "
            f"counties={self.counties} industry={self.industry} grassroots={self.grassroots} "
            f"joint={self.joint} employers={self.employers} covered={self.covered} "
            f"seconds={self.seconds:.1f}"
        )


def generate(
    *,
    grassroots: int = DEFAULT_GRASSROOTS,
    employers: int = DEFAULT_EMPLOYERS,
    seed: int = DEFAULT_SEED,
    reset: bool = False,
    cadre_password: str = DEFAULT_CADRE_PASSWORD,
    out: TextIO | None = None,
) -> Report:
    """Build the synthetic tree into the default (PostgreSQL, migrated) database.

    Refuses unless the tree is empty (only the national root, no employers) or ``reset`` is
    given, in which case the union tree, employers and everything that references them are
    truncated first. Everything is loaded in one transaction.
    """
    require_postgresql(connection)
    if grassroots < 0 or employers < 0:
        raise BenchError("基层工会数和用人单位数不能为负数")
    timer = Timer(out)
    python_cpu = time.process_time()
    server_cpu = server_cpu_seconds(connection)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"LOCK TABLE {Union._meta.db_table}, {Employer._meta.db_table} IN EXCLUSIVE MODE"
        )
        if reset:
            with timer.phase("清空旧数据"):
                _truncate(cursor)
        else:
            _require_empty()
        root = _ensure_root()
        with timer.phase("区划与分配"):
            regions = _regions()
            next_id = (Union.objects.aggregate(m=Max("id"))["m"] or 0) + 1
            plan = plan_tree(
                root_path=root.path,
                regions=regions,
                grassroots=grassroots,
                employers=employers,
                seed=seed,
                next_id=next_id,
            )
        usccs = UsccMaker(offset=seed * 7_919)
        union_columns = _columns(Union, UNION_FIELDS)
        tables = [Union._meta.db_table, Employer._meta.db_table]
        with bulk_load(cursor, tables, timer):
            with timer.phase("地方总工会与产业工会 COPY"):
                copy_rows(
                    cursor,
                    Union._meta.db_table,
                    union_columns,
                    (_federation_row(fed, now) for fed in plan.federations),
                )
            with timer.phase("基层工会 COPY"):
                copy_rows(
                    cursor,
                    Union._meta.db_table,
                    union_columns,
                    _grassroots_rows(plan, seed=seed, usccs=usccs, now=now),
                )
            with timer.phase("用人单位 COPY"):
                copy_rows(
                    cursor,
                    Employer._meta.db_table,
                    _columns(Employer, EMPLOYER_FIELDS),
                    _employer_rows(plan, seed=seed, usccs=usccs, now=now),
                )
        Union.objects.filter(pk=root.pk).update(numchild=len(plan.provinces))
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM "
            f"{Union._meta.db_table}))",
            [Union._meta.db_table],
        )
        with timer.phase("干部账号"):
            cadres = _create_cadres(plan, password=cadre_password)
        with timer.phase("其余延迟约束检查"):
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with timer.phase("ANALYZE"), connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Union._meta.db_table}, {Employer._meta.db_table}")
    with timer.phase("校验"):
        report = check(plan)
    report.cadres = cadres
    report.seconds = timer.total
    report.python_cpu_seconds = time.process_time() - python_cpu
    server_cpu_after = server_cpu_seconds(connection)
    if server_cpu is not None and server_cpu_after is not None:
        report.server_cpu_seconds = server_cpu_after - server_cpu
    if out is not None:
        _print_report(report, out)
    return report


# --- Planning the tree


def _regions() -> list[RegionRow]:
    rows = [
        RegionRow(*values)
        for values in Region.objects.order_by("code").values_list(
            "id", "code", "name", "level", "parent_id"
        )
    ]
    if not rows:
        raise BenchError("行政区划表为空：请先执行 migrate（迁移会导入 GB/T 2260 区划）")
    return rows


def is_mainland_province(region: RegionRow) -> bool:
    return region.level == RegionLevel.PROVINCE and 11 <= int(region.code[:2]) <= 65


def _is_grouping(province: RegionRow, city: RegionRow) -> bool:
    """A city-level entry that only groups counties and has no union of its own."""
    return (
        province.code[:2] in MUNICIPALITIES
        or city.name.endswith("直辖县级行政区划")
        or city.name in ("县", "市辖区")
    )


def plan_tree(
    *,
    root_path: str,
    regions: Sequence[RegionRow],
    grassroots: int,
    employers: int,
    seed: int,
    next_id: int,
) -> TreePlan:
    """Federations with paths, ids and child counts, and how many grassroots unions and
    employers each host federation receives."""
    rng = random.Random(seed)
    children: dict[int | None, list[RegionRow]] = defaultdict(list)
    for region in regions:
        children[region.parent_id].append(region)
    ids = itertools.count(next_id)
    federations: list[Fed] = []
    hosts: list[Host] = []
    provinces: list[Fed] = []
    cities = counties = industry = 0

    def new_fed(
        parent_path: str, position: int, level: str, kind: str, region: RegionRow, name: str
    ) -> Fed:
        fed = Fed(next(ids), parent_path + path_step(position), level, kind, region, name)
        federations.append(fed)
        return fed

    province_regions = [r for r in children[None] if is_mainland_province(r)]
    province_weights = [PROVINCE_WEIGHTS.get(r.code[:2], 1.0) for r in province_regions]
    province_total = sum(province_weights)
    for p_index, (prov, p_weight) in enumerate(
        zip(province_regions, province_weights, strict=True), start=1
    ):
        pfed = new_fed(
            root_path,
            p_index,
            UnionLevel.PROVINCE,
            UnionKind.FEDERATION,
            prov,
            f"{prov.name}总工会",
        )
        provinces.append(pfed)
        industry_ids: dict[str, int] = {}
        # (group weight, [(host federation, raw weight, place)])
        groups: list[tuple[float, list[tuple[Fed, float, names.Place]]]] = []
        position = 0
        for city in children[prov.id]:
            if city.level != RegionLevel.CITY:
                continue
            county_regions = [c for c in children[city.id] if c.level == RegionLevel.COUNTY]
            members: list[tuple[Fed, float, names.Place]] = []
            if _is_grouping(prov, city):
                for county in county_regions:
                    position += 1
                    cfed = new_fed(
                        pfed.path,
                        position,
                        UnionLevel.COUNTY,
                        UnionKind.FEDERATION,
                        county,
                        f"{county.name}总工会",
                    )
                    counties += 1
                    city_name = prov.name if prov.code[:2] in MUNICIPALITIES else county.name
                    place = names.Place(
                        full=_joined(prov.name, county.name), city=city_name, county=county.name
                    )
                    members.append((cfed, _county_weight(rng, county), place))
                if prov.code[:2] in MUNICIPALITIES:
                    group_weight = 0.3 if city.name == "县" else 1.0
                else:
                    group_weight = 0.1 * len(county_regions)
                group_weight *= rng.lognormvariate(0, 0.3)
            else:
                position += 1
                cityfed = new_fed(
                    pfed.path,
                    position,
                    UnionLevel.CITY,
                    UnionKind.FEDERATION,
                    city,
                    f"{city.name}总工会",
                )
                cities += 1
                for k, county in enumerate(county_regions, start=1):
                    cfed = new_fed(
                        cityfed.path,
                        k,
                        UnionLevel.COUNTY,
                        UnionKind.FEDERATION,
                        county,
                        f"{county.name}总工会",
                    )
                    counties += 1
                    place = names.Place(
                        full=_joined(prov.name, city.name, county.name),
                        city=city.name if city.name.endswith("市") else county.name,
                        county=county.name,
                    )
                    members.append((cfed, _county_weight(rng, county), place))
                cityfed.numchild = len(county_regions)
                if not county_regions:
                    place = names.Place(
                        full=_joined(prov.name, city.name), city=city.name, county=city.name
                    )
                    members.append((cityfed, 1.0, place))
                # Bigger cities have more districts as well as more workplaces per district.
                group_weight = (
                    rng.lognormvariate(0, 0.4)
                    * math.sqrt(max(len(county_regions), 1))
                    * BIG_CITIES.get(city.code, 1.0)
                )
                if city.code[2:4] == "01":
                    group_weight *= CAPITAL_BOOST
            if members:
                groups.append((group_weight, members))
        for label, sections in INDUSTRY_UNIONS:
            position += 1
            ifed = new_fed(
                pfed.path,
                position,
                UnionLevel.PROVINCE,
                UnionKind.INDUSTRY,
                prov,
                f"{prov.name}{label}",
            )
            industry += 1
            for section in sections:
                industry_ids[section] = ifed.id
        pfed.numchild = position
        groups_total = sum(g for g, _ in groups)
        for group_weight, members in groups:
            members_total = sum(w for _, w, _ in members)
            for fed, weight, place in members:
                share = (p_weight / province_total) * (group_weight / groups_total)
                hosts.append(
                    Host(
                        fed=fed,
                        province=pfed,
                        place=place,
                        weight=share * weight / members_total,
                        industry_ids=industry_ids,
                    )
                )

    weights = [h.weight for h in hosts]
    for host, count in zip(hosts, allocate(grassroots, weights), strict=True):
        host.grassroots = count
        host.fed.numchild = count
        if count > MAX_CHILDREN:
            raise BenchError(
                f"“{host.fed.name}”将有 {count} 个基层工会，超过树结构每个节点 {MAX_CHILDREN} "
                "个下级的上限：请减少 --grassroots"
            )
    noisy = [w * rng.lognormvariate(0, 0.25) for w in weights]
    for host, count in zip(hosts, allocate(employers, noisy), strict=True):
        host.employers = count
    union_id = next(ids)
    union_serial = employers  # union USCC serials follow the employers'
    employer_serial = 0
    for host in hosts:
        host.first_union_id = union_id
        host.union_serial = union_serial
        host.employer_serial = employer_serial
        union_id += host.grassroots
        union_serial += host.grassroots
        employer_serial += host.employers
    return TreePlan(
        federations=federations,
        hosts=hosts,
        provinces=provinces,
        cities=cities,
        counties=counties,
        industry=industry,
        next_id=union_id,
    )


def _joined(*parts: str) -> str:
    """Region names joined for an address, a repeated name once (北京市东城区)."""
    kept = [p for i, p in enumerate(parts) if i == 0 or p != parts[i - 1]]
    return "".join(kept)


def _county_weight(rng: random.Random, county: RegionRow) -> float:
    if county.name.endswith("区"):
        factor = 2.0  # urban district
    elif county.name.endswith("市"):
        factor = 1.2  # county-level city
    else:
        factor = 0.5  # county, banner
    return factor * rng.lognormvariate(0, 0.35)


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder): the parts sum to it."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    parts = [math.floor(x) for x in exact]
    short = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[:short]:
        parts[i] += 1
    return parts


# --- Rows


def _columns(model: type[models.Model], field_names: Sequence[str]) -> list[str]:
    columns = []
    for name in field_names:
        model_field = model._meta.get_field(name)
        if not isinstance(model_field, models.Field) or not model_field.column:
            raise TypeError(f"{model.__name__}.{name} is not a concrete field")
        columns.append(model_field.column)
    return columns


def _federation_row(fed: Fed, now: datetime.datetime) -> tuple[Any, ...]:
    return (
        fed.id,
        fed.path,
        fed.depth,
        fed.numchild,
        fed.name,
        None,
        fed.level,
        fed.kind,
        fed.region.id,
        None,
        UnionStatus.ACTIVE.value,
        None,
        None,
        None,
        "",
        "",
        now,
        now,
    )


@dataclass
class HostRows:
    unions: list[tuple[Any, ...]]
    employers: list[tuple[Any, ...]]


def host_rows(
    host: Host,
    *,
    seed: int,
    usccs: UsccMaker,
    now: datetime.datetime,
    unions: bool = True,
    employers: bool = True,
) -> HostRows:
    """The grassroots unions and employers of one host federation, the same every time for
    the same ``seed``. Employers, who covers whom, and the unions' other details come from
    three generators, so the employers alone can be rebuilt without the unions' details."""
    code = host.fed.region.code
    rng = random.Random(f"{seed}:{code}")
    rng_cover = random.Random(f"{seed}:{code}:cover")
    place = host.place
    drafts = [names.employer(rng, place) for _ in range(host.employers)]
    statuses = [_employer_status(rng) for _ in drafts]
    addresses = [names.address(rng, place) for _ in drafts]

    # Who covers whom.
    active = [i for i, status in enumerate(statuses) if status == EmployerStatus.ACTIVE]
    rng_cover.shuffle(active)
    count = host.grassroots
    target = min(round(len(drafts) * COVERAGE), len(active))
    n_joint = round(count * JOINT_SHARE)
    if n_joint == 0 and count >= 2 and count - 1 < target:
        n_joint = 1
    kinds = [UnionKind.GRASSROOTS.value] * (count - n_joint) + [UnionKind.JOINT.value] * n_joint
    rng_cover.shuffle(kinds)
    dissolved = [
        kind == UnionKind.GRASSROOTS and rng_cover.random() < DISSOLVED_SHARE for kind in kinds
    ]
    covered_by: list[int | None] = [None] * len(drafts)
    employer_of: list[int | None] = [None] * count
    joint_positions: list[int] = []
    taken = 0
    for position, kind in enumerate(kinds):
        if kind == UnionKind.JOINT:
            joint_positions.append(position)
        elif not dissolved[position] and taken < target:
            employer_of[position] = active[taken]
            covered_by[active[taken]] = position
            taken += 1
    if joint_positions:
        for k, index in enumerate(active[taken:target]):
            covered_by[index] = joint_positions[k % len(joint_positions)]

    union_rows: list[tuple[Any, ...]] = []
    if unions:
        rng_union = random.Random(f"{seed}:{code}:unions")
        depth = host.fed.depth + 1
        joint_index = 0
        for position, kind in enumerate(kinds):
            established = datetime.date.fromordinal(
                rng_union.randrange(ESTABLISHED_FROM, ESTABLISHED_TO)
            )
            own_employer = employer_of[position]
            if kind == UnionKind.JOINT:
                name, section = names.joint_union_name(place, joint_index)
                joint_index += 1
                union_address = names.address(rng_union, place)
            else:
                if own_employer is not None:
                    draft = drafts[own_employer]
                    union_address = addresses[own_employer]
                else:
                    # The union of a workplace outside this registry (or of one since closed).
                    draft = names.employer(rng_union, place)
                    union_address = names.address(rng_union, place)
                name, section = f"{draft.name}工会委员会", draft.section
            closed: datetime.date | None = None
            status = UnionStatus.ACTIVE.value
            if dissolved[position]:
                status = UnionStatus.DISSOLVED.value
                closed = datetime.date.fromordinal(
                    established.toordinal() + rng_union.randint(365, 3 * 365)
                )
            industry_id = None
            linkable = status == UnionStatus.ACTIVE and section in host.industry_ids
            if linkable and rng_union.random() < INDUSTRY_LINK_SHARE:
                industry_id = host.industry_ids[section]
            union_rows.append(
                (
                    host.first_union_id + position,
                    host.fed.path + path_step(position + 1),
                    depth,
                    0,
                    name,
                    usccs.make("81" + code, host.union_serial + position),
                    UnionLevel.GRASSROOTS.value,
                    kind,
                    host.fed.region.id,
                    industry_id,
                    status,
                    None,
                    established,
                    closed,
                    union_address,
                    names.mobile_phone(rng_union),
                    now,
                    now,
                )
            )

    employer_rows: list[tuple[Any, ...]] = []
    if employers:
        covering_ids = [
            None if position is None else host.first_union_id + position for position in covered_by
        ]
        employer_rows = [
            (
                draft.name,
                usccs.make(draft.uscc_head + code, host.employer_serial + i),
                False,
                "",
                host.fed.region.id,
                draft.section,
                draft.ownership,
                draft.headcount,
                statuses[i],
                host.fed.id,
                covering_ids[i],
                addresses[i],
                now,
                now,
                None,
            )
            for i, draft in enumerate(drafts)
        ]
    return HostRows(unions=union_rows, employers=employer_rows)


def _employer_status(rng: random.Random) -> str:
    x = rng.random()
    for status, share in EMPLOYER_STATUSES:
        if x < share:
            return status
        x -= share
    return EMPLOYER_STATUSES[0][0]


def _grassroots_rows(
    plan: TreePlan, *, seed: int, usccs: UsccMaker, now: datetime.datetime
) -> Iterator[tuple[Any, ...]]:
    for host in plan.hosts:
        if host.grassroots:
            yield from host_rows(host, seed=seed, usccs=usccs, now=now, employers=False).unions


def _employer_rows(
    plan: TreePlan, *, seed: int, usccs: UsccMaker, now: datetime.datetime
) -> Iterator[tuple[Any, ...]]:
    for host in plan.hosts:
        if host.employers:
            yield from host_rows(host, seed=seed, usccs=usccs, now=now, unions=False).employers


# --- Guards, root and cadres


def refuse_unless_empty(*, reset: bool) -> None:
    """Called before anything is written, migrations included: a database that already holds
    a union tree or employers is only touched when ``reset`` says so."""
    if reset:
        return
    tables = set(connection.introspection.table_names())
    if {Union._meta.db_table, Employer._meta.db_table} <= tables:
        _require_empty()


def _require_empty() -> None:
    unions = Union.objects.count()
    employers = Employer.objects.count()
    if unions > 1 or employers:
        raise BenchError(
            f"数据库中已有数据（工会 {unions} 个，用人单位 {employers} 家），拒绝重复生成。"
            "确认这是基准测试专用数据库后，加 --reset 清空工会树和用人单位再重新生成。"
        )


def _truncate(cursor: Any) -> None:
    """Empty the union tree, the employers and every table that references them."""
    cursor.execute(
        f"TRUNCATE {Union._meta.db_table}, {Employer._meta.db_table} RESTART IDENTITY CASCADE"
    )
    load_regions(Region)


def _ensure_root() -> Union:
    root = Union.objects.filter(depth=1).first()
    if root is None:
        root = Union.objects.create(
            path=path_step(1),
            depth=1,
            numchild=0,
            name="中华全国总工会",
            level=UnionLevel.NATIONAL,
            kind=UnionKind.FEDERATION,
            status=UnionStatus.ACTIVE,
        )
    return root


def _sample_nodes(plan: TreePlan) -> list[tuple[str, str, int]]:
    """(level, username, union id) of one node per level, along one branch of the tree."""
    hosts = [h for h in plan.hosts if h.grassroots]
    if not hosts:
        return []
    preferred = [h for h in hosts if h.province.region.code == SAMPLE_PROVINCE_CODE]
    pool = preferred or hosts
    # A county under a city, so that every level gets a cadre: in the city with the most
    # grassroots unions, its county with the most.
    pool = [h for h in pool if h.fed.level == UnionLevel.COUNTY and h.fed.depth == 4] or pool
    per_city: dict[str, int] = defaultdict(int)
    for h in pool:
        per_city[h.fed.path[:12]] += h.grassroots
    city_path = max(per_city, key=lambda path: per_city[path])
    host = max((h for h in pool if h.fed.path.startswith(city_path)), key=lambda h: h.grassroots)
    by_path = {fed.path: fed for fed in plan.federations}
    nodes = [("province", host.province.id)]
    city = by_path.get(host.fed.path[:12])
    if city is not None and city.level == UnionLevel.CITY:
        nodes.append(("city", city.id))
    if host.fed.level == UnionLevel.COUNTY:
        nodes.append(("county", host.fed.id))
    grassroots = (
        Union.objects.filter(
            path__startswith=host.fed.path,
            depth=host.fed.depth + 1,
            kind=UnionKind.GRASSROOTS,
            status=UnionStatus.ACTIVE,
        )
        .order_by("path")
        .values_list("id", flat=True)
        .first()
    )
    if grassroots is not None:
        nodes.append(("grassroots", grassroots))
    return [(level, f"{CADRE_USERNAME_PREFIX}{level}", union_id) for level, union_id in nodes]


CADRE_NAMES = {
    "national": "全总基准测试干部",
    "province": "省级基准测试干部",
    "city": "市级基准测试干部",
    "county": "县级基准测试干部",
    "grassroots": "基层基准测试干部",
}


def _create_cadres(plan: TreePlan, *, password: str) -> dict[str, str]:
    """One cadre account per level on sample nodes; returns username -> union name."""
    root = Union.objects.get(depth=1)
    nodes = [("national", f"{CADRE_USERNAME_PREFIX}national", root.id), *_sample_nodes(plan)]
    hashed = make_password(password)
    unions = Union.objects.in_bulk([union_id for _, _, union_id in nodes])
    created: dict[str, str] = {}
    for level, username, union_id in nodes:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={"full_name": CADRE_NAMES[level], "password": hashed, "is_active": True},
        )
        RoleAssignment.objects.filter(user=user).delete()
        RoleAssignment.objects.create(user=user, union=unions[union_id], role=Role.CADRE)
        created[username] = unions[union_id].name
    return created


# --- Checking what was loaded


def check(plan: TreePlan) -> Report:
    """Count what is in the database, compare with the plan, and time one province's subtree
    lookup (and show its query plan)."""
    by_level = dict(
        Union.objects.order_by()
        .values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )
    by_kind = dict(
        Union.objects.order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    report = Report(
        provinces=by_level.get(UnionLevel.PROVINCE, 0) - by_kind.get(UnionKind.INDUSTRY, 0),
        cities=by_level.get(UnionLevel.CITY, 0),
        counties=by_level.get(UnionLevel.COUNTY, 0),
        industry=by_kind.get(UnionKind.INDUSTRY, 0),
        grassroots=by_level.get(UnionLevel.GRASSROOTS, 0),
        joint=by_kind.get(UnionKind.JOINT, 0),
        linked_to_industry=Union.objects.filter(industry_union__isnull=False).count(),
        employers=Employer.objects.count(),
        covered=Employer.objects.filter(covering_union__isnull=False).count(),
    )
    expected = {
        "provinces": len(plan.provinces),
        "cities": plan.cities,
        "counties": plan.counties,
        "industry": plan.industry,
        "grassroots": sum(h.grassroots for h in plan.hosts),
        "employers": sum(h.employers for h in plan.hosts),
    }
    wrong = [
        f"{key} 应为 {value}，实际 {getattr(report, key)}"
        for key, value in expected.items()
        if getattr(report, key) != value
    ]
    if wrong:
        raise BenchError("装载后的数量与计划不符：" + "；".join(wrong))

    hosts = [h for h in plan.hosts if h.grassroots] or plan.hosts
    if hosts:
        province = max(
            plan.provinces,
            key=lambda p: sum(h.grassroots for h in hosts if h.province is p),
        )
        report.sample_province = province.name
        Union.objects.filter(path__startswith=province.path).count()  # warm the cache
        with CaptureQueriesContext(connection) as queries:
            begin = time.perf_counter()
            report.subtree_unions = Union.objects.filter(path__startswith=province.path).count()
            report.subtree_seconds = time.perf_counter() - begin
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
            report.subtree_plan = [line for (line,) in cursor.fetchall()]
        report.subtree_uses_index = any("Index" in line for line in report.subtree_plan)
    return report


def _print_report(report: Report, out: TextIO) -> None:
    rate = report.covered / report.employers if report.employers else 0.0
    out.write(
        f"已装载：省级总工会 {report.provinces}，市级总工会 {report.cities}，"
        f"县级总工会 {report.counties}，产业工会 {report.industry}，"
        f"基层工会 {report.grassroots}（其中联合基层工会 {report.joint}，"
        f"另属产业工会 {report.linked_to_industry}），用人单位 {report.employers}"
        f"（已建会覆盖 {report.covered}，{rate:.1%}）\n"
    )
    for username, union in report.cadres.items():
        out.write(f"基准测试干部账号：{username} → {union}\n")
    if report.sample_province:
        out.write(
            f"子树查询 Union.objects.filter(path__startswith=…).count()（{report.sample_province}）："
            f"{report.subtree_unions} 个工会，{report.subtree_seconds * 1000:.1f} 毫秒\n"
        )
        out.write("查询计划：\n" + "".join(f"    {line}\n" for line in report.subtree_plan))
        if not report.subtree_uses_index:
            out.write("警告：子树查询没有使用 path 索引\n")
    server = (
        "未知（数据库不在本机）"
        if report.server_cpu_seconds is None
        else f"{report.server_cpu_seconds:.1f} 秒"
    )
    out.write(
        f"CPU 时间：本进程 {report.python_cpu_seconds:.1f} 秒，PostgreSQL 后端 {server}；"
        f"总耗时 {report.seconds:.1f} 秒\n"
    )
