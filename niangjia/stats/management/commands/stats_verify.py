"""``make stats-verify``: recount a sample of nodes from the raw tables and compare."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand

from niangjia.orgs.models import Union
from niangjia.stats import verify


class Command(BaseCommand):
    help = (
        "核对统计数字：对全国、各省、一个产业工会和随机抽取的市、县、乡镇、基层工会，"
        "从原始数据重新统计每个指标，与接口提供的数字逐一比较；有任何不同即列出并以状态 1 退出"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=2024, help="抽样的随机种子")
        parser.add_argument("--size", type=int, default=8, help="每一层级随机抽取的工会数")
        parser.add_argument("--all", action="store_true", help="核对每一个工会（小库用）")
        parser.add_argument("--node", type=int, action="append", help="只核对这些编号的工会")

    def handle(
        self, *args: Any, seed: int, size: int, all: bool, node: list[int] | None, **options: Any
    ) -> None:
        started = time.monotonic()
        if node:
            nodes = list(Union.objects.filter(pk__in=node).order_by("path"))
        elif all:
            nodes = list(Union.objects.order_by("path"))
        else:
            nodes = verify.sample(seed=seed, size=size)
        report = verify.verify(nodes)
        for difference in report.differences[:200]:
            self.stderr.write(f"不一致：{difference}")
        if len(report.differences) > 200:
            self.stderr.write(f"……另有 {len(report.differences) - 200} 处不一致")
        line = (
            f"stats-verify: nodes={len(report.nodes)} figures={report.figures} "
            f"indicators={report.indicators} differences={len(report.differences)} "
            f"seconds={time.monotonic() - started:.1f}"
        )
        self.stdout.write(line)
        if not report.ok:
            sys.exit(1)
