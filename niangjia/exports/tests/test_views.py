"""The export pages persona by persona, then what they show and do."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from niangjia.accounts.choices import Action, Role
from niangjia.accounts.models import RoleAssignment, User
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.exports import services
from niangjia.exports.choices import ExportKind, RequestState
from niangjia.exports.models import ExportFile, ExportRequest
from niangjia.members.models import Member, id_hash_of
from niangjia.utilities.testing.members import make_member
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Personas, Tree

REDIRECT = frozenset({302})


def url(name: str, *args: Any) -> str:
    return reverse(f"exports:{name}", args=args)


def text(response: Any) -> str:
    return response.content.decode()


def download(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def sheet(data: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))


def make_admin(personas: Personas, name: str, union: Any) -> User:
    """Persona ``name`` also made an administrator of ``union`` (may reveal there)."""
    user = personas[name]
    RoleAssignment.objects.create(user=user, union=union, role=Role.ADMIN)
    user.forget_roles()
    return user


# --- Set-ups of the scoped-access cases


def jiangan_members(t: Tree) -> None:
    make_member(t.jiangan_grassroots, name="江岸会员甲")


def county_request(t: Tree, personas: Personas, state: str = RequestState.PENDING) -> ExportRequest:
    """A request of the county cadre, made an administrator of 江岸区, for 江岸区's members."""
    make_member(t.jiangan_grassroots, name="江岸会员甲")
    requester = make_admin(personas, "county_cadre", t.jiangan)
    return ExportRequest.objects.create(
        requester=requester,
        union=t.jiangan,
        kind=ExportKind.MEMBERS,
        filters={"within": str(t.jiangan.pk)},
        filters_display=[["工会（含下级）", "江岸区总工会"]],
        reason="会员互助保障理赔核对",
        rows_at_request=1,
        state=state,
        expires_at=ExportRequest.lapse_time(),
    )


def approved_request(t: Tree, personas: Personas) -> ExportRequest:
    return county_request(t, personas, RequestState.APPROVED)


def county_file(t: Tree, personas: Personas) -> ExportFile:
    """A finished background export of the county cadre."""
    make_member(t.jiangan_grassroots, name="江岸会员甲")
    from django.test import override_settings

    with override_settings(EXPORT_INLINE_ROWS=0):
        outcome = services.export_start(
            acting_user=personas["county_cadre"], kind=ExportKind.MEMBERS, filters={}
        )
    export_file = outcome.export_file
    services.export_file_build(export_file=export_file)
    return export_file


class TestExportPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="export-new-members",
            url=lambda t: url("export_new", "members") + "?status=active",
            action=Action.EXPORT,
            setup=jiangan_members,
            allowed=("county_cadre", "provincial_cadre", "national_admin"),
            forbidden=("auditor", "worker", "audit_admin"),
            contains=lambda t: ["导出会员名册", "会籍状态", "在会", "1 行"],
        ),
        ScopedCase(
            name="export-new-members-within-a-union",
            url=lambda t: url("export_new", "members") + f"?within={t.jiangan.pk}",
            action=Action.EXPORT,
            allowed="county_cadre",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
            contains=lambda t: ["江岸区总工会"],
        ),
        ScopedCase(
            name="export-new-members-post",
            url=lambda t: url("export_new", "members") + f"?within={t.jiangan.pk}",
            method="post",
            action=Action.EXPORT,
            setup=jiangan_members,
            data=lambda t: {"masked": "masked"},
            model=Member,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="export-new-employers",
            url=lambda t: url("export_new", "employers") + f"?within={t.jiangan.pk}",
            action=Action.EXPORT,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            contains=lambda t: ["导出用人单位", "1 行"],
        ),
        ScopedCase(
            name="export-request-list",
            url=lambda t: url("request_list"),
            action=Action.REVEAL,
            allowed="national_admin",
            forbidden=("county_cadre", "auditor", "worker"),
        ),
        ScopedCase(
            name="export-request-detail",
            url=lambda t, r: url("request_detail", r.pk),
            setup=county_request,
            model=ExportRequest,
            # The national admin may decide it; the auditor sees 江岸区 but neither asked nor
            # may decide.
            allowed=("national_admin", "county_cadre"),
            forbidden=("auditor", "provincial_cadre"),
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
            contains=lambda t: ["会员互助保障理赔核对", "江岸区总工会"],
        ),
        ScopedCase(
            name="export-request-decide",
            url=lambda t, r: url("request_decide", r.pk),
            method="post",
            action=Action.REVEAL,
            setup=county_request,
            data=lambda t: {"decision": "approve", "reason": "同意"},
            model=ExportRequest,
            allowed="national_admin",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="export-request-run",
            url=lambda t, r: url("request_run", r.pk),
            method="post",
            action=Action.REVEAL,
            setup=approved_request,
            model=ExportRequest,
            allowed="county_cadre",
            forbidden="national_admin",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="export-file-detail",
            url=lambda t, f: url("file_detail", f.pk),
            action=Action.EXPORT,
            setup=county_file,
            model=ExportFile,
            allowed="county_cadre",
            # A stored export is its owner's alone, whoever else sees 江岸区.
            out_of_scope=("provincial_cadre", "national_admin", "sibling_cadre", "auditor"),
            contains=lambda t: ["下载", "SHA-256"],
        ),
        ScopedCase(
            name="export-file-download",
            url=lambda t, f: url("file_download", f.pk),
            action=Action.EXPORT,
            setup=county_file,
            model=ExportFile,
            allowed="county_cadre",
            out_of_scope=("provincial_cadre", "national_admin", "sibling_cadre"),
        ),
    ]


# --- What the pages do

