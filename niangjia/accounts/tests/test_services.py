"""Account administration services: every rule of 三员分立, with its Chinese message and its
audit row."""

from __future__ import annotations

import datetime
import json

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from niangjia.accounts import services
from niangjia.accounts.choices import ROLE_ACTIONS, Action, Role
from niangjia.accounts.models import ApiToken, RoleAssignment, User
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs.choices import UnionStatus
from niangjia.utilities.testing.personas import PERSONA_PASSWORD

GOOD_PASSWORD = "Chang-Jiang-2024!"


def last_entry(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-id").first()


def messages_of(exc: ValidationError, field: str) -> list[str]:
    return exc.value.message_dict[field]  # type: ignore[attr-defined]


# --- user_create


def test_system_admin_opens_an_account_under_a_union_of_their_county(county_system_admin, tree):
    user = services.user_create(
        acting_user=county_system_admin,
        username="zhangwei",
        full_name="张伟",
        password=GOOD_PASSWORD,
        union=tree.jiangan_grassroots,
    )
    user.refresh_from_db()
    assert user.created_under == tree.jiangan_grassroots
    assert user.password_must_change is True
    assert user.check_password(GOOD_PASSWORD)
    assert not user.role_assignments.exists()
    entry = last_entry(AuditAction.CREATE)
    assert entry.object_type == "accounts.user" and entry.object_id == str(user.pk)
    assert entry.union_path == tree.jiangan_grassroots.path
    assert entry.actor == county_system_admin
    assert entry.after["username"] == "zhangwei" and entry.after["full_name"] == "张伟"
    assert "password" not in entry.after
    assert GOOD_PASSWORD not in json.dumps(entry.after) and "md5$" not in json.dumps(entry.after)


def test_account_cannot_be_opened_under_a_union_outside_the_subtree(county_system_admin, tree):
    with pytest.raises(ValidationError) as exc:
        services.user_create(
            acting_user=county_system_admin,
            username="lisi",
            full_name="李四",
            password=GOOD_PASSWORD,
            union=tree.jianghan,
        )
    assert messages_of(exc, "union") == ["“江汉区总工会”不在您的账号管理范围内"]
    assert not User.objects.filter(username="lisi").exists()


def test_a_cadre_cannot_open_accounts(county_cadre, tree):
    with pytest.raises(PermissionDenied, match="管理账号的权限"):
        services.user_create(
            acting_user=county_cadre,
            username="lisi",
            full_name="李四",
            password=GOOD_PASSWORD,
            union=tree.jiangan,
        )


def test_security_admin_cannot_open_accounts(county_security_admin, tree):
    with pytest.raises(PermissionDenied):
        services.user_create(
            acting_user=county_security_admin,
            username="lisi",
            full_name="李四",
            password=GOOD_PASSWORD,
            union=tree.jiangan,
        )


def test_weak_password_is_refused_with_every_reason_in_chinese(county_system_admin, tree):
    with pytest.raises(ValidationError) as exc:
        services.user_create(
            acting_user=county_system_admin,
            username="wangwu",
            full_name="王五",
            password="abc123",
            union=tree.jiangan,
        )
    reasons = messages_of(exc, "password")
    assert "密码太短，至少需要 10 个字符（当前 6 个）" in reasons
    assert "密码须包含小写字母、大写字母、数字、符号中的至少 3 类" in reasons
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r) for r in reasons)


def test_common_and_all_digit_passwords_are_refused(county_system_admin, tree):
    with pytest.raises(ValidationError) as exc:
        services.user_create(
            acting_user=county_system_admin,
            username="wangwu",
            full_name="王五",
            password="12345678901",
            union=tree.jiangan,
        )
    reasons = messages_of(exc, "password")
    assert "这个密码太常见了。" in reasons
    assert "密码只包含数字。" in reasons


def test_username_taken_in_any_letter_case_is_refused(county_system_admin, county_cadre, tree):
    with pytest.raises(ValidationError) as exc:
        services.user_create(
            acting_user=county_system_admin,
            username="County_Cadre",
            full_name="重名",
            password=GOOD_PASSWORD,
            union=tree.jiangan,
        )
    assert messages_of(exc, "username") == ["用户名“County_Cadre”已被使用，请换一个"]


