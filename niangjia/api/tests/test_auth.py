"""Who may call the API: a live token, or a browser session past the second factor."""

from __future__ import annotations

import datetime
import json

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from niangjia.accounts.models import ApiToken, User
from niangjia.api.auth import CSRF_FAILED, INVALID_TOKEN, SECOND_FACTOR_REQUIRED
from niangjia.api.errors import UNAUTHENTICATED
from niangjia.orgs.models import Union
from niangjia.utilities.testing.personas import Tree, login

ME = "/api/v1/me"
CSRF_SECRET = "abcdefghijklmnopqrstuvwxyz012345"  # 32 characters, as Django's CSRF secret


def bearer(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def new_union_body(tree: Tree) -> str:
    return json.dumps(
        {
            "parent": tree.jiangan.pk,
            "name": "武汉江岸食品有限公司工会",
            "level": "grassroots",
            "kind": "grassroots",
            "region": "420102",
        }
    )


def test_valid_token_acts_as_its_user_and_records_its_use(county_cadre: User) -> None:
    token, raw = ApiToken.issue(user=county_cadre, name="数据对接")

    response = bearer(raw).get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "county_cadre"
    assert body["authenticated_by"] == "token"
    assert body["token"]["name"] == "数据对接"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_is_refused_in_chinese(county_cadre: User) -> None:
    token, raw = ApiToken.issue(user=county_cadre, name="已停用的对接")
    token.revoked_at = timezone.now()
    token.save()

    response = bearer(raw).get(ME)

    assert response.status_code == 401
    assert response.json() == {"detail": INVALID_TOKEN}


def test_expired_token_is_refused(county_cadre: User) -> None:
    _, raw = ApiToken.issue(
        user=county_cadre,
        name="过期令牌",
        expires_at=timezone.now() - datetime.timedelta(minutes=1),
    )

    response = bearer(raw).get(ME)

    assert response.status_code == 401
    assert response.json()["detail"] == INVALID_TOKEN


def test_token_not_yet_expired_is_accepted(county_cadre: User) -> None:
    _, raw = ApiToken.issue(
        user=county_cadre, name="有效期内", expires_at=timezone.now() + datetime.timedelta(days=1)
    )

    assert bearer(raw).get(ME).status_code == 200


@pytest.mark.parametrize("raw", ["nj_not-a-real-token", "", "x" * 500])
def test_unknown_or_malformed_token_is_refused(county_cadre: User, raw: str) -> None:
    response = bearer(raw).get(ME)

    assert response.status_code == 401
    assert response.json()["detail"] == INVALID_TOKEN


def test_token_of_a_deactivated_account_is_refused(county_cadre: User) -> None:
    _, raw = ApiToken.issue(user=county_cadre, name="离职人员的令牌")
    county_cadre.is_active = False
    county_cadre.save()

    assert bearer(raw).get(ME).status_code == 401


def test_anonymous_call_is_401_with_a_chinese_message(db: None) -> None:
    response = Client().get(ME)

    assert response.status_code == 401
    assert response.json() == {"detail": UNAUTHENTICATED}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_anonymous_write_is_401_not_a_csrf_refusal(tree: Tree) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/unions", new_union_body(tree), content_type="application/json"
    )

    assert response.status_code == 401


def test_a_wrong_token_is_not_rescued_by_the_session(county_cadre: User) -> None:
    client = login(Client(headers={"Authorization": "Bearer nj_wrong"}), county_cadre)

    assert client.get(ME).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(county_cadre: User) -> None:
    token, raw = ApiToken.issue(user=county_cadre, name="频繁调用")
    recent = timezone.now() - datetime.timedelta(seconds=10)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)

    assert bearer(raw).get(ME).status_code == 200

    token.refresh_from_db()
    assert token.last_used_at == recent


def test_session_of_a_signed_in_cadre_reads_the_api(county_cadre: User) -> None:
    client = login(Client(), county_cadre)

    response = client.get(ME)

    assert response.status_code == 200
    assert response.json()["authenticated_by"] == "session"
    assert response.json()["token"] is None


def test_session_write_without_csrf_token_is_refused(tree: Tree, county_cadre: User) -> None:
    client = login(Client(enforce_csrf_checks=True), county_cadre)

    response = client.post("/api/v1/unions", new_union_body(tree), content_type="application/json")

    assert response.status_code == 403
    assert response.json()["detail"] == CSRF_FAILED
    assert not Union.objects.filter(name="武汉江岸食品有限公司工会").exists()


def test_session_write_with_csrf_token_is_accepted(tree: Tree, county_cadre: User) -> None:
    client = login(Client(enforce_csrf_checks=True), county_cadre)
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET

    response = client.post(
        "/api/v1/unions",
        new_union_body(tree),
        content_type="application/json",
        headers={"X-CSRFToken": CSRF_SECRET},
    )

    assert response.status_code == 201


def test_token_writes_need_no_csrf_token(tree: Tree, county_cadre: User) -> None:
    _, raw = ApiToken.issue(user=county_cadre, name="对接")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})

    response = client.post("/api/v1/unions", new_union_body(tree), content_type="application/json")

    assert response.status_code == 201


def test_administrator_session_before_the_second_factor_is_refused(national_admin: User) -> None:
    client = login(Client(), national_admin, second_factor=False)

    response = client.get(ME)

    assert response.status_code == 403
    assert response.json()["detail"] == SECOND_FACTOR_REQUIRED


def test_session_auth_itself_refuses_an_unverified_administrator(national_admin: User) -> None:
    # Even without the middleware in front, the API's session check holds the line.
    middleware = [
        m for m in settings.MIDDLEWARE if m != "niangjia.accounts.middleware.SecondFactorMiddleware"
    ]
    with override_settings(MIDDLEWARE=middleware):
        client = login(Client(), national_admin, second_factor=False)
        response = client.get(ME)

    assert response.status_code == 403
    assert response.json()["detail"] == SECOND_FACTOR_REQUIRED


def test_administrator_session_after_the_second_factor_is_accepted(national_admin: User) -> None:
    client = login(Client(), national_admin)

    assert client.get(ME).status_code == 200


def test_administrator_token_needs_no_second_factor(national_admin: User) -> None:
    _, raw = ApiToken.issue(user=national_admin, name="全总数据交换")

    response = bearer(raw).get(ME)

    assert response.status_code == 200
    assert response.json()["username"] == "national_admin"
