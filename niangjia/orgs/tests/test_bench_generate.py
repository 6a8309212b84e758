"""The synthetic-data generator of bench/: valid codes, and a consistent tree on PostgreSQL."""

from __future__ import annotations

import random
import re
from collections import Counter
from types import SimpleNamespace

import pytest
from django.db import connection
from stdnum.cn import uscc as stdnum_uscc

from bench import generate as generate_cli
from bench.codes import MAX_CHILDREN, UsccMaker, org_code_check_char, path_step
from bench.common import BenchError, require_postgresql
from bench.synthetic import CADRE_USERNAME_PREFIX, allocate, generate
from niangjia.accounts.models import User
from niangjia.orgs.choices import EmployerStatus, UnionKind, UnionLevel, UnionStatus
from niangjia.orgs.models import Employer, Region, Union
from niangjia.orgs.rules import check_placement

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the bench generator loads with PostgreSQL COPY; set DATABASE_URL to PostgreSQL",
)


# --- Codes (no database)


@pytest.mark.parametrize("head", ["91440305", "92110101", "12650102", "11540102", "81320508"])
def test_uscc_maker_makes_codes_that_stdnum_accepts(head: str) -> None:
    maker = UsccMaker(offset=12_345)
    rng = random.Random(head)
    serials = list(range(500)) + [rng.randrange(31**8) for _ in range(2_000)] + [31**8 - 1]
    for serial in serials:
        code = maker.make(head, serial)
        assert stdnum_uscc.validate(code) == code
        assert code[:8] == head
        assert code[-1] == stdnum_uscc.calc_check_digit(code[:17])
        assert code[16] == org_code_check_char(code[8:16])


def test_uscc_maker_gives_distinct_serials_distinct_codes() -> None:
    maker = UsccMaker(offset=99)
    codes = {maker.make("91110101", serial) for serial in range(20_000)}
    assert len(codes) == 20_000


def test_organisation_code_check_character_follows_gb_11714() -> None:
    # 91110000600037341L carries the organisation code 60003734-1.
    assert org_code_check_char("60003734") == "1"
    assert stdnum_uscc.is_valid("91110000600037341L")


def test_path_steps_number_children_as_treebeard_does() -> None:
    for position in (1, 2, 9, 10, 35, 36, 37, 1_295, 1_296, MAX_CHILDREN):
        assert path_step(position) == Union._get_path(None, 1, position)
    assert path_step(1) == "0001"
    assert path_step(MAX_CHILDREN) == "ZZZZ"
    with pytest.raises(ValueError):
        path_step(0)
    with pytest.raises(ValueError):
        path_step(MAX_CHILDREN + 1)


def test_allocate_splits_the_exact_total_in_proportion() -> None:
    parts = allocate(1_000, [1.0, 3.0, 0.0, 6.0])
    assert parts == [100, 300, 0, 600]
    uneven = allocate(7, [1.0, 1.0, 1.0])
    assert sum(uneven) == 7 and max(uneven) - min(uneven) == 1
    assert allocate(0, [1.0, 2.0]) == [0, 0]


def test_generator_refuses_a_database_other_than_postgresql() -> None:
    with pytest.raises(BenchError, match="只支持 PostgreSQL"):
        require_postgresql(SimpleNamespace(vendor="sqlite"))