def test_missing_fields_are_named(county_system_admin, tree):
    with pytest.raises(ValidationError) as exc:
        services.user_create(
            acting_user=county_system_admin,
            username=" ",
            full_name="",
            password="",
            union=tree.jiangan,
        )
    errors = exc.value.message_dict
    assert errors["username"] == ["请填写用户名"]
    assert errors["full_name"] == ["请填写姓名"]
    assert errors["password"] == ["请填写密码"]


def test_account_cannot_be_opened_under_a_dissolved_union(county_system_admin, tree):
    tree.jiangan_grassroots.status = UnionStatus.DISSOLVED
    tree.jiangan_grassroots.save()
    with pytest.raises(ValidationError) as exc:
        services.user_create(
            acting_user=county_system_admin,
            username="zhaoliu",
            full_name="赵六",
            password=GOOD_PASSWORD,
            union=tree.jiangan_grassroots,
        )
    assert "已撤销" in messages_of(exc, "union")[0]


# --- who sees which account


def test_accounts_are_scoped_by_roles_and_by_the_union_they_were_opened_under(
    county_system_admin, system_admin, make_account, tree
):
    in_county = make_account("in_county", role=Role.CADRE, union=tree.jiangan_grassroots)
    beside = make_account("beside", role=Role.CADRE, union=tree.jianghan)
    new_here = make_account("new_here", created_under=tree.jiangan)
    new_beside = make_account("new_beside", created_under=tree.jianghan)
    # A role beside the county wins over where the account was opened.
    moved = make_account("moved", role=Role.CADRE, union=tree.jianghan, created_under=tree.jiangan)
    seen = set(User.objects.restrict(county_system_admin, Action.MANAGE_ACCOUNTS))
    assert in_county in seen and new_here in seen
    assert beside not in seen and new_beside not in seen and moved not in seen
    everything = set(User.objects.restrict(system_admin, Action.MANAGE_ACCOUNTS))
    assert {in_county, beside, new_here, new_beside, moved} <= everything
    assert not User.objects.restrict(county_system_admin, Action.GRANT_ROLES).exists()


# --- user_set_active


def test_deactivation_needs_a_reason_and_is_audited_with_before_and_after(
    county_system_admin, make_account, tree
):
    cadre = make_account("cadre1", role=Role.CADRE, union=tree.jiangan_grassroots)
    token, _ = ApiToken.issue(user=cadre, name="对接")
    with pytest.raises(ValidationError) as exc:
        services.user_set_active(
            acting_user=county_system_admin, user=cadre, active=False, reason=" "
        )
    assert messages_of(exc, "reason") == ["请填写停用原因"]
    services.user_set_active(
        acting_user=county_system_admin, user=cadre, active=False, reason="调离工会岗位"
    )
    cadre.refresh_from_db()
    token.refresh_from_db()
    assert cadre.is_active is False
    assert token.revoked_at is not None
    entry = last_entry(AuditAction.CHANGE)
    assert entry.before == {"is_active": True} and entry.after == {"is_active": False}
    assert entry.detail == {"reason": "调离工会岗位", "tokens_revoked": 1}
    assert entry.union_path == tree.jiangan_grassroots.path
    with pytest.raises(ValidationError) as again:
        services.user_set_active(
            acting_user=county_system_admin, user=cadre, active=False, reason="再次"
        )
    assert messages_of(again, "active") == ["该账号已是停用状态"]
    services.user_set_active(
        acting_user=county_system_admin, user=cadre, active=True, reason="返岗"
    )
    cadre.refresh_from_db()
    assert cadre.is_active is True


def test_system_admin_cannot_deactivate_themselves(county_system_admin):
    with pytest.raises(PermissionDenied, match="不能对自己的账号"):
        services.user_set_active(
            acting_user=county_system_admin, user=county_system_admin, active=False, reason="测试"
        )


