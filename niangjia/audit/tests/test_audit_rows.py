"""Audit rows: structured, placed under the owning union, and append-only down to the database."""

from __future__ import annotations

import datetime
import decimal

import pytest
from django.db import DatabaseError, connection, transaction

from niangjia.audit import context
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.audit.services import diff, record, snapshot

pytestmark = pytest.mark.django_db

only_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite keeps no DELETE trigger: its test flush deletes row by row",
)


@pytest.fixture
def entry(county_cadre, tree) -> AuditEntry:
    return record(
        action=AuditAction.CHANGE,
        actor=county_cadre,
        obj=tree.jiangan_employer,
        before={"headcount": 320},
        after={"headcount": 400},
    )


def stored(entry: AuditEntry) -> tuple:
    row = AuditEntry.objects.values_list("action", "before", "after", "object_repr").get(
        pk=entry.pk
    )
    return row


# --- What a row holds


def test_row_names_actor_object_and_owning_union(entry, county_cadre, tree):
    entry.refresh_from_db()
    assert entry.actor == county_cadre
    assert entry.actor_name == "江岸区总干部"
    assert entry.actor_scope == "江岸区总工会:工会干部"
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "orgs.employer",
        str(tree.jiangan_employer.pk),
        "武汉长江机械有限公司",
    )
    # An employer is filed under the union keeping its registry (its first scope lookup).
    assert entry.union_path == tree.jiangan.path
    assert entry.before == {"headcount": 320} and entry.after == {"headcount": 400}
    assert len(entry.request_id) == 32


def test_row_takes_request_id_and_address_from_the_request_context(county_cadre, tree):
    ctx = context.RequestContext(request_id="req-42", client_ip="10.1.2.3")
    with context.bind(ctx):
        entry = record(action=AuditAction.EXPORT, actor=county_cadre, obj=tree.jiangan)
    entry.refresh_from_db()
    assert (entry.request_id, entry.client_ip) == ("req-42", "10.1.2.3")
    assert entry.union_path == tree.jiangan.path


def test_deleting_an_account_never_rewrites_its_audit_rows(county_cadre, entry):
    actor_id = county_cadre.pk
    try:
        with transaction.atomic():
            county_cadre.role_assignments.all().delete()
            county_cadre.delete()
    except DatabaseError:
        pass  # refused by the append-only guard: the account stays, and so does its row
    entry.refresh_from_db()
    assert entry.actor_id == actor_id
    assert entry.actor_name == "江岸区总干部"


def test_values_are_stored_as_json(county_cadre, tree):
    entry = record(
        action=AuditAction.CHANGE,
        actor=county_cadre,
        obj=tree.jiangan,
        after={
            "established_on": datetime.date(2020, 5, 1),
            "amount": decimal.Decimal("12.50"),
            "parent": tree.wuhan,
            "codes": ("420102", "420103"),
        },
    )
    entry.refresh_from_db()
    assert entry.after == {
        "established_on": "2020-05-01",
        "amount": "12.50",
        "parent": tree.wuhan.pk,
        "codes": ["420102", "420103"],
    }


def test_snapshot_and_diff(tree):
    before = snapshot(tree.jiangan_employer)
    assert before["owner_id"] == tree.jiangan.pk and before["headcount"] == 320
    after = dict(before, headcount=400, address="解放大道")
    assert diff(before, after) == (
        {"headcount": 320, "address": ""},
        {"headcount": 400, "address": "解放大道"},
    )
    assert diff(before, before) == ({}, {})


# --- Append-only


def test_saving_an_existing_row_raises(entry):
    entry.after = {"headcount": 1}
    with pytest.raises(RuntimeError, match="append-only"):
        entry.save()
    assert stored(entry)[2] == {"headcount": 400}


def test_deleting_a_row_raises(entry):
    with pytest.raises(RuntimeError, match="append-only"):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_database_refuses_a_queryset_update(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(object_repr="篡改")
    assert stored(entry)[3] == "武汉长江机械有限公司"


def test_database_refuses_a_raw_sql_update(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET action = %s WHERE id = %s", ["login", entry.pk])
    assert stored(entry)[0] == AuditAction.CHANGE


@only_postgresql
def test_database_refuses_a_raw_sql_delete(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@only_postgresql
def test_database_refuses_a_queryset_delete(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_new_rows_can_still_be_added(entry, county_cadre):
    record(action=AuditAction.LOGOUT, actor=county_cadre)
    assert AuditEntry.objects.filter(actor=county_cadre).count() == 2
