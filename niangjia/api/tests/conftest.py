"""Fixtures of the API tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from niangjia.accounts.models import User
from niangjia.api.tests.helpers import JsonClient


@pytest.fixture
def api_as(api_client_for: Callable[[User | None], Client]) -> Callable[[User], JsonClient]:
    """``api_as(county_cadre).get(...)``: calls with an API token of that persona."""

    def make(user: User) -> JsonClient:
        return JsonClient(api_client_for(user))

    return make
