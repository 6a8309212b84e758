"""Naming the object a request acts on, for the 越权拒绝 row if the action is then refused.

``niangjia.utilities.scoping.require`` already attaches the object to its PermissionDenied;
a view that refuses by other means calls ``note_target`` first so that the row written by
``niangjia.audit.services.audit_permission_denied`` is filed under that object's union.
"""

from __future__ import annotations

from django.db import models
from django.http import HttpRequest

from niangjia.audit.services import TARGET_ATTR


def note_target(request: HttpRequest, obj: models.Model) -> None:
    setattr(request, TARGET_ATTR, obj)
