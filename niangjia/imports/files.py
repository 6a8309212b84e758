"""Taking in an uploaded roster: is it a spreadsheet we are willing to open, and its rows.

``inspect_upload`` looks at the bytes, never at the name alone, before anything parses the
file, and refuses with a Chinese message (``RejectedFile``) whatever is not a plain workbook or
text table:

* an ``.xlsx`` is a zip archive. Its central directory is checked first, without unpacking
  anything: how many parts, how large they unpack to in total and each one's compression ratio
  (zip bombs), encrypted or nested archives, macros (``vbaProject.bin``, macro sheets, a
  ``macroEnabled`` content type). Then every XML part is read through once, in chunks, looking
  for a DTD (``<!DOCTYPE``, ``<!ENTITY``: entity-expansion and external-entity attacks), and the
  small structural parts are parsed with defusedxml, which refuses any DTD as well;
* a ``.csv`` must be text: UTF-8 (with or without BOM), UTF-16 with a BOM, or GB18030 (what
  Excel and WPS write on Chinese Windows), checked over the whole file, without NUL bytes;
* old binary workbooks (``.xls``), password-protected workbooks, executables, scripts, PDFs,
  images, other archives (``.docx``, ``.apk``, ``.jar``) and web pages are refused with advice.

``read_rows`` then yields every row of a sheet as a list of raw values, from the spreadsheet's
first row (row ``n`` of the file is the ``n``-th item), so row numbers in messages are the ones
the cadre sees; ``head_rows`` gives only the first ones (finding the header at upload).
Workbooks are read by calamine (Rust), which parses a whole sheet before handing out a row: a
big sheet is therefore cut into slices of whole rows, each parsed on its own (see "Big
sheets" below), so memory stays at a fraction of the sheet's. CSV goes through ``csv``.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import posixpath
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from django.conf import settings
from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    SheetTypeEnum,
    SheetVisibleEnum,
)

XLSX = "xlsx"
CSV = "csv"
KINDS = (XLSX, CSV)

MAX_MEMBERS = 10_000
# A part that unpacks to more than this many times its packed size, when it is also bigger
# than RATIO_MIN_SIZE, is a zip bomb (real sheets compress about 5-20:1).
MAX_RATIO = 200
RATIO_MIN_SIZE = 10 * 1024 * 1024
# The structural parts parsed as XML trees; real ones are a few kilobytes.
SMALL_PART_MAX = 16 * 1024 * 1024
CHUNK = 1024 * 1024
ENCODING_PROBE = 1024 * 1024

MSG_EMPTY = "文件是空的（0 字节），请检查后重新上传。"
MSG_MACRO = "含宏的工作簿不予接收，请另存为 .xlsx（Excel 工作簿）后再上传。"
MSG_XLS = (
    "这是旧版 Excel 97-2003 工作簿（.xls），可能含宏，不予接收；"
    "请在 Excel 或 WPS 中另存为 .xlsx（Excel 工作簿）后再上传。"
)
MSG_XLSB = "二进制工作簿（.xlsb）可能含宏，不予接收；请另存为 .xlsx（Excel 工作簿）后再上传。"
MSG_PASSWORD = "工作簿设有打开密码，无法读取；请取消密码后另存为 .xlsx 再上传。"  # noqa: S105
MSG_NOT_SHEET = "文件内容不是电子表格{what}，请上传 .xlsx 或 .csv 文件。"
MSG_CORRUPT = "文件已损坏或不完整，无法作为 .xlsx 打开；请在 Excel 或 WPS 中重新保存后再上传。"
MSG_UNSAFE_XML = "文件含有不安全的 XML 声明（DTD 或实体定义），不予接收；请在 Excel 或 WPS 中另存为 .xlsx 后再上传。"
MSG_ENCODING = (
    "无法识别文件的字符编码；请在 Excel 或 WPS 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后再上传。"
)
MSG_BINARY = "文件内容不是电子表格（含有二进制数据），请上传 .xlsx 或 .csv 文件。"


class RejectedFile(Exception):
    """The upload is refused; ``message`` says why, in Chinese, for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def max_bytes() -> int:
    return int(settings.IMPORT_MAX_BYTES)


def max_uncompressed() -> int:
    return int(settings.IMPORT_MAX_UNCOMPRESSED)


