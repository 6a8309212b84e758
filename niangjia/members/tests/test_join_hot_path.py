"""The join form and submit of a mass ceremony, made cheap per request: what must not change
while doing so (forms keep their own fields; the ID number is read once and means the same)."""

from __future__ import annotations

import copy
import datetime
from functools import partial

import pytest
from django.core import signing
from django.db import connection
from django.urls import reverse, set_script_prefix

from niangjia.members import forms, identity, services, views_public
from niangjia.members.choices import ApplicationChannel, Sex
from niangjia.members.forms import JoinForm, PhoneCodeForm
from niangjia.members.models import JoinApplication, id_hash_of
from niangjia.members.tests.test_ceremony_join import ceremony_venue, counters, join
from niangjia.members.views_public import employer_area
from niangjia.utilities.testing.members import join_data, make_id_number, make_phone
from niangjia.utilities.testing.personas import Tree


def test_each_join_form_has_its_own_fields_widgets_messages_and_validators():
    first, second = JoinForm(need_code=False), JoinForm(need_code=False)
    assert list(first.fields) == JoinForm.field_order
    for name, field in first.fields.items():
        other, declared = second.fields[name], JoinForm.base_fields[name]
        assert type(field) is type(declared) and field is not other and field is not declared
        assert type(field.widget) is type(declared.widget)
        assert field.widget is not other.widget and field.widget is not declared.widget
        assert field.widget.attrs == declared.widget.attrs
        assert field.widget.attrs is not other.widget.attrs
        assert field.error_messages == declared.error_messages
        assert field.error_messages is not other.error_messages
        assert field.validators == declared.validators
        assert field.validators is not other.validators
        assert field.label == declared.label and field.required == declared.required
    first.fields["name"].widget.attrs["placeholder"] = "改过"
    first.fields["name"].validators.clear()
    assert second.fields["name"].widget.attrs["placeholder"] == "与证件一致"
    assert JoinForm.base_fields["name"].widget.attrs["placeholder"] == "与证件一致"
    assert second.fields["name"].validators and JoinForm.base_fields["name"].validators


def test_a_field_deep_copied_on_its_own_is_a_light_copy_too():
    # Forms extending PhoneCodeForm in other modules copy its fields one by one.
    declared = PhoneCodeForm.base_fields["phone"]
    field = copy.deepcopy(declared)
    assert field is not declared and field.widget is not declared.widget
    assert field.widget.attrs == declared.widget.attrs
    assert field.widget.attrs is not declared.widget.attrs


# --- The ID number is read once: by the form, whose reading the service takes over


def _form(tree: Tree, **overrides: str) -> JoinForm:
    data = {
        "name": "李娜",
        "id_type": "resident",
        "id_number": make_id_number(),
        "phone": make_phone(),
        "employer_name": "尚未登记的某某公司",
        "employment_form": "standard",
        "occupation": "车工",
        "household": "urban",
        "ethnic_group": "01",
        **overrides,
    }
    union = tree.jiangan_grassroots
    return JoinForm(
        data, employers=partial(employer_area, union), area_key=union.pk, need_code=False
    )


def _count_parse_id(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def counting(id_type: str, raw: str) -> identity.Identity:
        calls.append(raw)
        return identity.parse_id(id_type, raw)

    monkeypatch.setattr(forms, "parse_id", counting)
    monkeypatch.setattr(services, "parse_id", counting)
    return calls


@pytest.mark.django_db
def test_the_form_reads_the_id_number_and_the_service_takes_its_reading(tree, monkeypatch):
    calls = _count_parse_id(monkeypatch)
    # A first-generation number: the reading turns it into its 18 digits.
    form = _form(tree, id_number="420102900101123")
    assert form.is_valid(), form.errors
    application = services.application_submit(
        union=tree.jiangan_grassroots, data=form.join_data(), channel=ApplicationChannel.QR
    )
    assert calls == ["420102900101123"]
    number = identity.convert_legacy_ric("420102900101123")
    assert application.id_hash == id_hash_of(number)
    assert (application.sex, application.birth_date) == (Sex.MALE, datetime.date(1990, 1, 1))


@pytest.mark.django_db
def test_a_reading_of_another_number_is_not_taken(tree, monkeypatch):
    form = _form(tree)
    assert form.is_valid(), form.errors
    data = form.join_data()
    data.id_number = make_id_number(birth="19851231", serial=7)  # changed after the form
    calls = _count_parse_id(monkeypatch)
    application = services.application_submit(
        union=tree.jiangan_grassroots, data=data, channel=ApplicationChannel.QR
    )
    assert calls == [data.id_number]
    assert application.id_hash == id_hash_of(data.id_number)
    assert application.birth_date == datetime.date(1985, 12, 31)


# --- The counters' statement, written once per process


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the ceremony fast path's")
def test_each_join_counts_at_its_own_venue_and_ceremony(tree):
    first = ceremony_venue(tree, name="一号会场")
    second = ceremony_venue(tree, name="二号会场")  # another ceremony
    join(first)
    join(second)
    join(second)
    assert first.ceremony_id != second.ceremony_id
    assert counters(first) == (1, 1) and counters(second) == (2, 2)


# --- The result page's address, reversed once


@pytest.mark.django_db
def test_the_result_address_is_the_reversed_one_for_any_script_prefix(tree):
    application = services.application_submit(
        union=tree.jiangan_grassroots, data=join_data(), channel=ApplicationChannel.QR
    )
    try:
        for prefix in ("/", "/niangjia/"):
            set_script_prefix(prefix)
            url = views_public._done_url(application)
            token = url.split("/")[-2]
            assert url == reverse("join:done", args=[token])
            assert url.startswith(f"{prefix}j/done/")
            assert signing.loads(token, salt=views_public.DONE_SALT) == {"a": application.pk}
    finally:
        set_script_prefix("/")


def test_the_result_address_follows_the_url_configuration(settings):
    application = JoinApplication(pk=12345)
    assert views_public._done_url(application).startswith("/j/done/")
    settings.ROOT_URLCONF = "niangjia.members.tests.urls_elsewhere"
    url = views_public._done_url(application)
    assert url.startswith("/elsewhere/done/") and url.endswith("/")
    assert url == reverse("join:done", args=[url.split("/")[-2]])


# --- One index per searched column of the rows every join writes


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pattern-ops twins are PostgreSQL's")
@pytest.mark.parametrize(
    ("table", "exact", "by_subtree"),
    [
        ("members_joinapplication", ("phone_hash", "status"), "union_path"),
        ("audit_auditentry", ("action", "object_type", "object_id", "request_id"), "union_path"),
    ],
)
def test_each_searched_column_has_one_index(table, exact, by_subtree):
    definitions = _indexes(table).values()

    def on(column: str) -> list[str]:
        return [d for d in definitions if d.endswith(f"({column})") or f"({column} " in d]

    for column in exact:
        assert len(on(column)) == 1 and "pattern_ops" not in on(column)[0], column
    assert len(on(by_subtree)) == 1 and "varchar_pattern_ops" in on(by_subtree)[0]
