"""Joining at a ceremony venue with auto-approval: the one-statement path on PostgreSQL writes
the same member, history, application and audit as the general path; the unique index on the
keyed hash stays the guard under concurrent submissions; counters and their repair."""

from __future__ import annotations

import threading
import time
from functools import partial

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.members import forms, selectors, services
from niangjia.members.choices import ApplicationChannel, ApplicationStatus, MemberStatus
from niangjia.members.forms import JoinForm
from niangjia.members.models import (
    PERSONAL_FIELDS,
    CeremonyVenue,
    JoinApplication,
    JoinCeremony,
    Member,
    MemberEvent,
)
from niangjia.members.views_public import employer_area
from niangjia.utilities.sqlinsert import Params, prepared_cursor, row_of
from niangjia.utilities.testing.members import join_data, make_id_number, make_phone
from niangjia.utilities.testing.personas import Tree, build_tree, make_persona

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the one-statement ceremony join is PostgreSQL's (data-modifying WITH)",
)


def ceremony_venue(tree: Tree, *, auto_approve: bool = True, name: str = "一号会场"):
    now = timezone.now()
    ceremony = JoinCeremony.objects.create(
        name="江岸区职工集中入会仪式",
        union=tree.jiangan,
        starts_at=now - timezone.timedelta(hours=1),
        ends_at=now + timezone.timedelta(hours=2),
        auto_approve=auto_approve,
    )
    return CeremonyVenue.objects.create(
        ceremony=ceremony,
        name=name,
        union=tree.jiangan_grassroots,
        token=services.new_venue_token(),
    )


def join(venue: CeremonyVenue, **overrides) -> JoinApplication:
    return services.application_submit(
        union=venue.union,
        data=join_data(**overrides),
        channel=ApplicationChannel.CEREMONY,
        venue=venue,
    )


def counters(venue: CeremonyVenue) -> tuple[int, int]:
    venue.refresh_from_db()
    venue.ceremony.refresh_from_db()
    return venue.joined_count, venue.ceremony.joined_count


@pytest.mark.django_db
@postgresql_only
def test_a_new_person_becomes_a_member_in_one_statement_with_one_audit_row(tree):
    venue = ceremony_venue(tree)
    with CaptureQueriesContext(connection) as queries:
        application = join(venue, name="王  芳")
    statements = [q["sql"] for q in queries.captured_queries]
    assert sum(s.startswith("WITH member AS (INSERT") for s in statements) == 1
    assert not any(s.startswith("SELECT") for s in statements)

    application = JoinApplication.objects.get(pk=application.pk)
    member = Member.objects.get()
    assert application.status == ApplicationStatus.APPROVED
    assert application.member == member and application.decided_by is None
    assert application.decision_reason == services.CEREMONY_REASON
    assert application.venue == venue and application.channel == ApplicationChannel.CEREMONY
    assert member.name == "王 芳" and member.status == MemberStatus.ACTIVE
    assert member.union == tree.jiangan_grassroots
    assert member.union_path == tree.jiangan_grassroots.path
    assert member.join_date == timezone.localdate() == member.status_changed_on
    for name in PERSONAL_FIELDS:
        assert getattr(member, name) == getattr(application, name), name
    event = MemberEvent.objects.get()
    assert (event.member, event.kind, event.from_status, event.to_status) == (
        member,
        MemberEvent.Kind.JOINED,
        "",
        MemberStatus.ACTIVE,
    )
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.CREATE
    assert (entry.object_type, entry.object_id) == ("members.joinapplication", str(application.pk))
    assert entry.actor is None and entry.actor_name == "王**"
    assert entry.union_path == tree.jiangan_grassroots.path
    assert entry.after == {
        "channel": "ceremony",
        "union": tree.jiangan_grassroots.pk,
        "venue": venue.pk,
        "status": "approved",
        "member": member.pk,
    }
    assert entry.detail == {"reason": services.CEREMONY_REASON}
    assert member.reveal_id_number() not in str(entry.after) + entry.object_repr
    assert counters(venue) == (1, 1)


