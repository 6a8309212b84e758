"""The demo's employer verification: 江岸区总工会 checks the 800 employers of its district.

The main demo gives 江岸区 a few dozen employers; this tops them up to ``TARGET`` with the small
businesses of its streets (deterministic names, valid credit codes, registered with a street or
the county federation, each with the national administrator's audit row like every demo
employer) and opens a campaign over all of them, split evenly between the two county cadres
``STAFF``, a fifth of it already marked. Loading again finds the campaign by its name and
creates nothing.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.utils import timezone

from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.audit.services import build_entry, snapshot
from niangjia.orgs.choices import (
    EmployerStatus,
    IndustrySection,
    OwnershipType,
    UnionKind,
    UnionLevel,
)
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.querysets import scope_q
from niangjia.verification import services
from niangjia.verification.choices import VerificationResult
from niangjia.verification.models import VerificationCampaign
from niangjia.verification.selectors import EmployerFilters

CAMPAIGN_NAME = "江岸区用人单位存续情况年度核查"
TARGET = 800
STAFF = ("jiangan_cadre", "jiangan_staff")
# Items each of the staff has marked already (in their order), and how.
MARKED_PER_STAFF = (96, 64)

PLACES = (
    "大智", "一元", "车站", "四唯", "永清", "西马", "球场", "劳动", "二七", "新村", "丹水池",
    "台北", "花桥", "后湖", "塔子湖", "百步亭", "堤角", "谌家矶", "黄浦", "三阳", "江滩", "解放",
)  # fmt: skip
BRANDS = (
    "鑫盛", "华兴", "恒通", "宏达", "顺发", "金鼎", "联创", "德信", "瑞祥", "佳和", "荣昌",
    "福源", "诚信", "兴业", "长青", "旭日", "天瑞", "明辉", "志远", "广源", "盛世", "永昌",
    "中天", "嘉诚", "泰和", "宝丰", "祥云", "同心", "润泽", "聚贤",
)  # fmt: skip
ROADS = ("解放大道", "中山大道", "沿江大道", "京汉大道", "黄浦大街", "胜利街", "后湖大道", "二七路")
# (suffix, industry section, ownership, fewest and most workers)
COMPANIES: tuple[tuple[str, str, str, int, int], ...] = (
    ("商贸有限公司", IndustrySection.F, OwnershipType.PRIVATE, 3, 60),
    ("物流有限公司", IndustrySection.G, OwnershipType.PRIVATE, 8, 120),
    ("装饰工程有限公司", IndustrySection.E, OwnershipType.PRIVATE, 5, 80),
    ("餐饮管理有限公司", IndustrySection.H, OwnershipType.PRIVATE, 6, 90),
    ("网络科技有限公司", IndustrySection.I, OwnershipType.PRIVATE, 4, 150),
    ("物业管理有限公司", IndustrySection.K, OwnershipType.PRIVATE, 10, 200),
    ("家政服务有限公司", IndustrySection.O, OwnershipType.PRIVATE, 5, 60),
    ("广告传媒有限公司", IndustrySection.L, OwnershipType.PRIVATE, 3, 40),
    ("汽车服务有限公司", IndustrySection.O, OwnershipType.PRIVATE, 4, 50),
    ("电子商务有限公司", IndustrySection.F, OwnershipType.PRIVATE, 3, 80),
    ("建材有限公司", IndustrySection.F, OwnershipType.PRIVATE, 4, 40),
    ("教育咨询有限公司", IndustrySection.L, OwnershipType.PRIVATE, 3, 30),
    ("医疗器械有限公司", IndustrySection.F, OwnershipType.JOINT_STOCK, 6, 70),
    ("印务有限公司", IndustrySection.C, OwnershipType.PRIVATE, 8, 90),
)
SHOPS: tuple[tuple[str, str], ...] = (
    ("便利店", IndustrySection.F),
    ("餐馆", IndustrySection.H),
    ("理发店", IndustrySection.O),
    ("五金店", IndustrySection.F),
    ("水果店", IndustrySection.F),
    ("快递代办点", IndustrySection.G),
    ("汽车修理厂", IndustrySection.O),
    ("早餐店", IndustrySection.H),
    ("茶叶店", IndustrySection.F),
    ("干洗店", IndustrySection.O),
)
MOVED_TO = ("汉阳区", "硚口区", "东西湖区", "黄陂区", "洪山区", "武昌区")


@dataclass
class VerificationSummary:
    employers_created: int = 0
    campaigns_created: int = 0
    items_marked: int = 0


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _pick(seed: str, low: int, high: int) -> int:
    return low + _digest(seed) % (high - low + 1)


def _new_employers(
    *, admin: User, county: Union, owners: list[Union], count: int
) -> list[Employer]:
    """``count`` more small employers of the district, registered in bulk with their audit
    rows (the demo's own ``employer`` helper takes a few statements each)."""
    from niangjia.web.demo import make_uscc

    names = set(Employer.objects.values_list("name", flat=True))
    codes = set(Employer.objects.exclude(uscc=None).values_list("uscc", flat=True))
    made: list[Employer] = []
    i = 0
    while len(made) < count:
        i += 1
        seed = f"verification-demo:{i}"
        place = PLACES[_digest(seed + ":place") % len(PLACES)]
        brand = BRANDS[_digest(seed + ":brand") % len(BRANDS)]
        owner = owners[_digest(seed + ":owner") % len(owners)]
        if _digest(seed + ":kind") % 5 < 2:
            shop, section = SHOPS[_digest(seed + ":shop") % len(SHOPS)]
            name = f"江岸区{place}{brand}{shop}"
            ownership, prefix, workers = OwnershipType.INDIVIDUAL, "92", _pick(seed, 1, 9)
        else:
            suffix, section, ownership, low, high = COMPANIES[
                _digest(seed + ":company") % len(COMPANIES)
            ]
            name = f"武汉{place}{brand}{suffix}"
            prefix, workers = "91", _pick(seed, low, high)
        uscc = make_uscc(prefix, "420102", f"employer:{name}")
        if name in names or uscc in codes:
            continue
        names.add(name)
        codes.add(uscc)
        road = ROADS[_digest(seed + ":road") % len(ROADS)]
        made.append(
            Employer(
                name=name,
                uscc=uscc,
                region=owner.region or county.region,
                industry_section=section,
                ownership=ownership,
                headcount=workers,
                status=EmployerStatus.MOVED_AWAY
                if _digest(seed + ":status") % 40 == 0
                else EmployerStatus.ACTIVE,
                owner=owner,
                address=f"武汉市江岸区{place}{road}{_pick(seed + ':no', 1, 800)}号",
                created_by=admin,
            )
        )
    created = Employer.objects.bulk_create(made, batch_size=500)
    owner_by_id = {u.pk: u for u in owners}
    entries = []
    for employer in created:
        employer.owner = owner_by_id[employer.owner_id]
        entries.append(
            build_entry(
                action=AuditAction.CREATE, actor=admin, obj=employer, after=snapshot(employer)
            )
        )
    AuditEntry.objects.bulk_create(entries, batch_size=500)
    return created


def _mark_some(campaign: VerificationCampaign, staff: list[User]) -> int:
    """Each of the staff has checked the first of their items: most still in business, some
    moved to another district, a few deregistered."""
    marked = 0
    for user, count in zip(staff, MARKED_PER_STAFF, strict=True):
        items = list(
            campaign.items.filter(assignee=user).order_by("id").values_list("pk", flat=True)
        )[:count]
        groups: dict[tuple[str, str], list[int]] = {}
        for n, pk in enumerate(items):
            if n % 11 == 5:
                key = (VerificationResult.MOVED_AWAY, f"已迁往{MOVED_TO[n % len(MOVED_TO)]}")
            elif n % 17 == 9:
                key = (VerificationResult.DEREGISTERED, "营业执照已注销，现场已关闭")
            elif n % 4 == 0:
                key = (VerificationResult.ACTIVE, "实地走访，正常经营")
            else:
                key = (VerificationResult.ACTIVE, "")
            groups.setdefault(key, []).append(pk)
        for (result, note), ids in groups.items():
            marked += services.items_mark(
                acting_user=user, campaign=campaign, item_ids=ids, result=result, note=note
            ).marked
    return marked


def load_verification(*, admin: User, county: Union) -> VerificationSummary:
    """Top 江岸区 up to ``TARGET`` employers and open its verification campaign (once)."""
    summary = VerificationSummary()
    if VerificationCampaign.objects.filter(union=county, name=CAMPAIGN_NAME).exists():
        return summary
    existing = Employer.objects.filter(scope_q(Employer, [county.path])).count()
    owners = [
        county,
        *Union.objects.filter(
            path__startswith=county.path,
            depth=county.depth + 1,
            level=UnionLevel.TOWNSHIP,
            kind=UnionKind.FEDERATION,
        ).select_related("region"),
    ]
    if existing < TARGET:
        summary.employers_created = len(
            _new_employers(admin=admin, county=county, owners=owners, count=TARGET - existing)
        )
    staff = [User.objects.get(username=username) for username in STAFF]
    cadre = staff[0]
    campaign = services.campaign_create(
        acting_user=cadre,
        union=county,
        name=CAMPAIGN_NAME,
        due_date=timezone.localdate() + datetime.timedelta(days=30),
        filters=EmployerFilters(),
    )
    summary.campaigns_created = 1
    services.campaign_split(acting_user=cadre, campaign=campaign, staff=staff)
    services.campaign_open(acting_user=cadre, campaign=campaign)
    summary.items_marked = _mark_some(campaign, staff)
    return summary
