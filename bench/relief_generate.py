"""Generate hardship-relief data at national scale on the bench tree, with COPY.

    make bench-relief                    (after make bench-data; see bench/README.md)
    .venv/bin/python bench/relief_generate.py --files 500000 --assistance 2000000 [--reset]

Files are spread over the active grassroots unions (the big provinces and cities get more, as
the unions do), in every state of the workflow — about 70 % on file, 12 % exited, 8 % closed,
6 % in the steps before filing and 4 % rejected — with the national form's fields, incomes
consistent with their category against the city's threshold, households of one to five with
household members, valid distinct ID numbers encrypted and keyed-hashed as the application does
(and the ``FilePerson`` rows of the one-open-file rule). Assistance records (default 2,000,000)
go to the households that were on file: distinct types and years per household, amounts by
type, paid from each province's yearly central fund, whose ledger and balance add up.
Thresholds for every city and year. Refuses SQLite and existing relief data unless --reset.
"""

from __future__ import annotations

import argparse
import datetime
import random
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import people
from bench.common import BenchError, Timer, bulk_load, copy_rows, migrate_if_needed

DEFAULT_FILES = 500_000
DEFAULT_ASSISTANCE = 2_000_000
DEFAULT_SEED = 2025
# Person indexes of relief people start here, apart from the members' (0 … 10 million).
PERSON_OFFSET = 12_000_000
FIRST_YEAR = 2021
RELIEF_TABLES = (
    "relief_hardshipfile",
    "relief_householdmember",
    "relief_fileperson",
    "relief_assistance",
)
ALL_TABLES = (*RELIEF_TABLES, "relief_fund", "relief_ledgerentry", "relief_livingthreshold")

STATES = (
    ("filed", 70.0),
    ("exited", 12.0),
    ("closed", 8.0),
    ("applied", 1.5),
    ("first_checked", 1.2),
    ("surveyed", 1.2),
    ("reviewed", 1.0),
    ("publicity", 1.1),
    ("rejected", 4.0),
)
OPEN = {"applied", "first_checked", "surveyed", "reviewed", "publicity", "filed"}
ON_FILE = {"filed", "exited", "closed"}
CATEGORIES = (("deep", 35.0), ("relative", 55.0), ("accident", 10.0))
CAUSES = (
    ("01", 30.0),
    ("02", 12.0),
    ("03", 14.0),
    ("04", 3.0),
    ("05", 5.0),
    ("06", 12.0),
    ("07", 14.0),
    ("08", 5.0),
    ("09", 3.0),
    ("10", 2.0),
)
LEVELS = (("county", 60.0), ("city", 25.0), ("province", 10.0), ("national", 5.0))
WORK = (
    ("on_post", 35.0),
    ("laid_off", 10.0),
    ("unemployed", 12.0),
    ("retired", 10.0),
    ("sick_leave", 8.0),
    ("early_retired", 5.0),
    ("migrant", 20.0),
)
HEALTH = (
    ("healthy", 45.0),
    ("chronic", 25.0),
    ("serious", 18.0),
    ("disabled", 8.0),
    ("incapacitated", 4.0),
)
HOUSING = (
    ("owned", 40.0),
    ("public_rental", 25.0),
    ("private_rental", 25.0),
    ("borrowed", 7.0),
    ("none", 3.0),
)
# Assistance: (type, weight, typical money amount; 0 = goods)
TYPES = (
    ("living", 35.0, 1500),
    ("warmth", 25.0, 800),
    ("medical", 15.0, 5000),
    ("education", 12.0, 3000),
    ("employment", 6.0, 0),
    ("training", 5.0, 0),
    ("loan", 2.0, 20000),
)
RELATIONS = ("spouse", "child", "parent", "child", "parent_in_law")


def _pick(rng: random.Random, table: Sequence[tuple[Any, ...]]) -> Any:
    values = [row[0] for row in table]
    weights = [row[1] for row in table]
    return rng.choices(values, weights=weights)[0]


