"""What the relief pages do: the workbench's filters, search and export, the file form with
its household and optimistic locking, the workflow's steps, reveals, the PDF, attachments,
approvals, batches, funds, rules, and the worker's phone pages."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.members.models import id_hash_of
from niangjia.relief import services
from niangjia.relief.choices import (
    AssistanceState,
    AssistanceType,
    BatchState,
    Category,
    FileState,
    PaymentState,
)
from niangjia.relief.models import (
    Assistance,
    Attachment,
    BatchPayment,
    DisbursementBatch,
    Fund,
    HardshipFile,
    HouseholdMember,
    LivingThreshold,
)
from niangjia.relief.tests.test_views import file_form, png_bytes
from niangjia.utilities.sms import LocmemBackend
from niangjia.utilities.testing.members import make_id_number
from niangjia.utilities.testing.relief import (
    make_cadre,
    make_file,
    make_finance_officer,
    make_fund,
    person_id,
    set_threshold,
    today,
)

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(f"relief:{name}", args=args)


def text(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def threshold(tree):
    return set_threshold(tree)


@pytest.fixture
def cadre_client(client_for, county_cadre):
    return client_for(county_cadre)


def reads(queries: Any) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE", "SET "))
    ]


# --- The workbench


def test_the_workbench_filters_by_category_and_shows_the_counts_by_state(
    tree, personas, threshold, cadre_client
):
    make_file(tree, personas, name="深度困难户", category=Category.DEEP)
    make_file(tree, personas, name="相对困难户", category=Category.RELATIVE)
    make_file(tree, personas, state=FileState.APPLIED, name="新申请户")
    page = text(cadre_client.get(url("file_list") + "?category=relative"))
    assert "相对困难户" in page and "深度困难户" not in page and "新申请户" not in page
    figures = re.sub(r"\s+", " ", page.split('aria-label="档案统计"')[1].split("</section>")[0])
    assert '3</span><span class="figure-label">办理中和在档' in figures
    assert '2</span><span class="figure-label">在档' in figures


def test_the_overdue_review_filter_lists_filed_files_past_their_review(
    tree, personas, threshold, cadre_client
):
    late = make_file(tree, personas, name="超期户")
    make_file(tree, personas, name="按期户")
    HardshipFile.objects.filter(pk=late.pk).update(review_due_on=today().replace(year=2020))
    page = text(cadre_client.get(url("file_list") + "?review=overdue"))
    assert "超期户" in page and "按期户" not in page
    assert "is-overdue" in page


def test_the_search_by_id_number_puts_only_its_keyed_hash_in_the_address(
    tree, personas, threshold, cadre_client
):
    spouse_id = person_id()
    file = make_file(
        tree,
        personas,
        name="配偶查找户",
        household_members=[
            services.PersonData(name="配偶", relation="spouse", id_number=spouse_id)
        ],
    )
    make_file(tree, personas, name="其他户")
    response = cadre_client.post(url("file_search"), {"q": spouse_id, "keep": "state=filed"})
    assert response.status_code == 302
    location = response["Location"]
    assert spouse_id not in location
    query = parse_qs(urlsplit(location).query)
    assert query == {"state": ["filed"], "id_hash": [id_hash_of(spouse_id)]}
    page = text(cadre_client.get(location))
    assert file.name in page and "其他户" not in page
    assert "按证件号码精确查找" in page


def test_a_mistyped_id_number_is_answered_without_repeating_it(tree, cadre_client):
    wrong = make_id_number(region="420102", birth="19800101", serial=5)[:17] + "0"
    if wrong == make_id_number(region="420102", birth="19800101", serial=5):
        wrong = wrong[:17] + "1"
    response = cadre_client.post(url("file_search"), {"q": wrong})
    assert response.status_code == 200
    page = text(response)
    assert "未能查找" in page and "校验位" in page
    assert wrong not in page


def test_the_workbench_reads_the_same_number_of_queries_for_two_files_or_twenty(
    tree, personas, threshold, cadre_client
):
    for i in range(2):
        make_file(tree, personas, name=f"户{i}")
    cadre_client.get(url("file_list"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        cadre_client.get(url("file_list"))
    for i in range(18):
        make_file(tree, personas, state=FileState.APPLIED, name=f"新户{i}")
    with CaptureQueriesContext(connection) as many:
        response = cadre_client.get(url("file_list"))
    assert response.status_code == 200
    assert len(many) == len(few)
    # Session, user, roles, the union picker, scope roots, page count and rows, the counts
    # by state and the overdue count.
    assert len(reads(many)) <= 14


def test_the_export_is_masked_and_audited(tree, personas, threshold, cadre_client):
    number = person_id()
    make_file(tree, personas, name="导出户", id_number=number)
    response = cadre_client.get(url("file_export"))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "导出户" in sheet
    assert number not in sheet and f"{number[:4]}**********{number[-4:]}" in sheet
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.detail["rows"] == 1 and entry.detail["masked"] is True


# --- The file form


def test_a_cadre_enters_an_application_with_its_household(tree, personas, threshold, cadre_client):
    member_id = person_id()
    data = file_form(
        tree,
        name="陈国庆",
        **{
            "secondary_causes": ["03"],
            "hm-TOTAL_FORMS": "2",
            "hm-0-name": "陈小红",
            "hm-0-relation": "child",
            "hm-0-id_number": member_id,
            "hm-0-monthly_income": "0",
            "hm-0-health": "healthy",
            "hm-0-medical_insurance": "resident",
            "hm-0-school_or_employer": "武汉市第二中学",
            "hm-1-name": "",
            "hm-1-relation": "",
            "hm-1-monthly_income": "0",
            "hm-1-health": "healthy",
            "hm-1-medical_insurance": "resident",
        },
    )
    response = cadre_client.post(url("file_create"), data)
    assert response.status_code == 302
    file = HardshipFile.objects.get(name="陈国庆")
    assert file.state == FileState.APPLIED
    assert file.cause_2 == "03"
    assert file.income_per_head == Decimal("600.00")  # 1,200 a month for two
    assert file.category_proposed == Category.DEEP
    child = HouseholdMember.objects.get(file=file)
    assert child.name == "陈小红" and child.reveal_id_number() == member_id


def test_the_file_form_names_what_is_wrong_in_chinese(tree, threshold, cadre_client):
    data = file_form(tree, main_cause="", monthly_wage="一千", id_number="420102")
    response = cadre_client.post(url("file_create"), data)
    assert response.status_code == 200
    page = text(response)
    assert "请选择“主要致困原因”" in page
    assert "“本人月工资（元）”应为金额（元）" in page
    assert not HardshipFile.objects.exists()


def test_a_draft_is_kept_until_it_is_submitted(tree, threshold, cadre_client):
    response = cadre_client.post(url("file_create"), {**file_form(tree), "save": "draft"})
    assert response.status_code == 302
    file = HardshipFile.objects.get()
    assert file.state == FileState.DRAFT
    response = cadre_client.post(
        url("file_step", file.pk, "submit"), {"version": file.version}, follow=True
    )
    assert "已提交申请" in text(response)
    file.refresh_from_db()
    assert file.state == FileState.APPLIED


def _edit_data(file: HardshipFile, **changes: Any) -> dict[str, Any]:
    from niangjia.relief.forms import file_initial

    initial = file_initial(file)
    data = {k: v for k, v in initial.items() if v is not None and not isinstance(v, list)}
    data["secondary_causes"] = initial["secondary_causes"]
    data.update({k: "on" for k in ("single_parent", "zero_employment") if initial.get(k)})
    for k in ("single_parent", "zero_employment"):
        if not initial.get(k):
            data.pop(k, None)
    members = list(HouseholdMember.objects.filter(file=file).order_by("id"))
    data.update(
        {
            "hm-TOTAL_FORMS": str(len(members)),
            "hm-INITIAL_FORMS": str(len(members)),
            "hm-MIN_NUM_FORMS": "0",
            "hm-MAX_NUM_FORMS": "19",
        }
    )
    for i, m in enumerate(members):
        data.update(
            {
                f"hm-{i}-existing": m.pk,
                f"hm-{i}-name": m.name,
                f"hm-{i}-relation": m.relation,
                f"hm-{i}-id_number": "",
                f"hm-{i}-monthly_income": m.monthly_income,
                f"hm-{i}-health": m.health,
                f"hm-{i}-medical_insurance": m.medical_insurance,
                f"hm-{i}-school_or_employer": m.school_or_employer,
            }
        )
    data.update(changes)
    return data


def test_an_edit_keeps_the_household_members_id_numbers_left_blank(
    tree, personas, threshold, cadre_client
):
    file = make_file(tree, personas, state=FileState.APPLIED)
    spouse = HouseholdMember.objects.get(file=file, relation="spouse")
    number = spouse.reveal_id_number()
    response = cadre_client.post(
        url("file_edit", file.pk), _edit_data(file, address="武汉市江岸区胜利街 8 号")
    )
    assert response.status_code == 302, text(response)[:3000]
    file.refresh_from_db()
    assert file.address == "武汉市江岸区胜利街 8 号" and file.version == 2
    spouse = HouseholdMember.objects.get(file=file, relation="spouse")
    assert spouse.reveal_id_number() == number


def test_an_edit_from_a_stale_version_is_refused_and_explained(
    tree, personas, threshold, cadre_client
):
    file = make_file(tree, personas, state=FileState.APPLIED)
    stale = _edit_data(file, address="旧页面的地址")
    fresh = _edit_data(file, address="新地址")
    assert cadre_client.post(url("file_edit", file.pk), fresh).status_code == 302
    response = cadre_client.post(url("file_edit", file.pk), stale)
    assert response.status_code == 409
    page = text(response)
    assert "未保存：档案已被他人修改" in page and "第 1 版" in page and "第 2 版" in page
    file.refresh_from_db()
    assert file.address == "新地址"


# --- The steps


def test_the_survey_needs_the_workers_consent(tree, personas, threshold, client_for):
    file = make_file(tree, personas, state=FileState.FIRST_CHECKED)
    client = client_for(personas["grassroots_cadre"])
    step = url("file_step", file.pk, "survey")
    response = client.post(step, {"version": file.version})
    assert response.status_code == 200
    assert "未取得职工签署的家庭经济状况核对授权书" in text(response)
    response = client.post(step, {"version": file.version, "consent_signed": "on"})
    assert response.status_code == 302
    file.refresh_from_db()
    assert file.state == FileState.SURVEYED and file.consent_on == today()


def test_the_county_review_is_not_offered_to_a_grassroots_union(
    tree, personas, threshold, client_for
):
    file = make_file(tree, personas, state=FileState.SURVEYED)
    client = client_for(personas["grassroots_cadre"])
    page = text(client.get(url("file_detail", file.pk)))
    assert 'data-step="review"' not in page and 'data-step="reject"' in page
    response = client.post(
        url("file_step", file.pk, "review"),
        {"version": file.version, "category": "deep", "archive_level": "county"},
    )
    assert response.status_code == 403
    file.refresh_from_db()
    assert file.state == FileState.SURVEYED


def test_choosing_another_category_than_proposed_needs_a_reason(
    tree, personas, threshold, cadre_client
):
    file = make_file(tree, personas, state=FileState.SURVEYED)
    step = url("file_step", file.pk, "review")
    data = {"version": file.version, "category": "relative", "archive_level": "county"}
    response = cadre_client.post(step, data)
    assert "须填写调整理由" in text(response)
    response = cadre_client.post(step, {**data, "category_reason": "有长期稳定的亲属资助"})
    assert response.status_code == 302
    file.refresh_from_db()
    assert file.category == Category.RELATIVE and file.category_proposed == Category.DEEP
    page = text(cadre_client.get(url("file_detail", file.pk)))
    assert "与建议不同" in page and "有长期稳定的亲属资助" in page


def test_a_step_from_a_stale_page_is_answered_409_and_changes_nothing(
    tree, personas, threshold, cadre_client
):
    file = make_file(tree, personas, state=FileState.APPLIED)
    old = file.version
    cadre_client.post(url("file_step", file.pk, "note"), {"version": old, "text": "先记一笔"})
    file.refresh_from_db()
    response = cadre_client.post(url("file_step", file.pk, "first-check"), {"version": old - 1})
    assert response.status_code == 409
    assert "档案已被他人更新" in text(response)
    file.refresh_from_db()
    assert file.state == FileState.APPLIED


def test_an_objection_holds_the_filing_until_it_is_resolved(
    tree, personas, threshold, cadre_client
):
    file = make_file(tree, personas, state=FileState.PUBLICITY)
    cadre_client.post(
        url("file_step", file.pk, "objection"),
        {"version": file.version, "content": "家中另有商铺出租", "raised_by": "邻居"},
    )
    response = cadre_client.post(url("file_step", file.pk, "file"), {"version": file.version})
    assert "尚有未处理的公示异议" in text(response)
    objection = file.objections.get()
    page = text(cadre_client.get(url("file_detail", file.pk)))
    assert 'data-step="resolve"' in page and "家中另有商铺出租" in page
    response = cadre_client.post(
        url("file_step", file.pk, "resolve"),
        {
            "version": file.version,
            "objection": objection.pk,
            "upheld": "0",
            "resolution": "经核实，商铺已于去年转让",
        },
    )
    assert response.status_code == 302
    response = cadre_client.post(url("file_step", file.pk, "file"), {"version": file.version})
    assert response.status_code == 302
    file.refresh_from_db()
    assert file.state == FileState.FILED


# --- Reveals, the PDF, attachments


def test_a_reveal_shows_the_bank_account_once_and_is_audited(tree, personas, threshold, client_for):
    file = make_file(tree, personas)
    client = client_for(personas["national_admin"])
    page = text(client.get(url("file_detail", file.pk)))
    assert "6222021234567890123" not in page and "**** 0123" in page
    response = client.post(
        url("file_reveal", file.pk), {"field": "bank_account", "reason": "核对发放账户"}
    )
    assert "6222021234567890123" in text(response)
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert entry.detail["field"] == "bank_account" and entry.detail["reason"] == "核对发放账户"


def test_a_household_members_id_number_is_revealed_with_a_reason(
    tree, personas, threshold, client_for
):
    file = make_file(tree, personas)
    spouse = HouseholdMember.objects.get(file=file, relation="spouse")
    client = client_for(personas["national_admin"])
    response = client.post(
        url("file_reveal", file.pk),
        {"field": "id_number", "household_member": spouse.pk, "reason": "核对家庭成员身份"},
    )
    assert spouse.reveal_id_number() in text(response)
    assert "王秀英的证件号码" in text(response)


def test_the_printable_form_is_an_a4_pdf_and_its_printing_is_audited(
    tree, personas, threshold, cadre_client
):
    file = make_file(tree, personas)
    response = cadre_client.get(url("file_pdf", file.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = response.content
    assert body.startswith(b"%PDF-") and b"STSong-Light" in body
    assert re.search(rb"/MediaBox \[ 0 0 595\.27\d* 841\.8\d* \]", body)
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.detail["export"] == "file_form_pdf" and entry.object_id == str(file.pk)


def test_an_upload_is_judged_by_its_content_not_its_name(tree, personas, threshold, cadre_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = make_file(tree, personas)
    fake = SimpleUploadedFile("照片.png", b"<script>alert(1)</script>", content_type="image/png")
    response = cadre_client.post(
        url("attachment_upload", file.pk), {"kind": "photo", "upload": fake}, follow=True
    )
    assert "只能上传 JPG、PNG 图片或 PDF 文件" in text(response)
    assert not Attachment.objects.exists()
    real = SimpleUploadedFile("证明.png", png_bytes(), content_type="image/png")
    cadre_client.post(url("attachment_upload", file.pk), {"kind": "proof", "upload": real})
    attachment = Attachment.objects.get()
    response = cadre_client.get(url("attachment_download", attachment.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL, object_id=str(attachment.pk))


# --- Assistance


def test_the_cadre_who_recorded_assistance_may_not_approve_it(
    tree, personas, threshold, cadre_client
):
    file = make_file(tree, personas)
    fund = make_fund(tree, personas)
    response = cadre_client.post(
        url("assistance_create", file.pk),
        {"assistance_type": "living", "amount": "800", "fund": fund.pk},
    )
    assert response.status_code == 302
    record = Assistance.objects.get()
    page = text(cadre_client.get(url("assistance_detail", record.pk)))
    assert "这条帮扶由您登记，须由其他干部审批" in page and "审批通过" not in page
    response = cadre_client.post(
        url("assistance_decide", record.pk, "approve"), {"version": record.version}
    )
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.state == AssistanceState.PENDING


def test_a_large_payment_waits_for_the_finance_officers_second_approval(
    tree, personas, threshold, cadre_client, client_for
):
    file = make_file(tree, personas)
    fund = make_fund(tree, personas)
    services.assistance_rule_set(
        province=None,
        year=today().year,
        assistance_type=AssistanceType.MEDICAL,
        cap_per_year=None,
        cycle="year",
        second_approval_above=Decimal("2000"),
        acting_user=personas["national_admin"],
    )
    cadre_client.post(
        url("assistance_create", file.pk),
        {"assistance_type": "medical", "amount": "5000", "fund": fund.pk},
    )
    record = Assistance.objects.get()
    other = client_for(make_cadre(tree.jiangan, "jiangan_cadre_09"))
    response = other.post(url("assistance_decide", record.pk, "approve"), {"version": 1})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.state == AssistanceState.SECOND_PENDING
    # Paying before the second approval is refused.
    response = cadre_client.post(url("assistance_decide", record.pk, "pay"), {"version": 2})
    assert "不能办理" in text(response)
    finance = client_for(make_finance_officer(tree.jiangan))
    queue = text(finance.get(url("assistance_queue")))
    assert file.name in queue
    response = finance.post(url("assistance_decide", record.pk, "second-approve"), {"version": 2})
    assert response.status_code == 302
    response = cadre_client.post(url("assistance_decide", record.pk, "pay"), {"version": 3})
    assert response.status_code == 302
    fund.refresh_from_db()
    assert fund.balance == Decimal("95000.00")


def test_the_approval_queue_reads_a_fixed_number_of_queries(tree, personas, threshold, client_for):
    fund = make_fund(tree, personas)
    recorder = make_cadre(tree.jiangan, "jiangan_cadre_07")
    client = client_for(personas["county_cadre"])

    def record(n: int) -> None:
        for _ in range(n):
            file = make_file(tree, personas)
            services.assistance_create(
                file=file,
                assistance_type=AssistanceType.LIVING,
                amount=Decimal("100"),
                fund=fund,
                acting_user=recorder,
            )

    record(1)
    client.get(url("assistance_queue"))
    with CaptureQueriesContext(connection) as few:
        client.get(url("assistance_queue"))
    record(6)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("assistance_queue"))
    assert response.status_code == 200
    assert len(many) == len(few)


# --- Batches and funds


def test_a_batch_goes_from_draft_to_reconciled_with_a_failed_payment_retried(
    tree, personas, threshold, cadre_client, client_for
):
    first = make_file(tree, personas, name="批次户一")
    make_file(tree, personas, name="批次户二")
    fund = make_fund(tree, personas, amount="10000")
    response = cadre_client.post(
        url("batch_create"),
        {"fund": fund.pk, "name": "春节送温暖", "assistance_type": "warmth", "amount": "500"},
    )
    assert response.status_code == 302
    batch = DisbursementBatch.objects.get()
    assert batch.payment_count == 2 and batch.total_amount == Decimal("1000.00")
    other = client_for(make_cadre(tree.jiangan, "jiangan_cadre_08"))
    assert other.post(url("batch_action", batch.pk, "approve"), {"version": 1}).status_code == 302
    assert (
        cadre_client.post(url("batch_action", batch.pk, "post"), {"version": 2}).status_code == 302
    )
    fund.refresh_from_db()
    assert fund.balance == Decimal("9000.00")
    payment = BatchPayment.objects.get(batch=batch, file=first)
    cadre_client.post(url("payment_fail", payment.pk), {"reason": "账户已销户"})
    fund.refresh_from_db()
    assert fund.balance == Decimal("9500.00")
    page = text(cadre_client.get(url("batch_detail", batch.pk)))
    assert "账户已销户" in page and "更正后重新提交" in page
    cadre_client.post(url("payment_retry", payment.pk))
    batch.refresh_from_db()
    cadre_client.post(url("batch_action", batch.pk, "post"), {"version": batch.version})
    batch.refresh_from_db()
    response = cadre_client.post(
        url("batch_action", batch.pk, "reconcile"), {"version": batch.version}
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.state == BatchState.RECONCILED
    assert set(BatchPayment.objects.values_list("state", flat=True)) == {PaymentState.PAID}
    fund.refresh_from_db()
    assert fund.balance == Decimal("9000.00")


def test_money_is_allocated_down_the_tree_and_the_usage_report_downloads(
    tree, personas, threshold, client_for
):
    fund = make_fund(tree, personas, union=tree.wuhan, amount="80000")
    client = client_for(personas["provincial_cadre"])
    response = client.post(
        url("fund_allocate", fund.pk),
        {"allocate-union": tree.jiangan.pk, "allocate-amount": "30000"},
    )
    assert response.status_code == 302
    child = Fund.objects.get(parent=fund)
    assert child.union == tree.jiangan and child.balance == Decimal("30000.00")
    page = text(client.get(url("fund_detail", fund.pk)))
    assert "江岸区总工会" in page and "30,000.00" in page
    response = client.get(url("fund_report") + f"?within={tree.wuhan.pk}&format=xlsx")
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


# --- Rules


def test_the_city_federation_sets_its_threshold_and_a_county_may_not(
    tree, personas, threshold, client_for
):
    data = {
        "threshold-region": "420100",
        "threshold-year": today().year,
        "threshold-monthly_amount": "1150",
    }
    county = client_for(personas["county_cadre"])
    assert county.post(url("rule_save", "threshold"), data).status_code == 404
    assert "设置城市的年度标准" not in text(county.get(url("rule_list")))
    province = client_for(personas["provincial_cadre"])
    assert province.post(url("rule_save", "threshold"), data).status_code == 302
    assert LivingThreshold.objects.get(year=today().year).monthly_amount == Decimal("1150.00")


# --- The worker's phone pages


@pytest.fixture
def outbox(settings):
    settings.SMS_BACKEND = "niangjia.utilities.sms.LocmemBackend"
    settings.SMS_RESEND_SECONDS = 0
    LocmemBackend.outbox.clear()
    yield LocmemBackend.outbox
    LocmemBackend.outbox.clear()


def test_the_self_check_tells_whether_a_household_may_qualify(tree, threshold, client):
    check = reverse("relief_public:union_check", args=[tree.jiangan_grassroots.pk])
    page = text(
        client.post(
            check, {"monthly_wage": "1500", "other_income_year": "0", "household_size": "3"}
        )
    )
    assert "可能符合“深度困难”条件" in page and "约 500.00 元" in page
    page = text(
        client.post(
            check, {"monthly_wage": "9000", "other_income_year": "0", "household_size": "2"}
        )
    )
    assert "暂不符合建档条件" in page
    page = text(
        client.post(check, {"monthly_wage": "-1", "other_income_year": "", "household_size": "0"})
    )
    assert (
        "“本人月工资（元）”不能小于 0" in page and "请填写“家庭其他成员全年收入合计（元）”" in page
    )
    assert not HardshipFile.objects.exists()


def test_the_worker_applies_with_a_texted_code_and_sees_the_state(tree, threshold, client, outbox):
    apply = reverse("relief_public:apply", args=[tree.jiangan_grassroots.pk])
    number = person_id()
    data = {
        "name": "郑小梅",
        "id_number": number,
        "phone": "13912345678",
        "employer_name": "武汉长江机械有限公司",
        "work_status": "laid_off",
        "health": "serious",
        "housing_type": "private_rental",
        "address": "武汉市江岸区",
        "household_size": "2",
        "monthly_wage": "800",
        "other_income_year": "0",
        "main_cause": "01",
        "agree": "on",
    }
    client.post(apply, {**data, "send_code": "1"})
    code = re.search(r"验证码是 (\d{6})", outbox[-1][1]).group(1)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(apply, {**data, "code": wrong})
    assert "验证码" in text(response) and not HardshipFile.objects.exists()
    response = client.post(apply, {**data, "code": code})
    assert response.status_code == 302
    file = HardshipFile.objects.get()
    assert file.state == FileState.APPLIED and file.union == tree.jiangan_grassroots
    done = text(client.get(response["Location"]))
    assert "申请已提交" in done and "郑**" in done and number not in done
    status = text(client.get(reverse("relief_public:status")))
    assert file.file_number in status and "已申请" in status


def test_the_state_page_asks_for_the_phone_first(client):
    page = text(client.get(reverse("relief_public:status")))
    assert "获取验证码" in page and "app-list" not in page


def test_a_federation_above_the_county_takes_no_applications(tree, threshold, client):
    response = client.get(reverse("relief_public:apply", args=[tree.wuhan.pk]))
    assert response.status_code == 404
    assert "不直接受理建档申请" in text(response)


# --- Query counts of the other lists


def _same_queries(client: Any, address: str, grow: Any) -> None:
    client.get(address)
    with CaptureQueriesContext(connection) as few:
        assert client.get(address).status_code == 200
    grow()
    with CaptureQueriesContext(connection) as many:
        assert client.get(address).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries][-5:]


def test_the_plan_board_reads_a_fixed_number_of_queries(tree, personas, threshold, cadre_client):
    cadre = personas["county_cadre"]

    def plans(n: int) -> None:
        for _ in range(n):
            plan = services.plan_save(
                file=make_file(tree, personas), goal="稳定就业", acting_user=cadre
            )
            services.measure_add(
                plan=plan,
                assistance_type=AssistanceType.EMPLOYMENT,
                description="推荐就业岗位",
                responsible_union=tree.jiangan,
                deadline=today(),
                acting_user=cadre,
            )

    plans(1)
    _same_queries(cadre_client, url("plan_board"), lambda: plans(4))


def test_the_fund_and_batch_lists_read_a_fixed_number_of_queries(
    tree, personas, threshold, cadre_client
):
    parent = make_fund(tree, personas, union=tree.wuhan)

    def funds() -> None:
        for _ in range(4):
            services.fund_allocate(
                fund=parent,
                union=tree.jiangan,
                amount=Decimal("10"),
                acting_user=personas["national_admin"],
            )
            make_fund(tree, personas)

    make_fund(tree, personas)
    _same_queries(cadre_client, url("fund_list"), funds)

    def batches() -> None:
        for i in range(4):
            make_file(tree, personas)
            services.batch_create(
                fund=Fund.objects.filter(union=tree.jiangan).first(),
                name=f"批次{i}",
                assistance_type=AssistanceType.WARMTH,
                amount=Decimal("100"),
                acting_user=personas["county_cadre"],
                year=today().year - i,
            )

    _same_queries(cadre_client, url("batch_list"), batches)


def test_the_workbench_lists_exited_households_whose_re_check_is_due(
    tree, personas, threshold, cadre_client
):
    from niangjia.relief.models import RelapseCheck

    file = make_file(tree, personas, name="回访户")
    make_file(tree, personas, name="在档户")
    admin = personas["national_admin"]
    services.income_check_record(
        file=file,
        month=today().replace(day=1),
        income_per_head=Decimal("700"),
        public_support_per_head=Decimal("200"),
        union_aid_per_head=Decimal("200"),
        acting_user=admin,
    )
    file.refresh_from_db()
    services.exit_confirm(file=file, acting_user=admin)
    assert "回访户" not in text(cadre_client.get(url("file_list") + "?relapse=due"))
    RelapseCheck.objects.filter(watch__file=file).update(due_on=today())
    page = text(cadre_client.get(url("file_list") + "?relapse=due"))
    assert "回访户" in page and "在档户" not in page
