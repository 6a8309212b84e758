"""``manage.py demo_otp``: the current TOTP code of each demo administrator."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from niangjia.web.demo import PERSONAS, current_totp


class Command(BaseCommand):
    help = "打印每个演示管理员账号当前的 6 位动态口令（仅用于演示密钥）。"

    def handle(self, *args: Any, **options: Any) -> None:
        now = time.time()
        remaining = 30 - int(now) % 30
        for persona in PERSONAS:
            if persona.totp_key:
                self.stdout.write(
                    f"{persona.username:<16} {current_totp(persona.totp_key, at=now)}"
                )
        self.stdout.write(f"（{remaining} 秒后更新）")