def format_size(size: int) -> str:
    """A byte count as people read it: 200 MB, 1.5 GB, 12 KB."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            text = f"{size / scale:.1f}".removesuffix(".0")
            return f"{text} {unit}"
    return f"{size} 字节"


# --- Intake ------------------------------------------------------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Leading bytes of files that are certainly not tables, what to call them, and whether a NUL
# byte must follow too ("MZ" or "BM" may also begin a line of text).
_MAGICS: tuple[tuple[bytes, str, bool], ...] = (
    (b"MZ", "可执行程序", True),
    (b"\x7fELF", "可执行程序", False),
    (b"\xfe\xed\xfa\xce", "可执行程序", False),
    (b"\xfe\xed\xfa\xcf", "可执行程序", False),
    (b"\xce\xfa\xed\xfe", "可执行程序", False),
    (b"\xcf\xfa\xed\xfe", "可执行程序", False),
    (b"\xca\xfe\xba\xbe", "可执行程序", False),
    (b"#!", "脚本程序", False),
    (b"%PDF", "PDF 文档", False),
    (b"{\\rtf", "RTF 文档", False),
    (b"\x89PNG", "图片", False),
    (b"\xff\xd8\xff", "图片", False),
    (b"GIF8", "图片", False),
    (b"BM", "图片", True),
    (b"\x1f\x8b", "压缩文件", False),
    (b"7z\xbc\xaf\x27\x1c", "压缩文件", False),
    (b"Rar!\x1a\x07", "压缩文件", False),
    (b"\xfd7zXZ\x00", "压缩文件", False),
    (b"PK\x05\x06", "空的压缩文件", False),
    (b"PK\x07\x08", "分卷压缩文件", False),
)
_MACRO_NAMES = (".xlsm", ".xltm", ".xlam")
_ARCHIVE_SUFFIXES = (
    ".zip",
    ".xlsx",
    ".xlsm",
    ".xlsb",
    ".xls",
    ".docx",
    ".docm",
    ".pptx",
    ".jar",
    ".apk",
    ".gz",
    ".tgz",
    ".7z",
    ".rar",
    ".tar",
    ".bz2",
    ".xz",
    ".cab",
)
# Parts that are not XML and are read by nobody (pictures, printer settings, OLE objects).
_BINARY_SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".emf",
    ".wmf",
    ".bin",
    ".svg",
    ".wdp",
)
_STRUCTURE_PARTS = (
    "[Content_Types].xml",
    "_rels/.rels",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
)
_WORKBOOK_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
}


def inspect_upload(path: Path, *, original_name: str) -> str:
    """``"xlsx"`` or ``"csv"``: what the file at ``path`` is, judged by its content; raises
    ``RejectedFile`` for anything else (see the module docstring)."""
    size = path.stat().st_size
    if size == 0:
        raise RejectedFile(MSG_EMPTY)
    limit = max_bytes()
    if size > limit:
        raise RejectedFile(
            f"文件大小为 {format_size(size)}，超过了 {format_size(limit)} 的上限；"
            "请把名册分成几个文件分别上传。"
        )
    with path.open("rb") as handle:
        head = handle.read(8192)
    suffix = Path(original_name).suffix.lower()

    if head.startswith(_ZIP_MAGIC):
        _inspect_zip(path, size)
        _refuse_macro_names(suffix)
        return XLSX
    if head.startswith(_OLE2_MAGIC):
        raise RejectedFile(_ole2_message(path))
    what = _binary_kind(head)
    if what is not None:
        raise RejectedFile(MSG_NOT_SHEET.format(what=f"（是{what}）"))
    encoding = csv_encoding(path)
    _refuse_markup(path, encoding)
    _refuse_macro_names(suffix)
    return CSV


def _refuse_macro_names(suffix: str) -> None:
    if suffix in _MACRO_NAMES:
        raise RejectedFile(MSG_MACRO)
    if suffix == ".xlsb":
        raise RejectedFile(MSG_XLSB)
    if suffix == ".xls":
        raise RejectedFile(MSG_XLS)


def _binary_kind(head: bytes) -> str | None:
    """What a file that is certainly not a table looks like, or None."""
    has_nul = b"\x00" in head[:4096]
    for magic, what, needs_nul in _MAGICS:
        if head.startswith(magic) and (has_nul or not needs_nul):
            return what
    return None


def _ole2_message(path: Path) -> str:
    """An OLE2 compound file: an old .xls, a password-protected .xlsx, or a Word/other file."""
    found = _find_utf16(path, ("EncryptedPackage", "Workbook", "Book", "WordDocument"))
    if "EncryptedPackage" in found:
        return MSG_PASSWORD
    if "Workbook" in found or "Book" in found:
        return MSG_XLS
    if "WordDocument" in found:
        return MSG_NOT_SHEET.format(what="（是 Word 文档）")
    return MSG_NOT_SHEET.format(what="（是旧版 Office 文件）")


def _find_utf16(path: Path, names: tuple[str, ...]) -> set[str]:
    """Which of ``names`` occur as UTF-16 strings (OLE2 directory entries) in the file."""
    needles = {name: name.encode("utf-16-le") + b"\x00\x00" for name in names}
    keep = max(len(needle) for needle in needles.values())
    found: set[str] = set()
    tail = b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            window = tail + chunk
            for name, needle in needles.items():
                if name not in found and needle in window:
                    found.add(name)
            tail = window[-keep:]
    return found


# --- Zip (xlsx) --------------------------------------------------------------------------------


def _inspect_zip(path: Path, size: int) -> None:
    entries = _zip_entry_count(path, size)
    if entries > MAX_MEMBERS:
        raise RejectedFile(
            f"文件由 {entries} 个部件组成（上限 {MAX_MEMBERS} 个），不是正常的工作簿，不予接收。"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_members(infos)
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise RejectedFile(_not_workbook_message(archive, names))
            if any(_is_macro_part(name) for name in names):
                raise RejectedFile(MSG_MACRO)
            for info in infos:
                if _is_xml_part(info.filename):
                    _scan_xml(archive, info)
            _check_structure(archive, names)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error) as exc:
        raise RejectedFile(MSG_CORRUPT) from exc
    except (NotImplementedError, RuntimeError) as exc:  # unsupported compression, encryption
        raise RejectedFile(MSG_CORRUPT) from exc


def _zip_entry_count(path: Path, size: int) -> int:
    """The number of entries the end-of-central-directory record announces, read before the
    zipfile module builds one object per entry."""
    tail_size = min(size, 22 + 65535)
    with path.open("rb") as handle:
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            raise RejectedFile(MSG_CORRUPT)
        (_sig, disk, cd_disk, _on_disk, total, cd_size, cd_offset, _comment) = struct.unpack(
            "<4s4H2LH", tail[at : at + 22]
        )
        if disk != 0 or cd_disk != 0:
            raise RejectedFile(MSG_NOT_SHEET.format(what="（是分卷压缩文件）"))
        if total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
            # ZIP64: the real counts are in the ZIP64 record, found through its locator.
            locator_at = size - tail_size + at - 20
            if locator_at < 0:
                raise RejectedFile(MSG_CORRUPT)
            handle.seek(locator_at)
            locator = handle.read(20)
            if len(locator) < 20 or not locator.startswith(b"PK\x06\x07"):
                raise RejectedFile(MSG_CORRUPT)
            (record_at,) = struct.unpack("<Q", locator[8:16])
            if record_at > size - 56:
                raise RejectedFile(MSG_CORRUPT)
            handle.seek(record_at)
            record = handle.read(56)
            if not record.startswith(b"PK\x06\x06"):
                raise RejectedFile(MSG_CORRUPT)
            (total,) = struct.unpack("<Q", record[32:40])
        return int(total)


def _check_members(infos: list[zipfile.ZipInfo]) -> None:
    seen: set[str] = set()
    total = 0
    ceiling = max_uncompressed()
    for info in infos:
        name = info.filename
        if name in seen:
            raise RejectedFile(f"文件中的部件“{name}”出现了两次，结构异常，不予接收。")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise RejectedFile(
                f"文件中的部件“{name}”被加密，无法检查，不予接收；请取消加密后另存为 .xlsx 再上传。"
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise RejectedFile(
                f"文件中的部件“{name}”使用了不常见的压缩方式，请在 Excel 或 WPS 中另存为 .xlsx 后再上传。"
            )
        if name.lower().endswith(_ARCHIVE_SUFFIXES):
            raise RejectedFile(
                f"文件中嵌套了另一个压缩文件或文档（“{name}”），不予接收；请删除其中嵌入的对象后再上传。"
            )
        unpacked = info.file_size
        if unpacked > RATIO_MIN_SIZE and unpacked > MAX_RATIO * max(info.compress_size, 1):
            raise RejectedFile(
                f"文件中的部件“{name}”压缩比异常（超过 {MAX_RATIO}:1），疑似“压缩炸弹”，不予接收。"
            )
        total += unpacked
        if total > ceiling:
            raise RejectedFile(
                f"文件解压后超过 {format_size(ceiling)}，疑似“压缩炸弹”，不予接收；"
                "如确为大名册，请分成几个文件分别上传。"
            )


def _not_workbook_message(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "xl/workbook.bin" in names:
        return MSG_XLSB
    if "word/document.xml" in names:
        return MSG_NOT_SHEET.format(what="（是 Word 文档）")
    if "ppt/presentation.xml" in names:
        return MSG_NOT_SHEET.format(what="（是 PowerPoint 演示文稿）")
    if "AndroidManifest.xml" in names:
        return MSG_NOT_SHEET.format(what="（是手机安装包）")
    if "META-INF/MANIFEST.MF" in names:
        return MSG_NOT_SHEET.format(what="（是 Java 程序包）")
    if "mimetype" in names and archive.getinfo("mimetype").file_size < 200:
        mimetype = archive.read("mimetype")
        if b"opendocument.spreadsheet" in mimetype:
            return "这是 OpenDocument 表格（.ods），请在 WPS、LibreOffice 或 Excel 中另存为 .xlsx 后再上传。"
    return MSG_NOT_SHEET.format(what="（是其他内容的压缩文件）")


def _is_macro_part(name: str) -> bool:
    low = name.lower()
    return (
        low.endswith("vbaproject.bin")
        or low.endswith("vbaprojectsignature.bin")
        or low.startswith("xl/macrosheets/")
    )


def _is_xml_part(name: str) -> bool:
    return not name.endswith("/") and not name.lower().endswith(_BINARY_SUFFIXES)


def _scan_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Read one part through (constant memory) and refuse it if it declares a DTD or entities,
    or is not UTF-8 (a UTF-16 part would hide its declarations from this scan)."""
    tail = b""
    first = True
    with archive.open(info) as part:
        for chunk in iter(lambda: part.read(CHUNK), b""):
            if first:
                first = False
                if b"\x00" in chunk[:512]:
                    raise RejectedFile(MSG_UNSAFE_XML)
            window = tail + chunk
            at = window.find(b"<!")
            while at >= 0:
                keyword = window[at + 2 : at + 9].upper()
                if keyword.startswith((b"DOCTYPE", b"ENTITY")):
                    raise RejectedFile(MSG_UNSAFE_XML)
                if len(keyword) < 7 and at + 9 > len(window):
                    break  # cut at the chunk's end: looked at again with the next chunk
                at = window.find(b"<!", at + 2)
            tail = window[-8:]