def test_account_with_a_role_beside_the_county_is_out_of_the_county_admins_hands(
    county_system_admin, make_account, tree
):
    both = make_account("both", role=Role.CADRE, union=tree.jiangan)
    RoleAssignment.objects.create(user=both, union=tree.jianghan, role=Role.CADRE)
    assert (
        User.objects.restrict(county_system_admin, Action.MANAGE_ACCOUNTS)
        .filter(pk=both.pk)
        .exists()
    )
    with pytest.raises(PermissionDenied, match="有角色不在您的管辖范围内"):
        services.user_set_active(
            acting_user=county_system_admin, user=both, active=False, reason="x"
        )
    both.refresh_from_db()
    assert both.is_active


def test_security_admin_cannot_deactivate_accounts(county_security_admin, county_cadre):
    with pytest.raises(PermissionDenied):
        services.user_set_active(
            acting_user=county_security_admin, user=county_cadre, active=False, reason="x"
        )


# --- passwords


def test_password_reset_forces_a_change_and_is_audited(county_system_admin, county_cadre, tree):
    services.user_reset_password(
        acting_user=county_system_admin, user=county_cadre, new_password=GOOD_PASSWORD
    )
    county_cadre.refresh_from_db()
    assert county_cadre.check_password(GOOD_PASSWORD)
    assert county_cadre.password_must_change
    entry = last_entry(AuditAction.PASSWORD_RESET)
    assert entry.object_id == str(county_cadre.pk)
    assert entry.union_path == tree.jiangan.path
    assert GOOD_PASSWORD not in json.dumps([entry.before, entry.after, entry.detail])


def test_password_reset_applies_the_password_rules(county_system_admin, county_cadre):
    with pytest.raises(ValidationError) as exc:
        services.user_reset_password(
            acting_user=county_system_admin, user=county_cadre, new_password="county_cadre1A"
        )
    assert any("太相似" in m for m in messages_of(exc, "new_password"))
    county_cadre.refresh_from_db()
    assert county_cadre.check_password(PERSONA_PASSWORD)


def test_security_admin_cannot_reset_passwords(county_security_admin, county_cadre):
    with pytest.raises(PermissionDenied):
        services.user_reset_password(
            acting_user=county_security_admin, user=county_cadre, new_password=GOOD_PASSWORD
        )


def test_own_password_change_clears_the_forced_change(county_cadre):
    county_cadre.password_must_change = True
    county_cadre.save()
    with pytest.raises(ValidationError) as exc:
        services.password_change_own(user=county_cadre, new_password=PERSONA_PASSWORD)
    assert messages_of(exc, "new_password") == ["新密码不能与原密码相同"]
    services.password_change_own(user=county_cadre, new_password=GOOD_PASSWORD)
    county_cadre.refresh_from_db()
    assert county_cadre.password_must_change is False
    entry = last_entry(AuditAction.PASSWORD_CHANGE)
    assert entry.actor == county_cadre
    assert entry.before == {"password_must_change": True}


# --- role_grant


def test_security_admin_grants_a_role_in_their_county(county_security_admin, make_account, tree):
    account = make_account("newcomer", created_under=tree.jiangan)
    assignment = services.role_grant(
        acting_user=county_security_admin,
        user=account,
        union=tree.jiangan_grassroots,
        role=Role.CADRE,
    )
    assert assignment.granted_by == county_security_admin
    assert account.active_roles() == [assignment]
    entry = last_entry(AuditAction.ROLE_GRANT)
    assert entry.object_type == "accounts.user" and entry.object_id == str(account.pk)
    assert entry.union_path == tree.jiangan_grassroots.path
    assert entry.after["role"] == Role.CADRE
    assert entry.after["union"] == tree.jiangan_grassroots.pk
    assert entry.after["union_name"] == "武汉长江机械有限公司工会"


def test_nobody_grants_a_role_to_themselves(county_security_admin, tree):
    with pytest.raises(PermissionDenied, match="不能给自己授予角色"):
        services.role_grant(
            acting_user=county_security_admin,
            user=county_security_admin,
            union=tree.jiangan_grassroots,
            role=Role.CADRE,
        )
    assert county_security_admin.role_assignments.count() == 1


def test_no_grant_on_a_union_outside_the_subtree(county_security_admin, make_account, tree):
    account = make_account("newcomer", created_under=tree.jiangan)
    with pytest.raises(ValidationError) as exc:
        services.role_grant(
            acting_user=county_security_admin, user=account, union=tree.wuhan, role=Role.CADRE
        )
    assert messages_of(exc, "union") == ["“武汉市总工会”不在您的管辖范围内，不能在该工会授予角色"]
    assert not account.role_assignments.exists()


