"""Writes of the organisation registry: scope enforced, one audit row per change in the same
transaction, and a refused write leaves nothing behind."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from niangjia.accounts.choices import Role
from niangjia.accounts.models import RoleAssignment
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs import services
from niangjia.orgs.choices import UnionKind, UnionLevel, UnionStatus
from niangjia.orgs.models import Employer, Region, Union
from niangjia.utilities.testing.factories import (
    EmployerFactory,
    UnionFactory,
    make_uscc,
    wrong_check_character,
)

pytestmark = pytest.mark.django_db


def audit_rows(action: str | None = None):
    rows = AuditEntry.objects.exclude(action__in=[AuditAction.LOGIN, AuditAction.LOGOUT])
    return rows.filter(action=action) if action else rows


def state(*objs) -> list[tuple]:
    """What a refused write must leave untouched."""
    rows = []
    for obj in objs:
        fresh = type(obj).objects.get(pk=obj.pk)
        rows.append(tuple(f.value_from_object(fresh) for f in fresh._meta.concrete_fields))
    return rows


def create_grassroots(user, parent, **kwargs):
    kwargs.setdefault("name", "武汉江岸测试科技有限公司工会")
    return services.union_create(
        acting_user=user,
        parent=parent,
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        region=parent.region,
        **kwargs,
    )


# --- union_create


def test_county_cadre_creates_grassroots_union_with_an_audit_row(county_cadre, tree):
    union = create_grassroots(county_cadre, tree.jiangan, name="  武汉江岸新星电子有限公司工会 ")
    assert union.name == "武汉江岸新星电子有限公司工会"
    assert Union.objects.get_parent(union) == tree.jiangan
    [row] = audit_rows()
    assert (row.action, row.actor, row.actor_name) == (
        AuditAction.CREATE,
        county_cadre,
        "江岸区总干部",
    )
    assert (row.object_type, row.object_id) == ("orgs.union", str(union.pk))
    assert row.union_path == union.path
    assert row.after["name"] == "武汉江岸新星电子有限公司工会"
    assert row.after["level"] == UnionLevel.GRASSROOTS
    assert row.before is None
    assert "江岸区总工会:工会干部" in row.actor_scope


def test_sibling_cadre_cannot_create_under_another_county(sibling_cadre, tree):
    before = Union.objects.count()
    with pytest.raises(PermissionDenied):
        create_grassroots(sibling_cadre, tree.jiangan)
    assert Union.objects.count() == before
    assert not audit_rows().exists()


def test_auditor_sees_but_cannot_create(auditor, tree):
    with pytest.raises(PermissionDenied):
        create_grassroots(auditor, tree.jiangan)
    assert not audit_rows().exists()


def test_invalid_placement_creates_nothing_and_writes_no_audit_row(county_cadre, tree):
    before = state(tree.jiangan)
    count = Union.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        services.union_create(
            acting_user=county_cadre,
            parent=tree.jiangan,
            name="江岸区某市总工会",
            level=UnionLevel.CITY,
            kind=UnionKind.FEDERATION,
            region=Region.objects.get(code="420100"),
        )
    assert "市级工会不能设在县级工会“江岸区总工会”之下" in excinfo.value.message_dict["level"]
    assert Union.objects.count() == count
    assert state(tree.jiangan) == before
    assert not audit_rows().exists()


def test_industry_union_outside_scope_cannot_be_linked(county_cadre, tree):
    with pytest.raises(ValidationError) as excinfo:
        create_grassroots(county_cadre, tree.jiangan, industry_union=tree.transport_industry)
    assert excinfo.value.message_dict == {"industry_union": ["所选产业工会不在您的管辖范围内"]}


def test_provincial_cadre_links_grassroots_union_to_industry_union(provincial_cadre, tree):
    union = create_grassroots(
        provincial_cadre, tree.jiangan, industry_union=tree.transport_industry
    )
    assert union.industry_union == tree.transport_industry
    assert union in tree.transport_industry.counted_subtree()


def test_union_credit_code_is_normalised_and_must_start_with_81(county_cadre, tree):
    code = make_uscc(region_code="420102", serial=77, prefix="81")
    spaced = f"{code[:6]} {code[6:]}".lower()
    union = create_grassroots(county_cadre, tree.jiangan, uscc=spaced)
    assert union.uscc == code
    with pytest.raises(ValidationError) as excinfo:
        create_grassroots(
            county_cadre,
            tree.jiangan,
            name="另一工会",
            uscc=make_uscc(region_code="420102", serial=78),
        )
    assert excinfo.value.message_dict["uscc"] == ["工会的统一社会信用代码应以 81 开头"]


def test_audit_row_and_change_share_one_transaction(county_cadre, tree, monkeypatch):
    def broken_record(**kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(services, "record", broken_record)
    count = Union.objects.count()
    with pytest.raises(RuntimeError):
        create_grassroots(county_cadre, tree.jiangan)
    assert Union.objects.count() == count
    tree.jiangan.refresh_from_db()
    assert tree.jiangan.numchild == 1


# --- union_update


def test_update_records_only_the_changed_fields(county_cadre, tree):
    services.union_update(
        acting_user=county_cadre,
        union=tree.jiangan_grassroots,
        address="武汉市江岸区解放大道1号",
        contact_phone="027-12345678",
        name="武汉长江机械有限公司工会",
    )
    [row] = audit_rows()
    assert row.action == AuditAction.CHANGE
    assert row.before == {"address": "", "contact_phone": ""}
    assert row.after == {"address": "武汉市江岸区解放大道1号", "contact_phone": "027-12345678"}


def test_update_without_change_writes_no_audit_row(county_cadre, tree):
    services.union_update(acting_user=county_cadre, union=tree.jiangan, name="江岸区总工会")
    assert not audit_rows().exists()


def test_update_refuses_fields_that_are_not_editable(county_cadre, tree):
    with pytest.raises(ValueError, match="status"):
        services.union_update(acting_user=county_cadre, union=tree.jiangan, status="dissolved")


@pytest.mark.parametrize("persona", ["sibling_cadre", "auditor", "worker", "system_admin"])
def test_update_outside_scope_or_without_change_right_is_refused(personas, tree, persona):
    before = state(tree.jiangan)
    with pytest.raises(PermissionDenied):
        services.union_update(acting_user=personas[persona], union=tree.jiangan, name="改名")
    assert state(tree.jiangan) == before
    assert not audit_rows().exists()


def test_invalid_update_changes_nothing(county_cadre, tree):
    before = state(tree.jiangan)
    with pytest.raises(ValidationError) as excinfo:
        services.union_update(
            acting_user=county_cadre,
            union=tree.jiangan,
            region=Region.objects.get(code="430102"),
            address="新地址",
        )
    assert excinfo.value.message_dict["region"] == ["“芙蓉区”不在上级工会所在的“武汉市”范围内"]
    assert state(tree.jiangan) == before
    assert not audit_rows().exists()


# --- union_move


def test_provincial_cadre_moves_a_union_with_its_subtree(provincial_cadre, tree):
    street = UnionFactory(
        parent=tree.jiangan,
        name="江岸区某街道联合工会",
        level=UnionLevel.TOWNSHIP,
        kind=UnionKind.JOINT,
        region=None,
    )
    shop = UnionFactory(parent=street, name="某商铺工会", region=None)
    old_path = street.path
    moved = services.union_move(
        acting_user=provincial_cadre, union=street, new_parent=tree.jianghan
    )
    shop.refresh_from_db()
    assert Union.objects.get_parent(moved) == tree.jianghan
    assert shop.path.startswith(moved.path) and Union.objects.get_parent(shop) == moved
    [row] = audit_rows()
    assert row.action == AuditAction.MOVE
    assert row.before == {"parent": tree.jiangan.pk, "path": old_path}
    assert row.after == {"parent": tree.jianghan.pk, "path": moved.path}
    assert row.detail == {"from": "江岸区总工会", "to": "江汉区总工会"}


def test_a_union_cannot_move_under_a_parent_outside_its_region(provincial_cadre, tree):
    street = UnionFactory(
        parent=tree.jiangan,
        level=UnionLevel.TOWNSHIP,
        kind=UnionKind.JOINT,
        region=Region.objects.get(code="420102"),
    )
    with pytest.raises(ValidationError) as excinfo:
        services.union_move(acting_user=provincial_cadre, union=street, new_parent=tree.jianghan)
    assert excinfo.value.message_dict["region"] == ["“江岸区”不在上级工会所在的“江汉区”范围内"]
    assert Union.objects.get_parent(Union.objects.get(pk=street.pk)) == tree.jiangan


def test_county_cadre_cannot_move_a_union_into_the_sibling_county(county_cadre, tree):
    before = state(tree.jiangan_grassroots)
    with pytest.raises(PermissionDenied):
        services.union_move(
            acting_user=county_cadre, union=tree.jiangan_grassroots, new_parent=tree.jianghan
        )
    assert state(tree.jiangan_grassroots) == before
    assert not audit_rows().exists()


def test_move_under_own_descendant_is_refused(national_admin, tree):
    before = state(tree.wuhan, tree.jiangan)
    with pytest.raises(ValidationError) as excinfo:
        services.union_move(acting_user=national_admin, union=tree.wuhan, new_parent=tree.jiangan)
    assert "不能把工会移到它自己或它的下级之下" in excinfo.value.message_dict["parent"]
    assert state(tree.wuhan, tree.jiangan) == before
    assert not audit_rows().exists()


def test_county_federation_cannot_move_to_a_city_outside_its_region(provincial_cadre, tree):
    huangshi = UnionFactory(parent=tree.hubei)
    assert huangshi.region.code == "420200"
    with pytest.raises(ValidationError) as excinfo:
        services.union_move(acting_user=provincial_cadre, union=tree.jiangan, new_parent=huangshi)
    assert excinfo.value.message_dict["region"] == ["“江岸区”不在上级工会所在的“黄石市”范围内"]


def test_the_national_federation_cannot_move(national_admin, tree):
    with pytest.raises(ValidationError) as excinfo:
        services.union_move(acting_user=national_admin, union=tree.root, new_parent=tree.hubei)
    assert excinfo.value.message_dict == {"parent": ["全国总工会不能移动"]}


# --- union_merge


def test_merge_moves_employers_and_keeps_the_source_as_merged(county_cadre, tree):
    source = tree.jiangan_grassroots
    target = UnionFactory(parent=tree.jiangan, name="武汉长江重工集团工会")
    registered = EmployerFactory(owner=source)
    services.union_merge(acting_user=county_cadre, source=source, target=target)
    source.refresh_from_db()
    assert source.status == UnionStatus.MERGED
    assert source.merged_into == target
    assert source.closed_on == timezone.localdate()
    assert list(target.merged_from.all()) == [source]
    tree.jiangan_employer.refresh_from_db()
    registered.refresh_from_db()
    assert tree.jiangan_employer.covering_union == target
    assert registered.owner == target
    [row] = audit_rows()
    assert (row.action, row.object_id) == (AuditAction.MERGE, str(source.pk))
    assert row.after == {"status": UnionStatus.MERGED, "merged_into": target.pk}
    assert row.detail["target"] == "武汉长江重工集团工会"
    # Other modules' merge steps (members …) add their own counts beside these.
    assert (
        row.detail["moved"].items()
        >= {
            "children": 0,
            "covered_employers": 1,
            "registered_employers": 1,
            "industry_members": 0,
        }.items()
    )


def test_merge_moves_children_to_the_target(provincial_cadre, tree):
    county = UnionFactory(parent=tree.wuhan)
    child = UnionFactory(parent=county, name="被合并县的基层工会")
    services.union_merge(acting_user=provincial_cadre, source=county, target=tree.jianghan)
    child.refresh_from_db()
    assert Union.objects.get_parent(child) == tree.jianghan
    county.refresh_from_db()
    assert county.status == UnionStatus.MERGED and county.numchild == 0
    assert audit_rows(AuditAction.MERGE).get().detail["moved"]["children"] == 1


def test_merge_of_industry_unions_carries_their_linked_grassroots_unions(provincial_cadre, tree):
    target = UnionFactory(
        parent=tree.hubei,
        name="湖北省交通建设产业工会",
        level=UnionLevel.PROVINCE,
        kind=UnionKind.INDUSTRY,
    )
    services.union_merge(
        acting_user=provincial_cadre, source=tree.transport_industry, target=target
    )
    tree.jianghan_grassroots.refresh_from_db()
    assert tree.jianghan_grassroots.industry_union == target


def test_merge_out_of_scope_is_refused(county_cadre, tree):
    before = state(tree.jiangan_grassroots, tree.jianghan_grassroots, tree.jianghan_employer)
    with pytest.raises(PermissionDenied):
        services.union_merge(
            acting_user=county_cadre,
            source=tree.jiangan_grassroots,
            target=tree.jianghan_grassroots,
        )
    assert (
        state(tree.jiangan_grassroots, tree.jianghan_grassroots, tree.jianghan_employer) == before
    )
    assert not audit_rows().exists()


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("jiangan_grassroots", "jiangan_grassroots", "不能与自身合并"),
        ("jiangan", "jiangan_grassroots", "不能并入自己的下级工会"),
        ("jiangan_grassroots", "jiangan", "只能合并同层级、同类型的工会"),
        ("transport_industry", "hubei", "只能合并同层级、同类型的工会"),
    ],
)
def test_merge_rules(provincial_cadre, tree, source, target, message):
    source, target = getattr(tree, source), getattr(tree, target)
    before = state(source, target, tree.jiangan_employer)
    with pytest.raises(ValidationError) as excinfo:
        services.union_merge(acting_user=provincial_cadre, source=source, target=target)
    assert excinfo.value.message_dict == {"target": [message]}
    assert state(source, target, tree.jiangan_employer) == before
    assert not audit_rows().exists()


def test_merge_into_a_closed_union_is_refused(county_cadre, tree):
    closed = UnionFactory(parent=tree.jiangan, status=UnionStatus.DISSOLVED)
    with pytest.raises(ValidationError) as excinfo:
        services.union_merge(
            acting_user=county_cadre, source=tree.jiangan_grassroots, target=closed
        )
    assert excinfo.value.message_dict == {"target": ["只能合并两个存续的工会"]}


# --- union_dissolve


def test_dissolve_uncovers_employers_and_records_the_reason(county_cadre, tree):
    union = services.union_dissolve(
        acting_user=county_cadre, union=tree.jiangan_grassroots, reason=" 企业破产 "
    )
    assert union.status == UnionStatus.DISSOLVED and union.closed_on == timezone.localdate()
    tree.jiangan_employer.refresh_from_db()
    assert tree.jiangan_employer.covering_union is None
    [row] = audit_rows()
    assert row.action == AuditAction.DISSOLVE
    assert row.detail == {"reason": "企业破产", "employers_uncovered": 1}


def test_dissolve_needs_a_reason(county_cadre, tree):
    with pytest.raises(ValidationError) as excinfo:
        services.union_dissolve(acting_user=county_cadre, union=tree.jiangan_grassroots, reason=" ")
    assert excinfo.value.message_dict == {"reason": ["请填写撤销原因"]}
    tree.jiangan_grassroots.refresh_from_db()
    assert tree.jiangan_grassroots.status == UnionStatus.ACTIVE
    assert not audit_rows().exists()


def test_dissolve_refused_while_active_children_remain(county_cadre, tree):
    with pytest.raises(ValidationError) as excinfo:
        services.union_dissolve(acting_user=county_cadre, union=tree.jiangan, reason="区划调整")
    assert excinfo.value.message_dict == {
        "reason": ["该工会还有 1 个存续的下级工会，请先移走、合并或撤销"]
    }


def test_dissolve_twice_is_refused(county_cadre, tree):
    services.union_dissolve(acting_user=county_cadre, union=tree.jiangan_grassroots, reason="破产")
    with pytest.raises(ValidationError) as excinfo:
        services.union_dissolve(
            acting_user=county_cadre, union=tree.jiangan_grassroots, reason="破产"
        )
    assert excinfo.value.message_dict == {"reason": ["该工会已撤销"]}


def test_the_national_federation_cannot_be_dissolved(national_admin, tree):
    with pytest.raises(ValidationError) as excinfo:
        services.union_dissolve(acting_user=national_admin, union=tree.root, reason="测试")
    assert excinfo.value.message_dict == {"reason": ["全国总工会不能撤销"]}


def test_dissolve_out_of_scope_is_refused(sibling_cadre, tree):
    with pytest.raises(PermissionDenied):
        services.union_dissolve(
            acting_user=sibling_cadre, union=tree.jiangan_grassroots, reason="x"
        )
    assert not audit_rows().exists()


# --- union_delete


def test_national_admin_deletes_a_bare_union_with_its_snapshot(national_admin, tree):
    union = UnionFactory(parent=tree.jiangan, name="误建的工会")
    pk, path = union.pk, union.path
    services.union_delete(acting_user=national_admin, union=union)
    assert not Union.objects.filter(pk=pk).exists()
    tree.jiangan.refresh_from_db()
    assert tree.jiangan.numchild == 1
    [row] = audit_rows()
    assert (row.action, row.object_id, row.union_path) == (AuditAction.DELETE, str(pk), path)
    assert row.before["name"] == "误建的工会" and row.after is None


def test_cadre_may_not_delete(county_cadre, tree):
    union = UnionFactory(parent=tree.jiangan)
    with pytest.raises(PermissionDenied):
        services.union_delete(acting_user=county_cadre, union=union)
    assert Union.objects.filter(pk=union.pk).exists()


def test_delete_refused_with_reasons_when_children_or_employers_exist(national_admin, tree):
    with pytest.raises(ValidationError) as excinfo:
        services.union_delete(acting_user=national_admin, union=tree.jiangan)
    assert excinfo.value.messages == [
        "该工会不能删除（有 1 个下级工会；管理 1 家用人单位的登记），只能合并或撤销"
    ]
    with pytest.raises(ValidationError) as excinfo:
        services.union_delete(acting_user=national_admin, union=tree.jiangan_grassroots)
    assert excinfo.value.messages == ["该工会不能删除（覆盖 1 家用人单位），只能合并或撤销"]
    assert Union.objects.filter(pk=tree.jiangan.pk).exists()
    assert not audit_rows().exists()


def test_delete_refused_while_someone_holds_a_role_there(national_admin, tree, worker):
    union = UnionFactory(parent=tree.jiangan)
    RoleAssignment.objects.create(user=worker, union=union, role=Role.CADRE)
    with pytest.raises(ValidationError) as excinfo:
        services.union_delete(acting_user=national_admin, union=union)
    assert excinfo.value.messages == ["该工会不能删除（有账号在该工会任职），只能合并或撤销"]


def test_the_national_federation_cannot_be_deleted(national_admin, tree):
    with pytest.raises(ValidationError) as excinfo:
        services.union_delete(acting_user=national_admin, union=tree.root)
    assert excinfo.value.messages == ["全国总工会不能删除"]


# --- Employers


def employer_data(tree, **overrides):
    data = {
        "name": "武汉江岸新开元商贸有限公司",
        "uscc": make_uscc(region_code="420102", serial=555),
        "region": Region.objects.get(code="420102"),
        "industry_section": "F",
        "ownership": "private",
        "headcount": 12,
        "owner": tree.jiangan,
    }
    data.update(overrides)
    return data


def test_county_cadre_registers_an_employer(county_cadre, tree):
    employer = services.employer_create(acting_user=county_cadre, **employer_data(tree))
    assert employer.created_by == county_cadre
    [row] = audit_rows()
    assert (row.action, row.object_type, row.union_path) == (
        AuditAction.CREATE,
        "orgs.employer",
        tree.jiangan.path,
    )
    assert row.after["uscc"] == employer.uscc
    assert row.detail is None


def test_wrong_check_character_is_refused_with_the_expected_one(county_cadre, tree):
    good = make_uscc(region_code="420102", serial=556)
    with pytest.raises(ValidationError) as excinfo:
        services.employer_create(
            acting_user=county_cadre, **employer_data(tree, uscc=wrong_check_character(good))
        )
    assert excinfo.value.message_dict["uscc"] == [
        f"统一社会信用代码校验位不正确（第 18 位应为 {good[-1]}）"
    ]
    assert not Employer.objects.filter(name="武汉江岸新开元商贸有限公司").exists()
    assert not audit_rows().exists()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91420102MA4K", "统一社会信用代码应为 18 位，当前为 12 位"),
        ("91420102MA4KXXXXIO", "统一社会信用代码含有不允许的字符（不得使用 I、O、Z、S、V）"),
    ],
)
def test_malformed_credit_codes_are_explained(county_cadre, tree, code, message):
    with pytest.raises(ValidationError) as excinfo:
        services.employer_create(acting_user=county_cadre, **employer_data(tree, uscc=code))
    assert excinfo.value.message_dict["uscc"] == [message]


def test_legacy_code_needs_a_reason(county_cadre, tree):
    legacy = wrong_check_character(make_uscc(region_code="420102", serial=557))
    with pytest.raises(ValidationError) as excinfo:
        services.employer_create(
            acting_user=county_cadre, **employer_data(tree, uscc=legacy, uscc_override=True)
        )
    assert excinfo.value.message_dict == {
        "uscc_override_reason": ["历史代码未通过校验，保存时必须填写例外原因"]
    }
    assert not audit_rows().exists()


def test_legacy_code_with_reason_is_kept_and_the_reason_audited(county_cadre, tree):
    legacy = wrong_check_character(make_uscc(region_code="420102", serial=558))
    employer = services.employer_create(
        acting_user=county_cadre,
        **employer_data(
            tree, uscc=legacy, uscc_override=True, uscc_override_reason="2015年换证前的旧代码"
        ),
    )
    assert employer.uscc == legacy and employer.uscc_override
    row = audit_rows(AuditAction.CREATE).get()
    assert row.detail == {"uscc_override_reason": "2015年换证前的旧代码"}


def test_valid_code_drops_a_stale_override(county_cadre, tree):
    employer = services.employer_create(
        acting_user=county_cadre,
        **employer_data(tree, uscc_override=True, uscc_override_reason="多余的例外"),
    )
    assert employer.uscc_override is False and employer.uscc_override_reason == ""


def test_employer_owner_must_be_in_scope(county_cadre, tree):
    with pytest.raises(ValidationError) as excinfo:
        services.employer_create(
            acting_user=county_cadre, **employer_data(tree, owner=tree.jianghan)
        )
    assert excinfo.value.message_dict["owner"] == ["管理工会不在您的管辖范围内"]


def test_employer_needs_an_owner(county_cadre, tree):
    with pytest.raises(ValidationError) as excinfo:
        services.employer_create(acting_user=county_cadre, **employer_data(tree, owner=None))
    assert excinfo.value.message_dict == {"owner": ["请选择管理工会"]}


def test_covering_union_must_be_an_active_grassroots_union_in_scope(provincial_cadre, tree):
    cases = [
        (tree.jiangan, "“江岸区总工会”不是基层工会或联合基层工会"),
        (
            UnionFactory(parent=tree.jiangan, name="已撤销的工会", status=UnionStatus.DISSOLVED),
            "“已撤销的工会”已撤销",
        ),
    ]
    for cover, message in cases:
        with pytest.raises(ValidationError) as excinfo:
            services.employer_create(
                acting_user=provincial_cadre, **employer_data(tree, covering_union=cover)
            )
        assert excinfo.value.message_dict["covering_union"] == [message]


def test_covering_union_outside_scope_is_refused(county_cadre, tree):
    with pytest.raises(ValidationError) as excinfo:
        services.employer_create(
            acting_user=county_cadre,
            **employer_data(tree, covering_union=tree.jianghan_grassroots),
        )
    assert excinfo.value.message_dict["covering_union"] == ["所选基层工会不在您的管辖范围内"]


def test_employer_update_audits_the_change(county_cadre, tree):
    services.employer_update(
        acting_user=county_cadre, employer=tree.jiangan_employer, headcount=400
    )
    [row] = audit_rows()
    assert (row.action, row.before, row.after) == (
        AuditAction.CHANGE,
        {"headcount": 320},
        {"headcount": 400},
    )


def test_grassroots_cadre_updates_the_employer_their_union_covers(grassroots_cadre, tree):
    assert tree.jiangan_employer.covering_union == tree.jiangan_grassroots
    services.employer_update(
        acting_user=grassroots_cadre, employer=tree.jiangan_employer, headcount=410
    )
    tree.jiangan_employer.refresh_from_db()
    assert tree.jiangan_employer.headcount == 410


def test_grassroots_cadre_cannot_hand_an_employer_to_another_owner(grassroots_cadre, tree):
    with pytest.raises(ValidationError) as excinfo:
        services.employer_update(
            acting_user=grassroots_cadre, employer=tree.jiangan_employer, owner=tree.wuhan
        )
    assert excinfo.value.message_dict["owner"] == ["管理工会不在您的管辖范围内"]


def test_employer_update_out_of_scope_is_refused(sibling_cadre, tree):
    before = state(tree.jiangan_employer)
    with pytest.raises(PermissionDenied):
        services.employer_update(
            acting_user=sibling_cadre, employer=tree.jiangan_employer, headcount=1
        )
    assert state(tree.jiangan_employer) == before
    assert not audit_rows().exists()


def test_invalid_employer_update_changes_nothing(county_cadre, tree):
    before = state(tree.jiangan_employer)
    with pytest.raises(ValidationError):
        services.employer_update(
            acting_user=county_cadre,
            employer=tree.jiangan_employer,
            uscc=wrong_check_character(tree.jiangan_employer.uscc),
            headcount=1,
        )
    assert state(tree.jiangan_employer) == before
    assert not audit_rows().exists()
