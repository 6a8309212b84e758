"""Objects named in API input, found through the scope choke point.

A reference in a request body or a filter that the user cannot see is reported on that field
(422), with the same words whether it does not exist or lies outside the user's scope. The
messages leave out the field's name: ``niangjia.api.errors.labelled`` puts it in front.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from niangjia.accounts.choices import Action
from niangjia.orgs.models import Region, Union


def visible_union(user: Any, pk: int, *, field: str) -> Union:
    union = Union.objects.restrict(user, Action.VIEW).filter(pk=pk).first()
    if union is None:
        raise ValidationError({field: f"编号为 {pk} 的工会不存在或不在您的管辖范围内"})
    return union


def region_by_code(code: str, *, field: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise ValidationError({field: f"行政区划代码“{code}”不存在"})
    return region
