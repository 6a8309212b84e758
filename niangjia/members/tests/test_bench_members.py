"""The member benchmarks' generators (bench/): synthetic ID numbers and phones everywhere;
on PostgreSQL a small tree with members loaded by COPY, read back as the application reads
them, and the member-list timing run over it."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from django.db import connection
from stdnum.cn import ric

from bench import members_generate, members_list, people
from bench.common import BenchError
from bench.synthetic import generate as generate_tree
from niangjia.members.choices import MemberStatus
from niangjia.members.identity import parse_id
from niangjia.members.models import Member, MemberEvent, Transfer, id_hash_of
from niangjia.orgs.models import Union

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the member generator loads with PostgreSQL COPY; set DATABASE_URL to PostgreSQL",
)


# --- Synthetic people (no database)


def test_id_numbers_are_valid_and_distinct_across_regions():
    maker = people.IdMaker()
    counties = people.county_codes()
    rng = random.Random(3)
    indexes = [*range(3_000), *rng.sample(range(people.ID_SPACE), 3_000), people.ID_SPACE - 1]
    numbers = set()
    for index in indexes:
        number, birth, sex = maker.make(index, rng.choice(counties))
        assert ric.calc_check_digit(number) == number[-1]
        identity = parse_id("resident", number)
        assert identity.birth_date == birth and identity.sex == sex
        numbers.add(number[6:17])
    assert len(numbers) == len(set(indexes))
    with pytest.raises(ValueError):
        maker.make(people.ID_SPACE, "110101")


def test_phones_are_distinct_mobile_numbers_and_names_fit_the_sex():
    phones = {people.phone(i) for i in range(50_000)}
    assert len(phones) == 50_000
    assert all(len(p) == 11 and p[0] == "1" and p[:3] in people.PHONE_PREFIXES for p in phones)
    rng = random.Random(5)
    for _ in range(200):
        assert set(people.name(rng, "F")[1:]) <= set(people.GIVEN_CHARS_FEMALE)
        assert set(people.name(rng, "M")[1:]) <= set(people.GIVEN_CHARS_MALE)


def test_the_generator_command_refuses_a_bad_count_in_chinese(capsys):
    with pytest.raises(SystemExit) as exit_info:
        members_generate.main(["--members", "0"])
    assert exit_info.value.code == 2
    assert "应为正整数" in capsys.readouterr().err


# --- A small tree with members (PostgreSQL)


@postgresql_only
@pytest.mark.django_db
def test_members_are_loaded_valid_spread_and_found_again(capsys):
    generate_tree(grassroots=120, employers=200, seed=11)
    report = members_generate.generate(members=3_000, seed=11, workers=2)

    assert report.members == Member.objects.count() == 3_000
    assert report.checked == 200
    statuses = Counter(Member.objects.values_list("status", flat=True))
    assert statuses[MemberStatus.ACTIVE] > 2_600
    assert set(statuses) <= set(MemberStatus.values)
    assert MemberEvent.objects.filter(kind=MemberEvent.Kind.JOINED).count() == 3_000
    not_active = Member.objects.exclude(status=MemberStatus.ACTIVE).count()
    assert MemberEvent.objects.count() == 3_000 + not_active
    transferring = Member.objects.filter(status=MemberStatus.TRANSFERRING)
    assert Transfer.objects.filter(member__in=transferring).count() == transferring.count()
    # Held by unions that take members, on their own path; distinct people throughout.
    holders = Union.objects.filter(pk__in=Member.objects.values("union"))
    assert all(u.kind in ("grassroots", "joint") or u.level == "county" for u in holders)
    assert not Member.objects.exclude(union_path__in=holders.values("path")).exists()
    assert Member.objects.values("id_hash").distinct().count() == 3_000
    assert Member.objects.values("phone_hash").distinct().count() == 3_000
    member = Member.objects.order_by("?").first()
    assert Member.objects.get(id_hash=id_hash_of(member.reveal_id_number())) == member
    assert Member.objects.filter(household="rural").count() > 300
    assert Member.objects.exclude(employer=None).count() > 2_000

    with pytest.raises(BenchError, match="--reset"):
        members_generate.refuse_unless_empty(reset=False)
    again = members_generate.generate(members=1_000, seed=12, workers=1, reset=True)
    assert again.members == Member.objects.count() == 1_000


@postgresql_only
@pytest.mark.django_db
def test_the_list_timing_reads_every_scope(capsys):
    generate_tree(grassroots=80, employers=120, seed=13)
    members_generate.generate(members=2_000, seed=13, workers=1)
    for scope, username in members_list.SCOPES:
        timings = members_list.measure(scope, username, repeat=2, seed=1)
        assert [t.what for t in timings][:2] == ["first", "deep"]
        first = timings[0]
        assert 0 < first.rows <= 50 and len(first.samples) == 2
        assert first.line().startswith(f"members-list: scope={scope} page=first n=2 p50=")
    plan = "\n".join(members_list.explain_deep("bench_national", 1))
    assert "member_union_path_id" in plan
