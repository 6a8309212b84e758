"""Scoped-access cases: every page and API endpoint run through the personas.

Each app declares its views once, as data, in a test class deriving from ``ScopedViewCases``::

    class TestOrgsPagesScopedAccess(ScopedViewCases):
        CASES = [
            ScopedCase(
                name="union-detail",
                url=lambda t: reverse("orgs:union_detail", args=[t.jiangan.pk]),
                model=Union,
                allowed=("county_cadre", "auditor"),
                out_of_scope=("sibling_cadre", "worker"),
            ),
            ScopedCase(
                name="union-edit",
                url=lambda t: reverse("orgs:union_edit", args=[t.jiangan.pk]),
                method="post",
                action=Action.CHANGE,
                data=lambda t: {"name": "江岸区总工会", ...},
                model=Union,
                allowed="county_cadre",
                forbidden="auditor",           # sees 江岸区, may not change it
                out_of_scope="sibling_cadre",  # does not see 江岸区 at all
            ),
        ]

and every case becomes one test per persona, each on a fresh tree:

- ``anonymous``: a page answers with a redirect to the login page, an API endpoint 401;
- every persona in ``forbidden`` (in scope, without the action) gets 403;
- every persona in ``out_of_scope`` gets 404 (the object is not even admitted to exist);
- every persona in ``allowed`` gets a 2xx or 3xx answer; ``contains`` / ``excludes`` then
  check what the answer shows (rows in scope shown, rows out of scope absent — the way a list
  page proves its scope, since a list has no object to 404 on).

A refused request must leave the data untouched: no audit row other than logins and the
refusal itself may be written while answering it.

``niangjia/tests/test_permission_coverage.py`` collects every ``ScopedViewCases`` subclass
in the project and fails when a URL pattern or a scoped model has no case.
"""

from __future__ import annotations

import importlib
import json as jsonlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.db import models, transaction
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.urls import URLResolver, get_resolver, resolve

from niangjia.accounts.choices import Action
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.utilities.testing.personas import Personas, Tree, api_client, logged_in_client

ANONYMOUS = "anonymous"
ALLOWED = "allowed"
FORBIDDEN = "forbidden"
OUT_OF_SCOPE = "out_of_scope"

ALLOWED_STATUSES = frozenset({200, 201, 202, 204, 301, 302, 303})

# Rows a refused request may still leave: the login of the test client and the refusal.
REFUSAL_AUDIT_ACTIONS = frozenset(
    {
        AuditAction.LOGIN,
        AuditAction.LOGOUT,
        AuditAction.LOGIN_FAILED,
        AuditAction.PERMISSION_DENIED,
    }
)

Personae = str | Sequence[str]


def _names(value: Personae) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class ScopedCase:
    """One view or API endpoint, called with one method, and who may call it.

    ``url`` builds the address from the persona tree. ``data`` builds the body (form fields
    for pages, a JSON object for ``api=True``). ``model`` names the scoped model the endpoint
    exposes or changes (the coverage meta-test requires one case per scoped model).
    ``setup(tree)`` or ``setup(tree, personas)`` runs before every request of the case, for
    objects the tree lacks; what it returns is passed to ``url`` and ``data`` as their second
    argument when they take two (``url=lambda t, token: ...``).
    """

    name: str
    url: Callable[..., str]
    method: str = "get"
    action: str = Action.VIEW
    api: bool = False
    model: type[models.Model] | None = None
    allowed: Personae = ()
    forbidden: Personae = ()
    out_of_scope: Personae = ()
    anonymous: bool = True
    data: Callable[..., dict[str, Any]] | None = None
    setup: Callable[..., Any] | None = None
    contains: Callable[[Tree], Iterable[str]] | None = None
    excludes: Callable[[Tree], Iterable[str]] | None = None
    allowed_statuses: frozenset[int] = ALLOWED_STATUSES
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for attr in ("allowed", "forbidden", "out_of_scope"):
            object.__setattr__(self, attr, _names(getattr(self, attr)))
        object.__setattr__(self, "method", self.method.lower())
        if self.action not in Action.values:
            raise ValueError(f"scoped case {self.name!r}: unknown action {self.action!r}")
        if not self.allowed:
            raise ValueError(f"scoped case {self.name!r}: name at least one allowed persona")

    def checks(self) -> list[ScopedCheck]:
        result = [ScopedCheck(self, ANONYMOUS, None)] if self.anonymous else []
        result += [ScopedCheck(self, OUT_OF_SCOPE, p) for p in self.out_of_scope]
        result += [ScopedCheck(self, FORBIDDEN, p) for p in self.forbidden]
        result += [ScopedCheck(self, ALLOWED, p) for p in self.allowed]
        return result


