"""Spreadsheets built by the tests, honest and hostile, written to a temporary directory.

Nothing binary is kept in the repository: every workbook, archive and executable header the
intake tests need is made here from a few lines of XML or bytes.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="{workbook_type}"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "{extra}"
    "</Types>"
)
WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_WORKBOOK_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="会员" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="inlineStr"><is><t>11010519491231002X</t></is></c>'
    "</row></sheetData></worksheet>"
)
SHARED_STRINGS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">'
    "<si><t>姓名</t></si><si><t>身份证号码</t></si><si><t>张三</t></si></sst>"
)

XXE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">'
    "<si><t>&xxe;</t></si><si><t>身份证号码</t></si><si><t>张三</t></si></sst>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE workbook [<!ENTITY lol "lol">'
    '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="&lol3;" sheetId="1" r:id="rId1"/></sheets></workbook>'
)


def workbook_parts(
    *, workbook_type: str = WORKBOOK_TYPE, extra_types: str = ""
) -> dict[str, str | bytes]:
    """The parts of a minimal, valid workbook: two headers and one row. Tests edit the dict."""
    return {
        "[Content_Types].xml": CONTENT_TYPES.format(workbook_type=workbook_type, extra=extra_types),
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/worksheets/sheet1.xml": SHEET,
        "xl/sharedStrings.xml": SHARED_STRINGS,
    }


def write_zip(
    path: Path,
    parts: Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    items = parts.items() if isinstance(parts, Mapping) else parts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are written on purpose
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            for name, data in items:
                archive.writestr(name, data.encode() if isinstance(data, str) else data)
    return path


def write_workbook(path: Path, **changes: str | bytes | None) -> Path:
    """The minimal workbook with parts replaced, added or (None) removed, by their name given
    as a keyword argument's value: ``write_workbook(p, **{"xl/vbaProject.bin": b"..."})``."""
    parts = workbook_parts()
    for name, data in changes.items():
        if data is None:
            parts.pop(name, None)
        else:
            parts[name] = data
    return write_zip(path, parts)


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    title: str = "Sheet1",
    origin: tuple[int, int] = (1, 1),
    merge: Sequence[str] = (),
    more_sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
    hidden: Sequence[str] = (),
) -> Path:
    """A real workbook written by openpyxl; ``origin`` is the (row, column) of the first cell."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for name, sheet_rows in [(title, rows), *(more_sheets or {}).items()]:
        target = sheet if name == title else workbook.create_sheet(name)
        for r, row in enumerate(sheet_rows):
            for c, value in enumerate(row):
                if value is not None:
                    target.cell(row=origin[0] + r, column=origin[1] + c, value=value)
        if name in hidden:
            target.sheet_state = "hidden"
    for cells in merge:
        sheet.merge_cells(cells)
    workbook.save(path)
    return path


def shared_strings(strings: Sequence[str]) -> str:
    items = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{items}</sst>"
    )


# Leading bytes of things that are not tables.
PE_HEADER = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
ELF_HEADER = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
MACHO_HEADER = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 56
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def ole2_file(path: Path, *stream_names: str) -> Path:
    """An OLE2 compound-file look-alike whose directory names ``stream_names`` (UTF-16)."""
    body = OLE2_MAGIC + b"\x00" * 504
    for name in stream_names:
        body += name.encode("utf-16-le") + b"\x00\x00" + b"\x00" * 32
    path.write_bytes(body + b"\x00" * 1024)
    return path
