from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from stdnum.cn import ric

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.members import services
from niangjia.members.choices import (
    ApplicationChannel,
    ApplicationStatus,
    IdType,
    MemberStatus,
    TransferStatus,
)
from niangjia.members.identity import convert_legacy_ric, parse_id, ric_check_digit
from niangjia.members.models import (
    JoinApplication,
    Member,
    MemberEvent,
    format_member_number,
    parse_member_number,
)
from niangjia.orgs.choices import UnionKind, UnionLevel
from niangjia.utilities.sms import LocmemBackend
from niangjia.utilities.testing.factories import UnionFactory
from niangjia.utilities.testing.members import join_data, make_id_number, make_member, make_phone


def submit(union, **overrides):
    return services.application_submit(
        union=union, data=join_data(**overrides), channel=ApplicationChannel.QR, phone_verified=True
    )


def test_id_number_and_phone_are_stored_encrypted_and_found_by_hash(tree):
    number = make_id_number()
    application = submit(tree.jiangan_grassroots, id_number=number, phone="138 1234 5678")
    stored = JoinApplication.objects.get(pk=application.pk)
    assert number.encode() not in bytes(stored.id_number_enc)
    assert stored.id_masked == number[:4] + "*" * 10 + number[-4:]
    assert stored.phone_masked == "138****5678"
    assert stored.reveal_id_number() == number
    assert stored.reveal_phone() == "13812345678"
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM members_joinapplication")
        raw = repr(cursor.fetchall())
    assert number not in raw and "13812345678" not in raw


def test_sex_and_birth_date_come_from_the_id_number(tree):
    number = make_id_number(birth="19851231", serial=13)  # odd 17th digit: male
    application = submit(tree.jiangan_grassroots, id_number=number)
    assert application.sex == "M"
    assert application.birth_date == datetime.date(1985, 12, 31)


def test_the_check_character_follows_gb_11643():
    # The standard's own example, and synthetic numbers checked by python-stdnum.
    assert parse_id(IdType.RESIDENT, "11010519491231002x").number == "11010519491231002X"
    with pytest.raises(ValidationError, match="最后一位应为 X"):
        parse_id(IdType.RESIDENT, "110105194912310022")
    for serial in range(30):
        number = make_id_number(region="110105", birth="19491231", serial=serial)
        assert ric.is_valid(number)
        assert parse_id(IdType.RESIDENT, number).number == number


def test_legacy_15_digit_number_is_converted():
    legacy = "420102850101123"
    identity = parse_id(IdType.RESIDENT, legacy)
    assert identity.number == convert_legacy_ric(legacy)
    assert identity.number.startswith("42010219850101123")
    assert ric.is_valid(identity.number)
    assert identity.birth_date == datetime.date(1985, 1, 1)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("42010219900101001", "身份证号码应为 18 位（旧版 15 位也可），当前为 17 位"),
        ("4201021990010100A1", "身份证号码前 17 位应为数字，最后一位为数字或 X"),
        (
            "42010219901301001" + ric_check_digit("42010219901301001"),
            "身份证号码中的出生日期无效",
        ),
    ],
)
def test_bad_id_numbers_get_a_chinese_reason(raw, message):
    with pytest.raises(ValidationError) as excinfo:
        parse_id(IdType.RESIDENT, raw)
    assert message in excinfo.value.message_dict["id_number"][0]


def test_wrong_check_digit_names_the_expected_one():
    good = make_id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError) as excinfo:
        parse_id(IdType.RESIDENT, bad)
    assert f"最后一位应为 {good[-1]}" in excinfo.value.message_dict["id_number"][0]


def test_full_width_digits_and_spaces_are_accepted():
    good = make_id_number()
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in good)
    assert parse_id(IdType.RESIDENT, f" {full_width[:6]} {full_width[6:]} ").number == good


def test_a_union_that_takes_no_members_is_refused(tree):
    with pytest.raises(ValidationError) as excinfo:
        submit(tree.hubei)
    assert "不直接接收会员" in excinfo.value.message_dict["union"][0]