def _check_structure(archive: zipfile.ZipFile, names: set[str]) -> None:
    """Parse the small parts that say what the package is (defusedxml: no DTD, no entities)."""
    trees = {}
    for name in _STRUCTURE_PARTS:
        if name not in names:
            continue
        info = archive.getinfo(name)
        if info.file_size > SMALL_PART_MAX:
            raise RejectedFile(f"文件中的部件“{name}”大得异常，不予接收。")
        try:
            trees[name] = SafeElementTree.fromstring(
                archive.read(info), forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
        except DefusedXmlException as exc:
            raise RejectedFile(MSG_UNSAFE_XML) from exc
        except SafeElementTree.ParseError as exc:
            raise RejectedFile(MSG_CORRUPT) from exc
    for element in trees["[Content_Types].xml"].iter():
        content_type = element.get("ContentType", "")
        low = content_type.lower()
        if "macroenabled" in low or "vbaproject" in low:
            raise RejectedFile(MSG_MACRO)
        if element.get("PartName", "").lower() == "/xl/workbook.xml" and (
            content_type not in _WORKBOOK_TYPES
        ):
            raise RejectedFile(MSG_NOT_SHEET.format(what=""))
    if not any(_local(element.tag) == "sheet" for element in trees["xl/workbook.xml"].iter()):
        raise RejectedFile("工作簿中没有任何工作表，请检查后重新上传。")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- Text (csv) --------------------------------------------------------------------------------


def csv_encoding(path: Path) -> str:
    """The encoding the whole text file decodes in: BOM first, then UTF-8, then GB18030.

    The first megabyte decides which candidates are tried; the chosen one is then checked over
    the whole file (a file whose first megabyte is plain ASCII may turn out to be GB18030).
    """
    with path.open("rb") as handle:
        head = handle.read(ENCODING_PROBE)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        if b"\x00" in head:
            raise RejectedFile(MSG_BINARY)
        candidates = [enc for enc in ("utf-8", "gb18030") if _decodes(head, enc, final=False)]
    for encoding in candidates:
        if _decodes_file(path, encoding):
            return encoding
    raise RejectedFile(MSG_ENCODING)


def _decodes(data: bytes, encoding: str, *, final: bool) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=final)
    except UnicodeDecodeError:
        return False
    return True


