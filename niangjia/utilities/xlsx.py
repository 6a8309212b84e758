"""Writing spreadsheets for download: streamed row by row, safe to open in Excel or WPS.

``write_xlsx`` writes the workbook's XML itself, chunk by chunk, into a deflate stream inside
the zip container (an anonymous temporary file, or a file the caller gives): memory stays flat
however many rows there are, and a million rows of a member list take seconds, where the
openpyxl write-only workbook used before took over two minutes (measured in bench/README.md).
It returns the file with its row count and SHA-256, so the caller can record the hash in the
audit row of the export before the file is sent.

Every text cell passes through the rules of ``safe_cell``: a value that a spreadsheet would
read as a formula (starting with ``= + - @`` or a tab / carriage return) is prefixed with ``'``
so it stays text (CSV/formula injection), and characters XML cannot carry are dropped. Booleans
are written 是/否, dates and times as numbers with a date format, aware times in local time.

How the sheet is written (the design is measured, see the README's design section):

- text as inline strings (``t="inlineStr"``), so nothing is kept for a shared-string table;
- rows carry their number (``r="7"``, one ``%d`` in the row's template), so that a reader can
  place any row without counting those before it (the roster import reads a big sheet in
  slices); cells carry no reference (``r="B7"``): they are read in order;
- rows are rendered a chunk at a time, column by column: a column of the chunk that is all
  plain text (the usual case: checked with one regular expression over the column) or all
  dates or all integers is formatted by one ``%`` template per row, without Python code per
  cell; anything else goes cell by cell through the same rules;
- deflate level 1: the sheet is repetitive XML, a higher level costs time for a few percent.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import math
import queue
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, islice, repeat
from operator import sub
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from django.http import FileResponse
from django.utils import timezone

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A worksheet holds 1,048,576 rows, the header included.
SHEET_MAX_ROWS = 1_048_576
CHUNK_ROWS = 2000
COMPRESS_LEVEL = 1
_READ_CHUNK = 1 << 20

# Characters XML 1.0 cannot carry (control characters but tab, newline and carriage return;
# surrogates; U+FFFE/U+FFFF).
ILLEGAL_CHARACTERS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What, in a column of text joined by NUL, needs a cell's own treatment: an illegal character
# (NUL aside, counted separately), markup to escape, white space (kept by xml:space="preserve"
# at either end of a value) and a formula prefix at the start of a value.
_TEXT_TROUBLE_RE = re.compile("[\x01-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff&<>\\s]")
_FORMULA_START_RE = re.compile("\x00[=+\\-@]")
_EPOCH = datetime.date(1899, 12, 30).toordinal()
# Excel counts a 29 February 1900 that never was: serial numbers are right from March 1900.
_FIRST_DATE = datetime.date(1900, 3, 1)

_STYLE_DATE = 1
_STYLE_DATETIME = 2
_STYLE_HEADER = 3
_TEXT = '<c t="inlineStr"><is><t>%s</t></is></c>'
_TEXT_PRESERVE = '<c t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>'
_DATE = f'<c s="{_STYLE_DATE}"><v>%d</v></c>'
_INT = "<c><v>%d</v></c>"
_EMPTY = "<c/>"
_ROW = '<row r="%d">'


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
    if isinstance(value, int | float | decimal.Decimal | datetime.date):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    return text


def _text_cell(text: str) -> str:
    if not text:
        return _EMPTY
    escaped = escape(text, {"\r": "&#13;"})
    if text[0].isspace() or text[-1].isspace():
        return _TEXT_PRESERVE % escaped
    return _TEXT % escaped


def _serial(value: datetime.datetime) -> float:
    midnight = value.replace(hour=0, minute=0, second=0, microsecond=0)
    seconds = (value - midnight).total_seconds()
    return value.toordinal() - _EPOCH + seconds / 86400


def _cell(value: Any) -> str:
    """One cell's XML, by the rules of ``safe_cell``."""
    value = safe_cell(value)
    if value is None:
        return _EMPTY
    if isinstance(value, str):
        return _text_cell(value)
    if isinstance(value, datetime.datetime):
        if value < datetime.datetime(1900, 3, 1):
            return _text_cell(value.isoformat(sep=" "))
        return f'<c s="{_STYLE_DATETIME}"><v>{_serial(value)!r}</v></c>'
    if isinstance(value, datetime.date):
        if value < _FIRST_DATE:
            return _text_cell(value.isoformat())
        return _DATE % (value.toordinal() - _EPOCH)
    if isinstance(value, int):
        return _INT % value
    if isinstance(value, float) and not math.isfinite(value):
        return _text_cell(str(value))
    return f"<c><v>{value}</v></c>"


def _column(values: Sequence[Any]) -> tuple[str, Sequence[Any] | None]:
    """The row template's part for one column of a chunk, and the values it takes (None: a
    constant part). Uniform columns are formatted by the template; others cell by cell."""
    kinds = set(map(type, values))
    if kinds == {str}:
        if not any(values):
            return _EMPTY, None
        joined = "\x00".join(values)
        if (
            not joined.startswith(FORMULA_PREFIXES)
            and _TEXT_TROUBLE_RE.search(joined) is None
            and _FORMULA_START_RE.search(joined) is None
            and joined.count("\x00") == len(values) - 1
        ):
            if "" in values:  # empty text is an empty cell
                return "%s", [_TEXT % v if v else _EMPTY for v in values]
            return _TEXT, values
    elif kinds == {datetime.date}:
        if min(values) >= _FIRST_DATE:
            return _DATE, list(map(sub, map(datetime.date.toordinal, values), repeat(_EPOCH)))
    elif kinds == {int}:
        return _INT, values
    elif kinds == {type(None)}:
        return _EMPTY, None
    return "%s", list(map(_cell, values))


