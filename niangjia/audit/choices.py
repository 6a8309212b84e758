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
    REVEAL = "reveal", "查看明文个人信息"
    ROLE_GRANT = "role_grant", "授予角色"
    ROLE_REVOKE = "role_revoke", "撤销角色"
    OTP_ENROLL = "otp_enroll", "绑定动态口令"
    TOKEN_CREATE = "token_create", "创建接口令牌"
