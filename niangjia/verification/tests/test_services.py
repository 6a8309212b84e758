"""The services of verification campaigns: create, split, mark, conflicts, apply and close."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs import queries, rules
from niangjia.orgs.choices import EmployerStatus, OwnershipType
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.testing.factories import EmployerFactory
from niangjia.utilities.testing.personas import Personas, Tree
from niangjia.verification import selectors, services
from niangjia.verification.choices import CampaignState, VerificationResult
from niangjia.verification.models import VerificationCampaign, VerificationItem
from niangjia.verification.selectors import EmployerFilters
from niangjia.verification.tests.conftest import new_campaign

ACTIVE = VerificationResult.ACTIVE
MOVED = VerificationResult.MOVED_AWAY
GONE = VerificationResult.DEREGISTERED


def item_of(campaign: VerificationCampaign, employer: Employer) -> VerificationItem:
    return VerificationItem.objects.select_related("campaign").get(
        campaign=campaign, employer=employer
    )


def mark(user: User, item: VerificationItem, result: str, **kwargs: object) -> VerificationItem:
    return services.item_mark(acting_user=user, item=item, result=result, **kwargs)


# --- Creating


def test_campaign_lists_every_employer_of_the_subtree_the_cadre_may_change(
    personas: Personas, tree: Tree, jiangan_employers: list[Employer]
) -> None:
    campaign = new_campaign(personas["county_cadre"], tree.jiangan)
    employers = set(campaign.items.values_list("employer_id", flat=True))
    assert employers == {e.pk for e in jiangan_employers}
    assert tree.jianghan_employer.pk not in employers
    assert campaign.item_count == 7
    assert campaign.state == CampaignState.DRAFT
    assert not campaign.items.exclude(result=VerificationResult.PENDING).exists()
    entry = AuditEntry.objects.get(object_type="verification.verificationcampaign")
    assert entry.action == AuditAction.CREATE and entry.detail == {"items": 7}
    assert entry.union_path == tree.jiangan.path


def test_items_remember_the_registry_status_the_check_started_from(
    personas: Personas, tree: Tree, jiangan_employers: list[Employer]
) -> None:
    campaign = new_campaign(personas["county_cadre"], tree.jiangan)
    moved = jiangan_employers[-1]
    assert item_of(campaign, moved).status_before == EmployerStatus.MOVED_AWAY


def test_filters_narrow_the_employers_checked(
    personas: Personas, tree: Tree, jiangan_employers: list[Employer]
) -> None:
    cadre = personas["county_cadre"]
    active = new_campaign(cadre, tree.jiangan, status=EmployerStatus.ACTIVE)
    assert active.item_count == 6
    shops = new_campaign(cadre, tree.jiangan, ownership=OwnershipType.INDIVIDUAL)
    assert shops.item_count == 1
    big = new_campaign(cadre, tree.jiangan, min_headcount=40)
    assert set(big.items.values_list("employer__headcount", flat=True)) == {40, 50, 320}
    organised = new_campaign(cadre, tree.jiangan, organised=True)
    assert list(organised.items.values_list("employer_id", flat=True)) == [tree.jiangan_employer.pk]
    assert big.min_headcount == 40 and organised.organised is True


def test_a_campaign_of_a_grassroots_union_checks_the_employers_it_covers(
    personas: Personas, tree: Tree, jiangan_employers: list[Employer]
) -> None:
    campaign = new_campaign(personas["county_cadre"], tree.jiangan_grassroots)
    assert list(campaign.items.values_list("employer_id", flat=True)) == [tree.jiangan_employer.pk]


def test_nothing_to_check_is_refused_with_the_reason(personas: Personas, tree: Tree) -> None:
    with pytest.raises(ValidationError) as caught:
        new_campaign(personas["county_cadre"], tree.jiangan, industry_section="T")
    assert "没有符合条件" in caught.value.message_dict["union"][0]


def test_create_reports_each_bad_field_in_chinese(personas: Personas, tree: Tree) -> None:
    with pytest.raises(ValidationError) as caught:
        services.campaign_create(
            acting_user=personas["county_cadre"],
            union=tree.jiangan,
            name="  ",
            due_date=timezone.localdate() - datetime.timedelta(days=1),
            filters=EmployerFilters(status="closed", min_headcount=-1),
        )
    errors = caught.value.message_dict
    assert errors["name"] == ["请填写“核查名称”"]
    assert errors["due_date"] == ["“完成期限”不能早于今天"]
    assert "登记状态" in errors["employer_status"][0]
    assert "不能小于 0" in errors["min_headcount"][0]


def test_county_cadre_cannot_start_a_campaign_in_the_sibling_county(
    personas: Personas, tree: Tree
) -> None:
    with pytest.raises(PermissionDenied):
        new_campaign(personas["county_cadre"], tree.jianghan)
    with pytest.raises(PermissionDenied):
        new_campaign(personas["auditor"], tree.jiangan)
    assert not VerificationCampaign.objects.exists()


def test_eight_hundred_employers_take_a_handful_of_statements(
    personas: Personas, tree: Tree
) -> None:
    Employer.objects.bulk_create(
        EmployerFactory.build(owner=tree.jiangan, name=f"批量单位{i}") for i in range(799)
    )
    cadre = personas["county_cadre"]
    with CaptureQueriesContext(connection) as queries_run:
        campaign = new_campaign(cadre, tree.jiangan)
    assert campaign.item_count == 800
    assert VerificationItem.objects.filter(campaign=campaign).count() == 800
    # The items go in bulk: one statement per batch (SQLite's batches hold about a hundred
    # rows, PostgreSQL's a thousand), never one per employer.
    assert len(queries_run) < 25, [q["sql"][:80] for q in queries_run]


def test_only_a_draft_can_be_opened(campaign: VerificationCampaign, personas: Personas) -> None:
    assert campaign.state == CampaignState.OPEN and campaign.opened_at is not None
    with pytest.raises(ValidationError) as caught:
        services.campaign_open(acting_user=personas["county_cadre"], campaign=campaign)
    assert caught.value.message_dict["state"] == ["该核查核查中，不能再次开始"]


# --- Staff and splitting


def test_staff_are_the_people_who_may_change_employers_in_the_subtree(
    campaign: VerificationCampaign,
    personas: Personas,
    county_staff: User,
    township_cadre: User,
) -> None:
    personas["auditor"], personas["sibling_cadre"], personas["provincial_cadre"]
    grassroots = personas["grassroots_cadre"]
    county = personas["county_cadre"]
    names = [s.user for s in selectors.campaign_staff(campaign)]
    assert names[:2] == sorted([county, county_staff], key=lambda u: u.display_name)
    assert set(names) == {county, county_staff, township_cadre, grassroots}


def test_even_split_gives_everyone_the_same_share(
    campaign: VerificationCampaign, personas: Personas, county_staff: User
) -> None:
    county = personas["county_cadre"]
    result = services.campaign_split(
        acting_user=county, campaign=campaign, staff=[county, county_staff]
    )
    assert result.assigned == {county.pk: 4, county_staff.pk: 3}
    assert not campaign.items.filter(assignee=None).exists()
    progress = selectors.campaign_progress(campaign)
    assert [(t.name, t.assigned, t.done) for t in progress.people] == sorted(
        [(county.display_name, 4, 0), (county_staff.display_name, 3, 0)]
    )
    entry = AuditEntry.objects.filter(action=AuditAction.CHANGE).latest("pk")
    assert entry.detail["split"] == {county.display_name: 4, county_staff.display_name: 3}


def test_split_by_count_leaves_the_rest_unassigned(
    campaign: VerificationCampaign, personas: Personas, county_staff: User
) -> None:
    county = personas["county_cadre"]
    result = services.campaign_split(
        acting_user=county,
        campaign=campaign,
        staff=[county, county_staff],
        counts={county.pk: 2, county_staff.pk: 1},
    )
    assert result.assigned == {county.pk: 2, county_staff.pk: 1}
    assert result.left == 4
    assert campaign.items.filter(assignee=None).count() == 4
    # A second split shares out only what is still unassigned.
    again = services.campaign_split(acting_user=county, campaign=campaign, staff=[county_staff])
    assert again.assigned == {county_staff.pk: 4}
    assert campaign.items.filter(assignee=county).count() == 2


def test_split_again_with_reassignment_shares_every_pending_item(
    campaign: VerificationCampaign, personas: Personas, county_staff: User
) -> None:
    county = personas["county_cadre"]
    services.campaign_split(acting_user=county, campaign=campaign, staff=[county])
    first = campaign.items.order_by("id").first()
    assert first is not None
    mark(county, first, ACTIVE)
    result = services.campaign_split(
        acting_user=county, campaign=campaign, staff=[county_staff], include_assigned=True
    )
    assert result.assigned == {county_staff.pk: 6}  # the marked one stays with its checker
    first.refresh_from_db()
    assert first.assignee == county


def test_a_township_cadre_gets_only_employers_of_their_street(
    personas: Personas, tree: Tree, township: Union, township_cadre: User
) -> None:
    county = personas["county_cadre"]
    street = [EmployerFactory(owner=township, name=f"大智街道商户{i}") for i in range(3)]
    others = [EmployerFactory(owner=tree.jiangan, name=f"区直单位{i}") for i in range(3)]
    campaign = new_campaign(county, tree.jiangan)
    result = services.campaign_split(
        acting_user=county, campaign=campaign, staff=[county, township_cadre]
    )
    mine = set(campaign.items.filter(assignee=township_cadre).values_list("employer", flat=True))
    assert mine == {e.pk for e in street}
    assert result.assigned[county.pk] == 4  # the three others and the tree's own employer
    assert result.unreachable == 0
    assert not campaign.items.filter(assignee=None).exists()
    assert len(others) == 3


def test_only_staff_of_the_subtree_can_be_given_items(
    campaign: VerificationCampaign, personas: Personas
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.campaign_split(
            acting_user=personas["county_cadre"],
            campaign=campaign,
            staff=[personas["sibling_cadre"]],
        )
    assert "江汉区总干部" in caught.value.message_dict["staff"][0]
    with pytest.raises(ValidationError):
        services.campaign_split(
            acting_user=personas["county_cadre"], campaign=campaign, staff=[personas["auditor"]]
        )


def test_reassigning_a_selection_checks_the_new_checker_may_check_them(
    personas: Personas, tree: Tree, township: Union, township_cadre: User
) -> None:
    county = personas["county_cadre"]
    street = EmployerFactory(owner=township, name="大智街道书店")
    campaign = new_campaign(county, tree.jiangan)
    items = list(campaign.items.order_by("id"))
    street_item = item_of(campaign, street)
    assert (
        services.items_assign(
            acting_user=county,
            campaign=campaign,
            item_ids=[street_item.pk],
            assignee=township_cadre,
        )
        == 1
    )
    with pytest.raises(ValidationError) as caught:
        services.items_assign(
            acting_user=county,
            campaign=campaign,
            item_ids=[i.pk for i in items],
            assignee=township_cadre,
        )
    assert "管辖范围内没有" in caught.value.message_dict["assignee"][0]
    services.items_assign(
        acting_user=county, campaign=campaign, item_ids=[street_item.pk], assignee=None
    )
    street_item.refresh_from_db()
    assert street_item.assignee is None


# --- Marking


def test_the_assignee_marks_an_item_with_a_note(
    campaign: VerificationCampaign, personas: Personas, county_staff: User
) -> None:
    county = personas["county_cadre"]
    services.campaign_split(acting_user=county, campaign=campaign, staff=[county_staff])
    item = campaign.items.order_by("id").first()
    assert item is not None
    marked = mark(county_staff, item, MOVED, note=" 已搬至东西湖区 ", version=1)
    marked.refresh_from_db()
    assert (marked.result, marked.note, marked.version) == (MOVED, "已搬至东西湖区", 2)
    assert marked.checked_by == county_staff and marked.checked_at is not None
    assert not marked.applied
    entry = AuditEntry.objects.filter(object_type="verification.verificationitem").get()
    assert entry.before == {"result": "pending", "note": ""}
    assert entry.after == {"result": "moved_away", "note": "已搬至东西湖区"}
    assert entry.union_path == campaign.union.path


def test_marking_the_same_finding_again_changes_nothing(
    campaign: VerificationCampaign, personas: Personas
) -> None:
    county = personas["county_cadre"]
    item = campaign.items.order_by("id").first()
    assert item is not None
    mark(county, item, ACTIVE)
    again = mark(county, item, ACTIVE)
    assert again.version == 2
    assert AuditEntry.objects.filter(object_type="verification.verificationitem").count() == 1


def test_a_mark_can_be_taken_back(campaign: VerificationCampaign, personas: Personas) -> None:
    county = personas["county_cadre"]
    item = campaign.items.order_by("id").first()
    assert item is not None
    mark(county, item, GONE)
    back = mark(county, item, VerificationResult.PENDING)
    assert back.result == VerificationResult.PENDING and back.checked_by is None


def test_a_stale_version_is_refused_with_who_changed_it(
    campaign: VerificationCampaign, personas: Personas, county_staff: User
) -> None:
    county = personas["county_cadre"]
    item = campaign.items.order_by("id").first()
    assert item is not None
    mark(county, item, ACTIVE, version=1)
    with pytest.raises(services.VersionConflict) as caught:
        mark(county, item, GONE, version=1)
    message = caught.value.message_dict["version"][0]
    assert "江岸区总干部" in message and "“存续”" in message and "未保存" in message
    item.refresh_from_db()
    assert item.result == ACTIVE and item.version == 2


def test_only_the_assignee_or_a_cadre_of_the_campaign_union_may_mark(
    personas: Personas, tree: Tree, township: Union, township_cadre: User, county_staff: User
) -> None:
    county = personas["county_cadre"]
    street = EmployerFactory(owner=township, name="大智街道花店")
    campaign = new_campaign(county, tree.jiangan)
    campaign = services.campaign_open(acting_user=county, campaign=campaign)
    item = item_of(campaign, street)
    # The township cadre sees the item (their street) but it is not theirs yet.
    with pytest.raises(PermissionDenied):
        mark(township_cadre, item, ACTIVE)
    services.items_assign(
        acting_user=county, campaign=campaign, item_ids=[item.pk], assignee=township_cadre
    )
    mark(township_cadre, item, ACTIVE)
    # Another county cadre is a cadre of the campaign's union: may mark anything.
    mark(county_staff, item, MOVED)
    own = item_of(campaign, tree.jiangan_employer)
    with pytest.raises(PermissionDenied):
        mark(personas["grassroots_cadre"], own, ACTIVE)
    with pytest.raises(PermissionDenied):
        mark(personas["auditor"], own, ACTIVE)


def test_marks_wait_for_the_campaign_to_open_and_stop_when_it_closes(
    personas: Personas, tree: Tree, jiangan_employers: list[Employer]
) -> None:
    county = personas["county_cadre"]
    draft = new_campaign(county, tree.jiangan)
    item = draft.items.order_by("id").first()
    assert item is not None
    with pytest.raises(ValidationError) as caught:
        mark(county, item, ACTIVE)
    assert caught.value.message_dict["result"] == ["该核查准备中，不能标记"]
    services.campaign_open(acting_user=county, campaign=draft)
    services.campaign_close(acting_user=county, campaign=draft)
    with pytest.raises(ValidationError):
        mark(county, VerificationItem.objects.get(pk=item.pk), ACTIVE)


def test_bad_results_and_long_notes_are_named(
    campaign: VerificationCampaign, personas: Personas
) -> None:
    item = campaign.items.order_by("id").first()
    assert item is not None
    with pytest.raises(ValidationError) as caught:
        mark(personas["county_cadre"], item, "closed")
    assert caught.value.message_dict["result"] == ["“核查结果”应为存续、迁出、注销之一"]
    with pytest.raises(ValidationError) as caught:
        mark(personas["county_cadre"], item, ACTIVE, note="字" * 501)
    assert caught.value.message_dict["note"] == ["“备注”最多 500 个字，当前 501 个"]


def test_bulk_mark_skips_items_changed_meanwhile(
    campaign: VerificationCampaign, personas: Personas, county_staff: User
) -> None:
    county = personas["county_cadre"]
    items = list(campaign.items.select_related("employer").order_by("id"))
    seen = {i.pk: i.version for i in items}
    mark(county_staff, items[0], GONE)
    result = services.items_mark(
        acting_user=county,
        campaign=campaign,
        item_ids=[i.pk for i in items[:4]],
        result=ACTIVE,
        note="实地核查，正常经营",
        versions=seen,
    )
    assert result.marked == 3 and result.conflicts == [items[0].employer.name]
    assert campaign.items.filter(result=ACTIVE, note="实地核查，正常经营").count() == 3
    rows = AuditEntry.objects.filter(object_type="verification.verificationitem")
    assert rows.count() == 4  # one per item, the bulk ones included


def test_bulk_mark_by_an_assignee_covers_only_their_items(
    campaign: VerificationCampaign, personas: Personas, township_cadre: User, county_staff: User
) -> None:
    county = personas["county_cadre"]
    services.campaign_split(
        acting_user=county, campaign=campaign, staff=[county], counts={county.pk: 3}
    )
    theirs = list(campaign.items.filter(assignee=county).values_list("pk", flat=True))
    other = campaign.items.filter(assignee=None).values_list("pk", flat=True)[0]
    with pytest.raises(PermissionDenied):
        services.items_mark(
            acting_user=township_cadre,
            campaign=campaign,
            item_ids=[*theirs, other],
            result=ACTIVE,
        )
    assert services.items_mark(
        acting_user=county_staff, campaign=campaign, item_ids=theirs, result=ACTIVE
    ).marked == len(theirs)


# --- Applying and closing


def test_close_writes_the_findings_to_the_registry_with_history(
    campaign: VerificationCampaign, personas: Personas, jiangan_employers: list[Employer]
) -> None:
    county = personas["county_cadre"]
    moved, gone, same, already_moved = (
        jiangan_employers[1],
        jiangan_employers[2],
        jiangan_employers[3],
        jiangan_employers[-1],
    )
    mark(county, item_of(campaign, moved), MOVED, note="已迁往汉阳区")
    mark(county, item_of(campaign, gone), GONE)
    mark(county, item_of(campaign, same), ACTIVE)
    mark(county, item_of(campaign, already_moved), MOVED)
    summary = selectors.close_summary(user=county, campaign=campaign)
    assert (summary.changes, summary.unchanged, summary.pending) == (2, 2, 3)
    assert {(t.from_status, t.to_status, t.count) for t in summary.transitions} == {
        ("active", "moved_away", 1),
        ("active", "deregistered", 1),
    }
    result = services.campaign_close(acting_user=county, campaign=campaign)
    assert (result.changed, result.confirmed) == (2, 2)
    assert result.transitions == {"active→moved_away": 1, "active→deregistered": 1}
    moved.refresh_from_db()
    gone.refresh_from_db()
    same.refresh_from_db()
    assert (moved.status, gone.status, same.status) == (MOVED, GONE, ACTIVE)
    history = queries.object_history(Employer, moved.pk)
    assert history[0].entry.actor == county
    assert history[0].entry.before == {"status": "active"}
    assert history[0].entry.after == {"status": "moved_away"}
    assert history[0].entry.detail["note"] == "已迁往汉阳区"
    assert history[0].fields == ["登记状态"]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CLOSED and campaign.closed_by == county
    assert campaign.items.filter(applied=True).count() == 4


def test_applying_twice_changes_nothing(
    campaign: VerificationCampaign, personas: Personas, jiangan_employers: list[Employer]
) -> None:
    county = personas["county_cadre"]
    mark(county, item_of(campaign, jiangan_employers[1]), GONE)
    first = services.campaign_apply(acting_user=county, campaign=campaign)
    assert first.changed == 1
    rows = AuditEntry.objects.count()
    updated = Employer.objects.get(pk=jiangan_employers[1].pk).updated_at
    second = services.campaign_apply(acting_user=county, campaign=campaign)
    assert (second.changed, second.confirmed) == (0, 0)
    assert AuditEntry.objects.count() == rows
    assert Employer.objects.get(pk=jiangan_employers[1].pk).updated_at == updated
    services.campaign_close(acting_user=county, campaign=campaign)
    assert AuditEntry.objects.count() == rows + 1  # the close itself, nothing applied again


def test_a_reopened_campaign_applies_only_what_changed_since(
    campaign: VerificationCampaign, personas: Personas, jiangan_employers: list[Employer]
) -> None:
    county = personas["county_cadre"]
    employer = jiangan_employers[1]
    mark(county, item_of(campaign, employer), GONE)
    services.campaign_close(acting_user=county, campaign=campaign)
    services.campaign_reopen(acting_user=county, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.OPEN and campaign.closed_at is None
    mark(county, item_of(campaign, employer), ACTIVE, note="误报，仍在经营")
    assert not item_of(campaign, employer).applied
    result = services.campaign_close(acting_user=county, campaign=campaign)
    assert result.changed == 1
    employer.refresh_from_db()
    assert employer.status == ACTIVE
    statuses = [
        (r.entry.before, r.entry.after) for r in queries.object_history(Employer, employer.pk)
    ][:2]
    assert statuses == [
        ({"status": "deregistered"}, {"status": "active"}),
        ({"status": "active"}, {"status": "deregistered"}),
    ]


def test_employers_moved_out_of_the_cadres_scope_are_left_alone(
    campaign: VerificationCampaign,
    personas: Personas,
    tree: Tree,
    jiangan_employers: list[Employer],
) -> None:
    county = personas["county_cadre"]
    employer = jiangan_employers[1]
    mark(county, item_of(campaign, employer), GONE)
    Employer.objects.filter(pk=employer.pk).update(owner=tree.jianghan)
    summary = selectors.close_summary(user=county, campaign=campaign)
    assert summary.out_of_scope == 1 and summary.changes == 0
    result = services.campaign_close(acting_user=county, campaign=campaign)
    assert result.out_of_scope == 1 and result.changed == 0
    employer.refresh_from_db()
    assert employer.status == EmployerStatus.ACTIVE


def test_only_cadres_of_the_campaign_union_close_or_reopen(
    campaign: VerificationCampaign, personas: Personas, township_cadre: User
) -> None:
    for user in (township_cadre, personas["auditor"], personas["grassroots_cadre"]):
        with pytest.raises(PermissionDenied):
            services.campaign_close(acting_user=user, campaign=campaign)
    with pytest.raises(ValidationError):
        services.campaign_reopen(acting_user=personas["county_cadre"], campaign=campaign)


def test_a_union_with_campaigns_cannot_be_deleted(
    campaign: VerificationCampaign, tree: Tree
) -> None:
    assert "有 1 次用人单位核查" in rules.deletion_blockers(tree.jiangan)
    assert Union.objects.filter(pk=tree.jiangan.pk).exists()
