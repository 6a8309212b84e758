"""Purging closed files after the ten years they are kept (``manage.py relief_purge``).

The audit rows stay (they are append-only and hold no personal data beyond masked names);
the ledger stays whole (its references to assistance carry no database constraint). Each
purged file leaves one audit row of its own.
"""

from __future__ import annotations

import datetime

from django.db import transaction

from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.relief.choices import FileState
from niangjia.relief.models import Assistance, Attachment, BatchPayment, HardshipFile
from niangjia.relief.services.common import add_months, today
from niangjia.relief.services.files import attachment_delete_stored
from niangjia.utilities.masking import mask_name

KEEP_YEARS = 10


def purge_cutoff(on: datetime.date | None = None) -> datetime.date:
    """Files closed before this day are due for purging."""
    return add_months(on or today(), -12 * KEEP_YEARS)


def purgeable_files(on: datetime.date | None = None) -> list[int]:
    return list(
        HardshipFile.objects.filter(state=FileState.CLOSED, closed_on__lt=purge_cutoff(on))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def files_purge(*, on: datetime.date | None = None, chunk: int = 500) -> int:
    """Delete the closed files older than ten years with everything hanging on them (their
    stored attachments included), ``chunk`` files per transaction. Returns how many."""
    ids = purgeable_files(on)
    done = 0
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        stored: list[Attachment] = []
        with transaction.atomic():
            files = list(
                HardshipFile.objects.select_for_update()
                .filter(pk__in=part, state=FileState.CLOSED)
                .select_related("union")
            )
            keep = [f.pk for f in files]
            stored = list(Attachment.objects.filter(file_id__in=keep))
            Assistance.objects.filter(file_id__in=keep).delete()
            BatchPayment.objects.filter(file_id__in=keep).delete()
            for file in files:
                record(
                    action=AuditAction.DELETE,
                    obj=file,
                    object_repr=f"{mask_name(file.name)}（{file.file_number}）",
                    actor_name="系统（档案保管期满清理）",
                    detail={"closed_on": file.closed_on, "keep_years": KEEP_YEARS},
                )
            HardshipFile.objects.filter(pk__in=keep).delete()
            done += len(keep)
        for attachment in stored:
            attachment_delete_stored(attachment)
    return done