def render_rows(rows: Sequence[Sequence[Any]], *, first: int) -> str:
    """The ``<row>`` elements of a chunk of rows, numbered from ``first``."""
    if not rows:
        return ""
    width = len(rows[0])
    numbers = range(first, first + len(rows))
    if any(len(row) != width for row in rows):
        return "".join(
            _ROW % number + "".join(map(_cell, row)) + "</row>"
            for number, row in zip(numbers, rows, strict=True)
        )
    # The columns, by slicing the chunk's values laid end to end (cheaper than zip(*rows)).
    flat = list(chain.from_iterable(rows))
    template = [_ROW]
    columns: list[Sequence[Any]] = [numbers]
    for index in range(width):
        part, formatted = _column(flat[index::width])
        template.append(part)
        if formatted is not None:
            columns.append(formatted)
    template.append("</row>")
    row_template = "".join(template)
    return "".join(map(row_template.__mod__, zip(*columns, strict=True)))


@dataclass
class XlsxFile:
    """A finished spreadsheet in a file, positioned at its start."""

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

    def save_as(self, path: Any) -> None:
        """Copy the file to ``path`` (and rewind it)."""
        with open(path, "wb") as target:
            shutil.copyfileobj(self.file, target, _READ_CHUNK)
        self.file.seek(0)


class TooManyRows(ValueError):
    """More rows than one worksheet holds."""


def write_xlsx(
    *,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] | None = None,
    into: IO[bytes] | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> XlsxFile:
    """Write ``headers`` and then every row of ``rows`` (consumed once, lazily) to one sheet.

    The file is an anonymous temporary file unless ``into`` (a binary file open for writing
    and reading) is given. ``on_chunk(rows_so_far)`` is called after each chunk of rows
    (progress; an exception raised there abandons the file). More rows than a worksheet holds
    raise ``TooManyRows``."""
    handle = into if into is not None else tempfile.TemporaryFile()  # noqa: SIM115
    try:
        count = _write_workbook(handle, title, headers, rows, widths, on_chunk)
        handle.flush()
        handle.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: handle.read(_READ_CHUNK), b""):
            digest.update(chunk)
        size = handle.tell()
        handle.seek(0)
    except BaseException:
        if into is None:
            handle.close()
        raise
    return XlsxFile(file=handle, rows=count, sha256=digest.hexdigest(), size=size)


def _write_workbook(
    handle: IO[bytes],
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] | None,
    on_chunk: Callable[[int], None] | None,
) -> int:
    sheet_name = sheet_title(title)
    count = 0
    with zipfile.ZipFile(
        handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as archive:
        for name, text in _package_parts(sheet_name).items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet, _Deflater(sheet) as out:
            out.write(_sheet_head(headers, widths).encode())
            iterator = iter(rows)
            while chunk := list(islice(iterator, CHUNK_ROWS)):
                first = count + 2  # the header is row 1
                count += len(chunk)
                if count >= SHEET_MAX_ROWS:
                    raise TooManyRows(f"a worksheet holds {SHEET_MAX_ROWS - 1} rows of data")
                out.write(render_rows(chunk, first=first).encode("utf-8", "replace"))
                if on_chunk is not None:
                    on_chunk(count)
            out.write(b"</sheetData></worksheet>")
    return count


class _Deflater:
    """Hands the sheet's bytes to a thread that compresses and writes them. zlib and the file
    write release the GIL, so the deflate stream runs on another core while this thread reads
    and renders the next rows. The queue is short: memory stays flat."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="xlsx-deflate", daemon=True)

    def __enter__(self) -> _Deflater:
        self.thread.start()
        return self

    def _run(self) -> None:
        while (data := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.target.write(data)
                except BaseException as exc:  # handed to the writing thread
                    self.error = exc

    def write(self, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(data)

    def __exit__(self, *exc_info: object) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc_info[0] is None:
            raise self.error


def sheet_title(title: str) -> str:
    """A valid worksheet name: no ``[]:*?/\\``, at most 31 characters, not empty."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", ILLEGAL_CHARACTERS_RE.sub("", title)).strip("'")
    return cleaned[:31] or "Sheet1"


def _sheet_head(headers: Sequence[str], widths: Sequence[int] | None) -> str:
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(widths or (), start=1)
    )
    header_cells = "".join(
        _cell(name).replace("<c ", f'<c s="{_STYLE_HEADER}" ', 1)
        if safe_cell(name)
        else f'<c s="{_STYLE_HEADER}"/>'
        for name in headers
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + f'<sheetData><row r="1">{header_cells}</row>'
    )


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _package_parts(sheet_name: str) -> dict[str, str]:
    """The parts of the package besides the sheet: content types, relationships, the
    workbook and its styles (0 default, 1 date, 2 date and time, 3 bold header)."""
    return {
        "[Content_Types].xml": _XML
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        "</Types>",
        "_rels/.rels": _XML + f'<Relationships xmlns="{_PKG_RELS}">'
        f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": _XML + f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
        f'<sheets><sheet name={quoteattr(sheet_name)} sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>",
        "xl/_rels/workbook.xml.rels": _XML + f'<Relationships xmlns="{_PKG_RELS}">'
        f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_RELS}/styles" Target="styles.xml"/>'
        "</Relationships>",
        "xl/styles.xml": _XML + f'<styleSheet xmlns="{_MAIN}">'
        '<numFmts count="2">'
        '<numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
        '<numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/>'
        "</numFmts>"
        '<fonts count="2"><font><sz val="11"/><name val="等线"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="等线"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="4">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>",
    }
