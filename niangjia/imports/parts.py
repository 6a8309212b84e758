"""A file's rows in parts, for reading and checking a big file in several processes at once.

Part p falls to worker p mod n. Every worker walks the same parts in file order and parses only
its own: a big xlsx sheet's parts are the slices ``files`` cuts it into (each parsed by
calamine on its own), a CSV's (or a sheet read whole) are runs of ``CSV_PART_ROWS`` rows (read by every
worker, checked by one). Rows are numbered as in the spreadsheet, from 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from niangjia.imports import files

CSV_PART_ROWS = 50_000


def read_row_parts(
    path: Path, kind: str, *, sheet: str | int = 0, worker: int = 0, workers: int = 1
) -> Iterator[tuple[int, int, list[list[Any]]]]:
    """(part number, the spreadsheet number of its first row, its rows) of the parts that fall
    to ``worker`` of ``workers``."""
    if not 0 <= worker < workers:
        raise ValueError(f"worker {worker} of {workers}")
    if kind == files.XLSX:
        sliced = files.sheet_parts(path, sheet)
        if sliced is not None:
            try:
                for part_no, part in enumerate(sliced(lambda n: n % workers == worker)):
                    if part is not None:
                        yield part_no, part[0], part[1]
                return
            except files.NotSliceable:
                pass  # read whole below, as every worker does then
    size = CSV_PART_ROWS
    rows = files.read_rows(path, kind, sheet=sheet)
    for part_no in itertools.count():
        block = list(itertools.islice(rows, size))
        if not block:
            return
        if part_no % workers == worker:
            yield part_no, part_no * size + 1, block
