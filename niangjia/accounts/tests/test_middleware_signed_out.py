"""The second-factor and password-change guards do not load the user of a request whose
session holds no signed-in user (a worker's join post): it is anonymous. The answer still
varies with the Cookie header, and signed-in users are still guarded."""

from __future__ import annotations

import pytest
from django.contrib.auth import middleware as auth_middleware
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    loads: list[object] = []
    real = auth_middleware.get_user

    def counting(request):  # type: ignore[no-untyped-def]
        user = real(request)
        loads.append(user)
        return user

    monkeypatch.setattr(auth_middleware, "get_user", counting)
    return loads


def test_an_anonymous_request_is_answered_without_loading_its_user(client, user_loads):
    response = client.get("/healthz")
    assert response.status_code == 200 and user_loads == []
    assert "Cookie" in response["Vary"]


def test_a_signed_in_administrator_is_still_sent_to_the_second_factor(
    client_for, system_admin, user_loads
):
    response = client_for(system_admin, second_factor=False).get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_verify"))
    assert [u.pk for u in user_loads] == [system_admin.pk]


def test_a_signed_in_cadre_whose_password_was_set_is_still_sent_to_change_it(
    client_for, county_cadre, user_loads
):
    county_cadre.password_must_change = True
    county_cadre.save()
    response = client_for(county_cadre).get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("password_change"))