def test_an_active_member_is_told_where_they_belong(tree):
    number = make_id_number()
    make_member(tree.jiangan_grassroots, id_number=number)
    with pytest.raises(services.AlreadyMember) as excinfo:
        submit(tree.jianghan_grassroots, id_number=number)
    message = excinfo.value.messages[0]
    assert tree.jiangan_grassroots.name in message and "会籍转接" in message
    assert number not in message and number[:4] + "*" * 10 in message


def test_a_second_pending_application_is_refused(tree):
    number = make_id_number()
    submit(tree.jiangan_grassroots, id_number=number)
    with pytest.raises(services.AlreadyApplied):
        submit(tree.jianghan_grassroots, id_number=number)
    assert JoinApplication.objects.count() == 1


def test_the_database_refuses_a_second_member_for_one_person(tree):
    from django.db import IntegrityError, transaction

    member = make_member(tree.jiangan_grassroots)
    clone = Member.objects.get(pk=member.pk)
    clone.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save(force_insert=True)


def test_a_members_history_goes_with_the_member(tree):
    # The history rows' link to the member has no database constraint: the ORM cascades.
    member = make_member(tree.jiangan_grassroots)
    other = make_member(tree.jiangan_grassroots, id_number=make_id_number(serial=77))
    assert MemberEvent.objects.filter(member=member).count() == 1
    Member.objects.filter(pk=member.pk).delete()
    assert not MemberEvent.objects.filter(member_id=member.pk).exists()
    assert MemberEvent.objects.filter(member=other).count() == 1


def test_approval_makes_a_member_with_history_and_audit(tree, county_cadre):
    application = submit(tree.jiangan_grassroots)
    assert application.due_date > datetime.date.today()
    member = services.application_approve(application=application, acting_user=county_cadre)
    assert member.status == MemberStatus.ACTIVE and member.union == tree.jiangan_grassroots
    assert member.union_path == tree.jiangan_grassroots.path
    assert list(member.events.values_list("kind", flat=True)) == ["joined"]
    assert parse_member_number(member.member_number) == member.pk
    assert AuditEntry.objects.filter(
        action=AuditAction.CHANGE, object_type="members.joinapplication", actor=county_cadre
    ).exists()


