"""Nothing is loaded from another host: no CDN, no web fonts, no analytics.

Every test's pages are recorded by the harness (``conftest.RequestLog``) and fail in teardown
when anything went elsewhere; this module walks the main pages once more on purpose, and
checks that the recorder itself notices a request to another host.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from niangjia.tests.browser.conftest import ALL_REQUESTS, RequestLog
from niangjia.utilities.testing.personas import PERSONA_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The live server serves static files itself; WhiteNoise misses a collectstatic it needs not.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def test_request_log_tells_other_hosts_from_the_live_server() -> None:
    log = RequestLog(server_origin="http://localhost:41234")
    log.urls = [
        "http://localhost:41234/static/css/niangjia.css",
        "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
        "http://localhost:5000/static/css/niangjia.css",
        "https://localhost:41234/",
        "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css",
        "http://fonts.googleapis.com/css?family=Noto+Sans+SC",
    ]
    assert log.foreign() == log.urls[2:]


def test_recorder_catches_a_request_to_another_host(page: Page, request_log: RequestLog) -> None:
    page.route("http://203.0.113.7/**", lambda route: route.abort())
    page.goto("/accounts/login/")
    with page.expect_event("requestfailed"):
        page.evaluate(
            "() => { const i = new Image(); i.src = 'http://203.0.113.7/pixel.png';"
            " document.body.append(i); }"
        )
    assert request_log.foreign() == ["http://203.0.113.7/pixel.png"]
    # Forget it again: this page broke the rule on purpose.
    request_log.urls.remove("http://203.0.113.7/pixel.png")


def test_main_pages_load_everything_from_the_live_server(
    page: Page, login, national_admin, tree, request_log: RequestLog, live_server, request
) -> None:
    login(national_admin, PERSONA_PASSWORD)
    for url, heading in [
        ("/", "您好，全总管理员"),
        ("/orgs/unions/", "组织机构"),
        (f"/orgs/unions/{tree.hubei.pk}/", "湖北省总工会"),
        (f"/orgs/unions/{tree.jiangan.pk}/add/", "在“江岸区总工会”下新建工会"),
        (f"/orgs/unions/{tree.jiangan.pk}/edit/", "编辑"),
        ("/orgs/employers/", "用人单位"),
        ("/orgs/employers/add/", "登记用人单位"),
        (f"/orgs/employers/{tree.jiangan_employer.pk}/", "武汉长江机械有限公司"),
        ("/accounts/password/", "修改密码"),
        ("/accounts/tokens/", "接口令牌"),
    ]:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        page.wait_for_load_state("networkidle")

    page.goto("/api/v1/docs")
    expect(page.get_by_text("娘家工会平台 API").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert not request_log.foreign()
    own = [u for u in request_log.urls if u.startswith(live_server.url)]
    for asset in ("/static/css/niangjia.css", "/static/js/niangjia.js", "/static/js/orgs.js"):
        assert any(u.endswith(asset) for u in own), asset
    assert any(re.search(r"/static/ninja/swagger-ui-bundle\.js$", u) for u in own)
    assert any("/orgs/regions/children/" in u for u in own)  # the region cascade's fetches
    # The session-wide log holds the same requests, filed under this test.
    assert [u for nodeid, u in ALL_REQUESTS if nodeid == request.node.nodeid] == request_log.urls