def test_no_grant_to_an_account_outside_the_subtree(county_security_admin, sibling_cadre, tree):
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        services.role_grant(
            acting_user=county_security_admin,
            user=sibling_cadre,
            union=tree.jiangan,
            role=Role.CADRE,
        )


def test_system_and_audit_admins_cannot_grant_roles(
    county_system_admin, county_audit_admin, make_account, tree
):
    account = make_account("newcomer", created_under=tree.jiangan)
    for admin in (county_system_admin, county_audit_admin):
        with pytest.raises(PermissionDenied, match="授予角色的权限"):
            services.role_grant(
                acting_user=admin, user=account, union=tree.jiangan, role=Role.CADRE
            )


def test_security_admin_grants_administrator_roles_on_their_node_and_below(
    county_security_admin, make_account, tree
):
    account = make_account("newcomer", created_under=tree.jiangan)
    services.role_grant(
        acting_user=county_security_admin, user=account, union=tree.jiangan, role=Role.ADMIN
    )
    assert account.role_assignments.get().role == Role.ADMIN


def test_administrator_roles_need_a_security_admin_above_the_union(monkeypatch, make_account, tree):
    # Were a business administrator ever given the power to grant roles, it still could not
    # hand out administrator-type roles: only a security administrator of the node or above.
    monkeypatch.setitem(ROLE_ACTIONS, Role.ADMIN, ROLE_ACTIONS[Role.ADMIN] | {Action.GRANT_ROLES})
    city_admin = make_account("city_admin", role=Role.ADMIN, union=tree.wuhan)
    account = make_account("newcomer", created_under=tree.jiangan)
    with pytest.raises(ValidationError) as exc:
        services.role_grant(
            acting_user=city_admin, user=account, union=tree.jiangan, role=Role.SYSTEM_ADMIN
        )
    assert messages_of(exc, "role") == [
        "“系统管理员”是管理员类角色，只能由“江岸区总工会”或其上级工会的安全保密管理员授予"
    ]
    services.role_grant(acting_user=city_admin, user=account, union=tree.jiangan, role=Role.CADRE)
    assert account.role_assignments.get().role == Role.CADRE


def test_one_person_holds_only_one_of_the_three_administrator_roles(
    county_security_admin, make_account, tree
):
    account = make_account("sysadmin2", role=Role.SYSTEM_ADMIN, union=tree.jiangan_grassroots)
    with pytest.raises(ValidationError) as exc:
        services.role_grant(
            acting_user=county_security_admin,
            user=account,
            union=tree.jiangan,
            role=Role.AUDIT_ADMIN,
        )
    assert messages_of(exc, "role") == [
        "三员分立：该账号已在“武汉长江机械有限公司工会”担任“系统管理员”，不能再兼任“安全审计员”"
    ]
    # The same separated role on another node is no conflict.
    services.role_grant(
        acting_user=county_security_admin,
        user=account,
        union=tree.jiangan,
        role=Role.SYSTEM_ADMIN,
    )


def test_no_grant_to_a_deactivated_account(county_security_admin, make_account, tree):
    account = make_account("gone", created_under=tree.jiangan)
    account.is_active = False
    account.save()
    with pytest.raises(ValidationError) as exc:
        services.role_grant(
            acting_user=county_security_admin, user=account, union=tree.jiangan, role=Role.CADRE
        )
    assert messages_of(exc, "user") == ["账号“gone”已停用，请先由系统管理员启用再授予角色"]


def test_the_same_role_twice_is_refused(county_security_admin, county_cadre, tree):
    with pytest.raises(ValidationError) as exc:
        services.role_grant(
            acting_user=county_security_admin,
            user=county_cadre,
            union=tree.jiangan,
            role=Role.CADRE,
        )
    assert messages_of(exc, "role") == ["该账号已在“江岸区总工会”担任“工会干部”"]


