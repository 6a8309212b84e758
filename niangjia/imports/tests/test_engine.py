"""The member import from file to registry: dry run counts, problems, commit, idempotency,
conflicts, scope and resumption."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from niangjia.audit.models import AuditEntry
from niangjia.imports import engine, services
from niangjia.imports.choices import ImportState, Outcome
from niangjia.imports.models import ImportProblem, ImportRun, StagedMember
from niangjia.imports.report import problem_report
from niangjia.members.choices import MemberStatus
from niangjia.members.models import Member, MemberEvent, id_hash_of
from niangjia.utilities.testing.members import make_id_number, make_member, make_phone
from niangjia.utilities.xlsx import write_xlsx

pytestmark = pytest.mark.django_db

_capture: Any = None


@pytest.fixture(autouse=True)
def _run_jobs_on_commit(django_capture_on_commit_callbacks):
    """Services queue their job in their own transaction; with JOBS_INLINE it runs when that
    transaction commits, which inside a test's transaction is what this capture stands for."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


HEADERS = [
    "序号",
    "姓名",
    "身份证号",
    "手机",
    "民族",
    "学历",
    "户籍",
    "工作单位",
    "所在工会",
    "入会时间",
    "备注",
]


def workbook(rows: list[list[Any]], *, title_row: bool = True) -> io.BytesIO:
    """An xlsx as a cadre would send it: a title line above the header, extra columns."""
    out = io.BytesIO()
    body: list[list[Any]] = []
    if title_row:
        body.append(["江岸区2024年会员实名制采集表"] + [None] * (len(HEADERS) - 1))
    body.append(HEADERS)
    body.extend(rows)
    result = write_xlsx(title="名册", headers=body[0], rows=body[1:])
    out.write(result.file.read())
    result.file.close()
    out.seek(0)
    return out


def row(
    n: int,
    *,
    name: str = "",
    id_number: str = "",
    phone: str = "",
    union: str = "武汉长江机械有限公司工会",
    joined: Any = "2024/1/5",
    employer: str = "武汉长江机械有限公司",
) -> list[Any]:
    return [
        n,
        name or f"会员{n}",
        id_number or make_id_number(serial=n),
        phone or make_phone(serial=n),
        "汉族",
        "本科",
        "农村户籍",
        employer,
        union,
        joined,
        "",
    ]


def upload(user: Any, union: Any, rows: list[list[Any]], name: str = "名册.xlsx") -> ImportRun:
    return services.import_upload(
        acting_user=user, union=union, kind="members", file=workbook(rows), original_name=name
    )


def dry_run(run: ImportRun, user: Any) -> ImportRun:
    with _capture(execute=True):
        services.import_dry_run(run=run, acting_user=user)
    return ImportRun.objects.get(pk=run.pk)


def commit(run: ImportRun, user: Any) -> ImportRun:
    with _capture(execute=True):
        services.import_commit(run=run, acting_user=user)
    return ImportRun.objects.get(pk=run.pk)


def test_upload_finds_the_header_below_a_title_row_and_proposes_the_mapping(tree, personas):
    run = upload(personas["county_cadre"], tree.jiangan, [row(1)])
    assert run.header_row == 2
    assert run.mapping == {
        "1": "name",
        "2": "id_number",
        "3": "phone",
        "4": "ethnic_group",
        "5": "education",
        "6": "household",
        "7": "employer_name",
        "8": "union",
        "9": "join_date",
    }
    assert run.state == ImportState.UPLOADED
    assert AuditEntry.objects.filter(object_type="imports.importrun", action="create").count() == 1