def test_sibling_county_cannot_approve(tree, sibling_cadre):
    application = submit(tree.jiangan_grassroots)
    with pytest.raises(PermissionDenied):
        services.application_approve(application=application, acting_user=sibling_cadre)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_rejection_needs_a_reason(tree, county_cadre):
    application = submit(tree.jiangan_grassroots)
    with pytest.raises(ValidationError) as excinfo:
        services.application_reject(application=application, acting_user=county_cadre, reason=" ")
    assert excinfo.value.message_dict["reason"] == ["驳回申请必须填写原因"]
    services.application_reject(
        application=application, acting_user=county_cadre, reason="非本单位职工"
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED


def test_transfer_across_unions_released_then_accepted(tree, county_cadre, sibling_cadre):
    member = make_member(tree.jiangan_grassroots)
    transfer = services.transfer_release(
        member=member,
        to_union=tree.jianghan_grassroots,
        reason="调动工作",
        acting_user=county_cadre,
    )
    member.refresh_from_db()
    assert member.status == MemberStatus.TRANSFERRING
    with pytest.raises(PermissionDenied):
        services.transfer_accept(transfer=transfer, acting_user=county_cadre)
    services.transfer_accept(transfer=transfer, acting_user=sibling_cadre)
    member.refresh_from_db()
    transfer.refresh_from_db()
    assert (member.status, member.union, member.union_path) == (
        MemberStatus.ACTIVE,
        tree.jianghan_grassroots,
        tree.jianghan_grassroots.path,
    )
    assert transfer.status == TransferStatus.ACCEPTED
    assert list(member.events.values_list("kind", flat=True)) == [
        "joined",
        "transfer_out",
        "transfer_in",
    ]
    # The old county no longer sees the member; the new one does.
    assert not Member.objects.restrict(county_cadre).filter(pk=member.pk).exists()
    assert Member.objects.restrict(sibling_cadre).filter(pk=member.pk).exists()


def test_refused_transfer_returns_the_member(tree, county_cadre, sibling_cadre):
    member = make_member(tree.jiangan_grassroots)
    transfer = services.transfer_release(
        member=member, to_union=tree.jianghan_grassroots, reason="调动", acting_user=county_cadre
    )
    with pytest.raises(ValidationError):
        services.transfer_refuse(transfer=transfer, acting_user=sibling_cadre, reason="")
    services.transfer_refuse(transfer=transfer, acting_user=sibling_cadre, reason="查无此人")
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE and member.union == tree.jiangan_grassroots


def test_reveal_needs_the_permission_and_a_reason_and_is_audited(
    tree, county_cadre, national_admin
):
    number = make_id_number()
    member = make_member(tree.jiangan_grassroots, id_number=number)
    with pytest.raises(PermissionDenied):
        services.member_reveal(
            member=member, field="id_number", reason="核对身份", acting_user=county_cadre
        )
    with pytest.raises(ValidationError):
        services.member_reveal(
            member=member, field="id_number", reason="", acting_user=national_admin
        )
    assert (
        services.member_reveal(
            member=member, field="id_number", reason="核对身份信息", acting_user=national_admin
        )
        == number
    )
    row = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert row.detail == {"field": "id_number", "reason": "核对身份信息"}
    assert number not in repr(row.detail)


def test_member_card_token_carries_no_personal_data_and_verifies(tree):
    member = make_member(tree.jiangan_grassroots, name="李娜")
    token = services.card_token(member)
    assert "李娜" not in token and member.id_masked not in token
    assert services.card_verify(token) == member
    with pytest.raises(ValidationError, match="二维码无效"):
        services.card_verify(token[:-2] + "xx")


def test_member_numbers_carry_a_check_digit():
    number = format_member_number(12345)
    assert parse_member_number(number) == 12345
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert parse_member_number(wrong) is None


def test_union_move_keeps_member_paths_in_step(tree, provincial_cadre):
    from niangjia.orgs import services as org_services

    street = UnionFactory(
        parent=tree.jiangan, level=UnionLevel.TOWNSHIP, kind=UnionKind.JOINT, region=None
    )
    shop = UnionFactory(parent=street, region=None)
    member = make_member(shop)
    org_services.union_move(acting_user=provincial_cadre, union=street, new_parent=tree.jianghan)
    member.refresh_from_db()
    shop.refresh_from_db()
    assert member.union_path == shop.path and shop.path.startswith(tree.jianghan.path)


def test_union_with_members_cannot_be_deleted(tree, national_admin):
    from niangjia.orgs import services as org_services

    make_member(tree.jiangan_grassroots)
    with pytest.raises(ValidationError, match="有 1 名会员"):
        org_services.union_delete(acting_user=national_admin, union=tree.jiangan_grassroots)


def test_sms_code_round_trip_and_limits(db):
    LocmemBackend.outbox.clear()
    phone = make_phone()
    services.sms_code_send(phone=phone, purpose="join")
    [(sent_to, text)] = LocmemBackend.outbox
    code = text.split("验证码是 ")[1][:6]
    assert sent_to == phone
    with pytest.raises(ValidationError, match="秒后再试"):
        services.sms_code_send(phone=phone, purpose="join")
    with pytest.raises(ValidationError, match="验证码不正确"):
        services.sms_code_check(
            phone=phone, purpose="join", code="000000" if code != "000000" else "111111"
        )
    services.sms_code_check(phone=phone, purpose="join", code=code)
    with pytest.raises(ValidationError, match="已过期或未获取"):
        services.sms_code_check(phone=phone, purpose="join", code=code)
