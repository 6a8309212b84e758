"""The cadre pages of hardship relief, persona by persona.

The county cadre holds 江岸区总工会 (files under 武汉长江机械有限公司工会 are theirs), the
sibling cadre 江汉区总工会, the auditor views 湖北省总工会 read-only, the national admin may
also reveal personal data; the worker holds no role.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.urls import reverse
from PIL import Image

from niangjia.relief import services
from niangjia.relief.choices import AssistanceType, FileState
from niangjia.relief.models import (
    Assistance,
    AssistanceRule,
    Attachment,
    BatchPayment,
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
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Tree
from niangjia.utilities.testing.relief import (
    make_cadre,
    make_file,
    make_fund,
    set_threshold,
    today,
)

REDIRECT = frozenset({302})
NOT_ALLOWED = ("worker", "system_admin")


def url(name: str, *args: Any) -> str:
    return reverse(f"relief:{name}", args=args)


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 16, 46)).save(out, format="PNG")
    return out.getvalue()


# --- Set-ups


def jiangan_file(t: Tree, personas: Any) -> HardshipFile:
    return make_file(t, personas, name="江岸困难户")


def files_on_both_sides(t: Tree, personas: Any) -> HardshipFile:
    make_file(t, personas, union=t.jianghan_grassroots, name="江汉困难户")
    return jiangan_file(t, personas)


def applied_file(t: Tree, personas: Any) -> HardshipFile:
    return make_file(t, personas, state=FileState.APPLIED, name="江岸申请人")


def publicity_file(t: Tree, personas: Any) -> HardshipFile:
    return make_file(t, personas, state=FileState.PUBLICITY, name="江岸公示户")


def with_attachment(t: Tree, personas: Any) -> Attachment:
    file = jiangan_file(t, personas)
    return services.attachment_add(
        file=file,
        kind="survey_sheet",
        original_name="入户调查表.png",
        upload=png_bytes(),
        acting_user=personas["county_cadre"],
    )


def with_plan(t: Tree, personas: Any) -> PlanMeasure:
    file = jiangan_file(t, personas)
    cadre = personas["county_cadre"]
    plan = services.plan_save(file=file, goal="子女完成学业，家庭收入稳定", acting_user=cadre)
    return services.measure_add(
        plan=plan,
        assistance_type=AssistanceType.EDUCATION,
        description="申请金秋助学",
        responsible_union=t.jiangan,
        deadline=today(),
        acting_user=cadre,
    )


def with_assistance(t: Tree, personas: Any) -> Assistance:
    file = jiangan_file(t, personas)
    fund = make_fund(t, personas)
    return services.assistance_create(
        file=file,
        assistance_type=AssistanceType.LIVING,
        amount=Decimal("800"),
        fund=fund,
        acting_user=make_cadre(t.jiangan, "jiangan_cadre_02"),
    )


def jiangan_fund(t: Tree, personas: Any) -> Fund:
    return make_fund(t, personas)


def wuhan_fund(t: Tree, personas: Any) -> Fund:
    return make_fund(t, personas, union=t.wuhan)


def with_batch(t: Tree, personas: Any) -> DisbursementBatch:
    jiangan_file(t, personas)
    fund = make_fund(t, personas)
    return services.batch_create(
        fund=fund,
        name="春节送温暖",
        assistance_type=AssistanceType.WARMTH,
        amount=Decimal("500"),
        acting_user=make_cadre(t.jiangan, "jiangan_cadre_03"),
    )


def with_paid_batch(t: Tree, personas: Any) -> BatchPayment:
    batch = with_batch(t, personas)
    admin = personas["national_admin"]
    services.batch_approve(batch=batch, acting_user=admin)
    services.batch_post(batch=batch, acting_user=admin)
    return BatchPayment.objects.get(batch=batch)


def with_failed_payment(t: Tree, personas: Any) -> BatchPayment:
    payment = with_paid_batch(t, personas)
    return services.batch_payment_fail(
        payment=payment, acting_user=personas["national_admin"], reason="账户已销户"
    )


def exited_file(t: Tree, personas: Any) -> RelapseCheck:
    file = jiangan_file(t, personas)
    cadre = personas["national_admin"]
    services.income_check_record(
        file=file,
        month=today().replace(day=1),
        income_per_head=Decimal("600"),
        public_support_per_head=Decimal("300"),
        union_aid_per_head=Decimal("200"),
        acting_user=cadre,
    )
    file.refresh_from_db()
    services.exit_confirm(file=file, acting_user=cadre)
    return RelapseCheck.objects.filter(watch__file=file).order_by("due_on").first()


FILE_FORM = {
    "archive_level": "county",
    "name": "江岸新申请",
    "id_type": "resident",
    "id_number": "",
    "phone": "13900001234",
    "ethnic_group": "01",
    "political_status": "13",
    "household": "urban",
    "model_worker": "none",
    "work_status": "laid_off",
    "health": "chronic",
    "medical_insurance": "employee",
    "household_size": "2",
    "housing_type": "private_rental",
    "monthly_wage": "1200",
    "other_income_year": "0",
    "accident_loss_year": "0",
    "main_cause": "06",
    "hm-TOTAL_FORMS": "0",
    "hm-INITIAL_FORMS": "0",
    "hm-MIN_NUM_FORMS": "0",
    "hm-MAX_NUM_FORMS": "19",
}


def file_form(t: Tree, **extra: Any) -> dict[str, Any]:
    from niangjia.utilities.testing.relief import person_id

    return {**FILE_FORM, "union": t.jiangan_grassroots.pk, "id_number": person_id(), **extra}


class TestReliefPagesScopedAccess(ScopedViewCases):
    CASES = [
        # The workbench
        ScopedCase(
            name="relief-file-list",
            url=lambda t: url("file_list"),
            model=HardshipFile,
            allowed=("county_cadre", "grassroots_cadre", "provincial_cadre", "auditor"),
            forbidden=NOT_ALLOWED,
        ),
        ScopedCase(
            name="relief-file-list-shows-own-subtree",
            url=lambda t, f: url("file_list"),
            setup=files_on_both_sides,
            allowed="county_cadre",
            anonymous=False,
            contains=lambda t: ["江岸困难户"],
            excludes=lambda t: ["江汉困难户"],
        ),
        ScopedCase(
            name="relief-file-list-within-a-union",
            url=lambda t: url("file_list") + f"?within={t.jiangan.pk}",
            allowed=("county_cadre", "provincial_cadre"),
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
        ),
        ScopedCase(
            name="relief-file-search",
            url=lambda t: url("file_search"),
            method="post",
            data=lambda t: {"q": "江岸", "keep": "state=filed"},
            model=FilePerson,
            allowed="county_cadre",
            forbidden=NOT_ALLOWED,
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-file-export",
            url=lambda t, f: url("file_export"),
            setup=files_on_both_sides,
            action="export",
            allowed="county_cadre",
            forbidden=("auditor", *NOT_ALLOWED),
        ),
        ScopedCase(
            name="relief-application-poster",
            url=lambda t: url("application_poster") + f"?union={t.jiangan_grassroots.pk}",
            allowed=("county_cadre", "grassroots_cadre", "auditor"),
            out_of_scope="sibling_cadre",
            contains=lambda t: [f"/r/u/{t.jiangan_grassroots.pk}/"],
        ),
        # Create, edit, one file
        ScopedCase(
            name="relief-file-create-form",
            url=lambda t: url("file_create"),
            action="add",
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden=("auditor", *NOT_ALLOWED),
        ),
        ScopedCase(
            name="relief-file-create",
            url=lambda t: url("file_create"),
            method="post",
            setup=lambda t, p: set_threshold(t),
            data=lambda t: file_form(t),
            action="add",
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden=("auditor", *NOT_ALLOWED),
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-file-detail",
            url=lambda t, f: url("file_detail", f.pk),
            setup=jiangan_file,
            model=HardshipFile,
            allowed=("county_cadre", "grassroots_cadre", "auditor", "national_admin"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["江岸困难户", "办理记录"],
        ),
        ScopedCase(
            name="relief-file-edit",
            url=lambda t, f: url("file_edit", f.pk),
            setup=jiangan_file,
            model=HouseholdMember,
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="relief-file-step-note",
            url=lambda t, f: url("file_step", f.pk, "note"),
            method="post",
            setup=jiangan_file,
            data=lambda t, f: {"text": "电话回访，情况稳定", "version": f.version},
            model=FileEvent,
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-file-step-objection",
            url=lambda t, f: url("file_step", f.pk, "objection"),
            method="post",
            setup=publicity_file,
            data=lambda t, f: {"content": "其子女有稳定工作", "version": f.version},
            model=Objection,
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-file-step-income",
            url=lambda t, f: url("file_step", f.pk, "income"),
            method="post",
            setup=jiangan_file,
            data=lambda t, f: {
                "month": today().strftime("%Y-%m"),
                "income_per_head": "800",
                "public_support_per_head": "0",
                "union_aid_per_head": "0",
                "version": f.version,
            },
            model=IncomeCheck,
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-file-step-relapse-check",
            url=lambda t, c: url("file_step", c.watch.file_id, "relapse-check"),
            method="post",
            setup=exited_file,
            data=lambda t, c: {
                "check": c.pk,
                "income_per_head": "1500",
                "version": c.watch.file.version,
            },
            model=RelapseCheck,
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-file-detail-exited",
            url=lambda t, c: url("file_detail", c.watch.file_id),
            setup=exited_file,
            model=RelapseWatch,
            allowed=("county_cadre", "auditor"),
            out_of_scope="sibling_cadre",
            contains=lambda t: ["返困监测"],
        ),
        ScopedCase(
            name="relief-file-reveal",
            url=lambda t, f: url("file_reveal", f.pk),
            method="post",
            setup=jiangan_file,
            data=lambda t: {"field": "bank_account", "reason": "核对发放账户"},
            action="reveal",
            allowed="national_admin",
            forbidden=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["6222021234567890123"],
        ),
        ScopedCase(
            name="relief-file-pdf",
            url=lambda t, f: url("file_pdf", f.pk),
            setup=jiangan_file,
            action="export",
            allowed=("county_cadre", "national_admin"),
            forbidden="auditor",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="relief-attachment-upload",
            url=lambda t, f: url("attachment_upload", f.pk),
            method="post",
            setup=jiangan_file,
            data=lambda t: {"kind": "proof", "upload": _upload()},
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-attachment-download",
            url=lambda t, a: url("attachment_download", a.pk),
            setup=with_attachment,
            model=Attachment,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
        ),
        # Plans
        ScopedCase(
            name="relief-plan-edit",
            url=lambda t, m: url("plan_edit", m.plan.file_id),
            setup=with_plan,
            model=ReliefPlan,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["申请金秋助学"],
        ),
        ScopedCase(
            name="relief-plan-goal",
            url=lambda t, f: url("plan_edit", f.pk),
            method="post",
            setup=jiangan_file,
            data=lambda t: {"what": "goal", "goal": "年内实现稳定就业"},
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-measure-update",
            url=lambda t, m: url("measure_update", m.pk),
            method="post",
            setup=with_plan,
            data=lambda t, m: {
                f"m{m.pk}-state": "in_progress",
                f"m{m.pk}-progress": "已提交助学申请材料",
                f"m{m.pk}-version": m.version,
            },
            model=PlanMeasure,
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-plan-board",
            url=lambda t, m: url("plan_board"),
            setup=with_plan,
            allowed=("county_cadre", "auditor"),
            forbidden=NOT_ALLOWED,
            contains=lambda t: ["申请金秋助学"],
        ),
        # Assistance
        ScopedCase(
            name="relief-assistance-create-form",
            url=lambda t, f: url("assistance_create", f.pk),
            setup=jiangan_file,
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="relief-assistance-create",
            url=lambda t, f: url("assistance_create", f.pk),
            method="post",
            setup=jiangan_file,
            data=lambda t: {
                "assistance_type": "warmth",
                "in_kind_value": "300",
                "goods": "米、油",
            },
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-assistance-queue",
            url=lambda t, a: url("assistance_queue"),
            setup=with_assistance,
            allowed=("county_cadre", "auditor"),
            forbidden=NOT_ALLOWED,
            contains=lambda t: ["江岸困难户"],
        ),
        ScopedCase(
            name="relief-assistance-detail",
            url=lambda t, a: url("assistance_detail", a.pk),
            setup=with_assistance,
            model=Assistance,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="relief-assistance-approve",
            url=lambda t, a: url("assistance_decide", a.pk, "approve"),
            method="post",
            setup=with_assistance,
            data=lambda t, a: {"version": a.version},
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        # Funds
        ScopedCase(
            name="relief-fund-list",
            url=lambda t, f: url("fund_list"),
            setup=jiangan_fund,
            allowed=("county_cadre", "auditor"),
            forbidden=NOT_ALLOWED,
            contains=lambda t: ["困难职工帮扶资金"],
        ),
        ScopedCase(
            name="relief-fund-create",
            url=lambda t: url("fund_create"),
            method="post",
            data=lambda t: {
                "union": t.jiangan.pk,
                "name": "2026 年送温暖资金",
                "source": "campaign",
                "year": today().year,
                "amount": "20000",
            },
            action="add",
            allowed="county_cadre",
            forbidden=("auditor", *NOT_ALLOWED),
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-fund-detail",
            url=lambda t, f: url("fund_detail", f.pk),
            setup=jiangan_fund,
            model=Fund,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="relief-fund-receive",
            url=lambda t, f: url("fund_receive", f.pk),
            method="post",
            setup=jiangan_fund,
            data=lambda t: {"receive-amount": "1000", "receive-note": "社会捐赠"},
            model=LedgerEntry,
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-fund-allocate",
            url=lambda t, f: url("fund_allocate", f.pk),
            method="post",
            setup=wuhan_fund,
            data=lambda t: {"allocate-union": t.jiangan.pk, "allocate-amount": "5000"},
            action="change",
            allowed="provincial_cadre",
            forbidden="auditor",
            out_of_scope=("county_cadre", "sibling_cadre"),
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-fund-report",
            url=lambda t, f: url("fund_report") + f"?within={t.jiangan.pk}",
            setup=jiangan_fund,
            allowed=("county_cadre", "provincial_cadre", "auditor"),
            out_of_scope="sibling_cadre",
        ),
        # Batches
        ScopedCase(
            name="relief-batch-list",
            url=lambda t, b: url("batch_list"),
            setup=with_batch,
            allowed=("county_cadre", "auditor"),
            forbidden=NOT_ALLOWED,
            contains=lambda t: ["春节送温暖"],
        ),
        ScopedCase(
            name="relief-batch-create",
            url=lambda t, f: url("batch_create"),
            method="post",
            setup=lambda t, p: (jiangan_file(t, p), jiangan_fund(t, p))[1],
            data=lambda t, f: {
                "fund": f.pk,
                "name": "金秋助学",
                "assistance_type": "education",
                "amount": "1000",
            },
            action="change",
            allowed="county_cadre",
            forbidden=("auditor", *NOT_ALLOWED),
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-batch-detail",
            url=lambda t, b: url("batch_detail", b.pk),
            setup=with_batch,
            model=DisbursementBatch,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["江岸困难户"],
        ),
        ScopedCase(
            name="relief-batch-approve",
            url=lambda t, b: url("batch_action", b.pk, "approve"),
            method="post",
            setup=with_batch,
            data=lambda t, b: {"version": b.version},
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-payment-fail",
            url=lambda t, p: url("payment_fail", p.pk),
            method="post",
            setup=with_paid_batch,
            data=lambda t: {"reason": "账户已销户"},
            model=BatchPayment,
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-payment-retry",
            url=lambda t, p: url("payment_retry", p.pk),
            method="post",
            setup=with_failed_payment,
            action="change",
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        # Thresholds and rules
        ScopedCase(
            name="relief-rule-list",
            url=lambda t, r: url("rule_list"),
            setup=lambda t, p: set_threshold(t, "1070"),
            model=LivingThreshold,
            allowed=("county_cadre", "auditor", "sibling_cadre"),
            forbidden=NOT_ALLOWED,
            contains=lambda t: ["1,070.00"],
        ),
        ScopedCase(
            name="relief-threshold-save",
            url=lambda t: url("rule_save", "threshold"),
            method="post",
            data=lambda t: {
                "threshold-region": "420100",
                "threshold-year": today().year,
                "threshold-monthly_amount": "1100",
            },
            action="change",
            allowed=("provincial_cadre", "national_admin"),
            forbidden="auditor",
            out_of_scope=("county_cadre", "sibling_cadre"),
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-category-rule-save",
            url=lambda t: url("rule_save", "category"),
            method="post",
            data=lambda t: {
                "category-province": "420000",
                "category-valid_from": today().isoformat(),
                "category-deep_multiple": "1.00",
                "category-relative_multiple": "1.50",
                "category-accident_loss_ratio": "0.80",
            },
            model=CategoryRule,
            action="change",
            allowed="provincial_cadre",
            forbidden="auditor",
            out_of_scope="county_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="relief-assistance-rule-save",
            url=lambda t: url("rule_save", "assistance"),
            method="post",
            data=lambda t: {
                "rule-province": "420000",
                "rule-year": today().year,
                "rule-assistance_type": "medical",
                "rule-cap_per_year": "10000",
                "rule-cycle": "year",
                "rule-second_approval_above": "2000",
            },
            model=AssistanceRule,
            action="change",
            allowed="provincial_cadre",
            forbidden="auditor",
            out_of_scope="county_cadre",
            allowed_statuses=REDIRECT,
        ),
    ]


def _upload() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("证明.png", png_bytes(), content_type="image/png")
