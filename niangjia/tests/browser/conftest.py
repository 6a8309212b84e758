"""Harness of the browser tests: Debian's Chromium driven by Playwright against a live server.

One browser for the whole session; a fresh context (cookies, storage) and page per test.
Every request a page makes is recorded; a test fails when its page asked another host for
anything, or when a script on the page threw. On failure a screenshot is kept in
``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are ordinary blocking calls, which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from niangjia.utilities.testing.personas import confirmed_device
from niangjia.utilities.testing.reference import restore_reference_data

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# The machine is shared; generous waits keep the suite steady without any sleep.
expect.set_options(timeout=10_000)

_report_key = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    item.stash.setdefault(_report_key, {})[report.when] = report
    return report


@dataclass
class RequestLog:
    """Everything the browser asked for during one test, and every uncaught script error."""

    server_origin: str
    urls: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        own = urlsplit(self.server_origin)
        bad = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue  # inline content: nothing leaves the machine
            if (parts.scheme, parts.hostname, parts.port) != (own.scheme, own.hostname, own.port):
                bad.append(url)
        return bad


# Every request of every test, kept for the whole session (see test_offline.py).
ALL_REQUESTS: list[tuple[str, str]] = []


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On SQLite the browser tests use a database file (WAL), as the embedded default does.

    Django's in-memory test database is one shared-cache database for all threads, and there
    the live server, a job worker and the test lock whole tables against each other: a writer
    meets "database table is locked" at once, where a file waits (busy_timeout) as in
    production."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "browser.sqlite3")


@pytest.fixture(autouse=True)
def reference_data(transactional_db: None) -> None:
    restore_reference_data()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _slug(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]


@pytest.fixture
def viewport() -> dict[str, int]:
    """Window size of the test's page; override in a module or with parametrisation."""
    return DESKTOP


@pytest.fixture
def request_log(live_server: Any) -> RequestLog:
    return RequestLog(server_origin=live_server.url)


@pytest.fixture
def new_page(
    browser: Browser,
    live_server: Any,
    viewport: dict[str, int],
    request_log: RequestLog,
    request: pytest.FixtureRequest,
) -> Iterator[Any]:
    """``new_page()``: a page in a fresh browser context (another person at another computer),
    recorded like every page. ``new_page(viewport=PHONE)`` for another window size."""
    opened: list[tuple[BrowserContext, Page]] = []

    def open_page(*, viewport: dict[str, int] = viewport) -> Page:
        ctx = browser.new_context(
            base_url=live_server.url,
            viewport=viewport,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            is_mobile=viewport["width"] < 600,
            has_touch=viewport["width"] < 600,
        )
        ctx.set_default_timeout(10_000)

        def on_request(req: Any) -> None:
            request_log.urls.append(req.url)
            ALL_REQUESTS.append((request.node.nodeid, req.url))

        ctx.on("request", on_request)
        pg = ctx.new_page()
        pg.on("pageerror", lambda exc: request_log.page_errors.append(str(exc)))
        opened.append((ctx, pg))
        return pg

    yield open_page

    reports = request.node.stash.get(_report_key, {})
    failed = "call" in reports and reports["call"].failed
    for i, (ctx, pg) in enumerate(opened):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                name = f"FAILED-{_slug(request.node.nodeid)}{f'-{i}' if i else ''}.png"
                pg.screenshot(path=str(ARTIFACTS / name), full_page=True)
            except Exception:  # noqa: S110 - a screenshot must never hide the real failure
                pass
        ctx.close()
    foreign = request_log.foreign()
    assert not foreign, f"页面向其他主机发出了请求: {foreign}"
    assert not request_log.page_errors, f"页面脚本出错: {request_log.page_errors}"


@pytest.fixture
def page(new_page: Any) -> Page:
    """The test's main page, in its own browser context."""
    return new_page()


@pytest.fixture
def snap(page: Page) -> Any:
    """Save a full-page screenshot of the current page as ``test-artifacts/<name>.png``."""

    def take(name: str, *, target: Page | None = None) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take


def current_totp(user: Any) -> str:
    """The code the administrator's authenticator app shows right now."""
    from django_otp.oath import totp

    device = confirmed_device(user)
    code = totp(
        device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
    )
    return f"{code:0{device.digits}d}"


def submit_login(page: Page, username: str, password: str) -> None:
    """Fill and send the real login form (the page must already be open, or is opened)."""
    if "/accounts/login/" not in page.url:
        page.goto("/accounts/login/")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


@pytest.fixture
def login(page: Page) -> Any:
    """Log ``user`` in through the login form, passing the TOTP step when they are asked for it.

    Returns the page, now on the page the login led to (the home page by default).
    """

    def do_login(user: Any, password: str, *, target: Page | None = None) -> Page:
        p = target or page
        second_factor = user.needs_second_factor()
        if second_factor:
            confirmed_device(user)  # the authenticator app was set up earlier
        submit_login(p, user.username, password)
        if second_factor:
            expect(p.get_by_role("heading", name="动态口令验证")).to_be_visible()
            p.get_by_label("动态口令", exact=True).fill(current_totp(user))
            p.get_by_role("button", name="验证").click()
        expect(p.get_by_role("button", name="退出", include_hidden=True)).to_be_attached()
        return p

    return do_login
