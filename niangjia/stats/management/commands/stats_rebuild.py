"""Recount every statistic from the raw tables (after a bulk load that wrote no events)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from niangjia.stats import fold


class Command(BaseCommand):
    help = "从原始数据重新统计全部数字（批量装载数据后运行；运行期间汇总进程等待）"

    def handle(self, *args: Any, **options: Any) -> None:
        result = fold.rebuild()
        self.stdout.write(f"stats-rebuild: rows={result.rows} seconds={result.seconds:.1f}")