@dataclass(frozen=True)
class ScopedCheck:
    """One request of a case, by one persona (or anonymously), with its expected outcome."""

    case: ScopedCase
    expectation: str
    persona: str | None

    @property
    def id(self) -> str:
        return f"{self.case.name}-{self.expectation}" + (f"-{self.persona}" if self.persona else "")

    def run(self, tree: Tree, personas: Personas) -> HttpResponse:
        case = self.case
        extra = _call(case.setup, tree, personas) if case.setup is not None else None
        url = _call(case.url, tree, extra)
        user = personas[self.persona] if self.persona else None
        client = api_client(user) if case.api else logged_in_client(user)
        audit_mark = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = _request(client, case, url, tree, extra)
        where = f"{case.method.upper()} {url} as {self.persona or 'anonymous'}"
        if self.expectation == ANONYMOUS:
            _expect_login_required(response, case, where)
        elif self.expectation == OUT_OF_SCOPE:
            _expect_status(response, 404, where, "out of scope must be 404")
        elif self.expectation == FORBIDDEN:
            _expect_status(response, 403, where, "in scope without the action must be 403")
        else:
            assert response.status_code in case.allowed_statuses, (
                f"{where}: expected one of {sorted(case.allowed_statuses)}, "
                f"got {response.status_code}{_excerpt(response)}"
            )
            _expect_content(response, case, tree, where)
        if self.expectation != ALLOWED:
            written = (
                AuditEntry.objects.filter(pk__gt=audit_mark)
                .exclude(action__in=REFUSAL_AUDIT_ACTIONS)
                .values_list("action", "object_repr")
            )
            assert not written, f"{where}: a refused request wrote audit rows {list(written)}"
        return response


def _call(builder: Callable[..., Any], tree: Tree, extra: Any) -> Any:
    code = getattr(builder, "__code__", None)
    if code is not None and code.co_argcount >= 2:
        return builder(tree, extra)
    return builder(tree)


def _request(client: Any, case: ScopedCase, url: str, tree: Tree, extra: Any) -> HttpResponse:
    data = _call(case.data, tree, extra) if case.data is not None else None
    send = getattr(client, case.method)
    if case.method in ("get", "head", "options"):
        return send(url, data or {}, headers=case.headers or None)
    if case.api:
        return send(
            url,
            jsonlib.dumps(data or {}),
            content_type="application/json",
            headers=case.headers or None,
        )
    return send(url, data or {}, headers=case.headers or None)


def _excerpt(response: HttpResponse) -> str:
    content = getattr(response, "content", b"")
    return f": {content[:300].decode('utf-8', 'replace')}" if content else ""


def _expect_status(response: HttpResponse, status: int, where: str, why: str) -> None:
    assert response.status_code == status, (
        f"{where}: {why}, got {response.status_code}{_excerpt(response)}"
    )


def _expect_login_required(response: HttpResponse, case: ScopedCase, where: str) -> None:
    if case.api:
        _expect_status(response, 401, where, "anonymous API call must be 401")
        return
    login_url = resolve_url(settings.LOGIN_URL)
    assert response.status_code == 302, (
        f"{where}: anonymous must be sent to the login page, got {response.status_code}"
    )
    assert response["Location"].split("?")[0] == login_url, (
        f"{where}: anonymous redirected to {response['Location']}, not {login_url}"
    )


def _expect_content(response: HttpResponse, case: ScopedCase, tree: Tree, where: str) -> None:
    if case.contains is None and case.excludes is None:
        return
    text = response.content.decode("utf-8")
    if response.get("Content-Type", "").startswith("application/json"):
        # JSON may escape non-ASCII; compare with the decoded document.
        text = jsonlib.dumps(jsonlib.loads(text), ensure_ascii=False)
    for expected in case.contains(tree) if case.contains is not None else ():
        assert expected in text, f"{where}: the answer should show {expected!r}"
    for hidden in case.excludes(tree) if case.excludes is not None else ():
        assert hidden not in text, f"{where}: the answer shows {hidden!r}, outside the scope"


