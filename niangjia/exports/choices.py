from django.db import models


class ExportKind(models.TextChoices):
    MEMBERS = "members", "会员名册"
    EMPLOYERS = "employers", "用人单位名录"


class RequestState(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"
    EXPIRED = "expired", "已过期"
    DONE = "done", "已导出"


# A request in one of these states can no longer be decided or used.
CLOSED_STATES = frozenset({RequestState.REJECTED, RequestState.EXPIRED, RequestState.DONE})
