"""Keep the statistics current: fold what committed since the last fold, every half second."""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from niangjia.stats import fold

log = logging.getLogger("niangjia.stats")


class Command(BaseCommand):
    help = "持续汇总统计数据：每隔 --interval 秒把新提交的变更计入各级工会的数字（Ctrl-C 停止）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=0.5, help="两次汇总的间隔（秒）")
        parser.add_argument("--once", action="store_true", help="只汇总一次就退出")
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="记录每一次有新数据的汇总（默认只记录超过 1 秒的）",
        )

    def handle(
        self, *args: Any, interval: float, once: bool, verbose: bool, **options: Any
    ) -> None:
        if once:
            self.stdout.write(f"stats-fold: {fold.fold_once()}")
            return
        stop = False

        def request_stop(signum: int, frame: Any) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        parent = os.getppid()
        log.info("stats folder started (every %.2f s)", interval)
        while not stop and os.getppid() == parent:
            started = time.monotonic()
            try:
                result = fold.fold_once()
                busy = result is not None and (result.events or result.audits or result.rebuilt)
                if result is not None and (
                    result.rebuilt or result.seconds > 1 or (verbose and busy)
                ):
                    log.info("stats fold: %s", result)
            except DatabaseError:
                log.exception("stats fold failed; retrying")
                close_old_connections()
                time.sleep(min(5.0, interval * 4))
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
        log.info("stats folder stopped")
