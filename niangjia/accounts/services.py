"""Writes about accounts: second-factor enrolment (role grants and account admin live here too)."""

from __future__ import annotations

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record


def totp_pending_device(*, user: User) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled for ``user`` (created on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="动态口令", confirmed=False)
    return device


@transaction.atomic
def totp_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    """Confirm enrolment when ``token`` matches; audited."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    record(action=AuditAction.OTP_ENROLL, actor=user, object_type="accounts.user", object_id=str(user.pk))
    return True
