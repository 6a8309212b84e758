"""The folder: every write shows in every ancestor after one fold, exactly, whatever wrote it
(joins, decisions, transfers, employers, the tree itself)."""

import pytest

from niangjia.members import services as member_services
from niangjia.members.choices import ApplicationChannel, MemberStatus
from niangjia.orgs import services as org_services
from niangjia.orgs.choices import (
    EmployerStatus,
    IndustrySection,
    OwnershipType,
    UnionKind,
    UnionLevel,
)
from niangjia.orgs.models import Union
from niangjia.stats import fold
from niangjia.stats.models import FoldState, StatOwnValue, StatValue
from niangjia.stats.tests.conftest import assert_exact, fold_now, stored, value
from niangjia.utilities.testing.factories import make_uscc
from niangjia.utilities.testing.members import join_data, make_member

pytestmark = pytest.mark.django_db


def test_the_first_fold_counts_everything_and_later_folds_only_what_is_new(tree):
    first = fold_now()
    assert first.rebuilt
    assert FoldState.objects.get().config == fold.config_fingerprint()
    nothing = fold_now()
    assert not nothing.rebuilt and nothing.events == 0 and nothing.rows == 0


def test_a_join_shows_in_every_ancestor_after_one_fold(tree):
    fold_now()
    make_member(tree.jianghan_grassroots)
    result = fold_now()
    assert result.events == 1
    for node in (tree.jianghan_grassroots, tree.jianghan, tree.wuhan, tree.hubei, tree.root):
        assert value(node, "members") == 1, node.name
    assert value(tree.transport_industry, "members") == 1
    assert value(tree.jiangan, "members") == 0
    assert_exact()


def test_folding_again_changes_nothing(populated):
    before = {n.pk: stored(n) for n in Union.objects.all()}
    own = sorted(StatOwnValue.objects.values_list("union_id", "measure", "dims", "period", "value"))
    fold_now()
    fold_now()
    assert {n.pk: stored(n) for n in Union.objects.all()} == before
    assert (
        sorted(StatOwnValue.objects.values_list("union_id", "measure", "dims", "period", "value"))
        == own
    )


def test_a_rebuild_arrives_at_the_same_figures_as_the_folds(populated, national_admin):
    transfer = populated.members["moving"].transfers.get()
    member_services.transfer_accept(transfer=transfer, acting_user=national_admin)
    fold_now()
    folded = {n.pk: stored(n) for n in Union.objects.all()}
    own = sorted(StatOwnValue.objects.values_list("union_id", "measure", "dims", "period", "value"))
    assert fold.rebuild().rebuilt
    assert {n.pk: stored(n) for n in Union.objects.all()} == folded
    assert (
        sorted(StatOwnValue.objects.values_list("union_id", "measure", "dims", "period", "value"))
        == own
    )


def test_status_changes_and_every_turn_of_a_transfer(populated, national_admin):
    t, m = populated.tree, populated.members
    member_services.member_change_status(
        member=m["a1"], to_status=MemberStatus.RESERVED, reason="失业", acting_user=national_admin
    )
    fold_now()
    assert value(t.root, "members", dims="status=reserved") == 2
    assert_exact()
    transfer = m["moving"].transfers.get()
    member_services.transfer_refuse(
        transfer=transfer, acting_user=national_admin, reason="不在本单位"
    )
    fold_now()
    assert value(t.root, "members", dims="status=transferring") == 0
    assert_exact()
    again = member_services.transfer_release(
        member=m["a2"], to_union=t.jianghan_grassroots, reason="调动", acting_user=national_admin
    )
    fold_now()
    assert value(t.jiangan, "members", dims="status=transferring") == 1
    # Cancelling writes no membership event; its audit row marks both unions changed.
    member_services.transfer_cancel(transfer=again, acting_user=national_admin)
    fold_now()
    assert value(t.jiangan, "members", dims="status=transferring") == 0
    assert_exact()


def test_application_decisions_move_the_pending_counts(populated, national_admin):
    t = populated.tree
    first, second = populated.pending
    member_services.application_approve(application=first, acting_user=national_admin)
    fold_now()
    assert value(t.root, "applications_pending") == 1
    assert value(t.root, "applications_overdue") == 0
    assert value(t.root, "joins") == 12
    member_services.application_reject(
        application=second, acting_user=national_admin, reason="重复"
    )
    member_services.application_submit(
        union=t.jianghan_grassroots,
        data=join_data(),
        channel=ApplicationChannel.QR,
        phone_verified=True,
    )
    fold_now()
    assert value(t.jiangan, "applications_pending") == 0
    assert value(t.transport_industry, "applications_pending") == 1
    assert_exact()


