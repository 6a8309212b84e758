from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from niangjia.orgs.models import Region
from niangjia.orgs.regions import REGIONS_CSV, load_regions


class Command(BaseCommand):
    help = "导入 GB/T 2260 行政区划（默认为随附的省、地、县三级；可导入乡级文件）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default=str(REGIONS_CSV))

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到区划文件：{path}")
        try:
            with transaction.atomic():
                counts = load_regions(Region, path)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(
            f"行政区划：新增 {counts['created']}，更新 {counts['updated']}，共 {counts['total']}"
        )
