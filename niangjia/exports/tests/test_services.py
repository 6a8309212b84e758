"""Export rules: at once or in the background, masked or in clear, with or without approval;
who may approve; one use and expiry; the stored file, its audit row and its deletion."""

from __future__ import annotations

import datetime
import hashlib
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import load_workbook

from niangjia.accounts.choices import Role
from niangjia.accounts.models import RoleAssignment, User
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.exports import services
from niangjia.exports.choices import ExportKind, RequestState
from niangjia.exports.models import ExportFile, ExportRequest
from niangjia.jobs.choices import JobState
from niangjia.jobs.models import Job
from niangjia.jobs.registry import JobContext
from niangjia.utilities.testing.members import make_member
from niangjia.utilities.testing.personas import Tree

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def admin_of(union: Any, username: str) -> User:
    user = User.objects.create_user(username=username, password="x", full_name=username)
    RoleAssignment.objects.create(user=user, union=union, role=Role.ADMIN)
    return user


@pytest.fixture
def county_admin(tree: Tree) -> User:
    return admin_of(tree.jiangan, "county_admin")


@pytest.fixture
def members(tree: Tree) -> list[Any]:
    return [make_member(tree.jiangan_grassroots, name=f"会员{i}") for i in range(3)]


def exports_audited() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditAction.EXPORT).order_by("id"))


def rows_of(data: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))


def clear(user: User, filters: dict[str, str] | None = None) -> services.ExportOutcome:
    return services.export_start(
        acting_user=user,
        kind=ExportKind.MEMBERS,
        filters=filters or {},
        unmasked=True,
        reason="会员互助保障理赔核对",
    )


# --- At once or in the background