def test_no_grant_on_a_dissolved_union(county_security_admin, county_cadre, tree):
    tree.jiangan_grassroots.status = UnionStatus.DISSOLVED
    tree.jiangan_grassroots.save()
    with pytest.raises(ValidationError) as exc:
        services.role_grant(
            acting_user=county_security_admin,
            user=county_cadre,
            union=tree.jiangan_grassroots,
            role=Role.CADRE,
        )
    assert "已撤销" in messages_of(exc, "union")[0]


# --- role_revoke


def test_revocation_needs_a_reason_and_keeps_the_role_in_the_audit_row(
    county_security_admin, grassroots_cadre, tree
):
    assignment = grassroots_cadre.role_assignments.get()
    with pytest.raises(ValidationError) as exc:
        services.role_revoke(acting_user=county_security_admin, assignment=assignment, reason="")
    assert messages_of(exc, "reason") == ["请填写撤销原因"]
    services.role_revoke(
        acting_user=county_security_admin, assignment=assignment, reason="换届离任"
    )
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    entry = last_entry(AuditAction.ROLE_REVOKE)
    assert entry.before["role"] == Role.CADRE
    assert entry.before["union"] == tree.jiangan_grassroots.pk
    assert entry.detail == {"reason": "换届离任"}
    assert entry.union_path == tree.jiangan_grassroots.path


def test_no_revocation_outside_the_subtree(county_security_admin, sibling_cadre):
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        services.role_revoke(
            acting_user=county_security_admin,
            assignment=sibling_cadre.role_assignments.get(),
            reason="越权",
        )
    assert sibling_cadre.role_assignments.exists()


def test_nobody_revokes_their_own_role(county_security_admin):
    with pytest.raises(PermissionDenied, match="不能撤销自己的角色"):
        services.role_revoke(
            acting_user=county_security_admin,
            assignment=county_security_admin.role_assignments.get(),
            reason="x",
        )


def test_county_security_admin_revokes_an_administrator_role_inside_the_county(
    county_security_admin, make_account, tree
):
    account = make_account("gr_admin", role=Role.ADMIN, union=tree.jiangan_grassroots)
    services.role_revoke(
        acting_user=county_security_admin, assignment=account.role_assignments.get(), reason="离任"
    )
    assert not account.role_assignments.exists()


# --- account_unlock and totp_reset


def failed_logins(username: str, times: int, ip: str = "10.0.0.7") -> Client:
    client = Client(REMOTE_ADDR=ip)
    for _ in range(times):
        client.post("/accounts/login/", {"username": username, "password": "wrong-password"})
    return client


def test_security_admin_unlocks_an_account_locked_by_failed_logins(
    county_security_admin, county_cadre
):
    client = failed_logins("county_cadre", 5)
    assert AccessAttempt.objects.filter(username="county_cadre").exists()
    locked = client.post(
        "/accounts/login/", {"username": "county_cadre", "password": PERSONA_PASSWORD}
    )
    assert locked.status_code == 429
    cleared = services.account_unlock(acting_user=county_security_admin, user=county_cadre)
    assert cleared == 1
    assert not AccessAttempt.objects.filter(username="county_cadre").exists()
    entry = last_entry(AuditAction.ACCOUNT_UNLOCK)
    assert entry.detail == {"attempts_cleared": 1} and entry.object_id == str(county_cadre.pk)
    signed_in = client.post(
        "/accounts/login/", {"username": "county_cadre", "password": PERSONA_PASSWORD}
    )
    assert signed_in.status_code == 302


def test_unlocking_an_account_without_failures_says_so(county_security_admin, county_cadre):
    with pytest.raises(ValidationError) as exc:
        services.account_unlock(acting_user=county_security_admin, user=county_cadre)
    assert messages_of(exc, "user") == ["该账号当前没有登录失败记录，无需解锁"]


def test_system_admin_cannot_unlock_accounts(county_system_admin, county_cadre):
    failed_logins("county_cadre", 5)
    with pytest.raises(PermissionDenied):
        services.account_unlock(acting_user=county_system_admin, user=county_cadre)
    assert AccessAttempt.objects.filter(username="county_cadre").exists()


