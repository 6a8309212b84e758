from django.db import models


class AuditAction(models.TextChoices):
    CREATE = "create", "新建"
    CHANGE = "change", "修改"
    DELETE = "delete", "删除"
    MOVE = "move", "移动"
    MERGE = "merge", "合并"
    DISSOLVE = "dissolve", "撤销"
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出"
    PERMISSION_DENIED = "permission_denied", "越权拒绝"
    EXPORT = "export", "导出"
    IMPORT = "import", "导入"
    REVEAL = "reveal", "查看明文个人信息"
    ROLE_GRANT = "role_grant", "授予角色"
    ROLE_REVOKE = "role_revoke", "撤销角色"
    OTP_ENROLL = "otp_enroll", "绑定动态口令"
    TOKEN_CREATE = "token_create", "创建接口令牌"
    TOKEN_REVOKE = "token_revoke", "吊销接口令牌"
    PASSWORD_RESET = "password_reset", "重置密码"
    PASSWORD_CHANGE = "password_change", "修改本人密码"
    ACCOUNT_UNLOCK = "account_unlock", "解除登录锁定"
    OTP_RESET = "otp_reset", "重置动态口令"


# Rows about a person rather than an object: without an object to place them, they are filed
# under the union of the person's first role, so the audit admin of that subtree sees them.
PERSONAL_ACTIONS = frozenset(
    {
        AuditAction.LOGIN,
        AuditAction.LOGIN_FAILED,
        AuditAction.LOGOUT,
        AuditAction.OTP_ENROLL,
        AuditAction.PERMISSION_DENIED,
    }
)
