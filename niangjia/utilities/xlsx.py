"""Writing spreadsheets for download: streamed row by row, safe to open in Excel or WPS.

``write_xlsx`` writes an openpyxl write-only workbook to an anonymous temporary file (memory
stays flat however many rows there are) and returns it with its row count and SHA-256, so the
caller can record the hash in the audit row of the export before the file is sent.

Every text cell passes through ``safe_cell``: a value that a spreadsheet would read as a
formula (starting with ``= + - @`` or a tab / carriage return) is prefixed with ``'`` so it
stays text (CSV/formula injection), and characters XML cannot carry are dropped.
"""

from __future__ import annotations

import datetime
import hashlib
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CHUNK = 1 << 16


def safe_cell(value: Any) -> Any:
    """A cell value that a spreadsheet shows as written and never evaluates."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, int | float | datetime.date):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    return text


@dataclass
class XlsxFile:
    """A finished spreadsheet in a temporary file, positioned at its start."""

    file: IO[bytes]
    rows: int
    sha256: str
    size: int

    def response(self, filename: str) -> FileResponse:
        """The file as a download; the temporary file is closed (and gone) once sent."""
        response = FileResponse(
            self.file, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
        )
        response["Cache-Control"] = "no-store"
        return response


def write_xlsx(
    *,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] | None = None,
) -> XlsxFile:
    """Write ``headers`` and then every row of ``rows`` (consumed once, lazily) to one sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths or (), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header_cells = []
    for name in headers:
        cell = WriteOnlyCell(sheet, value=safe_cell(name))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
        count += 1
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    try:
        workbook.save(handle)
        digest = hashlib.sha256()
        handle.seek(0)
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
        size = handle.tell()
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return XlsxFile(file=handle, rows=count, sha256=digest.hexdigest(), size=size)