def _decodes_file(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                if "\x00" in decoder.decode(chunk):
                    raise RejectedFile(MSG_BINARY)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_markup(path: Path, encoding: str) -> None:
    """Web pages and XML saved with a table's name (HTML "xls" exports, SpreadsheetML)."""
    with path.open(encoding=encoding, newline="") as handle:
        start = handle.read(512).lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<"):
        raise RejectedFile(
            "文件是网页或 XML 格式，不是电子表格；请在 Excel 或 WPS 中打开后另存为 .xlsx 再上传。"
        )


def _sniff_delimiter(sample: str) -> str:
    """Comma unless the first lines clearly use tabs or semicolons instead."""
    lines = sample.splitlines()[:20] or [""]
    best, best_count = ",", 0
    for delimiter in (",", "\t", ";"):
        counts = [line.count(delimiter) for line in lines if line]
        if counts and min(counts) > 0 and sum(counts) > best_count:
            best, best_count = delimiter, sum(counts)
    return best


# --- Reading -----------------------------------------------------------------------------------

# How many rows ``head_rows`` reads by default: enough to find a header below title rows.
HEAD_ROWS = 30


def sheet_names(path: Path, kind: str) -> list[str]:
    """The visible worksheets of a workbook, in order; a CSV file has one, named "CSV"."""
    if kind == CSV:
        return ["CSV"]
    _check_kind(kind)
    with _open_workbook(path) as workbook:
        return _visible_sheets(workbook)


def read_rows(path: Path, kind: str, *, sheet: str | int = 0) -> Iterator[list[Any]]:
    """Every row of the sheet as a list of raw values, from the file's first row on.

    xlsx: values as calamine gives them: ``str`` (``""`` for an empty cell), ``float`` for every
    number (ints too: 3 is 3.0; an ID number stored as a number has already lost digits),
    ``bool``, ``datetime.date``/``datetime``/``time``/``timedelta`` for date-formatted cells.
    Rows are as wide as the used area of the sheet (of the slice, for a big sheet read in
    slices: a later row may be wider than an earlier one). ``sheet`` is a worksheet's name or
    its index among the visible worksheets (``sheet_names``).
    csv: every value a ``str``; rows as long as the line.
    """
    _check_kind(kind)
    if kind == CSV:
        return _csv_rows(path)
    return _xlsx_rows(path, sheet)


def head_rows(
    path: Path, kind: str, *, sheet: str | int = 0, limit: int = HEAD_ROWS
) -> list[list[Any]]:
    """The first ``limit`` rows, as ``read_rows`` gives them, without reading a big sheet
    through (for finding the header of a million-row file at upload)."""
    _check_kind(kind)
    if kind == CSV:
        return list(itertools.islice(_csv_rows(path), limit))
    return list(itertools.islice(_xlsx_rows(path, sheet, head=limit), limit))


class NotSliceable(Exception):
    """The sheet cannot be read in slices (laid out otherwise than the slicer expects)."""


def sheet_parts(
    path: Path, sheet: str | int = 0
) -> Callable[[Callable[[int], bool]], Iterator[tuple[int, list[list[Any]]] | None]] | None:
    """A big sheet's slices as the parts of a read shared by several processes, or None for a
    sheet small enough to be read whole. The function returned walks every slice in order
    and gives, for each, ``(number of its first row, its rows)`` when ``select(slice number)``
    says so — only those slices are parsed — and None for the others. It raises
    ``NotSliceable`` (before giving anything) when the sheet turns out not to be sliceable."""
    layout = _sheet_layout(path, sheet)
    if layout is None or layout.size <= layout.part_bytes:
        return None
    sliced = _SlicedSheet(path, layout)

    def parts(select: Callable[[int], bool]) -> Iterator[tuple[int, list[list[Any]]] | None]:
        given = False
        for part in sliced.parts(select):
            given = True
            yield part
        if not given and sliced.fell_back:
            raise NotSliceable

    return parts


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown file kind {kind!r}")


def _open_workbook(path: Path) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(path))
    except CalamineError as exc:
        raise RejectedFile(MSG_CORRUPT) from exc


