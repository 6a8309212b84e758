"""Purge the household files closed more than ten years ago (their audit rows stay).

manage.py relief_purge            # delete them
manage.py relief_purge --dry-run  # only count them
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from niangjia.relief.services.purge import KEEP_YEARS, files_purge, purge_cutoff, purgeable_files


class Command(BaseCommand):
    help = f"删除销档满 {KEEP_YEARS} 年的困难职工档案（审计记录和资金台账保留）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="只统计，不删除")

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = purge_cutoff()
        if options["dry_run"]:
            count = len(purgeable_files())
            self.stdout.write(f"{cutoff} 以前销档、可删除的档案：{count} 份（未删除）")
            return
        count = files_purge()
        self.stdout.write(f"已删除 {cutoff} 以前销档的档案 {count} 份")