@dataclass
class Holder:
    union_id: int
    path: str
    county_code: str
    city_region_id: int
    province_code: str


class Generator:
    def __init__(self, seed: int, out: Any) -> None:
        from django.utils import timezone

        from niangjia.members.models import ID_PURPOSE, PHONE_PURPOSE
        from niangjia.utilities import crypto
        from niangjia.utilities.masking import mask_id_number, mask_phone

        self.rng = random.Random(seed)
        self.out = out
        self.ids = people.IdMaker()
        self.encrypt, self.keyed_hash = crypto.encrypt, crypto.keyed_hash
        self.mask_id, self.mask_phone = mask_id_number, mask_phone
        self.id_purpose, self.phone_purpose = ID_PURPOSE, PHONE_PURPOSE
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.next_person = PERSON_OFFSET

    def person(self, region: str) -> tuple[str, datetime.date, str]:
        index = self.next_person
        self.next_person += 1
        return self.ids.make(index, region)


def _holders(cursor: Any) -> list[Holder]:
    """Active grassroots unions with their county, city region and province."""
    cursor.execute(
        """
        SELECT u.id, u.path, r.code,
               CASE WHEN r.level = 'county' THEN r.parent_id ELSE r.id END,
               substr(r.code, 1, 2) || '0000'
        FROM orgs_union u JOIN orgs_region r ON r.id = u.region_id
        WHERE u.level = 'grassroots' AND u.status = 'active'
        ORDER BY u.path
        """
    )
    return [Holder(*row) for row in cursor.fetchall()]


def _federations(cursor: Any) -> tuple[dict[int, int], dict[str, int], int]:
    """Federation union id by region id, province federation by province code, the root."""
    cursor.execute(
        "SELECT u.id, u.region_id, r.code, u.level FROM orgs_union u "
        "JOIN orgs_region r ON r.id = u.region_id "
        "WHERE u.kind = 'federation' AND u.status = 'active'"
    )
    by_region: dict[int, int] = {}
    by_province: dict[str, int] = {}
    for union_id, region_id, code, level in cursor.fetchall():
        by_region[region_id] = union_id
        if level == "province":
            by_province[code] = union_id
    cursor.execute("SELECT id FROM orgs_union WHERE depth = 1")
    (root,) = cursor.fetchone()
    return by_region, by_province, root


def _threshold(province_code: str, city_region_id: int, year: int) -> Decimal:
    """A plausible minimum-living threshold: richer provinces higher, +4 % a year."""
    base = 650 + (int(province_code[:2]) * 37 + city_region_id * 13) % 700
    return Decimal(round(base * (1.04 ** (year - FIRST_YEAR)))).quantize(Decimal("0.01"))


def _model_columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _defaults(model: Any, now: Any) -> dict[str, Any]:
    from django.db import models

    values: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            values[f.column] = now
        elif f.has_default():
            default = f.get_default()
            values[f.column] = default
        elif f.null:
            values[f.column] = None
        elif isinstance(f, models.CharField | models.TextField):
            values[f.column] = ""
        elif isinstance(f, models.BooleanField):
            values[f.column] = False
    return values