def _visible_sheets(workbook: CalamineWorkbook) -> list[str]:
    return [
        meta.name
        for meta in workbook.sheets_metadata
        if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible
    ]


def _sheet_name(workbook: CalamineWorkbook, sheet: str | int) -> str:
    if isinstance(sheet, int):
        visible = _visible_sheets(workbook)
        if not 0 <= sheet < len(visible):
            raise RejectedFile(f"工作簿中没有第 {sheet + 1} 个工作表。")
        return visible[sheet]
    if sheet not in workbook.sheet_names:
        raise RejectedFile(f"工作簿中没有名为“{sheet}”的工作表。")
    return sheet


def _xlsx_rows(path: Path, sheet: str | int, *, head: int | None = None) -> Iterator[list[Any]]:
    layout = _sheet_layout(path, sheet)
    if layout is None:
        # A package laid out otherwise than the slicer expects: calamine finds the sheet.
        with _open_workbook(path) as workbook:
            name = _sheet_name(workbook, sheet)
        yield from _whole_sheet_rows(path, name)
        return
    if layout.size > (HEAD_SLICE_FROM if head else layout.slice_bytes):
        sliced = _SlicedSheet(path, layout)
        rows = sliced.head(head) if head else sliced.rows()
        first = next(rows, None)
        if first is not None or not sliced.fell_back:
            if first is not None:
                yield first
                yield from rows
            return
    yield from _whole_sheet_rows(path, layout.name)


def _whole_sheet_rows(path: Path, name: str) -> Iterator[list[Any]]:
    with _open_workbook(path) as workbook:  # closed once the sheet is parsed: its strings too
        try:
            data = workbook.get_sheet_by_name(name)
        except CalamineError as exc:
            raise RejectedFile(f"工作表“{name}”无法读取：{MSG_CORRUPT}") from exc
    start = data.start
    if start is None:
        return
    # calamine gives the rows from the sheet's first row but the columns from the first used
    # one: pad them back so that index n is column n + 1 of the sheet.
    rows = data.iter_rows()
    if start[1]:
        padding = [""] * start[1]
        for row in rows:
            yield padding + row
    else:
        yield from rows


