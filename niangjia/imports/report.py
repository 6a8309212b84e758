"""The error report of a dry run: the original rows that cannot be imported, with the reason.

The cadre fixes the rows in this file and uploads it again: the columns are the file's own
(same headers, same order), preceded by the row number in the uploaded file and followed by
the category and the reason, so the corrected file maps the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import transaction

from niangjia.accounts.choices import Action
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.imports.choices import Outcome
from niangjia.imports.models import ImportProblem, ImportRun
from niangjia.utilities.scoping import require
from niangjia.utilities.xlsx import XlsxFile, write_xlsx

_OUTCOME_LABELS = {Outcome.ERROR: Outcome.ERROR.label, Outcome.CONFLICT: Outcome.CONFLICT.label}


def problem_rows(run: ImportRun) -> Iterator[list[Any]]:
    width = len(run.headers)
    problems = (
        ImportProblem.objects.filter(run=run)
        .order_by("row_no", "id")
        .values_list("row_no", "outcome", "message", "raw")
    )
    for row_no, outcome, message, raw in problems.iterator(chunk_size=2000):
        cells = list(raw or [])
        cells = (cells + [None] * width)[: max(width, len(cells))]
        yield [row_no, *cells, _OUTCOME_LABELS.get(outcome, outcome), message]


def problem_report(*, run: ImportRun, acting_user: Any) -> XlsxFile:
    """The report as a spreadsheet; its download is audited like any export."""
    require(acting_user, Action.VIEW, run)
    headers = [
        "原文件行号",
        *[h or f"第 {i + 1} 列" for i, h in enumerate(run.headers)],
        "问题类别",
        "原因",
    ]
    with transaction.atomic():
        result = write_xlsx(title="问题行", headers=headers, rows=problem_rows(run))
        record(
            action=AuditAction.EXPORT,
            actor=acting_user,
            obj=run,
            detail={"report": "problems", "rows": result.rows, "sha256": result.sha256},
        )
    return result
