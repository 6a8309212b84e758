"""The relief API (/api/v1/relief/…): every endpoint through the personas, and what it does."""

from __future__ import annotations

import datetime
import json
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings

from niangjia.accounts.choices import Action, Role
from niangjia.accounts.models import RoleAssignment
from niangjia.orgs.models import Region
from niangjia.relief import services
from niangjia.relief.choices import (
    AssistanceState,
    AssistanceType,
    AttachmentKind,
    Category,
    Cycle,
    FileState,
)
from niangjia.relief.models import (
    Assistance,
    AssistanceRule,
    Attachment,
    CategoryRule,
    DisbursementBatch,
    FileEvent,
    FilePerson,
    Fund,
    HardshipFile,
    HouseholdMember,
    IncomeCheck,
    LedgerEntry,
    LivingThreshold,
    Objection,
    PlanMeasure,
    RelapseCheck,
    RelapseWatch,
    ReliefPlan,
)
from niangjia.relief.services.common import add_months
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.relief import (
    make_cadre,
    make_file,
    make_fund,
    person_id,
    set_threshold,
    today,
)

API = "/api/v1/relief"
MEDIA = Path(tempfile.gettempdir()) / "niangjia-relief-test-media"
ID_NUMBER = "420102198503150012"
MASKED = "4201**********0012"


@pytest.fixture(autouse=True)
def private_media(settings):
    settings.MEDIA_ROOT = MEDIA


def jiangan_file(tree, personas, **extra):
    set_threshold(tree)
    return make_file(tree, personas, id_number=ID_NUMBER, **extra)


def both_files(tree, personas):
    mine = jiangan_file(tree, personas)
    make_file(tree, personas, union=tree.jianghan_grassroots, name="赵四海")
    return mine


def file_and_fund(tree, personas):
    file = jiangan_file(tree, personas)
    return file, make_fund(tree, personas, amount="20000")


def pending(tree, personas):
    file, fund = file_and_fund(tree, personas)
    return services.assistance_create(
        file=file,
        assistance_type=AssistanceType.LIVING,
        amount=Decimal("600"),
        fund=fund,
        acting_user=personas["grassroots_cadre"],
    )


def approved(tree, personas):
    return services.assistance_approve(
        assistance=pending(tree, personas), acting_user=personas["county_cadre"]
    )


def waiting_for_finance(tree, personas):
    services.assistance_rule_set(
        province=Region.objects.get(code="420000"),
        year=today().year,
        assistance_type=AssistanceType.LIVING,
        cap_per_year=None,
        cycle=Cycle.YEAR,
        second_approval_above=Decimal("500"),
        acting_user=personas["national_admin"],
    )
    record = pending(tree, personas)
    record = services.assistance_approve(
        assistance=record, acting_user=make_cadre(tree.jiangan, "jiangan_cadre_02")
    )
    # The provincial cadre also keeps the province's books.
    RoleAssignment.objects.get_or_create(
        user=personas["provincial_cadre"], union=tree.hubei, role=Role.FINANCE
    )
    return record


def draft_batch(tree, personas):
    _, fund = file_and_fund(tree, personas)
    return services.batch_create(
        fund=fund,
        name="金秋助学",
        assistance_type=AssistanceType.EDUCATION,
        amount=Decimal("1000"),
        acting_user=make_cadre(tree.jiangan, "jiangan_cadre_03"),
    )


def approved_batch(tree, personas):
    return services.batch_approve(
        batch=draft_batch(tree, personas), acting_user=personas["county_cadre"]
    )


def with_rules(tree, personas):
    services.category_rule_add(
        province=Region.objects.get(code="420000"),
        valid_from=datetime.date(2024, 1, 1),
        deep_multiple=Decimal("1.1"),
        relative_multiple=Decimal("2.2"),
        accident_loss_ratio=Decimal("0.7"),
        acting_user=personas["national_admin"],
    )
    services.assistance_rule_set(
        province=Region.objects.get(code="420000"),
        year=2025,
        assistance_type=AssistanceType.MEDICAL,
        cap_per_year=Decimal("8000"),
        cycle=Cycle.YEAR,
        second_approval_above=Decimal("3000"),
        acting_user=personas["national_admin"],
    )


