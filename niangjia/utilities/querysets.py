"""The one choke point through which every union-owned query passes.

Every model that belongs to a union uses a manager built from RestrictedQuerySet and names
the lookups that lead to the owning union's tree path in ``scope_path_lookups``
(e.g. ``("owner__path", "covering_union__path")``). ``Model.objects.restrict(user, action)``
keeps the rows whose owning union lies in the subtree of a union where the user holds a role
granting ``action``. Nothing reads ``Model.objects.all()`` on behalf of a user.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from niangjia.accounts.models import User

M = TypeVar("M", bound=models.Model)


def _related_model(model: type[models.Model], relation: str) -> type[models.Model]:
    target: Any = model
    for part in relation.split("__"):
        target = target._meta.get_field(part).related_model
    return target


def scope_q(model: type[models.Model], paths: list[str]) -> Q:
    """Q object matching rows of ``model`` whose owning union lies under any of ``paths``.

    A lookup through a foreign key (``owner__path``) becomes ``owner_id IN (SELECT id FROM
    union WHERE path LIKE 'p%')``: each side of the OR then uses its own index, where an OR
    across joined tables would scan both tables whole.
    """
    lookups: tuple[str, ...] = getattr(model, "scope_path_lookups", ())
    if not lookups:
        raise TypeError(f"{model.__name__} declares no scope_path_lookups")
    if not paths:
        return Q(pk__in=[])
    conditions: list[Q] = []
    for lookup in lookups:
        relation, _, field = lookup.rpartition("__")
        if relation:
            union_model = _related_model(model, relation)
            under = reduce(or_, [Q(**{f"{field}__startswith": p}) for p in paths])
            subtree = union_model._base_manager.filter(under).order_by().values("pk")
            conditions.append(Q(**{f"{relation}__in": subtree}))
        else:
            conditions.extend(Q(**{f"{lookup}__startswith": p}) for p in paths)
    return reduce(or_, conditions)


class RestrictedQuerySet(models.QuerySet[M]):
    def restrict(self, user: User | Any, action: str = "view") -> RestrictedQuerySet[M]:
        from niangjia.accounts.scope import paths_for

        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        paths = paths_for(user, action)
        if not paths:
            return self.none()
        # Scope lookups follow forward foreign keys only, so an OR never repeats a row.
        return self.filter(scope_q(self.model, paths))
