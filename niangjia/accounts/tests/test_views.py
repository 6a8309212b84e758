"""Account pages: who reaches which page (scoped cases), and what the pages do."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from niangjia.accounts.choices import Action, Role
from niangjia.accounts.models import ApiToken, RoleAssignment, User
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import PERSONA_PASSWORD, Tree

NEW_PASSWORD = "Chang-Jiang-2024!"


def two_accounts(tree: Tree) -> dict[str, Any]:
    """A cadre account in 江岸区 and one in 江汉区 (the sibling county), with a token each."""
    made: dict[str, Any] = {}
    for key, union in (
        ("jiangan", tree.jiangan_grassroots),
        ("jianghan", tree.jianghan_grassroots),
    ):
        user = User.objects.create_user(
            username=f"{key}_account", password=PERSONA_PASSWORD, full_name=f"{union.name}账号"
        )
        made[key] = user
        made[f"{key}_role"] = RoleAssignment.objects.create(user=user, union=union, role=Role.CADRE)
        made[f"{key}_token"], _ = ApiToken.issue(user=user, name="对接")
    return made


def user_url(name: str, key: str) -> Any:
    return lambda t, extra: reverse(name, args=[extra[key].pk])


PASSWORDS = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}


class TestAccountPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="user-list-county",
            url=lambda t: reverse("user_list"),
            model=User,
            setup=two_accounts,
            allowed=("county_system_admin", "county_security_admin"),
            forbidden=("county_cadre", "county_audit_admin", "worker"),
            contains=lambda t: ["jiangan_account"],
            excludes=lambda t: ["jianghan_account"],
        ),
        ScopedCase(
            name="user-list-root",
            url=lambda t: reverse("user_list"),
            model=User,
            setup=two_accounts,
            allowed=("system_admin", "security_admin"),
            contains=lambda t: ["jiangan_account", "jianghan_account"],
        ),
        ScopedCase(
            name="user-create-form",
            url=lambda t: reverse("user_create"),
            model=User,
            allowed=("county_system_admin", "system_admin"),
            forbidden=("county_security_admin", "county_cadre"),
        ),
        ScopedCase(
            name="user-create",
            url=lambda t: reverse("user_create"),
            method="post",
            action=Action.MANAGE_ACCOUNTS,
            model=User,
            data=lambda t: {
                "username": "new_person",
                "full_name": "新同志",
                "union": t.jiangan.pk,
                **PASSWORDS,
            },
            allowed="county_system_admin",
            forbidden=("county_security_admin", "county_cadre"),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="user-detail-in-county",
            url=user_url("user_detail", "jiangan"),
            model=User,
            setup=two_accounts,
            allowed=("county_system_admin", "county_security_admin", "system_admin"),
            forbidden=("county_cadre", "county_audit_admin", "worker"),
            contains=lambda t: ["jiangan_account", "武汉长江机械有限公司工会"],
        ),
        ScopedCase(
            name="user-detail-beside-county",
            url=user_url("user_detail", "jianghan"),
            model=User,
            setup=two_accounts,
            allowed=("system_admin", "security_admin"),
            out_of_scope=("county_system_admin", "county_security_admin"),
        ),
        ScopedCase(
            name="user-password-reset",
            url=user_url("user_password_reset", "jiangan"),
            method="post",
            action=Action.MANAGE_ACCOUNTS,
            model=User,
            setup=two_accounts,
            data=lambda t, extra: PASSWORDS,
            allowed="county_system_admin",
            forbidden=("county_security_admin", "county_cadre"),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="user-password-reset-beside-county",
            url=user_url("user_password_reset", "jianghan"),
            model=User,
            setup=two_accounts,
            allowed="system_admin",
            out_of_scope="county_system_admin",
        ),
        ScopedCase(
            name="user-set-active",
            url=user_url("user_set_active", "jiangan"),
            method="post",
            action=Action.MANAGE_ACCOUNTS,
            model=User,
            setup=two_accounts,
            data=lambda t, extra: {"reason": "调离"},
            allowed="county_system_admin",
            forbidden=("county_security_admin", "county_cadre"),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="user-set-active-beside-county",
            url=user_url("user_set_active", "jianghan"),
            model=User,
            setup=two_accounts,
            allowed="system_admin",
            out_of_scope="county_system_admin",
        ),
        ScopedCase(
            name="role-grant-form",
            url=user_url("user_role_grant", "jiangan"),
            model=RoleAssignment,
            setup=two_accounts,
            allowed=("county_security_admin", "security_admin"),
            forbidden=("county_system_admin", "county_cadre"),
        ),
        ScopedCase(
            name="role-grant",
            url=user_url("user_role_grant", "jiangan"),
            method="post",
            action=Action.GRANT_ROLES,
            model=RoleAssignment,
            setup=two_accounts,
            data=lambda t, extra: {"union": t.jiangan.pk, "role": Role.AUDITOR},
            allowed="county_security_admin",
            forbidden=("county_system_admin", "county_cadre"),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="role-grant-beside-county",
            url=user_url("user_role_grant", "jianghan"),
            model=RoleAssignment,
            setup=two_accounts,
            allowed="security_admin",
            out_of_scope="county_security_admin",
        ),
        ScopedCase(
            name="role-revoke",
            url=user_url("role_revoke", "jiangan_role"),
            method="post",
            action=Action.GRANT_ROLES,
            model=RoleAssignment,
            setup=two_accounts,
            data=lambda t, extra: {"reason": "离任"},
            allowed="county_security_admin",
            forbidden=("county_system_admin", "county_cadre"),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="role-revoke-beside-county",
            url=user_url("role_revoke", "jianghan_role"),
            model=RoleAssignment,
            setup=two_accounts,
            allowed="security_admin",
            out_of_scope="county_security_admin",
        ),
        ScopedCase(
            name="user-unlock",
            url=user_url("user_unlock", "jiangan"),
            method="post",
            action=Action.GRANT_ROLES,
            model=User,
            setup=two_accounts,
            allowed="county_security_admin",
            forbidden=("county_system_admin", "county_cadre"),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="user-unlock-beside-county",
            url=user_url("user_unlock", "jianghan"),
            method="post",
            action=Action.GRANT_ROLES,
            model=User,
            setup=two_accounts,
            allowed="security_admin",
            out_of_scope="county_security_admin",
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="user-totp-reset",
            url=user_url("user_totp_reset", "jiangan"),
            method="post",
            action=Action.GRANT_ROLES,
            model=User,
            setup=two_accounts,
            allowed="county_security_admin",
            forbidden=("county_system_admin", "county_cadre"),
            out_of_scope=(),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="user-totp-reset-beside-county",
            url=user_url("user_totp_reset", "jianghan"),
            method="post",
            action=Action.GRANT_ROLES,
            model=User,
            setup=two_accounts,
            allowed="security_admin",
            out_of_scope="county_security_admin",
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="union-search",
            url=lambda t: reverse("union_search") + f"?power={Action.GRANT_ROLES}&q=区总工会",
            allowed="county_security_admin",
            forbidden=("county_system_admin", "county_cadre"),
            contains=lambda t: ["江岸区总工会"],
            excludes=lambda t: ["江汉区总工会"],
        ),
        ScopedCase(
            name="token-list",
            url=lambda t: reverse("token_list"),
            model=ApiToken,
            allowed=("county_cadre", "worker"),
        ),
        ScopedCase(
            name="token-create",
            url=lambda t: reverse("token_list"),
            method="post",
            action=Action.ADD,
            model=ApiToken,
            data=lambda t: {
                "name": "数据交换",
                "expires_on": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
            },
            allowed="county_cadre",
            contains=lambda t: ["nj_", "离开本页后将无法再次查看"],
        ),
        ScopedCase(
            name="token-revoke",
            url=user_url("token_revoke", "jiangan_token"),
            method="post",
            action=Action.MANAGE_ACCOUNTS,
            model=ApiToken,
            setup=two_accounts,
            allowed=("county_system_admin", "system_admin"),
            out_of_scope=("county_cadre", "sibling_cadre", "county_security_admin"),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="password-change",
            url=lambda t: reverse("password_change"),
            allowed=("county_cadre", "worker", "national_admin"),
        ),
        ScopedCase(
            name="otp-verify",
            url=lambda t: reverse("otp_verify"),
            allowed="national_admin",
            allowed_statuses=frozenset({200}),
        ),
        ScopedCase(
            name="otp-enroll",
            url=lambda t: reverse("otp_enroll"),
            allowed="national_admin",
            allowed_statuses=frozenset({302}),
        ),
    ]


# --- Refusals are audited


def test_a_refused_page_answers_403_and_leaves_an_audit_row(client_for, county_cadre, tree):
    response = client_for(county_cadre).get(reverse("user_list"), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 403
    assert "您没有账号管理权限" in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.PERMISSION_DENIED)
    assert entry.actor == county_cadre
    assert entry.detail["path"] == "/accounts/users/"
    assert entry.detail["method"] == "GET"
    assert entry.detail["view"] == "user_list"
    assert entry.client_ip == "10.1.2.3"
    # Filed under the refused user's own union: their county's auditors see it.
    assert entry.union_path == tree.jiangan.path


def test_a_refusal_on_an_account_names_the_account(client_for, county_security_admin, county_cadre):
    response = client_for(county_security_admin).post(
        reverse("user_password_reset", args=[county_cadre.pk]), PASSWORDS
    )
    assert response.status_code == 403
    entry = AuditEntry.objects.get(action=AuditAction.PERMISSION_DENIED)
    assert entry.object_type == "accounts.user" and entry.object_id == str(county_cadre.pk)
    assert entry.detail["method"] == "POST"
    assert entry.detail["arguments"] == {"pk": str(county_cadre.pk)}
    county_cadre.refresh_from_db()
    assert county_cadre.check_password(PERSONA_PASSWORD)


def test_out_of_scope_is_404_and_not_a_refusal_row(client_for, county_system_admin, sibling_cadre):
    response = client_for(county_system_admin).get(reverse("user_detail", args=[sibling_cadre.pk]))
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.PERMISSION_DENIED).exists()


# --- Pages at work


def test_user_list_searches_filters_by_role_and_pages(client_for, county_system_admin, tree):
    for n in range(55):
        user = User.objects.create_user(username=f"gr{n:02d}", password=PERSONA_PASSWORD)
        RoleAssignment.objects.create(user=user, union=tree.jiangan_grassroots, role=Role.CADRE)
    client = client_for(county_system_admin)
    first = client.get(reverse("user_list"))
    assert first.context["page"].paginator.count == 56  # 55 cadres and the admin themselves
    assert len(first.context["page"].object_list) == 50
    second = client.get(reverse("user_list"), {"page": 2})
    assert len(second.context["page"].object_list) == 6
    found = client.get(reverse("user_list"), {"q": "gr07"})
    assert [u.username for u in found.context["page"]] == ["gr07"]
    admins = client.get(reverse("user_list"), {"role": Role.SYSTEM_ADMIN})
    assert [u.username for u in admins.context["page"]] == ["county_system_admin"]


def test_user_list_queries_do_not_grow_with_the_accounts(client_for, county_system_admin, tree):
    client = client_for(county_system_admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("user_list")).status_code == 200
        return len(captured)

    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            user = User.objects.create_user(username=f"many{n:03d}", password=PERSONA_PASSWORD)
            RoleAssignment.objects.create(user=user, union=tree.jiangan_grassroots, role=Role.CADRE)

    add(3, 0)
    few = queries()
    add(30, 3)
    assert queries() == few


def test_user_list_shows_locked_accounts(client_for, county_security_admin, county_cadre):
    failing = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        failing.post(reverse("login"), {"username": "county_cadre", "password": "wrong"})
    response = client_for(county_security_admin).get(reverse("user_list"), {"status": "locked"})
    assert [u.username for u in response.context["page"]] == ["county_cadre"]
    detail = client_for(county_security_admin).get(reverse("user_detail", args=[county_cadre.pk]))
    assert "锁定中" in detail.content.decode()
    assert "解除登录锁定" in detail.content.decode()


def test_opening_an_account_through_the_form(client_for, county_system_admin, tree):
    client = client_for(county_system_admin)
    response = client.post(
        reverse("user_create"),
        {
            "username": "liming",
            "full_name": "黎明",
            "union": tree.jiangan_grassroots.pk,
            **PASSWORDS,
        },
    )
    user = User.objects.get(username="liming")
    assert response.status_code == 302 and response["Location"] == reverse(
        "user_detail", args=[user.pk]
    )
    assert user.created_under == tree.jiangan_grassroots


def test_the_create_form_refuses_a_union_beside_the_county_and_names_the_field(
    client_for, county_system_admin, tree
):
    response = client_for(county_system_admin).post(
        reverse("user_create"),
        {"username": "liming", "full_name": "黎明", "union": tree.jianghan.pk, **PASSWORDS},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["union"] == ["所选工会不存在或不在您的管辖范围内"]
    assert not User.objects.filter(username="liming").exists()


def test_the_create_form_shows_password_rules_in_chinese(client_for, county_system_admin, tree):
    response = client_for(county_system_admin).post(
        reverse("user_create"),
        {
            "username": "liming",
            "full_name": "黎明",
            "union": tree.jiangan.pk,
            "new_password1": "abc",
            "new_password2": "abd",
        },
    )
    errors = response.context["form"].errors
    assert errors["new_password2"] == ["两次输入的密码不一致"]
    response = client_for(county_system_admin).post(
        reverse("user_create"),
        {
            "username": "liming",
            "full_name": "黎明",
            "union": tree.jiangan.pk,
            "new_password1": "abc",
            "new_password2": "abc",
        },
    )
    assert (
        "密码太短，至少需要 10 个字符（当前 3 个）"
        in response.context["form"].errors["new_password1"]
    )


def test_the_create_form_shows_every_problem_at_once(client_for, county_system_admin, county_cadre):
    response = client_for(county_system_admin).post(
        reverse("user_create"),
        {
            "username": "county_cadre",
            "full_name": "",
            "new_password1": "abc",
            "new_password2": "abc",
        },
    )
    errors = response.context["form"].errors
    assert errors["username"] == ["用户名“county_cadre”已被使用，请换一个"]
    assert errors["full_name"] == ["请填写姓名"]
    assert errors["union"] == ["请选择工会"]
    assert "密码太短，至少需要 10 个字符（当前 3 个）" in errors["new_password1"]


def test_the_union_picker_offers_only_the_subtree_and_searches_without_javascript(
    client_for, county_system_admin, tree
):
    client = client_for(county_system_admin)
    page = client.get(reverse("user_create")).content.decode()
    assert "江岸区总工会" in page and "武汉长江机械有限公司工会" in page
    assert "江汉区总工会" not in page and "武汉市总工会" not in page
    searched = client.post(
        reverse("user_create"),
        {"username": "keep_me", "union_q": "长江", "_union_search": "1", **PASSWORDS},
    )
    text = searched.content.decode()
    assert searched.status_code == 200
    assert "武汉长江机械有限公司工会" in text and ">江岸区总工会（" not in text
    assert 'value="keep_me"' in text
    assert NEW_PASSWORD not in text
    assert not User.objects.filter(username="keep_me").exists()


def test_union_search_answers_with_the_viewers_unions(client_for, county_security_admin):
    response = client_for(county_security_admin).get(
        reverse("union_search"), {"power": Action.GRANT_ROLES, "q": "长江"}
    )
    assert response.json() == {
        "results": [
            {"id": response.json()["results"][0]["id"], "label": "武汉长江机械有限公司工会（基层）"}
        ]
    }
    bad = client_for(county_security_admin).get(reverse("union_search"), {"power": "view"})
    assert bad.status_code == 400


def test_granting_a_role_through_the_form(client_for, county_security_admin, make_account, tree):
    account = make_account("newcomer", created_under=tree.jiangan)
    response = client_for(county_security_admin).post(
        reverse("user_role_grant", args=[account.pk]),
        {"union": tree.jiangan_grassroots.pk, "role": Role.CADRE},
    )
    assert response.status_code == 302
    assert account.role_assignments.get().union == tree.jiangan_grassroots


def test_the_grant_form_shows_the_separation_rule(
    client_for, county_security_admin, make_account, tree
):
    account = make_account("sys2", role=Role.SYSTEM_ADMIN, union=tree.jiangan_grassroots)
    response = client_for(county_security_admin).post(
        reverse("user_role_grant", args=[account.pk]),
        {"union": tree.jiangan.pk, "role": Role.SECURITY_ADMIN},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["role"][0].startswith("三员分立：")


def test_a_security_admin_is_not_offered_to_grant_themselves(client_for, county_security_admin):
    client = client_for(county_security_admin)
    detail = client.get(reverse("user_detail", args=[county_security_admin.pk])).content.decode()
    assert reverse("user_role_grant", args=[county_security_admin.pk]) not in detail
    assert "管理员不能管理自己的账号" in detail
    refused = client.get(reverse("user_role_grant", args=[county_security_admin.pk]))
    assert refused.status_code == 403


def test_detail_offers_each_administrator_only_their_own_powers(
    client_for, county_system_admin, county_security_admin, county_cadre
):
    url = reverse("user_detail", args=[county_cadre.pk])
    as_system = client_for(county_system_admin).get(url).content.decode()
    assert reverse("user_password_reset", args=[county_cadre.pk]) in as_system
    assert reverse("user_role_grant", args=[county_cadre.pk]) not in as_system
    as_security = client_for(county_security_admin).get(url).content.decode()
    assert reverse("user_role_grant", args=[county_cadre.pk]) in as_security
    assert reverse("user_password_reset", args=[county_cadre.pk]) not in as_security


def test_revoking_through_the_confirmation_page(
    client_for, county_security_admin, grassroots_cadre
):
    assignment = grassroots_cadre.role_assignments.get()
    client = client_for(county_security_admin)
    assert client.get(reverse("role_revoke", args=[assignment.pk])).status_code == 200
    missing = client.post(reverse("role_revoke", args=[assignment.pk]), {"reason": ""})
    assert missing.context["form"].errors["reason"] == ["请填写原因"]
    done = client.post(reverse("role_revoke", args=[assignment.pk]), {"reason": "离任"})
    assert done.status_code == 302
    assert not grassroots_cadre.role_assignments.exists()


def test_unlock_button_unlocks(client_for, county_security_admin, county_cadre):
    failing = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        failing.post(reverse("login"), {"username": "county_cadre", "password": "wrong"})
    response = client_for(county_security_admin).post(
        reverse("user_unlock", args=[county_cadre.pk])
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="county_cadre").exists()


# --- Own password and tokens


def test_new_token_is_shown_once(client_for, county_cadre):
    client = client_for(county_cadre)
    created = client.post(
        reverse("token_list"),
        {
            "name": "数据交换",
            "expires_on": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        },
    )
    raw = created.context["raw_token"]
    assert raw and raw in created.content.decode()
    assert created["Cache-Control"].startswith("max-age=0")
    again = client.get(reverse("token_list")).content.decode()
    assert raw not in again and "数据交换" in again
    assert ApiToken.objects.find(raw).user == county_cadre


def test_token_form_names_the_bad_field(client_for, county_cadre):
    response = client_for(county_cadre).post(
        reverse("token_list"),
        {
            "name": "x",
            "expires_on": (timezone.localdate() + datetime.timedelta(days=400)).isoformat(),
        },
    )
    assert response.context["form"].errors["expires_on"] == ["接口令牌有效期最长一年"]
    assert response.context["raw_token"] is None


def test_an_administrator_set_password_must_be_changed_before_anything_else(
    client_for, county_cadre
):
    county_cadre.password_must_change = True
    county_cadre.save()
    client = client_for(county_cadre)
    home = client.get("/")
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("password_change"))
    changed = client.post(
        reverse("password_change"),
        {
            "old_password": PERSONA_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    county_cadre.refresh_from_db()
    assert county_cadre.password_must_change is False
    assert client.get("/").status_code == 200  # still signed in: the session hash was updated


def test_own_password_change_messages_are_chinese(client_for, county_cadre):
    response = client_for(county_cadre).post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "abc", "new_password2": "abc"},
    )
    errors = response.context["form"].errors
    assert errors["old_password"] == ["原密码不正确，请重新输入"]


# --- Sign-in hardening


def test_five_failed_logins_lock_the_account_for_thirty_minutes(county_cadre):
    client = Client(REMOTE_ADDR="10.20.30.40")
    for _ in range(4):
        response = client.post(reverse("login"), {"username": "county_cadre", "password": "wrong"})
        assert response.status_code == 200
        assert "用户名或密码不正确" in response.content.decode()
    fifth = client.post(reverse("login"), {"username": "county_cadre", "password": "wrong"})
    assert fifth.status_code == 429
    locked = client.post(
        reverse("login"), {"username": "county_cadre", "password": PERSONA_PASSWORD}
    )
    assert locked.status_code == 429
    assert "锁定" in locked.content.decode()
    assert settings.AXES_FAILURE_LIMIT == 5
    assert datetime.timedelta(hours=settings.AXES_COOLOFF_TIME) == datetime.timedelta(minutes=30)
    # Another address is not locked out (lockout by username and address).
    other = Client(REMOTE_ADDR="10.20.30.41")
    assert (
        other.post(
            reverse("login"), {"username": "county_cadre", "password": PERSONA_PASSWORD}
        ).status_code
        == 302
    )


def test_failed_and_successful_logins_are_filed_under_the_users_union(county_cadre, tree):
    client = Client(REMOTE_ADDR="10.20.30.40")
    client.post(reverse("login"), {"username": "county_cadre", "password": "wrong"})
    client.post(reverse("login"), {"username": "nobody_here", "password": "wrong"})
    client.post(reverse("login"), {"username": "county_cadre", "password": PERSONA_PASSWORD})
    failed = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("id")
    assert [e.union_path for e in failed] == [tree.jiangan.path, ""]
    login = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert login.union_path == tree.jiangan.path and login.actor == county_cadre


def test_idle_sessions_end_after_thirty_minutes():
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


@pytest.mark.parametrize("path", ["/", "/accounts/users/", "/accounts/tokens/", "/audit/"])
def test_an_administrator_without_the_second_factor_is_sent_to_it(client_for, system_admin, path):
    response = client_for(system_admin, second_factor=False).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_verify"))


def test_a_correct_code_lets_the_administrator_in(client_for, system_admin):
    device = TOTPDevice.objects.create(user=system_admin, name="手机", confirmed=True)
    client = client_for(system_admin, second_factor=False)
    code = f"{totp(device.bin_key):06d}"
    passed = client.post(reverse("otp_verify"), {"token": code, "next": "/accounts/users/"})
    assert passed.status_code == 302 and passed["Location"] == "/accounts/users/"
    assert client.get("/accounts/users/").status_code == 200


def test_a_wrong_code_keeps_the_administrator_out(client_for, system_admin):
    device = TOTPDevice.objects.create(user=system_admin, name="手机", confirmed=True)
    client = client_for(system_admin, second_factor=False)
    wrong_code = f"{(totp(device.bin_key) + 1) % 1_000_000:06d}"
    wrong = client.post(reverse("otp_verify"), {"token": wrong_code, "next": "/accounts/users/"})
    assert wrong.status_code == 200
    assert "动态口令不正确" in wrong.content.decode()
    assert client.get("/accounts/users/")["Location"].startswith(reverse("otp_verify"))


def test_a_cadre_is_not_asked_for_a_second_factor(client_for, county_cadre):
    assert client_for(county_cadre, second_factor=False).get("/").status_code == 200


def test_the_second_factor_page_shows_no_menu_but_a_logout(client_for, system_admin):
    TOTPDevice.objects.create(user=system_admin, name="手机", confirmed=True)
    page = client_for(system_admin, second_factor=False).get(reverse("otp_verify"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="mainnav"' not in html and "账号管理" not in html
    assert reverse("logout") in html
