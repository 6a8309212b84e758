"""Fixtures shared by every test of niangjia: the union tree and the named personas.

    def test_county_cadre_cannot_see_sibling_county(county_cadre, tree, client_for):
        response = client_for(county_cadre).get(f"/orgs/unions/{tree.jianghan.pk}/")
        assert response.status_code == 404

``tree`` is a ``niangjia.utilities.testing.personas.Tree``; each persona fixture is a User
holding its role on that tree (see ``PERSONAS``). ``client_for(user)`` gives a test client
logged in as ``user`` with the administrators' second factor already passed;
``api_client_for(user)`` one that sends an API token of ``user``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from niangjia.accounts.models import User
from niangjia.jobs.testing import job_worker  # noqa: F401 (a worker thread for live-server tests)
from niangjia.utilities.testing.personas import (
    Personas,
    Tree,
    api_client,
    build_tree,
    logged_in_client,
)


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request: pytest.FixtureRequest) -> None:
    """A transactional test starts with the migrations' rows (regions, the national root)
    even when an earlier one emptied the database."""
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    ):
        request.getfixturevalue("transactional_db")
        from niangjia.utilities.testing.reference import restore_reference_data

        restore_reference_data()


@pytest.fixture
def tree(db: None) -> Tree:
    return build_tree()


@pytest.fixture
def personas(tree: Tree) -> Personas:
    """All personas by name: ``personas["county_cadre"]``; created on first use."""
    return Personas(tree)


@pytest.fixture
def national_admin(personas: Personas) -> User:
    """Role.ADMIN on 中华全国总工会 (second factor required)."""
    return personas["national_admin"]


@pytest.fixture
def provincial_cadre(personas: Personas) -> User:
    """Role.CADRE on 湖北省总工会."""
    return personas["provincial_cadre"]


@pytest.fixture
def county_cadre(personas: Personas) -> User:
    """Role.CADRE on 江岸区总工会."""
    return personas["county_cadre"]


@pytest.fixture
def grassroots_cadre(personas: Personas) -> User:
    """Role.CADRE on 武汉长江机械有限公司工会 (under 江岸区)."""
    return personas["grassroots_cadre"]


@pytest.fixture
def auditor(personas: Personas) -> User:
    """Role.AUDITOR (view only) on 湖北省总工会."""
    return personas["auditor"]


@pytest.fixture
def sibling_cadre(personas: Personas) -> User:
    """Role.CADRE on 江汉区总工会, the sibling county of 江岸区."""
    return personas["sibling_cadre"]


@pytest.fixture
def worker(personas: Personas) -> User:
    """A signed-in user without any role."""
    return personas["worker"]


@pytest.fixture
def system_admin(personas: Personas) -> User:
    """Role.SYSTEM_ADMIN on the root: manages accounts, never business data."""
    return personas["system_admin"]


@pytest.fixture
def security_admin(personas: Personas) -> User:
    """Role.SECURITY_ADMIN on the root: grants roles."""
    return personas["security_admin"]


@pytest.fixture
def audit_admin(personas: Personas) -> User:
    """Role.AUDIT_ADMIN on the root: reads the audit trail."""
    return personas["audit_admin"]


@pytest.fixture
def client_for(db: None) -> Callable[..., Client]:
    """``client_for(user)``: a new client logged in as ``user`` (None: anonymous);
    ``client_for(user, second_factor=False)`` leaves an administrator before the TOTP step."""
    return logged_in_client


@pytest.fixture
def api_client_for(db: None) -> Callable[[User | None], Client]:
    """``api_client_for(user)``: a new client authenticating with an API token of ``user``."""
    return api_client