@pytest.mark.django_db
@postgresql_only
def test_fast_and_general_paths_write_the_same_member_and_application(tree, monkeypatch):
    venue = ceremony_venue(tree)
    fast = join(venue, id_number=make_id_number(serial=901), phone=make_phone(901))
    monkeypatch.setattr(services, "_join_at_ceremony", lambda application, venue: False)
    general = join(venue, id_number=make_id_number(serial=902), phone=make_phone(902))
    skip = {"id", "id_number_enc", "id_hash", "id_masked", "phone_enc", "phone_hash"}
    skip |= {"phone_masked", "created_at", "updated_at", "submitted_at", "decided_at", "member"}
    skip |= {"birth_date", "sex"}  # the two numbers differ only in their serial

    def values(obj):
        return {
            f.attname: getattr(obj, f.attname)
            for f in obj._meta.concrete_fields
            if f.name not in skip and f.attname not in skip
        }

    fast_app = JoinApplication.objects.get(pk=fast.pk)
    general_app = JoinApplication.objects.get(pk=general.pk)
    assert {**values(fast_app), "id": 0} == {**values(general_app), "id": 0}
    fast_member, general_member = fast_app.member, general_app.member
    assert values(fast_member) == values(general_member)
    assert [values(e) for e in fast_member.events.all()] == [
        values(e) for e in general_member.events.all()
    ]
    assert counters(venue) == (2, 2)


@pytest.mark.django_db
@postgresql_only
def test_a_member_joining_again_is_told_so_and_nothing_is_written(tree):
    venue = ceremony_venue(tree)
    data = {"id_number": make_id_number(serial=903), "phone": make_phone(903)}
    join(venue, **data)
    with pytest.raises(services.AlreadyMember, match="无需重复入会"):
        join(venue, **data)
    assert JoinApplication.objects.count() == Member.objects.count() == 1
    assert AuditEntry.objects.count() == 1
    assert counters(venue) == (1, 1)


@pytest.mark.django_db
@postgresql_only
def test_a_pending_application_elsewhere_is_answered_not_overtaken(tree):
    data = {"id_number": make_id_number(serial=904), "phone": make_phone(904)}
    services.application_submit(
        union=tree.jianghan_grassroots, data=join_data(**data), channel=ApplicationChannel.QR
    )
    venue = ceremony_venue(tree)
    with pytest.raises(services.AlreadyApplied, match="请勿重复提交"):
        join(venue, **data)
    assert Member.objects.count() == 0
    assert JoinApplication.objects.get().status == ApplicationStatus.SUBMITTED
    assert counters(venue) == (0, 0)


@pytest.mark.django_db
@postgresql_only
def test_a_former_member_is_readmitted_through_the_general_path(tree, county_cadre):
    venue = ceremony_venue(tree)
    data = {"id_number": make_id_number(serial=905), "phone": make_phone(905)}
    member = join(venue, **data).member
    services.member_change_status(
        member=member, to_status=MemberStatus.LEFT, reason="本人申请退会", acting_user=county_cadre
    )
    again = join(venue, **data)
    member.refresh_from_db()
    assert again.member == member and member.status == MemberStatus.ACTIVE
    assert Member.objects.count() == 1 and JoinApplication.objects.count() == 2
    assert counters(venue) == (2, 2)


@pytest.mark.django_db
@postgresql_only
def test_a_venue_without_auto_approval_keeps_the_application_pending(tree):
    venue = ceremony_venue(tree, auto_approve=False)
    application = join(venue)
    assert JoinApplication.objects.get(pk=application.pk).status == ApplicationStatus.SUBMITTED
    assert Member.objects.count() == 0
    assert counters(venue) == (0, 0)


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_concurrent_submissions_of_one_person_make_one_member():
    tree = build_tree()
    venue = ceremony_venue(tree)
    data = join_data(id_number=make_id_number(serial=906), phone=make_phone(906))
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait()
            services.application_submit(
                union=venue.union, data=data, channel=ApplicationChannel.CEREMONY, venue=venue
            )
            outcomes.append("joined")
        except services.AlreadyMember:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already"] * 5 + ["joined"]
    assert Member.objects.count() == JoinApplication.objects.count() == 1
    assert counters(venue) == (1, 1)


