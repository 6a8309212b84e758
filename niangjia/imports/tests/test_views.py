"""Pages of the roster importer: who may open and act on which run, and what they show."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse

from niangjia.accounts.choices import Action
from niangjia.imports import services
from niangjia.imports.choices import ImportState
from niangjia.imports.models import (
    ImportChunk,
    ImportProblem,
    ImportRun,
    StagedEmployer,
    StagedMember,
)
from niangjia.members.models import Member
from niangjia.utilities.testing.members import make_id_number, make_phone
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import logged_in_client
from niangjia.utilities.xlsx import write_xlsx

HEADERS = ["姓名", "身份证号码", "手机号码", "所在工会"]


def roster(rows: list[list[Any]]) -> io.BytesIO:
    result = write_xlsx(title="名册", headers=HEADERS, rows=rows)
    data = io.BytesIO(result.file.read())
    result.file.close()
    data.name = "名册.xlsx"
    return data


def good_rows(n: int = 2, start: int = 1) -> list[list[Any]]:
    return [
        [f"会员{i}", make_id_number(serial=i), make_phone(serial=i), "武汉长江机械有限公司工会"]
        for i in range(start, start + n)
    ]


def jiangan_run(tree: Any, personas: Any, *, problems: bool = True) -> ImportRun:
    cadre = personas["county_cadre"]
    rows = good_rows() + ([["坏行", "123", "1", ""]] if problems else [])
    run = services.import_upload(
        acting_user=cadre,
        union=tree.jiangan,
        kind="members",
        file=roster(rows),
        original_name="江岸名册.xlsx",
    )
    ImportRun.objects.filter(pk=run.pk).update(state=ImportState.VALIDATING)
    run.refresh_from_db()
    from niangjia.imports import engine

    tally = engine.member_dry_run(run)
    return services.mark_validated(run, tally)


def url(name: str, *args: Any) -> str:
    return reverse(f"imports:{name}", args=args)


class TestImportPagesScope(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="import-list",
            url=lambda t: url("import_list"),
            allowed=("county_cadre", "grassroots_cadre", "provincial_cadre"),
            forbidden=("worker", "auditor", "system_admin"),
        ),
        ScopedCase(
            name="import-template",
            url=lambda t: url("import_template", "members"),
            allowed=("county_cadre",),
            forbidden=("worker", "auditor"),
        ),
        ScopedCase(
            name="import-upload",
            url=lambda t: url("import_upload"),
            method="post",
            action=Action.ADD,
            data=lambda t: {"kind": "members", "union": t.jiangan.pk, "file": roster(good_rows())},
            allowed=("county_cadre",),
            forbidden=("worker", "auditor"),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="import-detail",
            url=lambda t, run: url("import_detail", run.pk),
            setup=jiangan_run,
            model=ImportRun,
            allowed=("county_cadre", "provincial_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
            contains=lambda t: ["江岸名册.xlsx", "试导入结果"],
        ),
        ScopedCase(
            name="import-report",
            url=lambda t, run: url("import_report", run.pk),
            setup=jiangan_run,
            model=ImportProblem,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre",),
        ),
        ScopedCase(
            name="import-mapping",
            url=lambda t, run: url("import_mapping", run.pk),
            method="post",
            action=Action.ADD,
            setup=jiangan_run,
            data=lambda t, run: {
                "col_0": "name",
                "col_1": "id_number",
                "col_2": "phone",
                "col_3": "union",
            },
            allowed=("county_cadre",),
            forbidden=("auditor",),
            out_of_scope=("sibling_cadre",),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="import-dry-run",
            url=lambda t, run: url("import_dry_run", run.pk),
            method="post",
            action=Action.ADD,
            model=StagedEmployer,
            setup=jiangan_run,
            allowed=("county_cadre",),
            forbidden=("auditor",),
            out_of_scope=("sibling_cadre",),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="import-commit",
            url=lambda t, run: url("import_commit", run.pk),
            method="post",
            action=Action.ADD,
            model=StagedMember,
            setup=jiangan_run,
            allowed=("county_cadre",),
            forbidden=("auditor",),
            out_of_scope=("sibling_cadre",),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="import-cancel",
            url=lambda t, run: url("import_cancel", run.pk),
            method="post",
            action=Action.ADD,
            model=ImportChunk,
            setup=jiangan_run,
            allowed=("county_cadre",),
            forbidden=("auditor",),
            out_of_scope=("sibling_cadre",),
            allowed_statuses=frozenset({302}),
        ),
        ScopedCase(
            name="import-delete",
            url=lambda t, run: url("import_delete", run.pk),
            method="post",
            action=Action.ADD,
            setup=jiangan_run,
            allowed=("county_cadre",),
            forbidden=("auditor",),
            out_of_scope=("sibling_cadre",),
            allowed_statuses=frozenset({302}),
        ),
    ]


@pytest.mark.django_db
def test_upload_page_lists_only_own_subtree_runs(tree, personas):
    jiangan_run(tree, personas)
    page = logged_in_client(personas["sibling_cadre"]).get(url("import_list"))
    assert page.status_code == 200
    assert "江岸名册.xlsx" not in page.content.decode()
    page = logged_in_client(personas["county_cadre"]).get(url("import_list"))
    assert "江岸名册.xlsx" in page.content.decode()


@pytest.mark.django_db
def test_a_hostile_upload_shows_the_reason_on_the_form(tree, personas):
    bad = io.BytesIO(b"MZ" + b"\x00" * 100)
    bad.name = "名册.xlsx"
    page = logged_in_client(personas["county_cadre"]).post(
        url("import_upload"), {"kind": "members", "union": tree.jiangan.pk, "file": bad}
    )
    assert page.status_code == 400
    assert "不是电子表格" in page.content.decode()
    assert not ImportRun.objects.exists()


@pytest.mark.django_db
def test_detail_shows_summary_first_problems_and_commit_button(
    tree, personas, django_assert_max_num_queries
):
    run = jiangan_run(tree, personas)
    client = logged_in_client(personas["county_cadre"])
    with django_assert_max_num_queries(25):
        page = client.get(url("import_detail", run.pk))
    text = page.content.decode()
    assert 'data-count="new">2<' in text
    assert 'data-count="errors">1<' in text
    assert "正式导入" in text and "下载问题行" in text


@pytest.mark.django_db
def test_commit_from_the_page_writes_the_members(
    tree, personas, django_capture_on_commit_callbacks
):
    run = jiangan_run(tree, personas, problems=False)
    client = logged_in_client(personas["county_cadre"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("import_commit", run.pk))
    run.refresh_from_db()
    assert run.state == ImportState.COMMITTED
    assert Member.objects.filter(union=tree.jiangan_grassroots).count() == 2


API = "/api/v1/imports"


class TestImportApiScope(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="api-import-list",
            api=True,
            url=lambda t, run: API,
            setup=jiangan_run,
            allowed=("county_cadre", "provincial_cadre", "auditor"),
            contains=lambda t: ["江岸名册.xlsx"],
        ),
        ScopedCase(
            name="api-import-list-excludes-sibling",
            api=True,
            url=lambda t, run: API,
            setup=jiangan_run,
            allowed="sibling_cadre",
            anonymous=False,
            excludes=lambda t: ["江岸名册.xlsx"],
        ),
        ScopedCase(
            name="api-import-detail",
            api=True,
            url=lambda t, run: f"{API}/{run.pk}",
            setup=jiangan_run,
            model=ImportRun,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
            contains=lambda t: ["试导入完成"],
        ),
        ScopedCase(
            name="api-import-problems",
            api=True,
            url=lambda t, run: f"{API}/{run.pk}/problems",
            setup=jiangan_run,
            model=ImportProblem,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre",),
            contains=lambda t: ["身份证号码"],
        ),
        ScopedCase(
            name="api-import-dry-run",
            api=True,
            method="post",
            action=Action.ADD,
            url=lambda t, run: f"{API}/{run.pk}/dry-run",
            setup=jiangan_run,
            model=ImportRun,
            allowed=("county_cadre",),
            forbidden=("auditor",),
            out_of_scope=("sibling_cadre",),
        ),
        ScopedCase(
            name="api-import-commit",
            api=True,
            method="post",
            action=Action.ADD,
            url=lambda t, run: f"{API}/{run.pk}/commit",
            setup=jiangan_run,
            model=ImportRun,
            allowed=("county_cadre",),
            forbidden=("auditor",),
            out_of_scope=("sibling_cadre",),
        ),
    ]


@pytest.mark.django_db
def test_api_refuses_a_commit_before_the_dry_run_with_the_reason(tree, personas):
    from niangjia.utilities.testing.personas import api_client

    cadre = personas["county_cadre"]
    run = services.import_upload(
        acting_user=cadre,
        union=tree.jiangan,
        kind="members",
        file=roster(good_rows()),
        original_name="a.xlsx",
    )
    response = api_client(cadre).post(f"{API}/{run.pk}/commit")
    assert response.status_code == 422
    assert "请先试导入" in response.json()["detail"][0]["msg"]