def test_employer_changes_reach_the_old_and_the_new_unions(populated, national_admin):
    t = populated.tree
    employer = org_services.employer_create(
        acting_user=national_admin,
        name="武汉新建材料有限公司",
        uscc=make_uscc(region_code="420102"),
        region=t.jiangan.region,
        industry_section=IndustrySection.C,
        ownership=OwnershipType.PRIVATE,
        headcount=80,
        owner=t.jiangan,
    )
    fold_now()
    assert value(t.root, "employers") == 3
    assert value(t.root, "formation_rate") == round(100 * 2 / 3, 1)
    org_services.employer_update(
        acting_user=national_admin, employer=employer, covering_union=t.jianghan_grassroots
    )
    fold_now()
    assert value(t.transport_industry, "employers_organised") == 2
    assert value(t.root, "covered_headcount") == 550
    org_services.employer_update(
        acting_user=national_admin,
        employer=employer,
        owner=t.jianghan,
        status=EmployerStatus.MOVED_AWAY,
    )
    fold_now()
    assert value(t.root, "employers") == 2
    assert value(t.jiangan, "employers") == 1
    assert_exact()


def test_a_new_union_a_dissolved_one_and_a_deleted_one(populated, national_admin):
    t = populated.tree
    new = org_services.union_create(
        acting_user=national_admin,
        parent=t.jiangan,
        name="武汉江岸测试有限公司工会",
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        region=t.jiangan.region,
        industry_union=t.transport_industry,
    )
    fold_now()
    assert value(t.root, "unions") == 9
    assert value(t.transport_industry, "unions") == 3
    assert value(new, "unions") == 1
    org_services.union_dissolve(
        acting_user=national_admin, union=t.jiangan_grassroots, reason="单位关闭"
    )
    fold_now()
    assert value(t.jiangan, "employers_organised") == 0  # its employer is no longer covered
    assert value(t.root, "unions") == 8
    assert_exact()
    org_services.union_delete(acting_user=national_admin, union=new)
    fold_now()
    assert value(t.root, "unions") == 7
    assert value(t.transport_industry, "unions") == 2
    assert not StatValue.objects.filter(node_id=new.pk).exists()
    assert_exact()


def test_moving_a_union_moves_its_figures_to_its_new_ancestors(populated, national_admin):
    t = populated.tree
    # Placed on no region, a union may move across counties.
    org_services.union_update(acting_user=national_admin, union=t.jiangan_grassroots, region=None)
    org_services.union_move(
        acting_user=national_admin, union=t.jiangan_grassroots, new_parent=t.jianghan
    )
    fold_now()
    assert value(t.jiangan, "members") == 1
    assert value(t.jianghan, "members") == 8
    assert value(t.wuhan, "members") == 9
    assert_exact()


def test_merging_unions_moves_members_employers_and_children(populated, national_admin):
    t = populated.tree
    org_services.union_merge(acting_user=national_admin, source=t.jiangan, target=t.jianghan)
    fold_now()
    assert value(t.jiangan, "members") == 0
    assert value(t.jiangan, "unions") == 0
    assert value(t.jianghan, "members") == 9
    assert value(t.jianghan, "employers") == 2
    assert value(t.wuhan, "unions") == 4  # 武汉, 江汉 and the two grassroots unions
    assert_exact()


def test_linking_a_grassroots_union_to_an_industry_union_counts_it_there(populated, national_admin):
    t = populated.tree
    org_services.union_update(
        acting_user=national_admin, union=t.jiangan_grassroots, industry_union=t.transport_industry
    )
    fold_now()
    assert value(t.transport_industry, "members") == 8
    assert value(t.hubei, "members") == 9
    org_services.union_update(
        acting_user=national_admin, union=t.jianghan_grassroots, industry_union=None
    )
    fold_now()
    assert value(t.transport_industry, "members") == 5
    assert_exact()


def test_a_deleted_event_source_is_recounted_by_a_rebuild(populated):
    """A bulk path that writes rows without events or audit rows must call the rebuild."""
    t = populated.tree
    member = populated.members["a3"]
    type(member).objects.filter(pk=member.pk).update(
        union=t.jianghan_grassroots, union_path=t.jianghan_grassroots.path
    )
    fold_now()
    assert value(t.jianghan, "members") == 3  # nothing told the folder
    fold.rebuild()
    assert value(t.jianghan, "members") == 4
    assert_exact()
