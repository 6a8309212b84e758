"""The rows the data migrations load (GB/T 2260 regions, the national root), put back after a
transactional test has emptied the database."""

from __future__ import annotations


def restore_reference_data() -> None:
    """Re-create the regions and the national root when they are missing.

    Transactional tests (live servers, worker processes, concurrency) commit for real, and
    the database is emptied after each of them, the migrations' rows too. Re-reading
    ``serialized_rollback`` contents costs seconds per test and collides with the content
    types the flush re-creates; a bulk insert of the same rows costs a fraction of a second.
    """
    from niangjia.orgs.choices import RegionLevel, UnionKind, UnionLevel
    from niangjia.orgs.models import Region, Union
    from niangjia.orgs.regions import REGIONS_CSV, read_rows

    if not Region.objects.exists():
        rows = read_rows(REGIONS_CSV)
        ids: dict[str, int] = {}
        for level in RegionLevel.values:  # parents before children
            batch = [
                Region(
                    code=r["code"],
                    name=r["name"],
                    level=r["level"],
                    revision=r["revision"],
                    parent_id=ids[r["parent_code"]] if r["parent_code"] else None,
                )
                for r in rows
                if r["level"] == level
            ]
            for region in Region.objects.bulk_create(batch, batch_size=1000):
                ids[region.code] = region.pk
    if not Union.objects.filter(depth=1).exists():
        Union.objects.add_root(
            instance=Union(
                name="中华全国总工会", level=UnionLevel.NATIONAL, kind=UnionKind.FEDERATION
            )
        )
