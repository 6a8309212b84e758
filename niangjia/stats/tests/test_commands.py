"""The management commands: one fold, a rebuild, and stats-verify catching a difference."""

import pytest
from django.core.management import call_command

from niangjia.stats.models import StatValue
from niangjia.stats.tests.conftest import fold_now

pytestmark = pytest.mark.django_db


def test_stats_fold_once_folds_and_says_what_it_did(populated, capsys):
    call_command("stats_fold", "--once")
    assert "stats-fold: events=0" in capsys.readouterr().out


def test_stats_rebuild_recounts_everything(populated, capsys):
    call_command("stats_rebuild")
    assert "stats-rebuild: rows=" in capsys.readouterr().out


def test_stats_verify_passes_when_every_figure_equals_a_recount(populated, capsys):
    call_command("stats_verify", "--all")
    out = capsys.readouterr().out
    assert "differences=0" in out
    assert "nodes=8" in out


def test_stats_verify_names_a_wrong_figure_and_fails(populated, capsys):
    t = populated.tree
    StatValue.objects.filter(node=t.wuhan, measure="members", dims="", period="").update(value=1)
    with pytest.raises(SystemExit) as exited:
        call_command("stats_verify", "--node", str(t.wuhan.pk))
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "武汉市总工会" in captured.err and "提供 1，重新统计 9" in captured.err
    assert "differences=" in captured.out


def test_stats_verify_samples_the_root_provinces_and_an_industry_union(populated, capsys):
    fold_now()
    call_command("stats_verify", "--size", "1")
    out = capsys.readouterr().out
    assert "differences=0" in out