def test_dry_run_counts_every_kind_of_row_and_names_column_and_reason(tree, personas):
    cadre = personas["county_cadre"]
    elsewhere = make_member(tree.jianghan_grassroots, id_number=make_id_number(serial=900))
    same = make_member(
        tree.jiangan_grassroots,
        name="会员901",
        id_number=make_id_number(serial=901),
        phone=make_phone(serial=901),
    )
    rows = [
        row(1),
        row(2, joined=45296),
        row(
            3,
            id_number=make_id_number(serial=3)[:17]
            + ("0" if make_id_number(serial=3)[17] != "0" else "1"),
        ),
        row(4, phone="1381234567"),
        row(5, union="不存在的工会"),
        row(6, id_number=make_id_number(serial=1)),  # the person of row 1 again
        row(7, id_number=elsewhere.reveal_id_number()),
        row(8, id_number=same.reveal_id_number(), name="会员901"),
        row(9, joined=(datetime.date.today() + datetime.timedelta(days=3)).isoformat()),
        row(10, id_number=4.20102199001011e17),
    ]
    rows[7][3] = same.reveal_phone()
    run = dry_run(upload(cadre, tree.jiangan, rows), cadre)
    assert run.state == ImportState.VALIDATED
    assert (run.rows_total, run.rows_new, run.rows_updated, run.rows_unchanged) == (10, 2, 1, 0)
    assert (run.rows_error, run.rows_conflict) == (6, 1)
    problems = {p.row_no: p for p in ImportProblem.objects.filter(run=run)}
    assert "「身份证号」身份证号码校验位不正确" in problems[5].message
    assert "「手机」应为 11 位" in problems[6].message
    assert "「所在工会」“不存在的工会”不是本次导入范围内" in problems[7].message
    assert "与第 3 行是同一人" in problems[8].message
    assert problems[9].outcome == Outcome.CONFLICT
    assert "武汉汉江物流有限公司工会" in problems[9].message
    assert "「入会时间」不能晚于今天" in problems[11].message
    assert "科学计数法" in problems[12].message
    assert problems[7].raw[1] == "会员5"
    # Nothing written to the registry by a dry run.
    assert Member.objects.count() == 2


def test_error_report_has_the_original_columns_and_the_reason(tree, personas):
    cadre = personas["county_cadre"]
    run = dry_run(upload(cadre, tree.jiangan, [row(1), row(2, phone="12")]), cadre)
    result = problem_report(run=run, acting_user=cadre)
    sheet = load_workbook(result.file, read_only=True).worksheets[0]
    lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert lines[0] == ["原文件行号", *HEADERS, "问题类别", "原因"]
    assert lines[1][0] == 4 and lines[1][2] == "会员2"
    assert lines[1][-2] == "有误" and "「手机」" in lines[1][-1]
    assert AuditEntry.objects.filter(action="export", object_id=str(run.pk)).exists()


def test_commit_writes_members_with_history_and_one_audit_row_per_chunk(tree, personas, settings):
    settings.IMPORT_COMMIT_CHUNK = 2
    cadre = personas["county_cadre"]
    run = dry_run(upload(cadre, tree.jiangan, [row(n) for n in range(1, 6)]), cadre)
    run = commit(run, cadre)
    assert run.state == ImportState.COMMITTED
    assert run.committed_new == 5
    members = Member.objects.filter(union=tree.jiangan_grassroots).order_by("name")
    assert [m.name for m in members] == ["会员1", "会员2", "会员3", "会员4", "会员5"]
    first = members[0]
    assert first.reveal_id_number() == make_id_number(serial=1)
    assert first.household == "rural" and first.education == "bachelor"
    assert first.join_date == datetime.date(2024, 1, 5)
    assert first.employer == tree.jiangan_employer  # found by its exact name in the subtree
    assert MemberEvent.objects.filter(member__in=members, kind="joined").count() == 5
    chunks = AuditEntry.objects.filter(action="import", object_id=str(run.pk))
    assert chunks.count() == 3
    assert all(entry.detail["sha256"] == run.sha256 for entry in chunks)
    assert not StagedMember.objects.filter(run=run).exists()  # personal data not kept twice


