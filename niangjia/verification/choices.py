from django.db import models

from niangjia.orgs.choices import EmployerStatus


class CampaignState(models.TextChoices):
    DRAFT = "draft", "准备中"
    OPEN = "open", "核查中"
    CLOSED = "closed", "已结束"


class VerificationResult(models.TextChoices):
    """What the check found; the three findings are the employer registry's own statuses, so
    applying a result is writing it to ``Employer.status``."""

    PENDING = "pending", "待核查"
    ACTIVE = EmployerStatus.ACTIVE.value, EmployerStatus.ACTIVE.label
    MOVED_AWAY = EmployerStatus.MOVED_AWAY.value, EmployerStatus.MOVED_AWAY.label
    DEREGISTERED = EmployerStatus.DEREGISTERED.value, EmployerStatus.DEREGISTERED.label


# The results that finish an item (everything but "pending"), in the order buttons show them.
FINDINGS = (
    VerificationResult.ACTIVE,
    VerificationResult.MOVED_AWAY,
    VerificationResult.DEREGISTERED,
)


class SplitMode(models.TextChoices):
    EVEN = "even", "平均分配"
    COUNTS = "counts", "按数量分配"
