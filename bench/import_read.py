"""Reading a million-row roster: intake checks, the header area and every row, timed.

    make bench-import-read                       (ROWS=1000000 by default; no database needed)
    .venv/bin/python bench/import_read.py --rows 1000000

Writes three workbooks of ``--rows`` rows × 10 columns (a title row, a blank row, the header,
then members) into var/bench-import-read/ once, and reuses them afterwards:

* ``shared``: every string in the shared-strings part, as Excel and WPS save a workbook
  (about 1.7 million distinct strings for a million rows);
* ``inline``: strings written in the cells, as streaming writers (xlsxwriter's constant-memory
  mode, many export tools) do;
* ``plain``: strings in the cells and neither rows nor cells numbered (no ``r``), as some
  writers save a sheet (the format allows it: a row is then the one after the previous row).

Each step runs in a fresh process, so its peak memory is its own: ``inspect_upload`` (all
intake checks, which read every part through once), ``head_rows`` (the first 30 rows, as at
upload), ``read_rows`` (every row; a big sheet is read in slices) and, for comparison,
``read_rows`` with slicing switched off (calamine parses the whole sheet first).

Prints one line per workbook:
``import-read <layout>: rows=<n> inspect_s=<s> inspect_cpu_s=<s> head_s=<s> head_cpu_s=<s>
read_s=<s> read_cpu_s=<s> read_peak_rss_mb=<m> whole_s=<s> whole_cpu_s=<s>
whole_peak_rss_mb=<m>`` (wall-clock and CPU
seconds: on a shared machine the CPU time is the steadier figure).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO_ROOT, setup_django

WORK_DIR = REPO_ROOT / "var" / "bench-import-read"
COLUMNS = [
    "姓名",
    "身份证号码",
    "手机号码",
    "性别",
    "民族",
    "学历",
    "户籍类型",
    "工作单位",
    "所在工会",
    "入会日期",
]
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"
ETHNIC = ["汉族"] * 9 + ["回族", "土家族", "苗族"]
EDUCATION = ["小学及以下", "初中", "高中/中专/技校", "大专", "本科", "研究生"]
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(n: int) -> str:
    body = f"420102{1960 + n % 45:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    total = sum(w * int(d) for w, d in zip(RIC_WEIGHTS, body, strict=True))
    return body + "10X98765432"[total % 11]


def people(rows: int):
    rnd = random.Random(2024)
    for n in range(rows):
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + (rnd.choice(GIVEN) if n % 3 else "")
        yield [
            name,
            id_number(n),
            f"13{n * 7919 % 1_000_000_000:09d}",
            "男" if n % 2 else "女",
            ETHNIC[n % len(ETHNIC)],
            EDUCATION[n % len(EDUCATION)],
            "农村户籍" if n % 4 == 0 else "城镇户籍",
            f"武汉大智物流有限公司第{n % 500}分公司",
            "武汉大智物流有限公司工会委员会",
        ]


def write_workbook(path: Path, rows: int, *, shared: bool, numbered: bool = True) -> None:
    """A workbook as Excel lays it out, streamed: constant memory but for the string table.
    ``numbered`` False leaves out the rows' and cells' ``r`` (and writes the blank row)."""
    strings: dict[str, int] = {}

    def cell(ref: str, text: str) -> str:
        at = f' r="{ref}"' if numbered else ""
        if shared:
            index = strings.setdefault(text, len(strings))
            return f'<c{at} t="s"><v>{index}</v></c>'
        return f'<c{at} t="inlineStr"><is><t>{escape(text)}</t></is></c>'

    def row(number: int, cells: str) -> str:
        return f'<row r="{number}">{cells}</row>' if numbered else f"<row>{cells}</row>"

    temporary = path.with_suffix(".part")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as package:
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS}">'
                f'<dimension ref="A1:J{rows + 3}"/><sheetData>'
                f"{row(1, cell('A1', '武汉大智物流有限公司工会会员花名册'))}".encode()
            )
            if not numbered:
                sheet.write(b"<row/>")
            header = "".join(cell(f"{chr(65 + j)}3", text) for j, text in enumerate(COLUMNS))
            sheet.write(row(3, header).encode())
            batch = []
            for n, values in enumerate(people(rows)):
                r = n + 4
                cells = "".join(cell(f"{chr(65 + j)}{r}", v) for j, v in enumerate(values))
                at = f' r="J{r}"' if numbered else ""
                cells += f'<c{at} s="1"><v>{42005 + n % 3000}</v></c>'  # a date
                batch.append(row(r, cells))
                if len(batch) == 5000:
                    sheet.write("".join(batch).encode())
                    batch = []
            sheet.write(("".join(batch) + "</sheetData></worksheet>").encode())
        overrides = ""
        if shared:
            with package.open("xl/sharedStrings.xml", "w", force_zip64=True) as table:
                table.write(
                    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<sst xmlns="{NS}" uniqueCount="{len(strings)}">'.encode()
                )
                items = list(strings)
                for start in range(0, len(items), 10_000):
                    chunk = items[start : start + 10_000]
                    table.write("".join(f"<si><t>{escape(s)}</t></si>" for s in chunk).encode())
                table.write(b"</sst>")
            overrides = (
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            )
        package.writestr(
            "xl/styles.xml",
            f'<styleSheet xmlns="{NS}"><fonts count="1"><font><sz val="11"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/>'
            '</cellStyleXfs><cellXfs count="2"><xf numFmtId="0" xfId="0"/>'
            '<xf numFmtId="14" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>',
        )
        package.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>",
        )
        package.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{RELS_NS}"><Relationship Id="rId1" '
            f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        package.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{NS}" xmlns:r="{DOC_RELS}"><sheets>'
            '<sheet name="会员" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        shared_rel = (
            f'<Relationship Id="rId3" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            if shared
            else ""
        )
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{RELS_NS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC_RELS}/styles" Target="styles.xml"/>'
            f"{shared_rel}</Relationships>",
        )
    temporary.rename(path)


def child(step: str, path: Path) -> None:
    """One step, in this process; prints its time and this process's peak memory as JSON."""
    setup_django()
    from niangjia.imports import files

    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    rows = 0
    if step == "inspect":
        files.inspect_upload(path, original_name=path.name)
    elif step == "head":
        rows = len(files.head_rows(path, "xlsx"))
    else:
        if step == "whole":
            files.SLICE_BYTES = 1 << 62
        for _row in files.read_rows(path, "xlsx"):
            rows += 1
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    result = {"seconds": round(seconds, 2), "cpu": round(cpu, 2), "rows": rows}
    print(json.dumps({**result, "rss_mb": round(usage.ru_maxrss / 1024)}))


