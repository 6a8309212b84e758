"""The relief benchmark (bench/relief_generate.py, bench/relief_bench.py) on a small tree
(PostgreSQL): the data it loads are the application's own, and the timing runs over them."""

from __future__ import annotations

import argparse
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from bench import relief_bench, relief_generate
from bench.synthetic import generate as generate_tree
from niangjia.accounts.models import User
from niangjia.relief.choices import OPEN_STATES, FileState
from niangjia.relief.models import Assistance, FilePerson, Fund, HardshipFile, LedgerEntry
from niangjia.relief.services import rules

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the relief generator loads with PostgreSQL COPY; set DATABASE_URL to PostgreSQL",
)


def test_the_generator_refuses_a_bad_count_in_chinese(capsys):
    with pytest.raises(SystemExit) as exit_info:
        relief_generate.main(["--files", "0"])
    assert exit_info.value.code == 2
    assert "--files 应在" in capsys.readouterr().err


@postgresql_only
@pytest.mark.django_db
def test_generated_files_follow_the_rules_and_the_batch_posts_exactly():
    generate_tree(grassroots=120, employers=200, seed=7)
    args = argparse.Namespace(files=600, assistance=2_000, seed=7, reset=False, if_empty=False)
    line = relief_generate.generate(args, io.StringIO())
    assert line.startswith("relief-generate: files=600")
    assert HardshipFile.objects.count() == 600
    assert Assistance.objects.count() == 2_000
    # One open file per person: every open file's people are open, nobody twice.
    open_people = FilePerson.objects.filter(is_open=True)
    assert open_people.values("id_hash").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert not FilePerson.objects.filter(is_open=True).exclude(file__state__in=OPEN_STATES).exists()
    # Incomes fit the category against the city's threshold.
    file = HardshipFile.objects.filter(category="deep", state=FileState.FILED).first()
    assert file.income_per_head < rules.threshold_for(file.city_region, file.applied_on.year)
    assert file.reveal_id_number()[-4:] == file.id_masked[-4:]
    # Funds: the ledger adds up to the balance.
    for fund in Fund.objects.all():
        assert fund.balance == LedgerEntry.objects.filter(fund=fund).aggregate(s=Sum("amount"))["s"]
    # The bench's users come from the tree generator; the batch posts and checks itself.
    user = User.objects.get(username="bench_province")
    p50, p95, _ = relief_bench.time_list(user, 1)
    assert 0 < p50 <= p95
    eligible = HardshipFile.objects.filter(state=FileState.FILED).count()
    result = relief_bench.run_batch(min(100, eligible), io.StringIO())
    assert result["paid"] == min(100, eligible)
    assert result["total"] == relief_bench.AMOUNT * result["paid"]
    assert Decimal(0) <= Fund.objects.order_by("-id").first().balance
    again = relief_generate.generate(
        argparse.Namespace(files=10, assistance=0, seed=7, reset=False, if_empty=True),
        io.StringIO(),
    )
    assert "未重新生成" in again