def generate(args: argparse.Namespace, out: Any) -> str:
    from django.db import connection, transaction

    from bench.common import require_postgresql
    from niangjia.relief.models import (
        Assistance,
        FilePerson,
        HardshipFile,
        HouseholdMember,
        LivingThreshold,
    )

    require_postgresql(connection)
    migrate_if_needed(connection, out)
    timer = Timer(out)
    gen = Generator(args.seed, out)
    rng = gen.rng
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orgs_union WHERE level = 'grassroots'")
        if cursor.fetchone()[0] == 0:
            raise BenchError("库中没有基层工会：请先运行 make bench-data 生成工会树")
        cursor.execute("SELECT EXISTS (SELECT 1 FROM relief_hardshipfile)")
        if cursor.fetchone()[0]:
            if args.if_empty and not args.reset:
                cursor.execute("SELECT count(*) FROM relief_hardshipfile")
                return f"relief-generate: 已有 {cursor.fetchone()[0]} 份档案，未重新生成"
            if not args.reset:
                raise BenchError("库中已有困难职工档案：加 --reset 清空帮扶数据后重新生成")
            with timer.phase("清空帮扶数据（TRUNCATE）"):
                cursor.execute(
                    "TRUNCATE relief_hardshipfile, relief_householdmember, relief_fileperson, "
                    "relief_fileevent, relief_attachment, relief_objection, relief_assistance, "
                    "relief_reliefplan, relief_planmeasure, relief_incomecheck, "
                    "relief_relapsewatch, relief_relapsecheck, relief_fund, relief_ledgerentry, "
                    "relief_disbursementbatch, relief_batchpayment, relief_livingthreshold, "
                    "relief_categoryrule, relief_assistancerule RESTART IDENTITY CASCADE"
                )
        holders = _holders(cursor)
        fed_by_region, fed_by_province, root = _federations(cursor)
        years = list(range(FIRST_YEAR, gen.today.year + 1))

        # Thresholds for every city region in use.
        cities = sorted({(h.city_region_id, h.province_code) for h in holders})
        with timer.phase(f"低保标准 COPY（{len(cities) * len(years)} 行）"):
            columns = _model_columns(LivingThreshold)[1:]
            base = _defaults(LivingThreshold, gen.now)
            rows = []
            for region_id, province in cities:
                for year in years:
                    values = {
                        **base,
                        "region_id": region_id,
                        "year": year,
                        "monthly_amount": _threshold(province, region_id, year),
                        "union_id": fed_by_region.get(
                            region_id, fed_by_province.get(province, root)
                        ),
                    }
                    rows.append([values[c] for c in columns])
            copy_rows(cursor, "relief_livingthreshold", columns, rows)

        # Heavier weight for unions in big cities: a union's weight is its city's union count.
        per_city: dict[int, int] = defaultdict(int)
        for h in holders:
            per_city[h.city_region_id] += 1
        weights = [1.0 + per_city[h.city_region_id] / 400 for h in holders]
        chosen = rng.choices(range(len(holders)), weights=weights, k=args.files)

        file_columns = _model_columns(HardshipFile)
        file_base = _defaults(HardshipFile, gen.now)
        member_columns = _model_columns(HouseholdMember)  # with the id: FilePerson refers to it
        member_base = _defaults(HouseholdMember, gen.now)
        person_columns = _model_columns(FilePerson)[1:]
        on_file: list[tuple[int, str, str, datetime.date]] = []  # id, path, province, filed_on
        counts: dict[str, int] = defaultdict(int)

        def file_rows() -> Iterator[list[Any]]:
            day0 = datetime.date(FIRST_YEAR, 1, 1)
            span = (gen.today - day0).days - 40
            # Files arrive over time from all over the country: ids in no order of the tree.
            for pk, index in enumerate(chosen, start=1):
                h = holders[index]
                state = _pick(rng, STATES)
                counts[state] += 1
                category = _pick(rng, CATEGORIES) if state != "rejected" else ""
                size = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5))
                applied = day0 + datetime.timedelta(days=rng.randrange(span))
                threshold = _threshold(h.province_code, h.city_region_id, applied.year)
                if category == "deep" or (state == "rejected" and rng.random() < 0.2):
                    per_head = threshold * Decimal(rng.uniform(0.35, 0.98))
                elif category == "relative":
                    per_head = threshold * Decimal(rng.uniform(1.0, 1.95))
                else:
                    per_head = threshold * Decimal(rng.uniform(1.2, 2.6))
                total = (per_head * 12 * size).quantize(Decimal("1"))
                wage = (total / 12 * Decimal(rng.uniform(0.3, 0.9))).quantize(Decimal("1"))
                other = total - wage * 12
                id_number, birth, sex = gen.person(h.county_code)
                phone = people.phone(gen.next_person)
                main_cause = _pick(rng, CAUSES)
                values = dict(file_base)
                values.update(
                    {
                        "id": pk,
                        "name": people.name(rng, sex),
                        "id_type": "resident",
                        "id_number_enc": gen.encrypt(id_number, purpose=gen.id_purpose),
                        "id_hash": gen.keyed_hash(id_number, purpose=gen.id_purpose),
                        "id_masked": gen.mask_id(id_number),
                        "sex": sex,
                        "birth_date": birth,
                        "phone_enc": gen.encrypt(phone, purpose=gen.phone_purpose),
                        "phone_hash": gen.keyed_hash(phone, purpose=gen.phone_purpose),
                        "phone_masked": gen.mask_phone(phone),
                        "household": "rural" if rng.random() < 0.3 else "urban",
                        "union_id": h.union_id,
                        "union_path": h.path,
                        "city_region_id": h.city_region_id,
                        "channel": "worker" if rng.random() < 0.35 else "cadre",
                        "state": state,
                        "health": _pick(rng, HEALTH),
                        "work_status": _pick(rng, WORK),
                        "housing_type": _pick(rng, HOUSING),
                        "single_parent": main_cause == "08",
                        "zero_employment": rng.random() < 0.06,
                        "monthly_wage": wage,
                        "other_income_year": max(other, Decimal(0)),
                        "household_income_year": total,
                        "household_size": size,
                        "income_per_head": (total / 12 / size).quantize(Decimal("0.01")),
                        "accident_loss_year": total * Decimal("0.9")
                        if category == "accident"
                        else 0,
                        "main_cause": main_cause,
                        "cause_2": rng.choice(("", "", "03", "07"))
                        if main_cause not in ("03", "07")
                        else "",
                        "category_proposed": category,
                        "category": category,
                        "archive_level": _pick(rng, LEVELS),
                        "applied_on": applied,
                    }
                )
                if state in ON_FILE or state in ("reviewed", "publicity"):
                    values["first_checked_on"] = applied + datetime.timedelta(days=3)
                    values["surveyed_on"] = values["consent_on"] = applied + datetime.timedelta(
                        days=8
                    )
                    values["reviewed_on"] = applied + datetime.timedelta(days=15)
                if state in ON_FILE:
                    filed = applied + datetime.timedelta(days=25)
                    values["publicity_starts_on"] = applied + datetime.timedelta(days=16)
                    values["publicity_ends_on"] = applied + datetime.timedelta(days=23)
                    values["filed_on"] = filed
                    reviewed = gen.today - datetime.timedelta(days=rng.randrange(0, 400))
                    values["last_reviewed_on"] = max(reviewed, filed)
                    values["review_due_on"] = values["last_reviewed_on"] + datetime.timedelta(
                        days=365
                    )
                    on_file.append((pk, h.path, h.province_code, filed))
                if state in ("exited", "closed"):
                    exited = min(
                        gen.today, filed + datetime.timedelta(days=rng.randrange(200, 900))
                    )
                    values["exit_kind"] = "out" if rng.random() < 0.7 else "relieved"
                    values["exited_on"] = exited
                    values["close_due_on"] = exited + datetime.timedelta(days=42)
                    if state == "closed":
                        values["closed_on"] = exited + datetime.timedelta(days=rng.randrange(5, 40))
                if state == "rejected":
                    values["rejected_on"] = applied + datetime.timedelta(days=10)
                    values["rejection_reason"] = "入户核实收入高于认定标准"
                yield [values[c] for c in file_columns]
                is_open = state in OPEN
                household.append((pk, size, h.county_code, is_open, values["id_hash"]))

        household: list[tuple[int, int, str, bool, str]] = []
        with bulk_load(cursor, RELIEF_TABLES, timer):
            with timer.phase(f"档案 COPY（{args.files} 行）"):
                copy_rows(cursor, "relief_hardshipfile", file_columns, file_rows())

            cursor.execute("SELECT COALESCE(max(id), 0) FROM relief_householdmember")
            member_pk = cursor.fetchone()[0]

            def member_rows() -> Iterator[list[Any]]:
                nonlocal member_pk
                for file_id, size, county, is_open, worker_hash in household:
                    persons.append((worker_hash, file_id, None, is_open))
                    for i in range(size - 1):
                        member_pk += 1
                        values = dict(member_base)
                        values.update(
                            {
                                "id": member_pk,
                                "file_id": file_id,
                                "name": people.name(rng),
                                "relation": RELATIONS[i % len(RELATIONS)],
                                "monthly_income": Decimal(rng.choice((0, 0, 500, 1200, 2000))),
                            }
                        )
                        if rng.random() < 0.75:
                            number, birth, _sex = gen.person(county)
                            id_hash = gen.keyed_hash(number, purpose=gen.id_purpose)
                            values.update(
                                {
                                    "id_number_enc": gen.encrypt(number, purpose=gen.id_purpose),
                                    "id_hash": id_hash,
                                    "id_masked": gen.mask_id(number),
                                    "birth_date": birth,
                                }
                            )
                            persons.append((id_hash, file_id, member_pk, is_open))
                        yield [values[c] for c in member_columns]

            persons: list[tuple[str, int, int | None, bool]] = []
            with timer.phase("家庭成员 COPY"):
                members = copy_rows(cursor, "relief_householdmember", member_columns, member_rows())
            with timer.phase(f"档案人员 COPY（{len(persons)} 行）"):
                copy_rows(cursor, "relief_fileperson", person_columns, ([*p] for p in persons))

            # Funds: each province's central fund per year.
            fund_ids: dict[tuple[str, int], int] = {}
            with timer.phase("资金"):
                for code, union_id in sorted(fed_by_province.items()):
                    for year in years:
                        cursor.execute(
                            "INSERT INTO relief_fund (name, source, year, union_id, balance, "
                            "created_at) VALUES (%s, 'central', %s, %s, 0, %s) RETURNING id",
                            ["中央财政困难职工帮扶专项资金", year, union_id, gen.now],
                        )
                        fund_ids[(code, year)] = cursor.fetchone()[0]

            spent: dict[int, Decimal] = defaultdict(Decimal)
            assistance_columns = _model_columns(Assistance)[1:]
            assistance_base = _defaults(Assistance, gen.now)
            combos = [(t[0], y) for t in TYPES for y in years]
            type_weights = {t[0]: t[1] for t in TYPES}
            amounts = {t[0]: t[2] for t in TYPES}

            def assistance_rows() -> Iterator[list[Any]]:
                remaining = args.assistance
                per_file = (
                    1.03 * remaining / max(1, len(on_file))
                )  # a little over: stops at the count
                for position, (file_id, path, province, filed) in enumerate(on_file):
                    left_files = len(on_file) - position
                    k = min(len(combos), max(0, round(rng.gauss(per_file, 1.5))))
                    k = min(k, remaining) if left_files > 1 else min(remaining, len(combos))
                    pool = [c for c in combos if c[1] >= filed.year]
                    if not pool or k <= 0:
                        continue
                    weights = [type_weights[c[0]] for c in pool]
                    picked: set[tuple[str, int]] = set()
                    while len(picked) < min(k, len(pool)):
                        picked.add(rng.choices(pool, weights=weights)[0])
                    for kind, year in picked:
                        first = max(filed, datetime.date(year, 1, 1))
                        last = min(gen.today, datetime.date(year, 12, 31))
                        if last < first:
                            continue
                        day = first + datetime.timedelta(
                            days=rng.randrange((last - first).days + 1)
                        )
                        typical = amounts[kind]
                        money = (
                            Decimal(round(typical * rng.uniform(0.5, 1.5), -1))
                            if typical
                            else Decimal(0)
                        )
                        goods = (
                            Decimal(rng.choice((200, 300, 500)))
                            if not typical or (kind == "warmth" and rng.random() < 0.5)
                            else Decimal(0)
                        )
                        if kind == "warmth" and goods:
                            money = Decimal(0)
                        if not money and not goods:
                            goods = Decimal(300)
                        roll = rng.random()
                        state = "paid" if roll < 0.97 else "rejected" if roll < 0.99 else "failed"
                        fund = fund_ids.get((province, year)) if money else None
                        if state == "paid" and fund is not None:
                            spent[fund] += money
                        values = dict(assistance_base)
                        values.update(
                            {
                                "file_id": file_id,
                                "union_path": path,
                                "assistance_type": kind,
                                "amount": money,
                                "in_kind_value": goods,
                                "goods": "米、面、油" if goods else "",
                                "date": day,
                                "year": year,
                                "cycle_key": str(year),
                                "fund_id": fund,
                                "state": state,
                                "approved_at": gen.now,
                                "paid_at": gen.now if state == "paid" else None,
                            }
                        )
                        remaining -= 1
                        yield [values[c] for c in assistance_columns]
                        if remaining <= 0:
                            return

            with timer.phase(f"帮扶记录 COPY（{args.assistance} 行）"):
                assistance = copy_rows(
                    cursor, "relief_assistance", assistance_columns, assistance_rows()
                )

        with timer.phase("资金台账"):
            ledger_columns = [
                "fund_id", "kind", "amount", "balance_after", "note", "actor_name", "created_at"
            ]  # fmt: skip
            ledger: list[list[Any]] = []
            balances: dict[int, Decimal] = {}
            for fund in fund_ids.values():
                paid = spent.get(fund, Decimal(0))
                budget = (paid * Decimal("1.25") + Decimal(1_000_000)).quantize(Decimal("1"))
                ledger.append(
                    [
                        fund,
                        "income",
                        budget,
                        budget,
                        "中央财政专项资金下达（基准数据）",
                        "",
                        gen.now,
                    ]
                )
                ledger.append(
                    [
                        fund,
                        "payment",
                        -paid,
                        budget - paid,
                        "历年帮扶支出汇总（基准数据）",
                        "",
                        gen.now,
                    ]
                )
                balances[fund] = budget - paid
            copy_rows(cursor, "relief_ledgerentry", ledger_columns, ledger)
            cursor.executemany(
                "UPDATE relief_fund SET balance = %s WHERE id = %s",
                [(b, f) for f, b in balances.items()],
            )
        with timer.phase("序列"):
            for table in ALL_TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"GREATEST((SELECT max(id) FROM {table}), 1))"
                )
    # Outside the transaction: VACUUM sets the visibility map, so that the list's index-only
    # scans need not visit the table (autovacuum would do the same a little later).
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            with timer.phase("ANALYZE"):
                for table in ALL_TABLES:
                    cursor.execute(f"ANALYZE {table}")
        else:
            with timer.phase("VACUUM ANALYZE"):
                for table in ALL_TABLES:
                    cursor.execute(f"VACUUM (ANALYZE) {table}")
    states = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    return (
        f"relief-generate: files={args.files} household_members={members} "
        f"people={len(persons)} assistance={assistance} {states} seconds={timer.total:.1f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="在基准工会树上生成困难职工帮扶数据")
    parser.add_argument("--files", type=int, default=DEFAULT_FILES, help="档案数")
    parser.add_argument("--assistance", type=int, default=DEFAULT_ASSISTANCE, help="帮扶记录数")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子")
    parser.add_argument("--reset", action="store_true", help="先清空已有的帮扶数据")
    parser.add_argument("--if-empty", action="store_true", help="已有帮扶数据时什么也不做")
    args = parser.parse_args(argv)
    if not 1 <= args.files <= 3_000_000:
        parser.error("--files 应在 1 至 3000000 之间")
    if not 0 <= args.assistance <= 20_000_000:
        parser.error("--assistance 应在 0 至 20000000 之间")
    from bench.common import setup_django

    setup_django()
    try:
        line = generate(args, sys.stdout)
    except BenchError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
