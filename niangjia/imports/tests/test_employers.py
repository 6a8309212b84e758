"""The employer roster: checks, conflicts with other registries, upsert on the USCC."""

from __future__ import annotations

import io
from typing import Any

import pytest

from niangjia.audit.models import AuditEntry
from niangjia.imports import services
from niangjia.imports.choices import ImportState, Outcome
from niangjia.imports.models import ImportProblem, ImportRun
from niangjia.orgs.models import Employer
from niangjia.utilities.testing.factories import make_uscc
from niangjia.utilities.xlsx import write_xlsx

pytestmark = pytest.mark.django_db

HEADERS = [
    "单位名称",
    "统一社会信用代码",
    "所在行政区划",
    "行业",
    "经济类型",
    "职工人数",
    "单位状态",
    "所属基层工会",
]


def roster(rows: list[list[Any]]) -> io.BytesIO:
    result = write_xlsx(title="单位", headers=HEADERS, rows=rows)
    data = io.BytesIO(result.file.read())
    result.file.close()
    return data


def run_through(
    user: Any, union: Any, rows: list[list[Any]], capture: Any, *, commit: bool = True
) -> ImportRun:
    run = services.import_upload(
        acting_user=user,
        union=union,
        kind="employers",
        file=roster(rows),
        original_name="单位.xlsx",
    )
    with capture(execute=True):
        services.import_dry_run(run=run, acting_user=user)
    run = ImportRun.objects.get(pk=run.pk)
    if commit and run.state == ImportState.VALIDATED and (run.rows_new or run.rows_updated):
        with capture(execute=True):
            services.import_commit(run=run, acting_user=user)
        run = ImportRun.objects.get(pk=run.pk)
    return run


def test_employers_are_created_updated_and_refused_with_reasons(
    tree, personas, django_capture_on_commit_callbacks
):
    cadre = personas["county_cadre"]
    code_new = make_uscc(region_code="420102", serial=501)
    rows = [
        [
            "武汉新建机电有限公司",
            code_new,
            "420102",
            "C",
            "私营企业",
            88,
            "存续",
            "武汉长江机械有限公司工会",
        ],
        # the registered employer of the tree, with a new headcount
        [
            "武汉长江机械有限公司",
            tree.jiangan_employer.uscc,
            "420102",
            "C 制造业",
            "private",
            "400",
            "",
            "",
        ],
        [
            "坏代码公司",
            code_new[:17] + ("0" if code_new[17] != "0" else "1"),
            "420102",
            "C",
            "私营企业",
            1,
            "",
            "",
        ],
        [
            "无区划公司",
            make_uscc(region_code="420102", serial=502),
            "999999",
            "C",
            "私营企业",
            1,
            "",
            "",
        ],
        ["汉江的单位", tree.jianghan_employer.uscc, "420103", "G", "私营企业", 1, "", ""],
        ["重复的单位", code_new, "420102", "C", "私营企业", 1, "", ""],
        [
            "负数公司",
            make_uscc(region_code="420102", serial=503),
            "420102",
            "C",
            "私营企业",
            -3,
            "",
            "",
        ],
    ]
    run = run_through(cadre, tree.jiangan, rows, django_capture_on_commit_callbacks)
    assert (run.rows_new, run.rows_updated, run.rows_error, run.rows_conflict) == (1, 1, 4, 1)
    assert run.state == ImportState.COMMITTED
    created = Employer.objects.get(uscc=code_new)
    assert created.owner == tree.jiangan and created.covering_union == tree.jiangan_grassroots
    assert created.headcount == 88
    tree.jiangan_employer.refresh_from_db()
    assert tree.jiangan_employer.headcount == 400
    problems = {p.row_no: p for p in ImportProblem.objects.filter(run=run)}
    assert "校验位不正确" in problems[4].message
    assert "行政区划代码“999999”不存在" in problems[5].message
    assert problems[6].outcome == Outcome.CONFLICT and "江汉区总工会" in problems[6].message
    assert "与第 2 行重复" in problems[7].message
    assert "不小于 0 的整数" in problems[8].message
    assert AuditEntry.objects.filter(action="import", object_id=str(run.pk)).count() == 1


def test_the_same_employer_file_again_changes_nothing(
    tree, personas, django_capture_on_commit_callbacks
):
    cadre = personas["county_cadre"]
    rows = [
        [
            "武汉新建机电有限公司",
            make_uscc(region_code="420102", serial=601),
            "420102",
            "C",
            "私营企业",
            10,
            "存续",
            "",
        ]
    ]
    run_through(cadre, tree.jiangan, rows, django_capture_on_commit_callbacks)
    again = run_through(cadre, tree.jiangan, rows, django_capture_on_commit_callbacks, commit=False)
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 1)
