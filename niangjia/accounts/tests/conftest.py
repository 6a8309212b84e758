"""Fixtures of the account tests: the county's three separated administrators, and accounts
placed on the persona tree."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from niangjia.accounts.models import RoleAssignment, User
from niangjia.orgs.models import Union
from niangjia.utilities.testing.personas import PERSONA_PASSWORD, Personas


@pytest.fixture
def county_system_admin(personas: Personas) -> User:
    """Role.SYSTEM_ADMIN on 江岸区总工会."""
    return personas["county_system_admin"]


@pytest.fixture
def county_security_admin(personas: Personas) -> User:
    """Role.SECURITY_ADMIN on 江岸区总工会."""
    return personas["county_security_admin"]


@pytest.fixture
def county_audit_admin(personas: Personas) -> User:
    """Role.AUDIT_ADMIN on 江岸区总工会."""
    return personas["county_audit_admin"]


@pytest.fixture
def make_account(db: None) -> Callable[..., User]:
    """``make_account("zhang", role="cadre", union=tree.jiangan)``: an account with one role
    (or none, opened under ``created_under``)."""

    def make(
        username: str,
        *,
        role: str | None = None,
        union: Union | None = None,
        created_under: Union | None = None,
        full_name: str = "",
    ) -> User:
        user = User(username=username, full_name=full_name or username, created_under=created_under)
        user.set_password(PERSONA_PASSWORD)
        user.save()
        if role is not None:
            assert union is not None
            RoleAssignment.objects.create(user=user, union=union, role=role)
        return user

    return make
