from typing import Any

from django.conf import settings
from django.http import HttpRequest

from niangjia.accounts.choices import Action


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"my_roles": [], "perms_nav": {}}
    if settings.REQUIRE_ADMIN_OTP and user.needs_second_factor() and not user.is_verified():
        # Until the second factor is passed there is nothing to navigate to.
        return {"my_roles": [], "perms_nav": {}, "second_factor_pending": True}
    actions = {action for a in user.active_roles() for action in a.actions}
    return {
        "my_roles": user.active_roles(),
        "perms_nav": {
            "orgs": Action.VIEW in actions,
            "accounts": bool(actions & {Action.MANAGE_ACCOUNTS, Action.GRANT_ROLES}),
            "audit": Action.VIEW_AUDIT in actions,
            "reveal": Action.REVEAL in actions,
        },
    }