@pytest.mark.django_db
@postgresql_only
def test_a_value_too_long_is_refused_by_the_database_not_cut():
    from niangjia.orgs.models import Region

    region = Region.objects.first()
    region.name = "长" * 500
    params = Params()
    row = row_of(region, params)
    sql = f"INSERT INTO {row.table} ({row.columns}) SELECT {row.select}"
    with (
        pytest.raises(DataError, match="too long"),
        transaction.atomic(),
        prepared_cursor() as cursor,
    ):
        cursor.execute(sql, params.values)


@pytest.mark.django_db
def test_recount_restores_counters_from_approved_applications(tree, county_cadre):
    venue = ceremony_venue(tree)
    second = CeremonyVenue.objects.create(
        ceremony=venue.ceremony,
        name="二号会场",
        union=tree.jiangan_grassroots,
        token=services.new_venue_token(),
    )
    for serial in (907, 908):
        join(venue, id_number=make_id_number(serial=serial), phone=make_phone(serial))
    join(second, id_number=make_id_number(serial=909), phone=make_phone(909))
    CeremonyVenue.objects.filter(pk=venue.pk).update(joined_count=1)
    JoinCeremony.objects.filter(pk=venue.ceremony_id).update(joined_count=2)

    services.ceremony_recount(ceremony=venue.ceremony, acting_user=county_cadre)
    assert counters(venue) == (2, 3)
    assert counters(second) == (1, 3)
    entry = AuditEntry.objects.get(object_type="members.joinceremony")
    assert entry.actor == county_cadre
    assert entry.before == {f"venue {venue.pk}": 1, "joined_count": 2}
    assert entry.after == {f"venue {venue.pk}": 2, "joined_count": 3}

    services.ceremony_recount(ceremony=venue.ceremony, acting_user=county_cadre)
    assert AuditEntry.objects.filter(object_type="members.joinceremony").count() == 1


@pytest.mark.django_db
def test_recount_needs_change_rights_on_the_ceremony(tree, sibling_cadre, auditor):
    venue = ceremony_venue(tree)
    for user in (sibling_cadre, auditor):
        with pytest.raises((PermissionDenied, ValidationError)):
            services.ceremony_recount(ceremony=venue.ceremony, acting_user=user)


# --- What the worker pages keep per process during a ceremony


@pytest.fixture
def join_cache(settings):
    settings.JOIN_CACHE_SECONDS = 3
    selectors.forget_venues()
    forms._employer_matches.clear()
    yield
    selectors.forget_venues()
    forms._employer_matches.clear()


@pytest.mark.django_db
def test_a_venue_is_read_once_per_cache_period(tree, join_cache, monkeypatch):
    venue = ceremony_venue(tree)
    with CaptureQueriesContext(connection) as queries:
        first = selectors.venue_by_token(venue.token)
        second = selectors.venue_by_token(venue.token)
    assert first == second == venue and len(queries) == 1
    assert second.ceremony.name and second.union.region  # read with the venue, no query
    now = time.monotonic()
    monkeypatch.setattr(selectors.time, "monotonic", lambda: now + 3.5)
    with CaptureQueriesContext(connection) as queries:
        selectors.venue_by_token(venue.token)
    assert len(queries) == 1


@pytest.mark.django_db
def test_unknown_tokens_are_not_cached(tree, join_cache):
    with CaptureQueriesContext(connection) as queries:
        assert selectors.venue_by_token("nope") is None
        assert selectors.venue_by_token("nope") is None
    assert len(queries) == 2 and not selectors._venues


@pytest.mark.django_db(transaction=True)
def test_a_ceremony_changed_here_is_read_again(join_cache):
    tree = build_tree()
    county_cadre = make_persona("county_cadre", tree)
    venue = ceremony_venue(tree)
    assert not selectors.venue_by_token(venue.token).ceremony.require_sms
    ceremony = venue.ceremony
    services.ceremony_update(
        ceremony=ceremony,
        acting_user=county_cadre,
        name=ceremony.name,
        starts_at=ceremony.starts_at,
        ends_at=ceremony.ends_at,
        auto_approve=True,
        require_sms=True,
    )
    assert selectors.venue_by_token(venue.token).ceremony.require_sms


