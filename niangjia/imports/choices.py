from django.db import models


class ImportKind(models.TextChoices):
    MEMBERS = "members", "会员名册"
    EMPLOYERS = "employers", "用人单位名册"


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", "待确认列"
    VALIDATING = "validating", "试导入中"
    VALIDATED = "validated", "试导入完成"
    COMMITTING = "committing", "正式导入中"
    COMMITTED = "committed", "已导入"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


# The states in which the run still owns a background job.
BUSY_STATES = (ImportState.VALIDATING, ImportState.COMMITTING)


class Outcome(models.TextChoices):
    """What the dry run found for one row, and what the commit did with it."""

    NEW = "new", "新增"
    UPDATE = "update", "更新"
    UNCHANGED = "unchanged", "无变化"
    ERROR = "error", "有误"
    CONFLICT = "conflict", "冲突"