def test_the_same_file_again_changes_nothing(tree, personas):
    cadre = personas["county_cadre"]
    rows = [row(n) for n in range(1, 4)]
    commit(dry_run(upload(cadre, tree.jiangan, rows), cadre), cadre)
    before = list(Member.objects.order_by("pk").values_list("pk", "updated_at"))
    again = dry_run(upload(cadre, tree.jiangan, rows), cadre)
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    again = commit(again, cadre)
    assert again.committed_new == 0 and again.committed_updated == 0
    assert list(Member.objects.order_by("pk").values_list("pk", "updated_at")) == before


def test_a_corrected_row_updates_the_member_with_a_history_row(tree, personas):
    cadre = personas["county_cadre"]
    commit(dry_run(upload(cadre, tree.jiangan, [row(1)]), cadre), cadre)
    changed = row(1, phone=make_phone(serial=555))
    run = commit(dry_run(upload(cadre, tree.jiangan, [changed]), cadre), cadre)
    assert run.committed_updated == 1
    member = Member.objects.get(id_hash=id_hash_of(make_id_number(serial=1)))
    assert member.reveal_phone() == make_phone(serial=555)
    assert member.events.filter(kind="changed").count() == 1


def test_a_person_who_joined_elsewhere_after_the_dry_run_becomes_a_conflict_not_a_second_membership(
    tree, personas
):
    cadre = personas["county_cadre"]
    run = dry_run(upload(cadre, tree.jiangan, [row(1), row(2)]), cadre)
    make_member(tree.jianghan_grassroots, id_number=make_id_number(serial=2))
    run = commit(run, cadre)
    assert run.committed_new == 1 and run.committed_conflict == 1
    assert Member.objects.filter(id_hash=id_hash_of(make_id_number(serial=2))).count() == 1
    late = ImportProblem.objects.get(run=run, row_no=4)
    assert late.outcome == Outcome.CONFLICT and "已在别处入会" in late.message


def test_a_former_member_is_taken_back(tree, personas):
    cadre = personas["county_cadre"]
    former = make_member(tree.jianghan_grassroots, id_number=make_id_number(serial=7))
    Member.objects.filter(pk=former.pk).update(status=MemberStatus.LEFT)
    run = commit(dry_run(upload(cadre, tree.jiangan, [row(7)]), cadre), cadre)
    assert run.committed_updated == 1
    former.refresh_from_db()
    assert former.status == MemberStatus.ACTIVE and former.union == tree.jiangan_grassroots


def test_unions_outside_the_import_subtree_are_row_errors(tree, personas):
    cadre = personas["county_cadre"]
    run = dry_run(upload(cadre, tree.jiangan, [row(1, union="武汉汉江物流有限公司工会")]), cadre)
    assert run.rows_error == 1 and run.rows_new == 0


def test_a_cadre_cannot_import_into_a_union_outside_their_scope(tree, personas):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        upload(personas["county_cadre"], tree.jianghan, [row(1)])
    assert Member.objects.count() == 0
    assert not ImportRun.objects.exists()


def test_rows_of_a_union_closed_after_the_dry_run_are_not_committed(tree, personas):
    from niangjia.orgs.choices import UnionStatus
    from niangjia.orgs.models import Union

    cadre = personas["county_cadre"]
    run = dry_run(upload(cadre, tree.jiangan, [row(1)]), cadre)
    Union.objects.filter(pk=tree.jiangan_grassroots.pk).update(status=UnionStatus.DISSOLVED)
    run = commit(run, cadre)
    assert run.committed_new == 0 and run.committed_conflict == 1
    assert not Member.objects.exists()
    assert "已不在您的管辖范围内，或已撤销" in ImportProblem.objects.get(run=run).message


def test_a_cadre_who_lost_the_role_cannot_commit(tree, personas):
    from django.core.exceptions import PermissionDenied

    from niangjia.accounts.models import RoleAssignment, User

    cadre = personas["county_cadre"]
    run = dry_run(upload(cadre, tree.jiangan, [row(1)]), cadre)
    RoleAssignment.objects.filter(user=cadre).delete()
    with pytest.raises(PermissionDenied):
        services.import_commit(run=run, acting_user=User.objects.get(pk=cadre.pk))
    assert not Member.objects.exists()