@pytest.mark.django_db
def test_without_the_cache_every_request_reads_the_venue(tree, settings):
    settings.JOIN_CACHE_SECONDS = 0
    venue = ceremony_venue(tree)
    with CaptureQueriesContext(connection) as queries:
        selectors.venue_by_token(venue.token)
        selectors.venue_by_token(venue.token)
    assert len(queries) == 2 and not selectors._venues


def _join_form(tree: Tree, name: str) -> JoinForm:
    data = {
        "name": "李娜",
        "id_type": "resident",
        "id_number": make_id_number(),
        "phone": make_phone(),
        "employer_name": name,
        "employment_form": "standard",
        "occupation": "车工",
        "household": "urban",
        "ethnic_group": "01",
    }
    union = tree.jiangan_grassroots
    return JoinForm(
        data,
        employers=partial(employer_area, union),
        area_key=union.pk,
        need_code=False,
    )


@pytest.mark.django_db
def test_the_employer_a_name_means_is_looked_up_once_per_cache_period(tree, join_cache):
    name = tree.jiangan_employer.name
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            form = _join_form(tree, name)
            assert form.is_valid(), form.errors
            assert form.employer_obj == tree.jiangan_employer
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        form = _join_form(tree, "尚未登记的某某公司")
        assert form.is_valid() and form.employer_obj is None
        form = _join_form(tree, "尚未登记的某某公司")
        assert form.is_valid() and form.employer_obj is None
    assert len(queries) == 1


@pytest.mark.django_db
def test_without_the_cache_each_form_looks_the_employer_up(tree):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(2):
            form = _join_form(tree, tree.jiangan_employer.name)
            assert form.is_valid() and form.employer_obj == tree.jiangan_employer
    assert len(queries) == 2


def test_join_forms_share_their_fixed_choices_but_not_their_fields():
    first, second = JoinForm(need_code=False), JoinForm(need_code=False)
    assert first.fields["ethnic_group"] is not second.fields["ethnic_group"]
    assert first.fields["ethnic_group"].choices is second.fields["ethnic_group"].choices
    first.fields["ethnic_group"].error_messages["invalid_choice"] = "changed"
    assert second.fields["ethnic_group"].error_messages["invalid_choice"] != "changed"
    bad = JoinForm({"ethnic_group": "99", "household": "nowhere"}, need_code=False)
    assert not bad.is_valid()
    assert "民族" in bad.errors["ethnic_group"][0] and "户籍类型" in bad.errors["household"][0]


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_only_the_counter_statement_skips_the_wait_for_the_disk():
    venue = ceremony_venue(build_tree())
    join(venue)  # its own transactions, as in a request
    assert _synchronous_commit() == "on"
    with transaction.atomic():
        join(venue)  # inside a caller's transaction: that one keeps waiting for the disk
        assert _synchronous_commit() == "on"
    assert counters(venue) == (2, 2)


@pytest.mark.django_db
def test_the_join_page_still_carries_the_search_and_code_addresses(tree):
    from django.test import Client
    from django.urls import reverse

    union = tree.jiangan_grassroots
    text = Client().get(reverse("join:union", args=[union.pk])).content.decode()
    assert f'data-url="{reverse("join:employers", args=[union.pk])}"' in text
    assert f'data-sms-url="{reverse("join:sms_send")}"' in text


@pytest.mark.django_db
def test_a_kept_blank_form_renders_as_a_fresh_one_and_errors_are_never_kept(tree, settings):
    import re

    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    cache.clear()
    venue = ceremony_venue(tree)
    url = reverse("join:venue", args=[venue.token])

    def page(response) -> str:
        return re.sub(r'value="[A-Za-z0-9]{64}"', "", response.content.decode())

    fresh = page(Client().get(url))
    settings.JOIN_CACHE_SECONDS = 3
    assert page(Client().get(url)) == page(Client().get(url)) == fresh
    data = {
        "name": "李娜",
        "id_type": "resident",
        "id_number": "123",
        "phone": make_phone(),
        "employer_name": "某单位",
        "employment_form": "standard",
        "occupation": "车工",
        "household": "urban",
        "ethnic_group": "01",
    }
    invalid = Client().post(url, data)
    assert "身份证号码应为 18 位" in invalid.content.decode()
    again = page(Client().get(url))
    assert again == fresh and "身份证号码应为 18 位" not in again
    cache.clear()