def with_plan(tree, personas):
    file = jiangan_file(tree, personas)
    plan = services.plan_save(file=file, goal="稳定就业", acting_user=personas["county_cadre"])
    services.measure_add(
        plan=plan,
        assistance_type=AssistanceType.TRAINING,
        description="参加电工技能培训",
        responsible_union=tree.jiangan,
        deadline=today() + datetime.timedelta(days=20),
        acting_user=personas["county_cadre"],
    )
    return file


def due_check(tree, personas):
    file = jiangan_file(tree, personas)
    cadre = personas["county_cadre"]
    first = today().replace(day=1)
    for i in range(6):
        services.income_check_record(
            file=file,
            month=add_months(first, -i),
            income_per_head=Decimal("1500"),
            acting_user=cadre,
        )
    file = services.exit_confirm(file=file, acting_user=cadre)
    RelapseCheck.objects.filter(watch__file=file).update(due_on=today())
    return file


def in_publicity(tree, personas):
    return jiangan_file(tree, personas, state=FileState.PUBLICITY)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def with_attachment(tree, personas):
    file = jiangan_file(tree, personas, state=FileState.APPLIED)
    with override_settings(MEDIA_ROOT=MEDIA):
        return services.attachment_add(
            file=file,
            kind=AttachmentKind.CONSENT,
            original_name="授权书.pdf",
            upload=PDF,
            acting_user=personas["county_cadre"],
        )


def new_file_body(t):
    return {
        "union": t.jiangan_grassroots.pk,
        "name": "孙丽华",
        "id_number": person_id(),
        "phone": "13912345678",
        "work_status": "laid_off",
        "housing_type": "public_rental",
        "monthly_wage": "800",
        "household_size": 2,
        "main_cause": "06",
        "household_members": [{"name": "孙小军", "relation": "child", "id_number": person_id()}],
    }


IN_SCOPE = ("county_cadre", "grassroots_cadre", "provincial_cadre", "auditor", "national_admin")
OUTSIDE = ("sibling_cadre", "worker")


class TestReliefApiScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="api-relief-file-list",
            url=lambda t, f: f"{API}/files",
            setup=both_files,
            api=True,
            model=HardshipFile,
            allowed=("county_cadre", "grassroots_cadre"),
            contains=lambda t: ["刘建国", MASKED],
            excludes=lambda t: ["赵四海", ID_NUMBER],
        ),
        ScopedCase(
            name="api-relief-file-list-outside",
            url=lambda t, f: f"{API}/files",
            setup=both_files,
            api=True,
            allowed=("sibling_cadre", "worker"),
            anonymous=False,
            excludes=lambda t: ["刘建国"],
        ),
        ScopedCase(
            name="api-relief-file-detail",
            url=lambda t, f: f"{API}/files/{f.pk}",
            setup=jiangan_file,
            api=True,
            model=HardshipFile,
            allowed=IN_SCOPE,
            out_of_scope=OUTSIDE,
            contains=lambda t: ["刘建国", MASKED, "**** 0123"],
            excludes=lambda t: [ID_NUMBER, "6222021234567890123"],
        ),
        ScopedCase(
            name="api-relief-file-household",
            url=lambda t, f: f"{API}/files/{f.pk}",
            setup=jiangan_file,
            api=True,
            model=HouseholdMember,
            allowed="grassroots_cadre",
            out_of_scope="sibling_cadre",
            anonymous=False,
            contains=lambda t: ["王秀英", "刘小明"],
        ),
        ScopedCase(
            name="api-relief-file-timeline",
            url=lambda t, f: f"{API}/files/{f.pk}",
            setup=jiangan_file,
            api=True,
            model=FileEvent,
            allowed="county_cadre",
            out_of_scope="sibling_cadre",
            anonymous=False,
            contains=lambda t: ["基层初审", "建档立卡", "签署核对授权"],
        ),
        ScopedCase(
            name="api-relief-file-create",
            url=lambda t: f"{API}/files",
            method="post",
            action=Action.ADD,
            api=True,
            model=FilePerson,
            data=new_file_body,
            setup=lambda t: set_threshold(t),
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden="auditor",
            contains=lambda t: ["孙丽华", "已申请"],
        ),
        ScopedCase(
            name="api-relief-assistance-list",
            url=lambda t, a: f"{API}/assistance",
            setup=pending,
            api=True,
            model=Assistance,
            allowed=("county_cadre", "auditor"),
            contains=lambda t: ["600.00", "生活救助"],
        ),
        ScopedCase(
            name="api-relief-assistance-list-outside",
            url=lambda t, a: f"{API}/assistance",
            setup=pending,
            api=True,
            allowed="sibling_cadre",
            anonymous=False,
            excludes=lambda t: ["600.00"],
        ),
        ScopedCase(
            name="api-relief-assistance-create",
            url=lambda t, x: f"{API}/files/{x[0].pk}/assistance",
            setup=file_and_fund,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Assistance,
            data=lambda t, x: {"assistance_type": "medical", "amount": "1200", "fund": x[1].pk},
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden="auditor",
            out_of_scope=OUTSIDE,
            contains=lambda t: ["医疗救助", "待审批"],
        ),
        ScopedCase(
            name="api-relief-assistance-approve",
            url=lambda t, a: f"{API}/assistance/{a.pk}/approve",
            setup=pending,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Assistance,
            data=lambda t, a: {"version": a.version},
            allowed=("county_cadre", "provincial_cadre"),
            forbidden="auditor",
            out_of_scope=OUTSIDE,
            contains=lambda t: ["已审批"],
        ),
        ScopedCase(
            name="api-relief-assistance-second-approve",
            url=lambda t, a: f"{API}/assistance/{a.pk}/second-approve",
            setup=waiting_for_finance,
            method="post",
            action=Action.APPROVE_FUNDS,
            api=True,
            model=Assistance,
            data=lambda t, a: {},
            allowed="provincial_cadre",
            forbidden=("county_cadre", "auditor"),
            out_of_scope=OUTSIDE,
            contains=lambda t: ["已审批"],
        ),
        ScopedCase(
            name="api-relief-assistance-pay",
            url=lambda t, a: f"{API}/assistance/{a.pk}/pay",
            setup=approved,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Assistance,
            data=lambda t, a: {"version": a.version},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=OUTSIDE,
            contains=lambda t: ["已发放"],
        ),
        ScopedCase(
            name="api-relief-fund-list",
            url=lambda t, f: f"{API}/funds",
            setup=lambda t, p: (make_fund(t, p), make_fund(t, p, union=t.jianghan)),
            api=True,
            model=Fund,
            allowed="county_cadre",
            contains=lambda t: ["江岸区总工会", "100000.00"],
            excludes=lambda t: ["江汉区总工会"],
        ),
        ScopedCase(
            name="api-relief-fund-usage",
            url=lambda t, f: f"{API}/funds/{f.pk}/usage",
            setup=lambda t, p: make_fund(t, p, amount="3000"),
            api=True,
            model=LedgerEntry,
            allowed=("county_cadre", "auditor", "provincial_cadre"),
            out_of_scope=OUTSIDE,
            contains=lambda t: ["3000.00"],
        ),
        ScopedCase(
            name="api-relief-batch-list",
            url=lambda t, b: f"{API}/batches",
            setup=draft_batch,
            api=True,
            model=DisbursementBatch,
            allowed=("county_cadre", "auditor"),
            contains=lambda t: ["金秋助学"],
        ),
        ScopedCase(
            name="api-relief-batch-list-outside",
            url=lambda t, b: f"{API}/batches",
            setup=draft_batch,
            api=True,
            allowed="sibling_cadre",
            anonymous=False,
            excludes=lambda t: ["金秋助学"],
        ),
        ScopedCase(
            name="api-relief-batch-detail",
            url=lambda t, b: f"{API}/batches/{b.pk}",
            setup=draft_batch,
            api=True,
            model=DisbursementBatch,
            allowed=("county_cadre", "auditor"),
            out_of_scope=OUTSIDE,
            contains=lambda t: ["金秋助学", '"pending": {"count": 1'],
        ),
        ScopedCase(
            name="api-relief-batch-create",
            url=lambda t, f: f"{API}/batches",
            setup=lambda t, p: make_fund(t, p),
            method="post",
            action=Action.CHANGE,
            api=True,
            model=DisbursementBatch,
            data=lambda t, f: {
                "fund": f.pk,
                "name": "春节送温暖",
                "assistance_type": "warmth",
                "amount": "500",
            },
            allowed="county_cadre",
            forbidden="auditor",
            contains=lambda t: ["春节送温暖", "草稿"],
        ),
        ScopedCase(
            name="api-relief-batch-approve",
            url=lambda t, b: f"{API}/batches/{b.pk}/approve",
            setup=draft_batch,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=DisbursementBatch,
            data=lambda t, b: {"version": b.version},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=OUTSIDE,
            contains=lambda t: ["已审批"],
        ),
        ScopedCase(
            name="api-relief-batch-post",
            url=lambda t, b: f"{API}/batches/{b.pk}/post",
            setup=approved_batch,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=DisbursementBatch,
            data=lambda t, b: {},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=OUTSIDE,
            contains=lambda t: ['"paid": 1', '"balance_after": "19000.00"'],
        ),
        ScopedCase(
            name="api-relief-threshold-list",
            url=lambda t, x: f"{API}/thresholds",
            setup=lambda t: set_threshold(t, "1070"),
            api=True,
            model=LivingThreshold,
            allowed=("provincial_cadre", "auditor", "national_admin"),
            contains=lambda t: ["武汉市", "1070.00"],
        ),
        ScopedCase(
            name="api-relief-threshold-list-county",
            url=lambda t, x: f"{API}/thresholds",
            setup=lambda t: set_threshold(t, "1070"),
            api=True,
            allowed=("county_cadre", "worker"),
            anonymous=False,
            excludes=lambda t: ["1070.00"],
        ),
        ScopedCase(
            name="api-relief-rule-list",
            url=lambda t, x: f"{API}/rules",
            setup=with_rules,
            api=True,
            model=CategoryRule,
            allowed=("provincial_cadre", "auditor"),
            contains=lambda t: ["2.20", "0.70"],
        ),
        ScopedCase(
            name="api-relief-rule-list-assistance",
            url=lambda t, x: f"{API}/rules",
            setup=with_rules,
            api=True,
            model=AssistanceRule,
            allowed="provincial_cadre",
            anonymous=False,
            contains=lambda t: ["8000.00", "medical"],
        ),
        ScopedCase(
            name="api-relief-rule-list-county",
            url=lambda t, x: f"{API}/rules",
            setup=with_rules,
            api=True,
            allowed="county_cadre",
            anonymous=False,
            excludes=lambda t: ["8000.00"],
        ),
        ScopedCase(
            name="api-relief-plan-detail",
            url=lambda t, f: f"{API}/files/{f.pk}/plan",
            setup=with_plan,
            api=True,
            model=ReliefPlan,
            allowed=IN_SCOPE,
            out_of_scope=OUTSIDE,
            contains=lambda t: ["稳定就业"],
        ),
        ScopedCase(
            name="api-relief-plan-measures",
            url=lambda t, f: f"{API}/files/{f.pk}/plan",
            setup=with_plan,
            api=True,
            model=PlanMeasure,
            allowed="grassroots_cadre",
            out_of_scope="sibling_cadre",
            anonymous=False,
            contains=lambda t: ["参加电工技能培训", "江岸区总工会"],
        ),
        ScopedCase(
            name="api-relief-income-check-create",
            url=lambda t, f: f"{API}/files/{f.pk}/income-checks",
            setup=jiangan_file,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=IncomeCheck,
            data=lambda t, f: {"month": str(today()), "income_per_head": "1300.5"},
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden="auditor",
            out_of_scope=OUTSIDE,
            contains=lambda t: ["1300.50", '"threshold": "1000.00"'],
        ),
        ScopedCase(
            name="api-relief-relapse-check-list",
            url=lambda t, f: f"{API}/relapse-checks",
            setup=due_check,
            api=True,
            model=RelapseCheck,
            allowed=("county_cadre", "auditor"),
            contains=lambda t: ["刘建国"],
        ),
        ScopedCase(
            name="api-relief-relapse-watch-outside",
            url=lambda t, f: f"{API}/relapse-checks",
            setup=due_check,
            api=True,
            model=RelapseWatch,
            allowed="sibling_cadre",
            anonymous=False,
            excludes=lambda t: ["刘建国"],
        ),
        ScopedCase(
            name="api-relief-objection-create",
            url=lambda t, f: f"{API}/files/{f.pk}/objections",
            setup=in_publicity,
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Objection,
            data=lambda t, f: {"content": "该户家中有出租房屋", "raised_by": "匿名"},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=OUTSIDE,
            contains=lambda t: ["该户家中有出租房屋"],
        ),
        ScopedCase(
            name="api-relief-attachment-download",
            url=lambda t, a: f"{API}/attachments/{a.pk}",
            setup=with_attachment,
            api=True,
            model=Attachment,
            allowed=IN_SCOPE,
            out_of_scope=OUTSIDE,
        ),
    ]