def assert_scoped_access(case: ScopedCase, *, tree: Tree, personas: Personas) -> None:
    """Run every check of ``case`` in turn on one tree (refusals first, then the allowed
    personas). For a one-off test; ``ScopedViewCases`` gives each check its own test."""
    for check in case.checks():
        check.run(tree, personas)


class ScopedViewCases:
    """Base class of a test class listing scoped-access cases in ``CASES``.

    pytest calls ``pytest_generate_tests`` on test classes, so each check of each case is
    its own test, named ``<case>-<expectation>-<persona>``.
    """

    CASES: ClassVar[Sequence[ScopedCase]] = ()

    def pytest_generate_tests(self, metafunc: Any) -> None:
        if "scoped_check" in metafunc.fixturenames:
            checks = [check for case in self.CASES for check in case.checks()]
            metafunc.parametrize("scoped_check", checks, ids=[c.id for c in checks])

    def test_scoped_access(self, scoped_check: ScopedCheck, tree: Tree, personas: Personas) -> None:
        scoped_check.run(tree, personas)


def all_case_classes() -> list[type[ScopedViewCases]]:
    """Every subclass of ScopedViewCases in the project's test modules.

    Test modules that mention ``ScopedViewCases`` are imported under the same dotted name
    pytest gives them, so the classes are the very ones the suite runs."""
    root = Path(__file__).resolve().parents[3]  # the repository: niangjia/utilities/testing/
    for path in sorted((root / "niangjia").rglob("test_*.py")):
        if "tests" not in path.parts or "ScopedViewCases" not in path.read_text("utf-8"):
            continue
        importlib.import_module(".".join(path.relative_to(root).with_suffix("").parts))
    found: list[type[ScopedViewCases]] = []
    pending = list(ScopedViewCases.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


def all_cases() -> list[ScopedCase]:
    return [case for cls in all_case_classes() for case in cls.CASES]


# --- What a case covers in the URL conf

ANY_METHOD = "*"


@dataclass(frozen=True)
class Endpoint:
    """One URL pattern (a Django view answers every method; an API operation only its own)."""

    route: str
    name: str
    method: str = ANY_METHOD

    def __str__(self) -> str:
        method = "" if self.method == ANY_METHOD else f"{self.method} "
        return f"{method}/{self.route} ({self.name})"


def _api_path_view(callback: Any) -> Any:
    """The django-ninja PathView behind an API view function, or None for other views."""
    for cell in getattr(callback, "__closure__", None) or ():
        contents = cell.cell_contents
        if hasattr(contents, "operations"):
            return contents
    return None


def _operation_name(operation: Any) -> str:
    return getattr(operation, "url_name", None) or operation.view_func.__name__


def url_endpoints() -> list[Endpoint]:
    """Every URL pattern of the project, API patterns expanded to their methods."""
    endpoints: list[Endpoint] = []

    def walk(patterns: Any, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
                continue
            route = prefix + str(pattern.pattern)
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            name = name or route
            view = _api_path_view(pattern.callback)
            if view is None:
                endpoints.append(Endpoint(route, name))
                continue
            short = (pattern.name or "").rsplit(":", 1)[-1]
            for operation in view.operations:
                if _operation_name(operation) == short:
                    endpoints.extend(Endpoint(route, name, m.upper()) for m in operation.methods)

    walk(get_resolver().url_patterns, "", "")
    return endpoints


def case_endpoint(case: ScopedCase, tree: Tree, personas: Personas) -> Endpoint:
    """The endpoint ``case`` calls, found by resolving its URL on ``tree``. What the case's
    setup creates is rolled back, so that every case finds the tree as it was."""
    with transaction.atomic():
        extra = _call(case.setup, tree, personas) if case.setup is not None else None
        url = _call(case.url, tree, extra)
        transaction.set_rollback(True)
    match = resolve(url.split("?")[0])
    view = _api_path_view(match.func)
    if view is None:
        return Endpoint(match.route, match.view_name)
    method = case.method.upper()
    for operation in view.operations:
        if method in operation.methods:
            name = match.view_name.rsplit(":", 1)[0] + ":" + _operation_name(operation)
            return Endpoint(match.route, name, method)
    raise AssertionError(f"scoped case {case.name!r}: no {method} operation at {url}")
