"""Helpers of the API tests: a JSON client and a reader of 422 answers."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.test import Client


class JsonClient:
    """A test client sending an API token of one user; bodies go out as JSON."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, url: str, params: dict[str, Any] | None = None) -> HttpResponse:
        return self.client.get(url, params or {})

    def _send(self, method: str, url: str, body: Any) -> HttpResponse:
        send = getattr(self.client, method)
        data = json.dumps(body) if body is not None else ""
        response: HttpResponse = send(url, data, content_type="application/json")
        return response

    def post(self, url: str, body: Any = None) -> HttpResponse:
        return self._send("post", url, body if body is not None else {})

    def patch(self, url: str, body: Any = None) -> HttpResponse:
        return self._send("patch", url, body if body is not None else {})

    def delete(self, url: str) -> HttpResponse:
        return self._send("delete", url, None)


def errors_by_field(response: HttpResponse) -> dict[str, list[str]]:
    """The 422 messages keyed by the last part of their ``loc`` (the field)."""
    assert response.status_code == 422, response.content
    result: dict[str, list[str]] = {}
    for item in response.json()["detail"]:
        key = str(item["loc"][-1]) if len(item["loc"]) > 1 else item["loc"][0]
        result.setdefault(key, []).append(item["msg"])
    return result
