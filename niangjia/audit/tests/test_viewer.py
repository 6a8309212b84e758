"""The audit viewer: scope, filters, keyset paging, detail, export; and 403 auditing."""

from __future__ import annotations

import datetime
import io
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from niangjia.accounts.choices import Action, Role
from niangjia.audit import context
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.audit.services import audit_permission_denied, record
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Tree


def two_rows(tree: Tree) -> dict[str, AuditEntry]:
    """One audit row filed under 江岸区 and one under 江汉区."""
    return {
        "jiangan": record(
            action=AuditAction.CHANGE,
            obj=tree.jiangan_employer,
            object_repr="江岸样本",
            before={"headcount": 300},
            after={"headcount": 320},
        ),
        "jianghan": record(
            action=AuditAction.CHANGE,
            obj=tree.jianghan_employer,
            object_repr="江汉样本",
            before={"headcount": 100},
            after={"headcount": 150},
        ),
    }


class TestAuditPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="audit-list-county",
            url=lambda t: reverse("audit:entry_list"),
            model=AuditEntry,
            setup=two_rows,
            allowed="county_audit_admin",
            forbidden=("county_cadre", "county_system_admin", "county_security_admin", "auditor"),
            contains=lambda t: ["江岸样本"],
            excludes=lambda t: ["江汉样本"],
        ),
        ScopedCase(
            name="audit-list-root",
            url=lambda t: reverse("audit:entry_list"),
            model=AuditEntry,
            setup=two_rows,
            allowed="audit_admin",
            forbidden=("system_admin", "security_admin", "national_admin"),
            contains=lambda t: ["江岸样本", "江汉样本"],
        ),
        ScopedCase(
            name="audit-detail-beside-county",
            url=lambda t, extra: reverse("audit:entry_detail", args=[extra["jianghan"].pk]),
            model=AuditEntry,
            setup=two_rows,
            allowed="audit_admin",
            out_of_scope="county_audit_admin",
            forbidden="county_cadre",
            contains=lambda t: ["江汉样本", "职工人数"],
        ),
        ScopedCase(
            name="audit-export",
            url=lambda t: reverse("audit:entry_export"),
            action=Action.EXPORT,
            model=AuditEntry,
            setup=two_rows,
            allowed="county_audit_admin",
            forbidden=("county_cadre", "county_system_admin"),
        ),
    ]


# --- Scope


def test_a_county_audit_admin_sees_only_their_county(county_audit_admin, tree):
    rows = two_rows(tree)
    unfiled = record(action=AuditAction.LOGIN_FAILED, actor_name="nobody")
    seen = set(AuditEntry.objects.restrict(county_audit_admin, Action.VIEW_AUDIT))
    assert rows["jiangan"] in seen
    assert rows["jianghan"] not in seen
    assert unfiled not in seen


def test_only_an_audit_admin_at_the_root_sees_rows_filed_under_no_union(
    audit_admin, county_audit_admin, national_admin, tree
):
    unfiled = record(action=AuditAction.LOGIN_FAILED, actor_name="nobody")
    assert unfiled.union_path == ""
    assert (
        AuditEntry.objects.restrict(audit_admin, Action.VIEW_AUDIT).filter(pk=unfiled.pk).exists()
    )
    assert (
        not AuditEntry.objects.restrict(county_audit_admin, Action.VIEW_AUDIT)
        .filter(pk=unfiled.pk)
        .exists()
    )
    # Business administrators never read the audit log, even at the root.
    assert not AuditEntry.objects.restrict(national_admin, Action.VIEW_AUDIT).exists()


def test_a_county_audit_admin_sees_their_cadres_logins_not_the_sibling_countys(
    county_audit_admin, county_cadre, sibling_cadre, tree
):
    mine = record(action=AuditAction.LOGIN, actor=county_cadre)
    theirs = record(action=AuditAction.LOGIN, actor=sibling_cadre)
    seen = AuditEntry.objects.restrict(county_audit_admin, Action.VIEW_AUDIT)
    assert mine.union_path == tree.jiangan.path
    assert list(seen.filter(action=AuditAction.LOGIN)) == [mine]
    assert theirs.union_path == tree.jianghan.path


