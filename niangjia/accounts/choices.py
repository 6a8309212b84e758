from django.db import models


class Role(models.TextChoices):
    """A role held on one union node; it grants that node's whole subtree."""

    ADMIN = "admin", "管理员"
    CADRE = "cadre", "工会干部"
    AUDITOR = "auditor", "只读审计员"
    # Sees the relief funds and payments of its subtree and gives their second approval.
    FINANCE = "finance", "财务人员"
    # 三员分立: three separated administrator roles.
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全保密管理员"
    AUDIT_ADMIN = "audit_admin", "安全审计员"


class Action(models.TextChoices):
    VIEW = "view", "查看"
    ADD = "add", "新建"
    CHANGE = "change", "修改"
    DELETE = "delete", "删除"
    EXPORT = "export", "导出"
    REVEAL = "reveal", "查看明文个人信息"
    MANAGE_ACCOUNTS = "manage_accounts", "管理账号"
    GRANT_ROLES = "grant_roles", "授予角色"
    VIEW_AUDIT = "view_audit", "查看审计记录"
    APPROVE_FUNDS = "approve_funds", "复核帮扶资金发放"


BUSINESS_ACTIONS = frozenset({Action.VIEW, Action.ADD, Action.CHANGE, Action.EXPORT})

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: BUSINESS_ACTIONS | {Action.DELETE, Action.REVEAL},
    Role.CADRE: BUSINESS_ACTIONS,
    Role.AUDITOR: frozenset({Action.VIEW}),
    # The second approval of large payments is a finance officer's, never the cadre's own.
    Role.FINANCE: frozenset({Action.VIEW, Action.APPROVE_FUNDS}),
    # The three administrators never touch business data: each holds only their own power.
    Role.SYSTEM_ADMIN: frozenset({Action.MANAGE_ACCOUNTS}),
    Role.SECURITY_ADMIN: frozenset({Action.GRANT_ROLES}),
    Role.AUDIT_ADMIN: frozenset({Action.VIEW_AUDIT}),
}

# Roles whose holders must pass a TOTP second factor after the password.
SECOND_FACTOR_ROLES = frozenset(
    {Role.ADMIN, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}
)

# Roles that only a security administrator of the union or one of its ancestors may grant.
ADMINISTRATOR_ROLES = frozenset(
    {Role.ADMIN, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}
)

# 三员分立: one person holds at most one of these three roles.
SEPARATED_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