def test_an_export_over_the_inline_rows_is_written_by_a_job_into_a_stored_file(
    tree, county_cadre, members, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_ROWS = 2
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.export_start(
            acting_user=county_cadre, kind=ExportKind.MEMBERS, filters={"status": "active"}
        )
    assert outcome.file is None and outcome.request is None
    export_file = ExportFile.objects.get(pk=outcome.export_file.pk)
    job = Job.objects.get(pk=export_file.job_id)
    assert job.state == JobState.SUCCEEDED and job.kind == "exports.members"
    assert job.owner == county_cadre and job.union_path == tree.jiangan.path
    assert job.result["rows"] == 3 and "已导出 3 行" in job.result["summary"]
    assert job.progress_done == 3
    assert export_file.ready and export_file.rows == 3 and export_file.masked
    data = export_file.path.read_bytes()
    assert export_file.sha256 == hashlib.sha256(data).hexdigest()
    assert export_file.size == len(data)
    assert export_file.path.stat().st_mode & 0o777 == 0o600
    assert export_file.expires_at - export_file.finished_at == datetime.timedelta(hours=24)
    assert [r[1] for r in rows_of(data)[1:]] == ["会员0", "会员1", "会员2"]
    (entry,) = exports_audited()
    assert entry.detail["export_file"] == export_file.pk
    assert entry.detail["sha256"] == export_file.sha256
    assert entry.detail["filters"] == {"status": "active"} and entry.detail["masked"] is True


def test_the_employer_list_is_exported_by_the_same_job(
    tree, county_cadre, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.export_start(
            acting_user=county_cadre, kind=ExportKind.EMPLOYERS, filters={"organised": "yes"}
        )
    export_file = ExportFile.objects.get(pk=outcome.export_file.pk)
    assert Job.objects.get(pk=export_file.job_id).kind == "exports.employers"
    rows = rows_of(export_file.path.read_bytes())
    assert [r[0] for r in rows[1:]] == ["武汉长江机械有限公司"]
    (entry,) = exports_audited()
    assert entry.object_type == "orgs.employer" and entry.detail["filters"] == {"organised": "yes"}


def test_employers_have_no_clear_export(tree, national_admin):
    with pytest.raises(ValidationError) as exc:
        services.export_start(
            acting_user=national_admin, kind=ExportKind.EMPLOYERS, filters={}, unmasked=True
        )
    assert "无需导出明文" in exc.value.messages[0]


def test_a_job_whose_owner_lost_the_right_fails_with_a_chinese_message_and_leaves_no_file(
    tree, county_cadre, members, settings
):
    settings.EXPORT_INLINE_ROWS = 2
    settings.JOBS_INLINE = False
    outcome = services.export_start(acting_user=county_cadre, kind=ExportKind.MEMBERS, filters={})
    RoleAssignment.objects.filter(user=county_cadre).delete()
    from niangjia.jobs.services import run_one

    assert run_one("test-worker")
    job = Job.objects.get(pk=outcome.export_file.job_id)
    assert job.state == JobState.FAILED
    assert job.error == "导出未完成：您没有导出会员名册的权限"
    assert not ExportFile.objects.get(pk=outcome.export_file.pk).ready
    assert not list(settings.EXPORT_DIR.glob("*.part")) and not exports_audited()


def test_a_cancelled_build_stops_at_the_next_chunk_and_leaves_nothing(
    tree, county_cadre, members, settings
):
    settings.EXPORT_INLINE_ROWS = 2
    settings.JOBS_INLINE = False
    outcome = services.export_start(acting_user=county_cadre, kind=ExportKind.MEMBERS, filters={})

    def stop(done: int) -> None:
        raise services.ExportCancelled

    with pytest.raises(services.ExportCancelled):
        services.export_file_build(export_file=outcome.export_file, on_chunk=stop)
    export_file = ExportFile.objects.get(pk=outcome.export_file.pk)
    assert not export_file.ready and not export_file.stored_name
    assert not list(settings.EXPORT_DIR.iterdir()) and not exports_audited()


def test_the_job_handler_reports_progress_and_stops_when_cancelled(
    tree, county_cadre, members, settings
):
    from niangjia.exports.jobs import build_export

    settings.EXPORT_INLINE_ROWS = 2
    settings.JOBS_INLINE = False
    outcome = services.export_start(acting_user=county_cadre, kind=ExportKind.MEMBERS, filters={})
    job = Job.objects.get(pk=outcome.export_file.job_id)
    ctx = JobContext(job)
    ctx._cancel_requested = True  # as if someone pressed 取消任务
    assert build_export(job, ctx) is None
    assert not ExportFile.objects.get(pk=outcome.export_file.pk).ready
    assert not exports_audited()


# --- Unmasked exports and their approval


def test_a_small_clear_export_runs_at_once_without_a_request(tree, county_admin, members):
    outcome = clear(county_admin)
    assert outcome.file is not None and not ExportRequest.objects.exists()
    (entry,) = exports_audited()
    assert entry.detail["masked"] is False and entry.detail["reason"] == "会员互助保障理赔核对"
    assert "approval" not in entry.detail


def test_a_clear_export_above_the_approval_rows_waits_for_approval(
    tree, county_admin, members, settings
):
    settings.EXPORT_UNMASKED_APPROVAL_ROWS = 2
    outcome = clear(county_admin, {"status": "active"})
    export_request = outcome.request
    assert outcome.file is None and outcome.export_file is None
    assert export_request.state == RequestState.PENDING
    assert export_request.union == tree.jiangan and export_request.requester == county_admin
    assert export_request.rows_at_request == 3
    assert export_request.filters == {"status": "active"}
    assert export_request.filters_display == [["会籍状态", "在会"]]
    assert export_request.expires_at > timezone.now() + datetime.timedelta(days=6)
    assert not exports_audited()
    created = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="exports.exportrequest")
    assert created.detail["rows"] == 3 and created.union_path == tree.jiangan.path


def test_a_request_keeps_a_searched_id_number_as_its_keyed_hash_only(
    tree, county_admin, members, settings
):
    from niangjia.members.models import id_hash_of

    settings.EXPORT_UNMASKED_APPROVAL_ROWS = 0
    member = members[0]
    number = member.reveal_id_number()
    outcome = clear(county_admin, {"id_hash": id_hash_of(number)})
    stored = str(
        ExportRequest.objects.filter(pk=outcome.request.pk).values_list(
            "filters", "filters_display"
        )
    )
    assert number not in stored and id_hash_of(number) in stored


@pytest.fixture
def pending(tree, county_admin, members, settings) -> ExportRequest:
    settings.EXPORT_UNMASKED_APPROVAL_ROWS = 2
    return clear(county_admin).request


def test_an_admin_above_the_requesting_union_may_decide_and_no_one_else(
    tree, pending, county_admin, national_admin, county_cadre
):
    provincial_admin = admin_of(tree.hubei, "provincial_admin")
    second_county_admin = admin_of(tree.jiangan, "second_county_admin")
    sibling_admin = admin_of(tree.jianghan, "sibling_admin")
    assert services.may_decide(provincial_admin, pending)
    assert services.may_decide(national_admin, pending)
    for user in (county_admin, second_county_admin, sibling_admin, county_cadre):
        assert not services.may_decide(user, pending)
        with pytest.raises(PermissionDenied):
            services.export_request_decide(export_request=pending, acting_user=user, approve=True)
    assert ExportRequest.objects.get(pk=pending.pk).state == RequestState.PENDING


def test_a_request_from_the_root_is_decided_by_another_admin_of_the_root(tree, national_admin):
    make_member(tree.jiangan_grassroots)
    make_member(tree.jianghan_grassroots)
    from django.test import override_settings

    with override_settings(EXPORT_UNMASKED_APPROVAL_ROWS=1):
        export_request = clear(national_admin).request
    assert export_request.union == tree.root
    other_root_admin = admin_of(tree.root, "other_root_admin")
    assert services.may_decide(other_root_admin, export_request)
    assert not services.may_decide(national_admin, export_request)


def test_approval_is_used_once(tree, pending, county_admin, national_admin):
    services.export_request_decide(
        export_request=pending, acting_user=national_admin, approve=True, reason="同意"
    )
    outcome = services.export_request_run(export_request=pending, acting_user=county_admin)
    data = outcome.file.file.read()
    assert len(rows_of(data)) == 1 + 3
    pending.refresh_from_db()
    assert pending.state == RequestState.DONE and pending.used_at is not None
    (entry,) = exports_audited()
    assert entry.detail["approval"] == pending.pk and entry.detail["masked"] is False
    assert entry.detail["sha256"] == hashlib.sha256(data).hexdigest()
    with pytest.raises(ValidationError) as exc:
        services.export_request_run(export_request=pending, acting_user=county_admin)
    assert exc.value.messages == ["该申请已导出，不能再办理"]


def test_only_the_requester_may_use_the_approval(tree, pending, national_admin):
    services.export_request_decide(export_request=pending, acting_user=national_admin, approve=True)
    with pytest.raises(PermissionDenied):
        services.export_request_run(export_request=pending, acting_user=national_admin)


def test_a_pending_request_cannot_be_used(tree, pending, county_admin):
    with pytest.raises(ValidationError) as exc:
        services.export_request_run(export_request=pending, acting_user=county_admin)
    assert exc.value.messages == ["该申请尚未批准，不能导出"]


def test_a_rejection_needs_a_reason_and_ends_the_request(tree, pending, national_admin):
    with pytest.raises(ValidationError) as exc:
        services.export_request_decide(
            export_request=pending, acting_user=national_admin, approve=False
        )
    assert exc.value.message_dict == {"reason": ["驳回时请填写审批意见"]}
    services.export_request_decide(
        export_request=pending, acting_user=national_admin, approve=False, reason="范围过大"
    )
    pending.refresh_from_db()
    assert pending.state == RequestState.REJECTED and pending.approver == national_admin
    change = AuditEntry.objects.get(
        action=AuditAction.CHANGE, object_type="exports.exportrequest", object_id=str(pending.pk)
    )
    assert change.after == {"state": "rejected", "decision_reason": "范围过大"}
    with pytest.raises(ValidationError):
        services.export_request_decide(
            export_request=pending, acting_user=national_admin, approve=True
        )


def test_an_approval_lapses_after_seven_days(tree, pending, county_admin, national_admin):
    services.export_request_decide(export_request=pending, acting_user=national_admin, approve=True)
    ExportRequest.objects.filter(pk=pending.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    pending.refresh_from_db()
    assert pending.current_state == RequestState.EXPIRED
    with pytest.raises(ValidationError) as exc:
        services.export_request_run(export_request=pending, acting_user=county_admin)
    assert exc.value.messages == ["该申请已过期，不能再办理"]
    assert services.exports_cleanup() == (0, 1)
    assert ExportRequest.objects.get(pk=pending.pk).state == RequestState.EXPIRED
    assert not exports_audited()


def test_an_undecided_request_lapses_too(tree, pending, national_admin):
    ExportRequest.objects.filter(pk=pending.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(ValidationError) as exc:
        services.export_request_decide(
            export_request=pending, acting_user=national_admin, approve=True
        )
    assert exc.value.messages == ["该申请已过期，不能再审批"]


def test_the_approved_run_goes_to_the_background_when_big(
    tree, pending, county_admin, national_admin, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_ROWS = 2
    services.export_request_decide(export_request=pending, acting_user=national_admin, approve=True)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.export_request_run(export_request=pending, acting_user=county_admin)
    export_file = ExportFile.objects.get(pk=outcome.export_file.pk)
    assert export_file.ready and not export_file.masked and export_file.request == pending
    (entry,) = exports_audited()
    assert entry.detail["approval"] == pending.pk and entry.detail["export_file"] == export_file.pk


def test_an_admin_of_several_subtrees_names_a_union_before_asking(
    tree, county_admin, members, settings
):
    settings.EXPORT_UNMASKED_APPROVAL_ROWS = 1
    RoleAssignment.objects.create(user=county_admin, union=tree.jianghan, role=Role.ADMIN)
    county_admin.forget_roles()
    make_member(tree.jianghan_grassroots)
    with pytest.raises(ValidationError) as exc:
        clear(county_admin)
    assert "请先在筛选条件中选择一个工会" in exc.value.messages[0]
    export_request = clear(county_admin, {"within": str(tree.jianghan.pk)}).request
    assert export_request is None or export_request.union == tree.jianghan


def test_a_clear_export_without_a_reason_is_refused(tree, county_admin, members):
    with pytest.raises(ValidationError) as exc:
        services.export_start(
            acting_user=county_admin, kind=ExportKind.MEMBERS, filters={}, unmasked=True
        )
    assert exc.value.message_dict == {"reason": ["请填写导出明文的理由（至少 4 个字）"]}


# --- Keeping and deleting stored files


def test_stored_files_are_deleted_after_the_keeping_time(
    tree, county_cadre, members, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.export_start(
            acting_user=county_cadre, kind=ExportKind.MEMBERS, filters={}
        )
    export_file = ExportFile.objects.get(pk=outcome.export_file.pk)
    path = export_file.path
    assert path.exists()
    assert services.exports_cleanup() == (0, 0)
    later = export_file.expires_at + datetime.timedelta(seconds=1)
    assert services.exports_cleanup(now=later) == (1, 0)
    export_file.refresh_from_db()
    assert not path.exists() and export_file.deleted_at is not None and not export_file.ready


@pytest.mark.django_db(transaction=True)
def test_a_worker_reads_the_rows_outside_any_transaction(tree, county_cadre, settings):
    """As in production: the job runs in a worker, not inside a transaction; on PostgreSQL
    the rows stream from a second connection's server-side cursor."""
    from niangjia.jobs.services import run_one

    settings.EXPORT_INLINE_ROWS = 1
    settings.JOBS_INLINE = False
    from django.db import transaction

    with transaction.atomic():
        for i in range(3):
            make_member(tree.jiangan_grassroots, name=f"会员{i}")
    outcome = services.export_start(acting_user=county_cadre, kind=ExportKind.MEMBERS, filters={})
    assert run_one("test-worker")
    export_file = ExportFile.objects.get(pk=outcome.export_file.pk)
    job = Job.objects.get(pk=export_file.job_id)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.progress_done == job.progress_total == 3
    assert [r[1] for r in rows_of(export_file.path.read_bytes())[1:]] == ["会员0", "会员1", "会员2"]
    assert exports_audited()[0].detail["export_file"] == export_file.pk