# --- Behaviour


pytestmark = pytest.mark.django_db


def test_a_file_created_on_the_api_is_applied_with_its_household(tree, personas, api_client_for):
    set_threshold(tree)
    client = api_client_for(personas["county_cadre"])
    response = client.post(
        f"{API}/files", json.dumps(new_file_body(tree)), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == FileState.APPLIED
    assert body["income_per_head"] == "400.00"
    assert body["category_proposed"] == Category.DEEP
    assert [m["name"] for m in body["household_members"]] == ["孙小军"]
    assert body["timeline"][0]["kind"] == "applied"


def test_bad_input_names_the_field_in_chinese(tree, personas, api_client_for):
    set_threshold(tree)
    client = api_client_for(personas["county_cadre"])
    body = {**new_file_body(tree), "household_size": 1}
    response = client.post(f"{API}/files", json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    assert "家庭人口" in message and "少于" in message


def test_a_stale_version_answers_with_the_conflict(tree, personas, api_client_for):
    record = pending(tree, personas)
    Assistance.objects.filter(pk=record.pk).update(version=record.version + 1)
    client = api_client_for(personas["county_cadre"])
    response = client.post(
        f"{API}/assistance/{record.pk}/approve",
        json.dumps({"version": record.version}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "已被他人修改" in response.json()["detail"][0]["msg"]
    assert Assistance.objects.get(pk=record.pk).state == AssistanceState.PENDING


def test_an_overdraft_on_the_api_is_refused(tree, personas, api_client_for):
    file = jiangan_file(tree, personas)
    fund = make_fund(tree, personas, amount="100")
    client = api_client_for(personas["grassroots_cadre"])
    response = client.post(
        f"{API}/files/{file.pk}/assistance",
        json.dumps({"assistance_type": "living", "amount": "300", "fund": fund.pk}),
        content_type="application/json",
    )
    record = Assistance.objects.get(pk=response.json()["id"])
    services.assistance_approve(assistance=record, acting_user=personas["county_cadre"])
    response = api_client_for(personas["county_cadre"]).post(
        f"{API}/assistance/{record.pk}/pay", "{}", content_type="application/json"
    )
    assert response.status_code == 422
    assert "余额不足" in response.json()["detail"][0]["msg"]


def test_the_attachment_comes_back_as_stored_and_the_reading_is_audited(tree, personas, client_for):
    attachment = with_attachment(tree, personas)
    response = client_for(personas["county_cadre"]).get(f"{API}/attachments/{attachment.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
