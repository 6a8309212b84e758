"""``manage.py run_jobs``: the background job worker (see niangjia/jobs/registry.py)."""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from niangjia.jobs.worker import POLL_SECONDS, Worker

log = logging.getLogger("niangjia.jobs")


class Command(BaseCommand):
    help = (
        "运行后台任务：从数据库队列中领取任务并执行，直到收到 SIGTERM/SIGINT；"
        "--once 时队列空了就退出。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="执行到队列为空后退出（不等待新任务）"
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=POLL_SECONDS,
            help=f"队列为空时每隔多少秒查看一次（默认 {POLL_SECONDS}）",
        )
        parser.add_argument(
            "--handlers",
            action="append",
            default=[],
            metavar="MODULE",
            help="另外导入的任务处理模块（可重复；各应用的 jobs 模块总会导入）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for module in options["handlers"]:
            importlib.import_module(module)
        stop = threading.Event()

        def request_stop(signum: int, frame: Any) -> None:
            log.info("signal %s: finishing the current step, then stopping", signum)
            stop.set()

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            with _logging_to(self.stdout):
                Worker(stop=stop, once=options["once"], poll=options["poll"]).run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@contextmanager
def _logging_to(stream: Any) -> Iterator[None]:
    """The worker's log lines (logger ``niangjia.jobs``, INFO and up) go to ``stream``."""
    logger = logging.getLogger("niangjia.jobs")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