# --- Big sheets, read a slice at a time -------------------------------------------------------
#
# calamine parses a whole sheet before handing out its first row: a million rows of ten
# columns take about a gigabyte. A sheet bigger than SLICE_BYTES (uncompressed XML) is cut
# instead into slices of whole rows, each written with the workbook's small parts (workbook,
# relationships, styles, shared strings) into a temporary workbook that calamine reads on its
# own. Rows keep their ``r`` numbers, so every slice places them where they are in the file.
#
# The format lets a row go without its number (our own exports did; writers other than Excel
# may): such a row is the one after the previous row. A slice none of whose rows and cells
# carries a number is therefore read as it is, calamine counting its rows from the slice's top,
# which is the row after the last one counted before it. A slice where some do (numbered rows
# among unnumbered ones, or cells with references) has its first row numbered when it is not,
# so that calamine counts on from the right row and places the rest by their numbers.

SLICE_BYTES = 48 * 1024 * 1024
HEAD_SLICE_FROM = 1024 * 1024
_PREFIX_MAX = 16 * 1024 * 1024
_SHEET_DATA = re.compile(rb"<(?:(\w+):)?sheetData\b[^>]*?(/?)>")
_ROOT = re.compile(rb"<((?:\w+:)?worksheet)\b")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*/>")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"']?(\d+)")
# An ``r`` attribute, of a row or a cell, anywhere (perhaps in a text too: then a slice is only
# read the slower way). Searched from its letter, which is fast.
_REFERENCE = re.compile(rb"r(?<=\sr)\s*=")
_RELATIONSHIPS_NS = "relationships"