pytestmark = pytest.mark.django_db


def test_the_member_list_button_leads_to_the_export_page_with_the_filters(
    tree, county_cadre, client_for
):
    html = text(client_for(county_cadre).get(reverse("members:member_list") + "?status=active"))
    assert url("export_new", "members") + "?status=active" in html


def test_a_small_masked_export_downloads_from_the_export_page(tree, county_cadre, client_for):
    make_member(tree.jiangan_grassroots, name="江岸会员甲")
    response = client_for(county_cadre).post(
        url("export_new", "members") + "?status=active", {"masked": "masked"}
    )
    assert response["Content-Disposition"].startswith("attachment")
    assert [row[1] for row in sheet(download(response))[1:]] == ["江岸会员甲"]


def test_a_cadre_is_not_offered_the_clear_export(tree, county_cadre, client_for):
    html = text(client_for(county_cadre).get(url("export_new", "members")))
    assert "完整号码（明文）" not in html and "导出明文的理由" not in html


def test_a_clear_export_without_a_reason_is_answered_on_the_form(tree, national_admin, client_for):
    make_member(tree.jiangan_grassroots)
    response = client_for(national_admin).post(
        url("export_new", "members"), {"masked": "clear", "reason": "看"}
    )
    assert response.status_code == 200
    assert "请填写导出明文的理由（至少 4 个字）" in text(response)
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_a_bad_filter_is_named_on_the_export_page(tree, county_cadre, client_for):
    html = text(client_for(county_cadre).get(url("export_new", "members") + "?joined_from=x"))
    assert "筛选条件有误" in html and "“入会日期自”不是有效的日期" in html


def test_a_big_export_goes_to_its_page_with_a_progress_bar_and_then_downloads(
    tree, county_cadre, client_for, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_ROWS = 1
    make_member(tree.jiangan_grassroots, name="甲")
    make_member(tree.jiangan_grassroots, name="乙")
    client = client_for(county_cadre)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("export_new", "members"), {"masked": "masked"})
    export_file = ExportFile.objects.get()
    assert response["Location"] == url("file_detail", export_file.pk)
    html = text(client.get(response["Location"]))
    assert "data-job-progress" in html and "已完成" in html
    assert url("file_download", export_file.pk) in html
    data = download(client.get(url("file_download", export_file.pk)))
    assert [row[1] for row in sheet(data)[1:]] == ["甲", "乙"]


def test_the_members_direct_link_sends_a_big_export_to_the_export_page(
    tree, county_cadre, client_for, settings
):
    settings.EXPORT_INLINE_ROWS = 1
    make_member(tree.jiangan_grassroots)
    make_member(tree.jiangan_grassroots)
    response = client_for(county_cadre).get(reverse("members:member_export") + "?status=active")
    assert response.status_code == 302
    assert response["Location"] == url("export_new", "members") + "?status=active"


def test_request_approve_and_download_through_the_pages(
    tree, personas, national_admin, client_for, settings
):
    settings.EXPORT_UNMASKED_APPROVAL_ROWS = 1
    member = make_member(tree.jiangan_grassroots, name="明文甲")
    make_member(tree.jiangan_grassroots, name="明文乙")
    requester = make_admin(personas, "county_cadre", tree.jiangan)
    mine = client_for(requester)
    response = mine.post(
        url("export_new", "members") + f"?id_hash={id_hash_of(member.reveal_id_number())}&x=1",
        {"masked": "clear", "reason": "理赔核对"},
    )
    # One row is within the limit: exported at once.
    assert response["Content-Disposition"].startswith("attachment")
    response = mine.post(url("export_new", "members"), {"masked": "clear", "reason": "理赔核对"})
    export_request = ExportRequest.objects.get()
    assert response["Location"] == url("request_detail", export_request.pk)
    assert "等待申请单位上级工会的管理员审批" in text(mine.get(response["Location"]))

    approver = client_for(national_admin)
    queue = text(approver.get(url("request_list")))
    assert url("request_detail", export_request.pk) in queue and "理赔核对" in queue
    response = approver.post(url("request_decide", export_request.pk), {"decision": "reject"})
    assert "驳回时请填写审批意见" in text(response)
    approver.post(url("request_decide", export_request.pk), {"decision": "approve"})
    assert "没有等待您审批的导出申请" in text(approver.get(url("request_list")))

    page = text(mine.get(url("request_detail", export_request.pk)))
    assert "导出明文 Excel" in page
    response = mine.post(url("request_run", export_request.pk))
    rows = sheet(download(response))
    assert {row[5] for row in rows[1:]} == {
        m.reveal_id_number() for m in Member.objects.filter(union=tree.jiangan_grassroots)
    }
    response = mine.post(url("request_run", export_request.pk), follow=True)
    assert "该申请已导出，不能再办理" in text(response)


def test_the_employer_lists_direct_link_sends_a_big_export_to_the_export_page(
    tree, county_cadre, client_for, settings
):
    settings.EXPORT_INLINE_ROWS = 0
    response = client_for(county_cadre).get(reverse("orgs:employer_export") + "?organised=yes")
    assert response.status_code == 302
    assert response["Location"] == url("export_new", "employers") + "?organised=yes"


def test_the_employer_list_button_leads_to_the_export_page(tree, county_cadre, client_for):
    html = text(client_for(county_cadre).get(reverse("orgs:employer_list") + "?organised=yes"))
    assert url("export_new", "employers") + "?organised=yes" in html


def test_the_cleanup_command_reports_what_it_did(tree, capsys):
    from django.core.management import call_command

    call_command("exports_cleanup")
    assert "已删除导出文件 0 个，已过期申请 0 项" in capsys.readouterr().out