def test_command_line_rejects_a_negative_count_in_chinese(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        generate_cli.main(["--grassroots", "-5"])
    assert exit_info.value.code == 2
    assert "--grassroots: 应为非负整数" in capsys.readouterr().err


@pytest.mark.skipif(connection.vendor != "sqlite", reason="checks the refusal of SQLite")
def test_command_line_refuses_sqlite_before_touching_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert generate_cli.main(["--grassroots", "10", "--employers", "10"]) == 2
    err = capsys.readouterr().err
    assert "只支持 PostgreSQL" in err and "DATABASE_URL" in err


# --- A tiny tree in the test database (PostgreSQL)


@postgresql_only
@pytest.mark.django_db
def test_tiny_tree_is_consistent() -> None:
    report = generate(grassroots=200, employers=300, seed=7)

    assert report.provinces == 31
    assert report.grassroots == 200
    assert report.employers == 300
    assert report.cities == Union.objects.filter(level=UnionLevel.CITY).count() > 300
    assert report.counties == Region.objects.filter(level="county", code__lt="700000").count()
    assert report.subtree_uses_index

    # Tree integrity: characters, step length, orphans, depth, numchild. Treebeard's own
    # check asks two queries per node, so it runs on two subtrees; the same five checks run
    # over the whole tree from one query.
    beijing = Union.objects.get(kind=UnionKind.FEDERATION, region__code="110000")
    county_cadre = User.objects.get(username=f"{CADRE_USERNAME_PREFIX}county")
    sample_county = county_cadre.role_assignments.get().union
    assert Union.objects.find_problems(parent=beijing) == ([], [], [], [], [])
    assert Union.objects.find_problems(parent=sample_county) == ([], [], [], [], [])
    rows = list(Union.objects.values_list("path", "depth", "numchild"))
    paths = {path for path, _, _ in rows}
    children = Counter(path[:-4] for path, depth, _ in rows if depth > 1)
    for path, depth, numchild in rows:
        assert re.fullmatch(r"(?:[0-9A-Z]{4})+", path)
        assert depth == len(path) // 4
        assert depth == 1 or path[:-4] in paths
        assert numchild == children[path]
    root = Union.objects.get(depth=1)
    assert root.numchild == 31 == Union.objects.get_children_count(root)
    assert Union.objects.filter(level=UnionLevel.GRASSROOTS, depth__lt=4).count() == 0

    # Every USCC is valid; unions' own codes start with 81.
    employer_codes = list(Employer.objects.values_list("uscc", flat=True))
    assert len(employer_codes) == 300 and all(stdnum_uscc.is_valid(c) for c in employer_codes)
    union_codes = list(Union.objects.exclude(uscc=None).values_list("uscc", flat=True))
    assert len(union_codes) == 200
    assert all(stdnum_uscc.is_valid(c) and c.startswith("81") for c in union_codes)

    # Subtree counts add up: per province, by path, to the whole.
    provinces = list(Union.objects.filter(level=UnionLevel.PROVINCE, kind=UnionKind.FEDERATION))
    assert (
        sum(
            Union.objects.filter(path__startswith=p.path, level=UnionLevel.GRASSROOTS).count()
            for p in provinces
        )
        == 200
    )
    assert (
        sum(Employer.objects.filter(owner__path__startswith=p.path).count() for p in provinces)
        == 300
    )
    for province in provinces:
        subtree = Union.objects.filter(path__startswith=province.path)
        assert subtree.count() == 1 + sum(
            u.numchild for u in subtree.exclude(level=UnionLevel.GRASSROOTS)
        )

    # Employers are registered with their county's federation and covered by its unions.
    covered = 0
    for employer in Employer.objects.select_related("owner", "covering_union"):
        assert employer.owner.kind == UnionKind.FEDERATION
        assert employer.owner.region_id == employer.region_id
        if employer.covering_union is not None:
            covered += 1
            assert employer.status == EmployerStatus.ACTIVE
            assert employer.covering_union.status == UnionStatus.ACTIVE
            assert employer.covering_union.path[:-4] == employer.owner.path
    # A tiny tree has many counties with one union and a few employers: below 75 %.
    assert covered == report.covered and 0.5 * 300 <= covered <= 0.8 * 300

    # Every grassroots union sits where the tree rules allow, industry link included.
    grassroots = Union.objects.filter(level=UnionLevel.GRASSROOTS).select_related(
        "region", "industry_union"
    )
    for union in grassroots:
        check_placement(
            parent=Union.objects.get_parent(union),
            level=union.level,
            kind=union.kind,
            region=union.region,
            industry_union=union.industry_union,
            union=union,
        )
        if union.industry_union is not None:
            assert union.path[:8] == union.industry_union.path[:8]  # same province
    assert report.linked_to_industry == grassroots.exclude(industry_union=None).count()

    # One cadre per level, whose scope is exactly their union's subtree.
    county = sample_county
    assert county.level == UnionLevel.COUNTY
    assert set(Union.objects.restrict(county_cadre, "view")) == set(county.subtree())
    assert User.objects.filter(username__startswith=CADRE_USERNAME_PREFIX).count() == 5


@postgresql_only
@pytest.mark.django_db
def test_second_run_is_refused_and_reset_rebuilds_the_same_tree() -> None:
    generate(grassroots=50, employers=80, seed=11)
    unions_before = Union.objects.count()
    codes_before = set(Employer.objects.values_list("uscc", flat=True))

    with pytest.raises(BenchError, match="--reset"):
        generate(grassroots=50, employers=80, seed=11)
    assert Union.objects.count() == unions_before
    assert Employer.objects.count() == 80

    report = generate(grassroots=50, employers=80, seed=11, reset=True)
    assert report.grassroots == 50 and report.employers == 80
    assert Union.objects.count() == unions_before
    assert set(Employer.objects.values_list("uscc", flat=True)) == codes_before
    assert Union.objects.get(depth=1).numchild == 31