@dataclass(frozen=True)
class _SheetLayout:
    name: str
    part: str  # the sheet's part in the package
    size: int  # its uncompressed size
    support: tuple[str, ...]  # the parts every slice carries
    support_size: int

    @property
    def slice_bytes(self) -> int:
        # Every slice parses the shared strings again: with many of them, fewer, larger slices.
        return max(SLICE_BYTES, 2 * self.support_size)

    @property
    def part_bytes(self) -> int:
        # Slices shared between processes are smaller, so that they end together.
        return max(SLICE_BYTES // 2, 2 * self.support_size)


def _sheet_layout(path: Path, sheet: str | int) -> _SheetLayout | None:
    """Where the worksheet ``sheet`` (a name, or an index among the visible worksheets) is
    stored; None when the package is laid out otherwise than the slicer expects."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            workbook = SafeElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = SafeElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {}
            for rel in rels.iter():
                if rel.get("Id") and rel.get("Target"):
                    targets[rel.get("Id")] = (
                        rel.get("Type", ""),
                        _part_name(rel.get("Target", "")),
                    )
            sheets = []  # (name, part, visible worksheet)
            for element in workbook.iter():
                if _local(element.tag) != "sheet":
                    continue
                rel_id = next(
                    (
                        value
                        for attribute, value in element.attrib.items()
                        if _local(attribute) == "id" and _RELATIONSHIPS_NS in attribute
                    ),
                    None,
                )
                if rel_id not in targets:
                    return None
                kind, part = targets[rel_id]
                visible = kind.endswith("/worksheet") and element.get("state", "visible") == (
                    "visible"
                )
                sheets.append((element.get("name", ""), part, visible))
            if isinstance(sheet, int):
                visible_sheets = [item for item in sheets if item[2]]
                if not 0 <= sheet < len(visible_sheets):
                    raise RejectedFile(f"工作簿中没有第 {sheet + 1} 个工作表。")
                name, part, _visible = visible_sheets[sheet]
            else:
                found = [item for item in sheets if item[0] == sheet]
                if not found:
                    raise RejectedFile(f"工作簿中没有名为“{sheet}”的工作表。")
                name, part, _visible = found[0]
            if part not in names:
                return None
            support = [
                "[Content_Types].xml",
                "_rels/.rels",
                "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels",
            ]
            for kind, target in targets.values():
                if kind.endswith(("/styles", "/sharedStrings")) and target in names:
                    support.append(target)
            if not all(item in names for item in support):
                return None
            return _SheetLayout(
                name=name,
                part=part,
                size=archive.getinfo(part).file_size,
                support=tuple(support),
                support_size=sum(archive.getinfo(item).file_size for item in support),
            )
    except (zipfile.BadZipFile, KeyError, OSError, DefusedXmlException, SafeElementTree.ParseError):
        return None


def _row_number(tag: re.Match[bytes] | None) -> int | None:
    if tag is None:
        return None
    number = _ROW_NUMBER.search(tag.group(1))
    return int(number.group(1)) if number else None


def _part_name(target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join("xl", target))


class _SlicedSheet:
    def __init__(self, path: Path, layout: _SheetLayout) -> None:
        self.path = path
        self.name = layout.name
        self.layout = layout
        self.fell_back = False  # set when the sheet turned out not to be sliceable

    def rows(self) -> Iterator[list[Any]]:
        return self._rows(limit=None)

    def head(self, limit: int) -> Iterator[list[Any]]:
        return self._rows(limit=limit)

    def parts(self, select: Callable[[int], bool]) -> Iterator[tuple[int, list[list[Any]]] | None]:
        """See ``sheet_parts``."""
        return self._rows(limit=None, select=select)  # type: ignore[return-value]

    def _rows(
        self, *, limit: int | None, select: Callable[[int], bool] | None = None
    ) -> Iterator[Any]:
        try:
            with zipfile.ZipFile(self.path) as archive:
                support = {name: archive.read(name) for name in self.layout.support}
                with archive.open(self.layout.part) as stream:
                    yield from self._slices(stream, support, limit, select)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise RejectedFile(MSG_CORRUPT) from exc

    def _slices(
        self,
        stream: IO[bytes],
        support: dict[str, bytes],
        limit: int | None,
        select: Callable[[int], bool] | None = None,
    ) -> Iterator[Any]:
        """The rows of the sheet, a slice at a time; with ``select``, each slice as a part
        instead: ``(number of its first row, its rows)`` or, for a slice not selected (not
        parsed), None."""
        pending = bytearray()
        match = None
        while match is None:
            block = stream.read(CHUNK)
            pending += block
            match = _SHEET_DATA.search(pending)
            if not block or (match is None and len(pending) > _PREFIX_MAX):
                break
        if match is None or match.group(2) == b"/":
            self.fell_back = match is None
            return
        namespace = match.group(1) + b":" if match.group(1) else b""
        prefix = bytes(pending[: match.end()])
        root = _ROOT.search(prefix)
        if root is None:
            self.fell_back = True
            return
        prefix = _DIMENSION.sub(b"", prefix)
        close_row = b"</" + namespace + b"row>"
        open_row = b"<" + namespace + b"row"
        end_data = b"</" + namespace + b"sheetData>"
        suffix = end_data + b"</" + root.group(1) + b">"
        numbered_row = re.compile(re.escape(open_row) + rb"\b[^>]*?\sr\s*=\s*[\"']?(\d+)")
        del pending[: match.end()]

        done = 0  # rows handed out so far
        last_row = 0  # the number of the last row of the previous slice
        width = 0
        eof = False
        final = False
        part_no = 0
        # A head is read until it holds ``limit`` rows (at most _PREFIX_MAX bytes): one slice.
        if limit is not None:
            size = _PREFIX_MAX
        else:
            size = self.layout.slice_bytes if select is None else self.layout.part_bytes
        need = size
        while not final:
            while len(pending) < need and not eof:
                block = stream.read(CHUNK)
                eof = not block
                pending += block
                if limit is not None and pending.count(close_row) >= limit:
                    break
            end = pending.find(end_data)
            if 0 <= end <= need:
                cut, final = end, True
            else:
                # The last whole row that fits in the slice, or the first row if one is longer.
                stop = need if end < 0 else min(need, end)
                cut = pending.rfind(close_row, 0, stop)
                if cut < 0:
                    cut = pending.find(close_row, 0, end if end >= 0 else len(pending))
                if cut >= 0:
                    cut += len(close_row)
                elif end >= 0:
                    cut, final = end, True
                elif eof:
                    raise RejectedFile(MSG_CORRUPT)
                else:
                    need = len(pending) + CHUNK
                    continue
            need = size
            first_at = pending.find(open_row, 0, cut)
            if first_at < 0:
                del pending[:cut]
                continue  # no rows in this slice (what followed the last one)
            first_no = _row_number(_ROW_TAG.match(pending, first_at))
            last_no = _row_number(_ROW_TAG.match(pending, pending.rfind(open_row, first_at, cut)))
            number_first = b""  # an ``r`` given to the slice's first row
            base = 0  # the sheet's row (from 0) that calamine takes the slice's first for
            if first_no is None or last_no is None:
                if _REFERENCE.search(pending, first_at, cut) is None:
                    # Nothing numbered: rows counted from the top of the slice.
                    base = last_row
                    first_no = last_row + 1
                    last_no = last_row + pending.count(open_row, first_at, cut)
                else:
                    if first_no is None:
                        first_no = last_row + 1
                        number_first = b' r="%d"' % first_no
                    if last_no is None:
                        # The row after the slice's last numbered row, counting those between.
                        last_no, at = first_no, first_at
                        for numbered in numbered_row.finditer(pending, first_at + 1, cut):
                            last_no, at = int(numbered.group(1)), numbered.start()
                        last_no += pending.count(open_row, at + 1, cut)
            # Rows must come in order (as the format requires and Excel writes them): checked
            # where slices meet, since each slice is placed by its own row numbers.
            if not last_row < first_no <= last_no:
                raise self._disorder()
            if select is not None and not select(part_no):
                # Another process's part: skipped unparsed, its rows placed by their numbers.
                part_no += 1
                del pending[:cut]
                last_row = last_no
                done = max(done, last_no)
                yield None
                continue
            at = first_at + len(open_row)
            with memoryview(pending) as view, view[:at] as opening, view[at:cut] as rest:
                handle = self._write_slice((prefix, opening, number_first, rest, suffix), support)
            del pending[:cut]
            with handle:
                rows, count, slice_width = self._slice_rows(
                    handle.name, done, base=base, first=first_no, last=last_no
                )
                last_row = last_no
                if select is not None:
                    part_no += 1
                    count = max(count, 0)
                    part = (done + 1, list(itertools.islice(rows, count)))
                    done += count
                    yield part
                    continue
                if limit is not None:
                    count = min(count, limit - done)
                    rows = itertools.islice(rows, count)
                if slice_width < width:
                    # A slice narrower than the rows handed out before: widen its rows to match.
                    padding = [""] * (width - slice_width)
                    for row in rows:
                        row += padding
                        yield row
                else:
                    width = slice_width
                    yield from rows
                done += count
                if limit is not None and done >= limit:
                    return

    def _write_slice(
        self, sheet_xml: tuple[bytes | memoryview, ...], support: dict[str, bytes]
    ) -> IO[bytes]:
        """A temporary workbook holding one slice of the sheet (its XML in pieces, written one
        after the other rather than joined first), next to the uploaded file."""
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the caller's with
            dir=self.path.parent, prefix=".slice-", suffix=".xlsx"
        )
        try:
            size = sum(len(piece) for piece in sheet_xml)
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as package:
                for name, data in support.items():
                    package.writestr(name, data)
                with package.open(
                    self.layout.part, "w", force_zip64=size > zipfile.ZIP64_LIMIT
                ) as part:
                    for piece in sheet_xml:
                        part.write(piece)
            handle.flush()
        except BaseException:
            handle.close()
            raise
        return handle

    def _slice_rows(
        self, slice_path: str, done: int, *, base: int, first: int, last: int
    ) -> tuple[Iterator[list[Any]], int, int]:
        """The rows of one slice from the sheet's row ``done`` (from 0) on, how many there are
        and how wide they are. calamine numbers a slice's rows from its own first row, which is
        the sheet's row ``base``: from the sheet's first row for a slice of numbered rows, from
        the slice's first row for one of counted rows. The rows are taken from the first used
        one (a slice of numbered rows deep in a big sheet would otherwise first give as many
        empty rows as the sheet has above it), the columns from the first used one (padded
        back here); the rows already handed out are skipped and the empty rows between them
        and the slice's first used row added. The slice holds the rows numbered ``first`` to
        ``last``: a cell that calamine places elsewhere (its reference says another row than
        its row's number) would land among another slice's rows."""
        try:
            with CalamineWorkbook.from_path(slice_path) as workbook:
                data = workbook.get_sheet_by_name(self.name)
        except CalamineError as exc:
            raise RejectedFile(f"工作表“{self.name}”无法读取：{MSG_CORRUPT}") from exc
        start, end = data.start, data.end
        if start is None or end is None:
            return iter(()), 0, 0
        top = base + start[0]  # the sheet's row (from 0) of the slice's first used row
        if top < first - 1 or base + end[0] > last - 1:
            raise self._disorder()
        width = end[1] + 1
        rows: Iterator[list[Any]]
        if start[0]:
            # Rows from the first used one, all at once (iter_rows would make each empty row
            # before it first).
            used: list[list[Any]] = data.to_python()
            if done > top:
                del used[: done - top]
            rows = iter(used)
        else:
            rows = data.iter_rows()  # one at a time: fewer rows alive at once
            if done > top:
                rows = itertools.islice(rows, done - top, None)
        if start[1]:
            padding = [""] * start[1]
            rows = (padding + row for row in rows)
        if top > done:
            rows = itertools.chain(([""] * width for _ in range(top - done)), rows)
        return rows, base + end[0] + 1 - done, width

    def _disorder(self) -> RejectedFile:
        return RejectedFile(
            f"工作表“{self.name}”中的行号缺失或没有按顺序排列，无法读取；"
            "请在 Excel 或 WPS 中重新保存后再上传。"
        )


def _csv_rows(path: Path) -> Iterator[list[Any]]:
    encoding = csv_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        delimiter = _sniff_delimiter(handle.read(64 * 1024))
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as exc:
            raise RejectedFile(f"CSV 文件第 {reader.line_num} 行格式有误，无法读取：{exc}") from exc


__all__ = [
    "CSV",
    "KINDS",
    "XLSX",
    "RejectedFile",
    "csv_encoding",
    "format_size",
    "head_rows",
    "inspect_upload",
    "read_rows",
    "sheet_names",
]
