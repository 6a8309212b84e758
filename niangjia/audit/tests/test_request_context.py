"""The request id: a sane X-Request-ID from the client (or proxy) is kept, anything else is
replaced by a fresh one; it is answered in the response and reaches the request's audit rows."""

from __future__ import annotations

import re

import pytest

from niangjia.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_sane_incoming_request_id_is_kept_and_answered(client):
    response = client.get("/healthz", headers={"X-Request-ID": "proxy-1234abcd"})
    assert response["X-Request-ID"] == "proxy-1234abcd"


@pytest.mark.parametrize("incoming", ["", "short", "bad id with spaces", "x" * 65])
def test_an_insane_or_missing_request_id_is_replaced(client, incoming):
    headers = {"X-Request-ID": incoming} if incoming else {}
    response = client.get("/healthz", headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_the_request_id_reaches_the_audit_row_of_a_failed_login(client):
    client.post(
        "/accounts/login/",
        {"username": "nobody-here", "password": "wrong-password"},
        headers={"X-Request-ID": "req-login-0001"},
    )
    assert AuditEntry.objects.filter(request_id="req-login-0001").exists()