def test_hostile_files_are_refused_and_nothing_is_stored(tree, personas):
    cadre = personas["county_cadre"]
    files_before = set(engine.import_dir().iterdir())
    with pytest.raises(ValidationError) as caught:
        services.import_upload(
            acting_user=cadre,
            union=tree.jiangan,
            kind="members",
            file=io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200),
            original_name="名册.xlsx",
        )
    assert "不是电子表格" in str(caught.value)
    assert not ImportRun.objects.exists()
    assert set(engine.import_dir().iterdir()) == files_before


def test_commit_resumes_after_a_crash_from_the_checkpoint_without_duplicates(
    tree, personas, settings
):
    settings.IMPORT_COMMIT_CHUNK = 2
    cadre = personas["county_cadre"]
    run = dry_run(upload(cadre, tree.jiangan, [row(n) for n in range(1, 8)]), cadre)
    run.state = ImportState.COMMITTING
    run.committed_by = cadre
    run.save()
    calls = {"n": 0}

    def crash_after_second_chunk(hi: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the chunk's transaction rolls back, as with kill -9

    with pytest.raises(KeyboardInterrupt):
        engine.member_commit(run, acting_user=cadre, on_chunk=crash_after_second_chunk)
    assert list(run.chunks.values_list("lo", "hi")) == [(2, 4)]  # file rows 3 and 4
    assert Member.objects.count() == 2
    run = engine.member_commit(run, acting_user=cadre)
    assert run.committed_new == 7
    assert Member.objects.filter(union=tree.jiangan_grassroots).count() == 7


def test_a_resumed_commit_checks_the_unions_again(tree, personas, settings):
    from niangjia.orgs.choices import UnionStatus
    from niangjia.orgs.models import Union

    settings.IMPORT_COMMIT_CHUNK = 2
    cadre = personas["county_cadre"]
    run = dry_run(upload(cadre, tree.jiangan, [row(n) for n in range(1, 6)]), cadre)
    run.state = ImportState.COMMITTING
    run.committed_by = cadre
    run.save()

    def crash_after_first_chunk(hi: int) -> None:
        if hi > 4:
            raise KeyboardInterrupt  # the second chunk rolls back, as with kill -9

    with pytest.raises(KeyboardInterrupt):
        engine.member_commit(run, acting_user=cadre, on_chunk=crash_after_first_chunk)
    assert Member.objects.count() == 2
    # Closed while the commit was down: the rows not yet written are refused on resume.
    Union.objects.filter(pk=tree.jiangan_grassroots.pk).update(status=UnionStatus.DISSOLVED)
    run = engine.member_commit(run, acting_user=cadre)
    assert (run.committed_new, run.committed_conflict) == (2, 3)
    assert Member.objects.count() == 2
    refused = ImportProblem.objects.filter(run=run).order_by("row_no")
    assert list(refused.values_list("row_no", flat=True)) == [5, 6, 7]
    assert all("已不在您的管辖范围内，或已撤销" in p.message for p in refused)


def test_cancelled_dry_run_can_be_started_again(tree, personas):
    cadre = personas["county_cadre"]
    run = upload(cadre, tree.jiangan, [row(1)])
    ImportRun.objects.filter(pk=run.pk).update(state=ImportState.VALIDATING)
    run = services.import_cancel(run=ImportRun.objects.get(pk=run.pk), acting_user=cadre)
    assert run.state == ImportState.CANCELLED
    run = dry_run(run, cadre)
    assert run.state == ImportState.VALIDATED and run.rows_new == 1


def test_mapping_needs_each_required_field_once(tree, personas):
    cadre = personas["county_cadre"]
    run = upload(cadre, tree.jiangan, [row(1)])
    with pytest.raises(ValidationError) as caught:
        services.import_set_mapping(run=run, acting_user=cadre, mapping={1: "name", 3: "phone"})
    assert "缺少必填列“身份证号码”" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        services.import_set_mapping(
            run=run, acting_user=cadre, mapping={1: "name", 2: "id_number", 3: "phone", 10: "phone"}
        )
    assert "对应了两列" in str(caught.value)


def test_template_example_row_is_skipped(tree, personas):
    from niangjia.imports.templates import template_for

    cadre = personas["county_cadre"]
    _name, content = template_for("members")
    run = services.import_upload(
        acting_user=cadre,
        union=tree.jiangan_grassroots,
        kind="members",
        file=io.BytesIO(content),
        original_name="模板.xlsx",
    )
    run = dry_run(run, cadre)
    assert run.rows_total == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_write_the_chunks_of_a_commit_each_once(tree, personas, settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("chunks are written in parallel on PostgreSQL only (SQLite has one writer)")
    settings.IMPORT_COMMIT_WORKERS = 2
    settings.IMPORT_COMMIT_CHUNK = 2
    cadre = personas["county_cadre"]
    run = upload(cadre, tree.jiangan, [row(n) for n in range(1, 10)])
    services.import_dry_run(run=run, acting_user=cadre)
    run = ImportRun.objects.get(pk=run.pk)
    assert run.state == ImportState.VALIDATED
    services.import_commit(run=run, acting_user=cadre)
    run = ImportRun.objects.get(pk=run.pk)
    assert run.state == ImportState.COMMITTED
    assert run.committed_new == 9 and run.chunks.count() == 5
    assert Member.objects.filter(union=tree.jiangan_grassroots).count() == 9
    assert MemberEvent.objects.filter(kind="joined").count() == 9


@pytest.mark.django_db(transaction=True)
def test_a_committed_run_removes_its_staged_rows_and_keeps_another_runs(tree, personas):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the table is emptied at once on PostgreSQL only")
    cadre = personas["county_cadre"]
    first = upload(cadre, tree.jiangan, [row(n) for n in range(1, 4)])
    services.import_dry_run(run=first, acting_user=cadre)
    other = upload(cadre, tree.jiangan, [row(n) for n in range(4, 6)])
    services.import_dry_run(run=other, acting_user=cadre)
    services.import_commit(run=ImportRun.objects.get(pk=first.pk), acting_user=cadre)
    assert ImportRun.objects.get(pk=first.pk).state == ImportState.COMMITTED
    assert not StagedMember.objects.filter(run=first).exists()
    assert StagedMember.objects.filter(run=other).count() == 2  # another run's rows stay
    services.import_commit(run=ImportRun.objects.get(pk=other.pk), acting_user=cadre)
    assert not StagedMember.objects.exists()  # the last one empties the table
    assert Member.objects.filter(union=tree.jiangan_grassroots).count() == 5


@pytest.mark.django_db(transaction=True)
def test_two_checking_processes_find_what_one_finds(tree, personas, monkeypatch):
    from django.db import connection

    from niangjia.imports import parts

    if connection.vendor != "postgresql":
        pytest.skip("a dry run is checked in two processes on PostgreSQL only")
    cadre = personas["county_cadre"]
    twice = make_id_number(serial=99)
    rows = [row(n) for n in range(1, 12)] + [
        row(12, phone="12"),
        row(13, id_number=make_id_number(serial=2)),
        row(14, id_number=twice),
        row(15, id_number=twice),
        row(16, id_number=make_id_number(serial=5)),
    ]
    # Data row n is sheet row n + 2 (a title line, the header). Parts of three sheet rows:
    # 1-3 to the first worker, 4-6 to the second, 7-9 to the first, … ; batches of two. Sheet
    # row 15 repeats row 4 of the other worker's part, 17 repeats 16 of its own part, 18
    # repeats 7 of the other worker's.
    monkeypatch.setattr(parts, "CSV_PART_ROWS", 3)
    monkeypatch.setattr(engine, "BATCH", 2)
    serial = upload(cadre, tree.jiangan, rows)
    services.import_dry_run(run=serial, acting_user=cadre)
    serial = ImportRun.objects.get(pk=serial.pk)
    assert engine.dry_run_workers(serial, len(rows)) == 1  # below PARALLEL_FROM_ROWS
    monkeypatch.setattr(engine, "PARALLEL_FROM_ROWS", 1)
    forked = upload(cadre, tree.jiangan, rows)
    assert engine.dry_run_workers(forked, len(rows)) == 2
    services.import_dry_run(run=forked, acting_user=cadre)
    forked = ImportRun.objects.get(pk=forked.pk)
    counts = ("state", "rows_total", "rows_new", "rows_error", "rows_conflict")
    assert (
        [getattr(forked, c) for c in counts]
        == [getattr(serial, c) for c in counts]
        == [ImportState.VALIDATED, 16, 12, 4, 0]
    )
    problems = list(
        ImportProblem.objects.filter(run=forked).order_by("row_no").values_list("row_no", "message")
    )
    assert problems == list(
        ImportProblem.objects.filter(run=serial).order_by("row_no").values_list("row_no", "message")
    )
    assert [(r, m.split("」", 1)[1]) for r, m in problems if "同一人" in m] == [
        (15, "与第 4 行是同一人，重复出现"),
        (17, "与第 16 行是同一人，重复出现"),
        (18, "与第 7 行是同一人，重复出现"),
    ]
    staged = StagedMember.objects.filter(run=forked).order_by("row_no")
    assert list(staged.values_list("row_no", "id_hash")) == list(
        StagedMember.objects.filter(run=serial).order_by("row_no").values_list("row_no", "id_hash")
    )


def test_a_person_known_from_a_later_part_does_not_make_an_earlier_row_a_duplicate():
    """The other worker may be ahead: what it reports of later parts arrives before this
    worker stages an earlier one, and a person's first row in the file still wins."""
    import queue
    import threading

    inboxes: list[Any] = [queue.Queue(), queue.Queue()]
    first = engine._Exchange(0, 2, inboxes, threading.Event())
    second = engine._Exchange(1, 2, inboxes, threading.Event())
    second.publish(1, [7, 8], [40, 41])
    second.publish(3, [9], [90])  # ahead of the first worker's part 2
    seen: dict[int, int] = {}
    first.learn_before(2, seen)
    assert seen == {7: 40, 8: 41}  # part 3 not needed yet, maybe not read
    first.learn_before(4, seen)
    assert seen == {7: 40, 8: 41, 9: 90}
    # Staging part 2 (rows 50-60) with person 9: 90 is later, so row 55 is the first.
    first.publish(0, [], [])
    first.publish(2, [9], [55])
    second_seen: dict[int, int] = {9: 90}
    second.learn_before(3, second_seen)
    assert second_seen == {9: 55}  # the earlier row wins on the other side too


def test_a_reason_names_a_template_column_without_its_required_mark(tree, personas):
    from openpyxl import load_workbook as open_workbook

    from niangjia.imports.templates import template_for

    cadre = personas["county_cadre"]
    book = open_workbook(io.BytesIO(template_for("members")[1]))
    sheet = book.worksheets[0]
    at = {str(cell.value): cell.column for cell in sheet[1] if cell.value}
    assert "*手机号码" in at  # the template marks the required columns
    for header, value in {"*姓名": "王芳", "*身份证号码": make_id_number(serial=1)}.items():
        sheet.cell(row=3, column=at[header], value=value)
    sheet.cell(row=3, column=at["*手机号码"], value="1397123")
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    run = services.import_upload(
        acting_user=cadre, union=tree.jiangan, kind="members", file=out, original_name="模板.xlsx"
    )
    run = dry_run(run, cadre)
    assert ImportProblem.objects.get(run=run).message.startswith("「手机号码」应为 11 位")
