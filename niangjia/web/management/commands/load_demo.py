"""``manage.py load_demo``: load the demo data set (idempotent) and print the demo logins."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from niangjia.accounts.models import User
from niangjia.web.demo import demo_accounts_exist, load_demo, logins_table


class Command(BaseCommand):
    help = "载入演示数据（可重复运行，不会重复创建）并打印演示账号。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="仅当数据库中还没有任何账号时才载入（make run 使用）",
        )
        parser.add_argument("--no-logins", action="store_true", help="不打印演示账号表")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("数据库中已有账号，跳过载入演示数据。")
        else:
            started = time.monotonic()
            summary = load_demo(progress=self._progress if options["verbosity"] > 1 else None)
            elapsed = time.monotonic() - started
            if summary.created_anything:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"演示数据已载入（{elapsed:.1f} 秒）：新建工会 {summary.unions_created} 个、"
                        f"用人单位 {summary.employers_created} 家、账号 {summary.users_created} 个、"
                        f"角色 {summary.roles_created} 个、动态口令设备 {summary.devices_created} 个、"
                        f"会员 {summary.members.members_created} 名、"
                        f"待审批入会申请 {summary.members.applications_created} 份。"
                    )
                )
            else:
                self.stdout.write("演示数据已齐全，没有新建任何内容。")
        if not options["no_logins"] and demo_accounts_exist():
            self.stdout.write("")
            self.stdout.write("演示账号（所有账号密码相同）：")
            self.stdout.write(logins_table())
            self.stdout.write("")
            self.stdout.write(
                "管理员类账号登录后还需输入 6 位动态口令：运行 `make otp`"
                "（即 `.venv/bin/python manage.py demo_otp`）查看当前口令，"
                "或把上表的密钥加入手机上的身份验证器。"
            )

    def _progress(self, message: str) -> None:
        self.stdout.write(f"  … {message}")