def test_security_admin_resets_a_second_factor(county_security_admin, make_account, tree):
    admin = make_account("gr_admin", role=Role.ADMIN, union=tree.jiangan_grassroots)
    TOTPDevice.objects.create(user=admin, name="手机", confirmed=True)
    assert services.totp_reset(acting_user=county_security_admin, user=admin) == 1
    assert not TOTPDevice.objects.filter(user=admin).exists()
    assert last_entry(AuditAction.OTP_RESET).object_id == str(admin.pk)
    with pytest.raises(ValidationError) as exc:
        services.totp_reset(acting_user=county_security_admin, user=admin)
    assert messages_of(exc, "user") == ["该账号尚未绑定动态口令，无需重置"]


def test_security_admin_cannot_reset_the_second_factor_beside_their_county(
    county_security_admin, make_account, tree
):
    admin = make_account("beside_admin", role=Role.ADMIN, union=tree.jianghan)
    TOTPDevice.objects.create(user=admin, name="手机", confirmed=True)
    with pytest.raises(PermissionDenied):
        services.totp_reset(acting_user=county_security_admin, user=admin)
    assert TOTPDevice.objects.filter(user=admin).exists()


# --- API tokens


def test_cadre_issues_a_token_for_themselves_and_only_the_hash_is_kept(county_cadre, tree):
    token, raw = services.api_token_issue(
        acting_user=county_cadre, user=county_cadre, name="数据交换"
    )
    assert raw.startswith("nj_")
    assert ApiToken.objects.find(raw) == token
    assert raw not in token.key_hash
    assert token.expires_at - timezone.now() > datetime.timedelta(days=89)
    entry = last_entry(AuditAction.TOKEN_CREATE)
    assert entry.union_path == tree.jiangan.path
    assert entry.after["prefix"] == token.prefix
    assert raw not in json.dumps([entry.after, entry.detail])


def test_token_rules_name_the_field(county_cadre):
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        services.api_token_issue(
            acting_user=county_cadre,
            user=county_cadre,
            name="",
            expires_at=now + datetime.timedelta(days=400),
        )
    assert exc.value.message_dict == {
        "name": ["请填写令牌名称，例如使用它的系统名"],
        "expires_at": ["接口令牌有效期最长一年"],
    }
    with pytest.raises(ValidationError) as past:
        services.api_token_issue(
            acting_user=county_cadre,
            user=county_cadre,
            name="x",
            expires_at=now - datetime.timedelta(minutes=1),
        )
    assert messages_of(past, "expires_at") == ["过期时间须晚于当前时间"]


def test_administrators_and_roleless_accounts_get_no_tokens(national_admin, worker):
    with pytest.raises(ValidationError) as exc:
        services.api_token_issue(acting_user=national_admin, user=national_admin, name="x")
    assert "动态口令" in messages_of(exc, "user")[0]
    with pytest.raises(ValidationError) as none:
        services.api_token_issue(acting_user=worker, user=worker, name="x")
    assert messages_of(none, "user") == ["只有在工会任职的有效账号才能创建接口令牌"]


def test_a_cadre_cannot_issue_tokens_for_someone_else(county_cadre, grassroots_cadre):
    with pytest.raises(PermissionDenied):
        services.api_token_issue(acting_user=county_cadre, user=grassroots_cadre, name="x")
    assert not ApiToken.objects.exists()


def test_token_revocation_by_owner_once(county_cadre, sibling_cadre):
    token, raw = services.api_token_issue(acting_user=county_cadre, user=county_cadre, name="x")
    with pytest.raises(PermissionDenied):
        services.api_token_revoke(acting_user=sibling_cadre, token=token)
    services.api_token_revoke(acting_user=county_cadre, token=token)
    assert ApiToken.objects.find(raw) is None
    assert last_entry(AuditAction.TOKEN_REVOKE).after["revoked_at"]
    with pytest.raises(ValidationError) as exc:
        services.api_token_revoke(acting_user=county_cadre, token=token)
    assert messages_of(exc, "token") == ["该令牌已被吊销"]


def test_system_admin_revokes_a_governed_cadres_token(county_system_admin, county_cadre):
    token, _ = services.api_token_issue(acting_user=county_cadre, user=county_cadre, name="x")
    services.api_token_revoke(acting_user=county_system_admin, token=token)
    token.refresh_from_db()
    assert token.revoked_at is not None
