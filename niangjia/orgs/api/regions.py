"""GB/T 2260 regions: public reference data, for any signed-in caller."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Path, Query, Router

from niangjia.api.errors import labelled
from niangjia.api.schemas import REGION_CODE_PATTERN, offset_page, responses
from niangjia.orgs import selectors
from niangjia.orgs.api.lookups import region_by_code
from niangjia.orgs.api.schemas import RegionDetailOut, RegionFilters, RegionPage
from niangjia.orgs.models import Region

router = Router(tags=["行政区划"])

RegionCodePath = Annotated[str, Path(pattern=REGION_CODE_PATTERN, title="行政区划代码")]


@router.get(
    "",
    response=responses({200: RegionPage}),
    summary="行政区划列表",
    description="给出 parent 时列出其直属下级区划；否则列出 level 级别的区划（都不给时列出各省级区划）。",
)
def region_list(request: HttpRequest, filters: Query[RegionFilters]) -> dict[str, Any]:
    with labelled(RegionFilters, source="query"):
        parent = region_by_code(filters.parent, field="parent") if filters.parent else None
    rows = selectors.region_list(parent=parent, level=filters.level, q=filters.q)
    return offset_page(rows, filters)


@router.get("/{code}", response=responses({200: RegionDetailOut}), summary="行政区划详情")
def region_detail(request: HttpRequest, code: RegionCodePath) -> Region:
    region = Region.objects.select_related("parent").filter(code=code).first()
    if region is None:
        raise Http404(f"行政区划代码“{code}”不存在")
    return region
