"""The demo's verification: 江岸区 topped up to 800 employers, one campaign split and under way."""

from __future__ import annotations

from typing import Any

from stdnum.cn import uscc as stdnum_uscc

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs.models import Employer
from niangjia.utilities.querysets import scope_q
from niangjia.utilities.testing.personas import Personas, Tree
from niangjia.verification.choices import CampaignState, VerificationResult
from niangjia.verification.demo import CAMPAIGN_NAME, MARKED_PER_STAFF, TARGET, load_verification
from niangjia.verification.models import VerificationCampaign
from niangjia.verification.tests.conftest import make_staff


def test_demo_campaign_checks_eight_hundred_employers_split_between_two_cadres(
    tree: Tree, personas: Personas, django_assert_max_num_queries: Any
) -> None:
    cadre = make_staff(tree.jiangan, "jiangan_cadre", "王志强")
    staff = make_staff(tree.jiangan, "jiangan_staff", "刘芳")
    admin = personas["national_admin"]
    summary = load_verification(admin=admin, county=tree.jiangan)
    employers = Employer.objects.filter(scope_q(Employer, [tree.jiangan.path]))
    assert employers.count() == TARGET
    assert summary.employers_created == TARGET - 1  # the tree had one already
    assert all(stdnum_uscc.is_valid(code) for code in employers.values_list("uscc", flat=True))
    created = AuditEntry.objects.filter(
        action=AuditAction.CREATE, object_type="orgs.employer", actor=admin
    )
    assert created.count() == summary.employers_created
    campaign = VerificationCampaign.objects.get(name=CAMPAIGN_NAME)
    assert campaign.state == CampaignState.OPEN and campaign.item_count == TARGET
    assert campaign.items.filter(assignee=cadre).count() == TARGET // 2
    assert campaign.items.filter(assignee=staff).count() == TARGET // 2
    done = campaign.items.exclude(result=VerificationResult.PENDING)
    assert done.count() == summary.items_marked == sum(MARKED_PER_STAFF)
    assert done.filter(result=VerificationResult.MOVED_AWAY).exists()
    assert done.filter(result=VerificationResult.DEREGISTERED).exists()
    rows = AuditEntry.objects.count()
    with django_assert_max_num_queries(2):
        again = load_verification(admin=admin, county=tree.jiangan)
    assert again.employers_created == again.campaigns_created == again.items_marked == 0
    assert AuditEntry.objects.count() == rows
