"""Smoke test of bench/verification.py on PostgreSQL: it runs, prints its one line and leaves
nothing behind."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from bench.verification import run
from niangjia.orgs.models import Employer, Union
from niangjia.verification.models import VerificationCampaign


@pytest.mark.django_db
def test_bench_prints_one_line_of_figures_and_rolls_everything_back() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the bench runs on PostgreSQL only")
    before = (Union.objects.count(), Employer.objects.count())
    line = run(40, 1)
    assert re.fullmatch(
        r"verification: employers=40 repeat=1 create=\d+ms split=\d+ms mark=\d+ms "
        r"bulk100=\d+ms list=\d+ms close=\d+ms \(writes 6 status changes\)",
        line,
    ), line
    assert (Union.objects.count(), Employer.objects.count()) == before
    assert not VerificationCampaign.objects.exists()
