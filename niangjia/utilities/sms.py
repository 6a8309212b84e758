"""Sending text messages through a pluggable backend (settings.SMS_BACKEND).

The default ConsoleBackend writes the message to the log, with the phone number masked, for
development and tests; a deployment plugs in its carrier's gateway by naming a class with the
same ``send(phone, text)`` method.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from niangjia.utilities.masking import mask_phone

logger = logging.getLogger("niangjia.sms")


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleBackend:
    def send(self, phone: str, text: str) -> None:
        logger.warning("短信 → %s：%s", mask_phone(phone), text)


class LocmemBackend:
    """Keeps messages in memory (tests read ``LocmemBackend.outbox``)."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        LocmemBackend.outbox.append((phone, text))


def send_sms(phone: str, text: str) -> None:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    backend.send(phone, text)
