"""Delete stored exports past EXPORT_KEEP_HOURS and expire lapsed requests (for cron; every
export job also does it before it starts)."""

from typing import Any

from django.core.management.base import BaseCommand

from niangjia.exports.services import exports_cleanup


class Command(BaseCommand):
    help = "删除超过保留时间的导出文件，并将过期的明文导出申请标为已过期"

    def handle(self, *args: Any, **options: Any) -> None:
        files, expired = exports_cleanup()
        self.stdout.write(f"已删除导出文件 {files} 个，已过期申请 {expired} 项")
