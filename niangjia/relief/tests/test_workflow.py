"""A household file from application to filing, through the real services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.relief import services
from niangjia.relief.choices import Category, EventKind, FileState, ObjectionState
from niangjia.relief.models import FilePerson, HardshipFile
from niangjia.utilities.testing.members import make_member
from niangjia.utilities.testing.relief import (
    file_data,
    make_file,
    person_id,
    set_threshold,
    today,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def threshold(tree):
    return set_threshold(tree)


def test_a_household_goes_from_application_to_filed(tree, personas, threshold):
    file = make_file(tree, personas)
    assert file.state == FileState.FILED
    assert file.category == Category.DEEP
    assert file.household_income_year == Decimal("18000.00")
    assert file.income_per_head == Decimal("500.00")
    assert file.review_due_on is not None and file.review_due_on > today()
    kinds = list(file.events.values_list("kind", flat=True))
    assert kinds == [
        EventKind.APPLIED,
        EventKind.FIRST_CHECKED,
        EventKind.SURVEYED,
        EventKind.CONSENT,
        EventKind.REVIEWED,
        EventKind.CATEGORY,
        EventKind.PUBLICITY,
        EventKind.FILED,
    ]
    audited = AuditEntry.objects.filter(object_type="relief.hardshipfile", object_id=str(file.pk))
    assert audited.count() == 6  # the application and five steps
    assert FilePerson.objects.filter(file=file, is_open=True).count() == 2  # worker and spouse


def test_the_worker_is_stored_encrypted_and_masked(tree, personas, threshold):
    number = person_id()
    file = make_file(tree, personas, state=FileState.APPLIED, id_number=number)
    assert file.id_masked == number[:4] + "*" * 10 + number[-4:]
    assert number.encode() not in bytes(file.id_number_enc)
    assert file.reveal_id_number() == number
    assert file.bank_account_masked == "**** 0123"
    assert b"6222021234567890123" not in bytes(file.bank_account_enc)


def test_a_worker_applies_from_the_phone_with_a_proven_phone_only(tree, threshold):
    with pytest.raises(ValidationError, match="短信验证码"):
        services.file_apply(union=tree.jiangan_grassroots, data=file_data(), acting_user=None)
    file = services.file_apply(
        union=tree.jiangan_grassroots, data=file_data(), acting_user=None, phone_verified=True
    )
    assert file.channel == "worker"
    assert file.state == FileState.APPLIED
    assert file.city_region.code == "420100"  # from the union's region
    entry = AuditEntry.objects.get(object_type="relief.hardshipfile", object_id=str(file.pk))
    assert entry.actor_name == "刘**"


def test_a_member_is_taken_from_the_member_record(tree, personas, threshold):
    member = make_member(tree.jiangan_grassroots, name="陈桂兰")
    file = services.file_apply(
        union=tree.jiangan_grassroots,
        data=file_data(name="", id_number=""),
        member=member,
        acting_user=personas["county_cadre"],
    )
    assert file.member == member
    assert file.name == "陈桂兰"
    assert file.id_hash == member.id_hash


def test_a_worker_who_is_a_member_is_linked_by_id_number(tree, personas, threshold):
    number = person_id()
    member = make_member(tree.jiangan_grassroots, id_number=number)
    file = make_file(tree, personas, state=FileState.APPLIED, id_number=number)
    assert file.member == member


def test_no_person_may_be_in_two_open_files(tree, personas, threshold):
    spouse = person_id()
    make_file(
        tree,
        personas,
        state=FileState.APPLIED,
        household_members=[services.PersonData(name="王秀英", relation="spouse", id_number=spouse)],
    )
    # The spouse applies as a worker of her own household.
    with pytest.raises(ValidationError, match="另一份未办结的困难职工档案") as caught:
        make_file(
            tree,
            personas,
            state=FileState.APPLIED,
            name="王秀英",
            id_number=spouse,
            household_members=[],
        )
    assert "王**" in str(caught.value)
    assert HardshipFile.objects.count() == 1


def test_a_rejected_file_frees_its_people(tree, personas, threshold):
    number = person_id()
    file = make_file(tree, personas, state=FileState.APPLIED, id_number=number)
    services.file_reject(
        file=file, acting_user=personas["county_cadre"], reason="收入核实后不符合条件"
    )
    again = make_file(tree, personas, state=FileState.APPLIED, id_number=number)
    assert again.pk != file.pk


def test_the_same_id_twice_in_one_household_is_refused(tree, personas, threshold):
    number = person_id()
    with pytest.raises(ValidationError, match="重复的身份证号码"):
        make_file(
            tree,
            personas,
            state=FileState.APPLIED,
            id_number=number,
            household_members=[
                services.PersonData(name="同一人", relation="other", id_number=number)
            ],
        )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"household_size": 1}, "household_size", "少于职工本人加登记的家庭成员"),
        ({"household_size": 0}, "household_size", "家庭人口应为 1 至 20 人"),
        ({"main_cause": "99"}, "main_cause", "主要致困原因：请从列表中选择"),
        ({"secondary_causes": ["02", "03", "04", "05"]}, "secondary_causes", "最多选择 3 项"),
        ({"secondary_causes": ["01"]}, "secondary_causes", "不能与主要原因相同"),
        ({"monthly_wage": Decimal("-1")}, "monthly_wage", "本人月工资不能为负数"),
        ({"bank_account": "12ab"}, "bank_account", "8 至 30 位数字"),
        ({"disability_category": "physical"}, "disability_grade", "须同时填写"),
        ({"work_status": "boss"}, "work_status", "工作状况：请从列表中选择"),
        ({"id_number": "420102199001011230"}, "id_number", "校验"),
    ],
)
def test_bad_form_data_is_refused_naming_the_field(
    tree, personas, threshold, overrides, field, message
):
    with pytest.raises(ValidationError) as caught:
        services.file_apply(
            union=tree.jiangan_grassroots,
            data=file_data(**overrides),
            acting_user=personas["county_cadre"],
        )
    assert field in caught.value.message_dict
    assert message in " ".join(caught.value.message_dict[field])


def test_a_union_outside_scope_cannot_be_applied_to_by_a_cadre(tree, personas, threshold):
    with pytest.raises(PermissionDenied):
        services.file_apply(
            union=tree.jianghan_grassroots, data=file_data(), acting_user=personas["county_cadre"]
        )


def test_the_survey_needs_the_signed_consent(tree, personas, threshold):
    file = make_file(tree, personas, state=FileState.FIRST_CHECKED)
    with pytest.raises(ValidationError, match="核对授权书"):
        services.file_survey(file=file, acting_user=personas["county_cadre"], consent_signed=False)
    file = services.file_survey(
        file=file, acting_user=personas["county_cadre"], consent_signed=True
    )
    assert file.consent_on == today()


def test_steps_out_of_order_are_refused(tree, personas, threshold):
    file = make_file(tree, personas, state=FileState.APPLIED)
    with pytest.raises(ValidationError, match="不能办理“入户调查”"):
        services.file_survey(file=file, acting_user=personas["county_cadre"], consent_signed=True)


def test_the_grassroots_cadre_checks_but_cannot_review(tree, personas, threshold):
    cadre = personas["grassroots_cadre"]
    file = make_file(tree, personas, state=FileState.APPLIED)
    file = services.file_first_check(file=file, acting_user=cadre)
    file = services.file_survey(file=file, acting_user=cadre, consent_signed=True)
    with pytest.raises(PermissionDenied, match="县级及以上"):
        services.file_review(
            file=file, acting_user=cadre, category=Category.DEEP, archive_level="county"
        )
    assert HardshipFile.objects.get(pk=file.pk).state == FileState.SURVEYED


def test_a_category_other_than_the_proposal_needs_a_reason(tree, personas, threshold):
    file = make_file(tree, personas, state=FileState.SURVEYED)
    assert file.category_proposed == Category.DEEP
    with pytest.raises(ValidationError, match="系统建议为“深度困难”") as caught:
        services.file_review(
            file=file,
            acting_user=personas["county_cadre"],
            category=Category.RELATIVE,
            archive_level="county",
        )
    assert "category_reason" in caught.value.message_dict
    file = services.file_review(
        file=file,
        acting_user=personas["county_cadre"],
        category=Category.RELATIVE,
        archive_level="city",
        category_reason="配偶有稳定的临时收入",
    )
    assert file.category == Category.RELATIVE
    assert file.category_reason == "配偶有稳定的临时收入"
    assert "理由：配偶有稳定的临时收入" in file.events.get(kind=EventKind.CATEGORY).text


def test_the_review_needs_the_city_threshold(tree, personas, threshold):
    file = make_file(tree, personas, state=FileState.SURVEYED)
    threshold.delete()
    with pytest.raises(ValidationError, match="尚未设置最低生活保障标准"):
        services.file_review(
            file=file,
            acting_user=personas["county_cadre"],
            category=Category.DEEP,
            archive_level="county",
        )


def test_a_file_is_filed_only_after_the_publicity_period(tree, personas, threshold):
    cadre = personas["county_cadre"]
    file = make_file(tree, personas, state=FileState.REVIEWED)
    file = services.publicity_start(file=file, acting_user=cadre, days=7, starts_on=today())
    with pytest.raises(ValidationError, match="期满后方可建档"):
        services.file_file(file=file, acting_user=cadre)


def test_an_open_objection_holds_the_filing_and_an_upheld_one_sends_it_back(
    tree, personas, threshold
):
    cadre = personas["county_cadre"]
    file = make_file(tree, personas, state=FileState.PUBLICITY)
    objection = services.objection_add(
        file=file, acting_user=cadre, content="该户有房产出租收入", raised_by="邻居"
    )
    with pytest.raises(ValidationError, match="未处理的公示异议"):
        services.file_file(file=file, acting_user=cadre)
    services.objection_resolve(
        objection=objection, upheld=True, resolution="核实属实，重新调查", acting_user=cadre
    )
    file.refresh_from_db()
    assert file.state == FileState.SURVEYED
    objection.refresh_from_db()
    assert objection.state == ObjectionState.UPHELD


def test_a_dismissed_objection_lets_the_publicity_go_on(tree, personas, threshold):
    cadre = personas["county_cadre"]
    file = make_file(tree, personas, state=FileState.PUBLICITY)
    objection = services.objection_add(file=file, acting_user=cadre, content="怀疑收入不实")
    services.objection_resolve(
        objection=objection, upheld=False, resolution="经核实收入属实", acting_user=cadre
    )
    file = services.file_file(file=file, acting_user=cadre)
    assert file.state == FileState.FILED


def test_a_stale_edit_is_refused_with_a_conflict_message(tree, personas, threshold):
    cadre = personas["county_cadre"]
    file = make_file(tree, personas, state=FileState.APPLIED)
    opened = file.version
    services.file_update(
        file=file,
        data=file_data(id_number="", phone="", address="江岸区一元路 1 号"),
        version=opened,
        acting_user=cadre,
    )
    with pytest.raises(ValidationError, match="已被他人修改") as caught:
        services.file_update(
            file=file,
            data=file_data(id_number="", phone="", address="另一个地址"),
            version=opened,
            acting_user=cadre,
        )
    assert caught.value.code == "conflict"
    file.refresh_from_db()
    assert file.address == "江岸区一元路 1 号"
    assert file.version == opened + 1


def test_an_edit_recomputes_income_and_proposal_and_keeps_the_stored_id(tree, personas, threshold):
    cadre = personas["county_cadre"]
    file = make_file(tree, personas, state=FileState.APPLIED)
    id_hash = file.id_hash
    file = services.file_update(
        file=file,
        data=file_data(id_number="", phone="", monthly_wage=Decimal("4500")),
        version=file.version,
        acting_user=cadre,
    )
    assert file.id_hash == id_hash
    assert file.income_per_head == Decimal("1500.00")
    assert file.category_proposed == Category.RELATIVE
    change = AuditEntry.objects.filter(object_id=str(file.pk), action=AuditAction.CHANGE).latest(
        "id"
    )
    assert change.after["monthly_wage"] == "4500.00"
    assert "id_number_enc" not in change.after


def test_the_annual_review_moves_the_due_date(tree, personas, threshold):
    file = make_file(tree, personas)
    HardshipFile.objects.filter(pk=file.pk).update(
        review_due_on=today() - datetime.timedelta(days=1)
    )
    file = services.file_annual_review(
        file=file, acting_user=personas["county_cadre"], note="入户复核"
    )
    assert file.last_reviewed_on == today()
    assert file.review_due_on > today()


def test_reveal_is_audited_and_needs_the_reveal_right(tree, personas, threshold):
    number = person_id()
    file = make_file(tree, personas, state=FileState.APPLIED, id_number=number)
    with pytest.raises(PermissionDenied):
        services.file_reveal(
            file=file,
            field="id_number",
            reason="核对身份信息",
            acting_user=personas["county_cadre"],
        )
    value = services.file_reveal(
        file=file,
        field="bank_account",
        reason="核对发放账号",
        acting_user=personas["national_admin"],
    )
    assert value == "6222021234567890123"
    entry = AuditEntry.objects.filter(action=AuditAction.REVEAL).latest("id")
    assert entry.detail["field"] == "bank_account"


def test_notes_go_on_the_timeline(tree, personas, threshold):
    file = make_file(tree, personas, state=FileState.APPLIED)
    services.file_note(
        file=file, acting_user=personas["grassroots_cadre"], text="电话联系，下周入户"
    )
    assert file.events.filter(kind=EventKind.NOTE, text="电话联系，下周入户").exists()


def test_files_and_assistance_follow_their_union_when_it_merges(tree, personas, threshold):
    from niangjia.accounts.choices import Action
    from niangjia.orgs import services as org_services
    from niangjia.orgs.models import Union
    from niangjia.relief.models import Assistance
    from niangjia.utilities.testing.relief import make_fund

    file = make_file(tree, personas)
    fund = make_fund(tree, personas, union=tree.wuhan)
    services.assistance_create(
        file=file,
        assistance_type="living",
        amount=Decimal("300"),
        fund=fund,
        acting_user=personas["grassroots_cadre"],
    )
    target = Union.objects.add_child(
        tree.jiangan,
        instance=Union(
            name="武汉长江重工有限公司工会",
            level=tree.jiangan_grassroots.level,
            kind=tree.jiangan_grassroots.kind,
            region=tree.jiangan_grassroots.region,
        ),
    )
    org_services.union_merge(
        acting_user=personas["provincial_cadre"], source=tree.jiangan_grassroots, target=target
    )
    file.refresh_from_db()
    assert (file.union, file.union_path) == (target, target.path)
    assert Assistance.objects.get(file=file).union_path == target.path
    assert not HardshipFile.objects.restrict(personas["grassroots_cadre"], Action.VIEW).exists()
    assert (
        HardshipFile.objects.restrict(personas["county_cadre"], Action.VIEW)
        .filter(pk=file.pk)
        .exists()
    )