def run_step(step: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", step, str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"步骤 {step} 失败（{path.name}）")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("STEP", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    for layout in ("shared", "inline", "plain"):
        path = WORK_DIR / f"members-{args.rows}-{layout}.xlsx"
        if not path.exists():
            started = time.perf_counter()
            write_workbook(path, args.rows, shared=layout == "shared", numbered=layout != "plain")
            print(
                f"（已生成 {path.name}：{path.stat().st_size / 1e6:.0f} MB，"
                f"用时 {time.perf_counter() - started:.0f} 秒）",
                file=sys.stderr,
            )
        inspect = run_step("inspect", path)
        head = run_step("head", path)
        read = run_step("read", path)
        whole = run_step("whole", path)
        expected = args.rows + 3
        if read["rows"] != expected or whole["rows"] != expected or head["rows"] != 30:
            print(f"行数不符：{read['rows']} / {whole['rows']}，应为 {expected}", file=sys.stderr)
            return 1
        print(
            f"import-read {layout}: rows={args.rows} inspect_s={inspect['seconds']} "
            f"inspect_cpu_s={inspect['cpu']} head_s={head['seconds']} head_cpu_s={head['cpu']} "
            f"read_s={read['seconds']} read_cpu_s={read['cpu']} "
            f"read_peak_rss_mb={read['rss_mb']} whole_s={whole['seconds']} "
            f"whole_cpu_s={whole['cpu']} whole_peak_rss_mb={whole['rss_mb']}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