# --- The list


@pytest.fixture
def many_rows(tree) -> list[AuditEntry]:
    """120 rows under 江岸区, three to a second (rows tie on time; the id breaks the tie)."""
    base = timezone.now() - datetime.timedelta(days=1)
    rows = []
    for i in range(120):
        moment = base + datetime.timedelta(seconds=i // 3)
        with mock.patch("django.utils.timezone.now", return_value=moment):
            rows.append(
                record(
                    action=AuditAction.CHANGE, obj=tree.jiangan_employer, object_repr=f"样本{i:03d}"
                )
            )
    assert len({r.time for r in rows}) == 40
    return rows


def test_keyset_pages_walk_every_row_once_newest_first(client_for, county_audit_admin, many_rows):
    client = client_for(county_audit_admin)
    seen: list[int] = []
    url = reverse("audit:entry_list")
    params: dict[str, str] = {"action": AuditAction.CHANGE}
    pages = 0
    while True:
        response = client.get(url, params)
        page = response.context["page"]
        seen += [e.pk for e in page.items]
        pages += 1
        if not page.next_cursor:
            break
        params["after"] = page.next_cursor
    expected = sorted(many_rows, key=lambda e: (e.time, e.pk), reverse=True)
    assert seen == [e.pk for e in expected]
    assert pages == 3


def test_the_list_costs_the_same_queries_on_any_page(client_for, county_audit_admin, many_rows):
    client = client_for(county_audit_admin)
    first = client.get(reverse("audit:entry_list"))
    cursor = first.context["page"].next_cursor
    with CaptureQueriesContext(connection) as on_first:
        client.get(reverse("audit:entry_list"))
    with CaptureQueriesContext(connection) as on_second:
        client.get(reverse("audit:entry_list"), {"after": cursor})
    assert len(on_second) == len(on_first)
    assert len(on_first) <= 8
    assert not any("COUNT(" in q["sql"].upper() for q in on_first.captured_queries)


def test_an_unreadable_cursor_shows_the_newest_page(client_for, county_audit_admin, many_rows):
    response = client_for(county_audit_admin).get(reverse("audit:entry_list"), {"after": "x-y"})
    assert response.status_code == 200
    assert response.context["page"].is_first


def test_filters_by_action_actor_object_and_request(
    client_for, county_audit_admin, county_cadre, grassroots_cadre, tree
):
    with context.bind(context.RequestContext(request_id="req-aaaaaaaa")):
        wanted = record(action=AuditAction.DELETE, actor=county_cadre, obj=tree.jiangan_employer)
    other = record(action=AuditAction.CHANGE, actor=grassroots_cadre, obj=tree.jiangan_grassroots)
    client = client_for(county_audit_admin)

    def ids(**params: Any) -> list[int]:
        return [e.pk for e in client.get(reverse("audit:entry_list"), params).context["page"].items]

    assert ids(action=AuditAction.DELETE) == [wanted.pk]
    assert ids(actor="江岸区总干部") == [wanted.pk]
    assert ids(actor="grassroots_cadre") == [other.pk]  # by username too
    assert ids(object_type="orgs.employer", object_id=str(tree.jiangan_employer.pk)) == [wanted.pk]
    assert ids(request_id="req-aaaaaaaa") == [wanted.pk]


def test_filters_by_time_range(client_for, county_audit_admin, tree):
    row = record(action=AuditAction.CHANGE, obj=tree.jiangan_employer)
    local = timezone.localtime(row.time)
    client = client_for(county_audit_admin)
    before = (local - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    after = (local + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    changes = {"action": AuditAction.CHANGE}
    inside = client.get(reverse("audit:entry_list"), {**changes, "since": before, "until": after})
    assert [e.pk for e in inside.context["page"].items] == [row.pk]
    later = client.get(reverse("audit:entry_list"), {**changes, "since": after})
    assert later.context["page"].items == []


def test_a_backwards_time_range_is_explained(client_for, county_audit_admin, tree):
    response = client_for(county_audit_admin).get(
        reverse("audit:entry_list"), {"since": "2024-05-02T00:00", "until": "2024-05-01T00:00"}
    )
    assert response.context["filters"].errors["until"] == ["截止时间不能早于起始时间"]
    assert "截止时间不能早于起始时间" in response.content.decode()


def test_detail_shows_before_and_after_as_a_table_with_field_names(
    client_for, county_audit_admin, tree
):
    rows = two_rows(tree)
    response = client_for(county_audit_admin).get(
        reverse("audit:entry_detail", args=[rows["jiangan"].pk])
    )
    html = response.content.decode()
    assert response.context["changes"][0].label == "职工人数"
    assert response.context["changes"][0].before == "300"
    assert response.context["changes"][0].after == "320"
    assert '<tr class="changed">' in html


def test_detail_of_a_role_grant_reads_in_chinese(
    client_for, audit_admin, county_security_admin, make_account, tree
):
    from niangjia.accounts import services

    account = make_account("newcomer", created_under=tree.jiangan)
    services.role_grant(
        acting_user=county_security_admin, user=account, union=tree.jiangan, role=Role.CADRE
    )
    entry = AuditEntry.objects.get(action=AuditAction.ROLE_GRANT)
    response = client_for(audit_admin).get(reverse("audit:entry_detail", args=[entry.pk]))
    changes = {c.label: c.after for c in response.context["changes"]}
    assert changes["角色"] == "工会干部（cadre）"
    assert changes["工会名称"] == "江岸区总工会"


# --- Export


def test_export_holds_only_the_rows_in_scope_and_is_audited(client_for, county_audit_admin, tree):
    two_rows(tree)
    response = client_for(county_audit_admin).get(
        reverse("audit:entry_export"), {"action": AuditAction.CHANGE}
    )
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "时间"
    assert [r[6] for r in values[1:]] == ["江岸样本"]
    export = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert export.actor == county_audit_admin
    assert export.detail["rows"] == 1
    assert export.detail["filters"] == {"action": "change"}
    assert len(export.detail["sha256"]) == 64
    assert export.union_path == tree.jiangan.path


# --- Central 403 auditing


def test_every_403_of_a_page_writes_one_row(client_for, county_cadre, tree):
    response = client_for(county_cadre).get(reverse("audit:entry_list"))
    assert response.status_code == 403
    rows = AuditEntry.objects.filter(action=AuditAction.PERMISSION_DENIED)
    assert rows.count() == 1
    row = rows.get()
    assert row.actor == county_cadre
    assert row.detail["path"] == "/audit/" and row.detail["method"] == "GET"
    assert row.detail["reason"] == "您没有查看审计记录的权限"


def test_the_api_records_a_refusal_through_the_same_function(county_cadre, tree):
    request = RequestFactory().delete(f"/api/v1/employers/{tree.jianghan_employer.pk}/")
    request.user = county_cadre
    exc = PermissionDenied("您没有删除该用人单位的权限")
    exc.obj = tree.jianghan_employer  # type: ignore[attr-defined]
    entry = audit_permission_denied(request, exc)
    assert entry is not None
    assert entry.object_type == "orgs.employer"
    assert entry.object_id == str(tree.jianghan_employer.pk)
    # Filed under the object's union: 江汉区's auditors see the attempt on their employer.
    assert entry.union_path == tree.jianghan.path
    assert entry.detail["method"] == "DELETE"
    # One row per request, however many layers report it.
    assert audit_permission_denied(request, exc) is None
    assert AuditEntry.objects.filter(action=AuditAction.PERMISSION_DENIED).count() == 1


def test_a_refusal_of_an_anonymous_request_is_still_recorded(tree):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().post("/api/v1/unions/")
    request.user = AnonymousUser()
    entry = audit_permission_denied(request, PermissionDenied())
    assert entry.actor is None and entry.union_path == ""
