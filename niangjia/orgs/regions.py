"""Loading GB/T 2260 regions from the CSV shipped in ``orgs/data`` (or a township file)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from niangjia.orgs.choices import RegionLevel

DATA_DIR = Path(__file__).resolve().parent / "data"
REGIONS_CSV = DATA_DIR / "regions.csv"
FIELDS = ("code", "name", "level", "parent_code", "revision")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(FIELDS) - set(reader.fieldnames or [])
        if missing:
            raise ValidationError(f"区划文件缺少列：{', '.join(sorted(missing))}")
        rows = []
        for line, row in enumerate(reader, start=2):
            code = (row["code"] or "").strip()
            if not code.isdigit() or len(code) not in (6, 9):
                raise ValidationError(f"第 {line} 行：行政区划代码“{code}”应为 6 位或 9 位数字")
            if row["level"] not in RegionLevel.values:
                raise ValidationError(f"第 {line} 行：级别“{row['level']}”无效")
            rows.append({k: (row[k] or "").strip() for k in FIELDS})
        return rows


def load_regions(region_model: Any, path: Path = REGIONS_CSV) -> dict[str, int]:
    """Insert or update every region of the file; parents are resolved by code.

    Idempotent: loading the same file twice changes nothing. Works with the historical
    model inside migrations as well as with the real one.
    """
    rows = read_rows(path)
    existing = {r.code: r for r in region_model.objects.all()}
    created = updated = 0
    # Parents first: shorter codes and higher levels come first when sorted by level rank.
    rank = {level: i for i, level in enumerate(RegionLevel.values)}
    rows.sort(key=lambda r: (rank[r["level"]], r["code"]))
    for row in rows:
        parent = None
        if row["parent_code"]:
            parent = existing.get(row["parent_code"])
            if parent is None:
                raise ValidationError(f"区划 {row['code']} 的上级 {row['parent_code']} 不存在")
        region = existing.get(row["code"])
        if region is None:
            region = region_model.objects.create(
                code=row["code"],
                name=row["name"],
                level=row["level"],
                parent=parent,
                revision=row["revision"],
            )
            existing[row["code"]] = region
            created += 1
        elif (region.name, region.level, region.parent_id, region.revision) != (
            row["name"],
            row["level"],
            parent.pk if parent else None,
            row["revision"],
        ):
            region.name, region.level, region.parent, region.revision = (
                row["name"],
                row["level"],
                parent,
                row["revision"],
            )
            region.save()
            updated += 1
    return {"created": created, "updated": updated, "total": len(rows)}
