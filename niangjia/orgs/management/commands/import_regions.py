from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from niangjia.orgs.models import Region
from niangjia.orgs.regions import REGIONS_CSV, load_regions


class Command(BaseCommand):
    help = "导入 GB/T 2260 行政区划（默认为随附的省、地、县三级；可导入乡级文件）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default=str(REGIONS_CSV))

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            counts = load_regions(Region, Path(options["file"]))
        self.stdout.write(
            f"行政区划：新增 {counts['created']}，更新 {counts['updated']}，共 {counts['total']}"
        )
