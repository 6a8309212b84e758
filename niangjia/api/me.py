"""Who am I: the calling user, their roles and the subtrees each action reaches."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.api.auth import acting_user
from niangjia.api.schemas import UnionRef, responses

router = Router(tags=["账号"])


class RoleOut(Schema):
    union: UnionRef
    role: str
    role_label: str
    actions: list[str]


class TokenOut(Schema):
    name: str
    prefix: str
    expires_at: datetime.datetime | None


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    display_name: str
    authenticated_by: str = Field(description="token 或 session")
    token: TokenOut | None
    roles: list[RoleOut]
    scope: dict[str, list[UnionRef]] = Field(
        description="每个动作可及的工会（含其全部下级）；没有的动作不列出"
    )


@router.get("/me", response=responses({200: MeOut}), summary="当前账号")
def me(request: HttpRequest) -> dict[str, Any]:
    user = acting_user(request)
    assignments = user.active_roles()
    unions = {a.union.path: a.union for a in assignments}
    token = getattr(request, "api_token", None)
    scope = {}
    for action in Action.values:
        paths = paths_for(user, action)
        if paths:
            scope[action] = [unions[path] for path in paths]
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "display_name": user.display_name,
        "authenticated_by": "token" if token else "session",
        "token": token,
        "roles": [
            {
                "union": a.union,
                "role": a.role,
                "role_label": a.get_role_display(),
                "actions": sorted(a.actions),
            }
            for a in assignments
        ],
        "scope": scope,
    }
