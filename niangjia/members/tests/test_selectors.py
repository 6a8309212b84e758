"""Reads of the member registry: the cadre list's filters, keyset pages, capped counts."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from niangjia.accounts.choices import Action
from niangjia.members import selectors, services
from niangjia.members.choices import ApplicationChannel, ApplicationStatus, EmploymentForm
from niangjia.members.models import JoinApplication, Member, id_hash_of, phone_hash_of
from niangjia.members.selectors import MemberFilters
from niangjia.orgs.choices import UnionKind, UnionLevel, UnionStatus
from niangjia.orgs.models import Union
from niangjia.utilities.testing.factories import UnionFactory
from niangjia.utilities.testing.members import join_data, make_id_number, make_member

pytestmark = pytest.mark.django_db


def names(members) -> list[str]:
    return [m.name for m in members]


def walk_forward(rows, limit):
    pages, cursor = [], None
    while True:
        page = selectors.member_keyset_page(rows, after=cursor, limit=limit)
        pages.append(page)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.fixture
def spread(tree):
    """Members in three unions (three tree paths) of 江岸, made in interleaved order so that
    id order and path order disagree."""
    extra = UnionFactory(parent=tree.jiangan, name="江岸另一家公司工会")
    unions = [tree.jiangan_grassroots, tree.jiangan, extra]
    members = [make_member(unions[i % 3], name=f"会员{i:02d}") for i in range(17)]
    return members


def test_keyset_pages_cover_every_member_exactly_once_in_path_order(spread, county_cadre):
    rows = selectors.member_search(user=county_cadre, filters=MemberFilters())
    pages = walk_forward(rows, limit=5)
    seen = [m.pk for page in pages for m in page.items]
    assert len(seen) == len(set(seen)) == 17
    assert [len(p.items) for p in pages] == [5, 5, 5, 2]
    expected = sorted(spread, key=lambda m: (m.union_path, m.pk))
    assert seen == [m.pk for m in expected]
    assert pages[0].previous_cursor is None
    assert all(p.previous_cursor for p in pages[1:])


def test_keyset_pages_go_back_to_the_same_pages(spread, county_cadre):
    rows = selectors.member_search(user=county_cadre, filters=MemberFilters())
    forward = walk_forward(rows, limit=4)
    back, cursor = [], forward[-1].previous_cursor
    while cursor:
        page = selectors.member_keyset_page(rows, before=cursor, limit=4)
        back.append(page)
        cursor = page.previous_cursor
    assert [names(p.items) for p in back] == [names(p.items) for p in reversed(forward[:-1])]
    assert back[-1].previous_cursor is None
    assert back[0].next_cursor == forward[-2].next_cursor


def test_a_page_boundary_inside_one_union_loses_and_repeats_nothing(tree, county_cadre):
    made = [make_member(tree.jiangan_grassroots) for _ in range(7)]
    rows = selectors.member_search(user=county_cadre, filters=MemberFilters())
    pages = walk_forward(rows, limit=3)
    assert [m.pk for p in pages for m in p.items] == [m.pk for m in made]


def test_members_joining_between_pages_do_not_shift_the_next_page(tree, county_cadre):
    made = [make_member(tree.jiangan_grassroots) for _ in range(4)]
    rows = selectors.member_search(user=county_cadre, filters=MemberFilters())
    first = selectors.member_keyset_page(rows, limit=2)
    make_member(tree.jiangan)  # a shorter path: sorts before every member already shown
    second = selectors.member_keyset_page(rows, after=first.next_cursor, limit=2)
    assert [m.pk for m in second.items] == [m.pk for m in made[2:]]


@pytest.mark.parametrize(
    "cursor",
    ["", "x", "0001-", "0001-0", "0001.5", "001-5", "0001-5; DROP", "0001-12345678901234567890"],
)
def test_a_bad_cursor_is_refused_in_chinese(tree, county_cadre, cursor):
    rows = selectors.member_search(user=county_cadre, filters=MemberFilters())
    if not cursor:
        assert selectors.member_keyset_page(rows, after=cursor).items == []
        return
    with pytest.raises(ValidationError) as exc:
        selectors.member_keyset_page(rows, after=cursor)
    assert exc.value.message_dict == {"cursor": ["翻页游标无效，请从第一页重新开始"]}


def test_a_page_is_one_query_without_offset_and_an_index_range_on_postgresql(spread, county_cadre):
    rows = selectors.member_search(user=county_cadre, filters=MemberFilters())
    first = selectors.member_keyset_page(rows, limit=5)
    with CaptureQueriesContext(connection) as queries:
        selectors.member_keyset_page(rows, after=first.next_cursor, limit=5)
        selectors.member_keyset_page(rows, before=first.next_cursor, limit=5)
    sql = [q["sql"] for q in queries.captured_queries if "members_member" in q["sql"]]
    assert len(sql) == 2
    assert not any("OFFSET" in s.upper() for s in sql)
    if connection.vendor == "postgresql":
        assert '("members_member"."union_path", "members_member"."id") >' in sql[0]
        assert '("members_member"."union_path", "members_member"."id") <' in sql[1]


def test_capped_count_stops_at_the_cap_unless_exact(tree, county_cadre):
    for _ in range(6):
        make_member(tree.jiangan_grassroots)
    rows = selectors.member_search(user=county_cadre, filters=MemberFilters())
    assert selectors.capped_count(rows, cap=4) == selectors.RowCount(4, True, False)
    assert selectors.capped_count(rows, cap=6) == selectors.RowCount(6, False, False)
    assert selectors.capped_count(rows, cap=4, exact=True) == selectors.RowCount(6, False, True)


def test_member_search_stays_in_scope_and_narrows(tree, county_cadre, sibling_cadre):
    phone = "13900001111"
    number = make_id_number(birth="19800202")
    ours = make_member(
        tree.jiangan_grassroots,
        name="欧阳锋",
        phone=phone,
        id_number=number,
        employment_form=EmploymentForm.GIG,
        gig_occupation="courier",
    )
    make_member(tree.jiangan_grassroots, name="黄药师", employer=tree.jiangan_employer)
    theirs = make_member(tree.jianghan_grassroots, name="欧阳克")

    def search(user=county_cadre, **kw):
        return set(names(selectors.member_search(user=user, filters=MemberFilters(**kw))))

    assert search() == {"欧阳锋", "黄药师"}
    assert search(user=sibling_cadre) == {"欧阳克"}
    assert search(name="欧阳") == {"欧阳锋"}
    assert search(name="阳", name_contains=True) == {"欧阳锋"}
    assert search(name="阳") == set()
    assert search(phone_hash=phone_hash_of(phone)) == {"欧阳锋"}
    assert search(id_hash=id_hash_of(number)) == {"欧阳锋"}
    # The keyed hash of someone else's number finds nothing outside the scope.
    assert search(id_hash=theirs.id_hash) == set()
    assert search(gig_occupation="courier") == {"欧阳锋"}
    assert search(employer="长江机械") == {"黄药师"}
    assert search(employer="汉江物流") == set()  # 江汉's employer: not seen by 江岸
    assert search(member_pk=ours.pk) == {"欧阳锋"}
    assert search(within=tree.jiangan_grassroots) == {"欧阳锋", "黄药师"}
    assert search(joined_from=datetime.date.today() + datetime.timedelta(days=1)) == set()


def test_filters_describe_themselves_without_clear_numbers(tree):
    filters = MemberFilters(status="active", within=tree.jiangan, phone_hash="ab" * 32)
    assert filters.describe() == {
        "status": "active",
        "within": str(tree.jiangan.pk),
        "phone_hash": "ab" * 32,
    }


def test_member_record_has_history_applications_and_transfers(tree, county_cadre, sibling_cadre):
    member = make_member(tree.jiangan_grassroots)
    services.transfer_release(
        member=member, to_union=tree.jianghan_grassroots, reason="调动", acting_user=county_cadre
    )
    record = selectors.member_record(user=county_cadre, member=member)
    assert [e.kind for e in record.events] == ["joined", "transfer_out"]
    assert len(record.applications) == 1 and len(record.transfers) == 1
    # The receiving side sees the transfer but not the application made in 江岸.
    other = selectors.member_record(user=sibling_cadre, member=member)
    assert len(other.transfers) == 1 and other.applications == []


def test_application_counts_pending_and_overdue(tree, county_cadre, sibling_cadre):
    def submit(union):
        return services.application_submit(
            union=union, data=join_data(), channel=ApplicationChannel.ONLINE
        )

    late = submit(tree.jiangan_grassroots)
    submit(tree.jiangan_grassroots)
    submit(tree.jianghan_grassroots)
    JoinApplication.objects.filter(pk=late.pk).update(due_date=datetime.date(2020, 1, 2))
    counts = selectors.application_counts(user=county_cadre)
    assert (counts["pending"].total, counts["overdue"].total) == (2, 1)
    services.application_reject(application=late, acting_user=county_cadre, reason="重复")
    counts = selectors.application_counts(user=county_cadre)
    assert (counts["pending"].total, counts["overdue"].total) == (1, 0)
    assert selectors.application_counts(user=sibling_cadre)["pending"].total == 1
    assert JoinApplication.objects.filter(status=ApplicationStatus.REJECTED).count() == 1


def test_transfer_targets_are_every_active_union_that_takes_members(tree):
    joint = UnionFactory(parent=tree.jianghan, kind=UnionKind.JOINT, level=UnionLevel.GRASSROOTS)
    closed = UnionFactory(parent=tree.jianghan, name="已撤销的公司工会")
    Union.objects.filter(pk=closed.pk).update(status=UnionStatus.DISSOLVED)
    targets = set(selectors.transfer_targets())
    assert {tree.jiangan_grassroots, tree.jianghan_grassroots, joint} <= targets
    assert {tree.jiangan, tree.jianghan} <= targets  # county federations hold members too
    assert not targets & {tree.root, tree.hubei, tree.wuhan, tree.transport_industry}
    assert closed not in targets
    assert set(selectors.transfer_targets(q="汉江")) == {tree.jianghan_grassroots}


def test_export_scope_excludes_members_the_user_may_only_view(tree, auditor, county_cadre):
    make_member(tree.jiangan_grassroots)
    assert selectors.member_search(user=auditor, filters=MemberFilters()).count() == 1
    exportable = selectors.member_search(
        user=auditor, filters=MemberFilters(), action=Action.EXPORT
    )
    assert not exportable.exists()
    assert Member.objects.count() == 1


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the plans of PostgreSQL's indexes"
)


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan TO DEFAULT")
    return plan


@on_postgresql
def test_a_subtree_is_a_range_of_the_path_index_whatever_the_database_collation(tree, county_cadre):
    make_member(tree.jiangan_grassroots)
    rows = selectors.member_search(user=county_cadre, filters=MemberFilters())
    page = rows.order_by("union_path", "id")[:51]
    plan = _plan(page)
    assert "member_union_path_id" in plan
    # The LIKE prefix became the bounds of the index scan, not a filter over the whole index.
    assert f"Index Cond: (((union_path)::text >= '{tree.jiangan.path}'" in plan


@on_postgresql
def test_a_name_prefix_search_can_read_the_name_index(tree, national_admin):
    make_member(tree.jiangan_grassroots, name="欧阳锋")
    rows = selectors.member_search(user=national_admin, filters=MemberFilters(name="欧阳"))
    assert "member_name_prefix" in _plan(rows.order_by())
