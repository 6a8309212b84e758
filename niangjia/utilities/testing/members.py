"""Test data for the member registry: valid synthetic ID numbers and phones, members."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from niangjia.members import services
from niangjia.members.choices import ApplicationChannel, IdType
from niangjia.members.identity import ric_check_digit
from niangjia.members.models import Member
from niangjia.orgs.models import Union

_seq = itertools.count(1)


def make_id_number(
    *, region: str = "420102", birth: str = "19900101", serial: int | None = None
) -> str:
    """A valid 18-digit resident ID number (GB 11643 check digit)."""
    n = next(_seq) if serial is None else serial
    body = f"{region}{birth}{n % 1000:03d}"
    return body + ric_check_digit(body)


def make_phone(serial: int | None = None) -> str:
    n = next(_seq) if serial is None else serial
    return f"139{n % 100_000_000:08d}"


def join_data(**overrides: Any) -> services.JoinData:
    values: dict[str, Any] = {
        "name": "张伟",
        "id_type": IdType.RESIDENT,
        "id_number": make_id_number(),
        "phone": make_phone(),
        "employer_name": "武汉某物流有限公司",
        "occupation": "装卸工",
    }
    values.update(overrides)
    return services.JoinData(**values)


def make_member(union: Union, **overrides: Any) -> Member:
    """A member of ``union`` made through the real joining and approval path."""
    application = services.application_submit(
        union=union,
        data=join_data(**overrides),
        channel=ApplicationChannel.ONLINE,
        phone_verified=True,
    )
    member = services._approve(application, acting_user=None, reason="测试数据")
    return member


def today() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate()
