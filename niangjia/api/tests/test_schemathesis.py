"""Property-based run over the OpenAPI schema: whatever a county cadre sends, the API answers
without a server error, and its answers match the schema it publishes.

Ids in the path and body are steered, part of the time, to real unions and employers (in and
out of the caller's scope), so the examples reach the services instead of stopping at 404.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from niangjia.accounts.models import ApiToken, User
from niangjia.utilities.testing.personas import Tree

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
UNION_FIELDS = (
    "union_id",
    "parent",
    "target",
    "within",
    "industry_union",
    "covering_union",
    "owner",
    "node_id",
)


@pytest.fixture
def known_ids(tree: Tree) -> dict[str, list[Any]]:
    unions = [
        tree.jiangan.pk,
        tree.jiangan_grassroots.pk,
        tree.jianghan.pk,  # the sibling county: out of scope
        tree.transport_industry.pk,
    ]
    return {
        "union": unions,
        "employer": [tree.jiangan_employer.pk, tree.jianghan_employer.pk],
        "region": ["420102", "420100", "420000"],
    }


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Requests go through the real WSGI handler, which closes the database connection when a
    request ends; inside the test's transaction that would lose it. Django's test client
    detaches the same handlers."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def county_token(county_cadre: User) -> str:
    _, raw = ApiToken.issue(user=county_cadre, name="属性测试")
    return raw


def _steer(value: Any, choices: list[Any]) -> Any:
    """Keep ``value`` one time in (n + 1); otherwise replace it by one of ``choices``."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return value
    pick = zlib.crc32(str(value).encode()) % (len(choices) + 1)
    return value if pick == len(choices) else choices[pick]


def _steer_case(case: schemathesis.Case, ids: dict[str, list[Any]]) -> None:
    on_regions = case.operation.path.startswith("/api/v1/regions")
    for group in (case.path_parameters, case.query, case.body):
        if not isinstance(group, dict):
            continue
        for key in list(group):
            if key in ("code", "region") or (key == "parent" and on_regions):
                group[key] = _steer(group[key], ids["region"])
            elif key in UNION_FIELDS:
                group[key] = _steer(group[key], ids["union"])
            elif key == "employer_id":
                group[key] = _steer(group[key], ids["employer"])


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_every_input_without_a_server_error(
    case: schemathesis.Case,
    county_token: str,
    known_ids: dict[str, list[Any]],
    keep_test_connection: None,
) -> None:
    _steer_case(case, known_ids)
    case.call_and_validate(headers={"Authorization": f"Bearer {county_token}"}, checks=CHECKS)
