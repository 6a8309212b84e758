"""The members of the demo: a few hundred across the demo's grassroots unions, a queue of
pending join applications (one past its deadline), one transfer in flight and one mass joining
ceremony with two venues.

Every person is derived from a fixed seed (name, valid ID number, phone), so loading again
finds them by the keyed hash of their ID number and creates nothing. Applications, approvals,
status changes, the transfer and the ceremony go through ``niangjia.members.services`` acting
as the national administrator, with their audit rows; only the dates are moved back afterwards
(a register is not built in one day).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.utils import timezone

from niangjia.accounts.models import User
from niangjia.members import services
from niangjia.members.choices import (
    ApplicationChannel,
    ApplicationStatus,
    Education,
    EmploymentForm,
    GigOccupation,
    Household,
    IdType,
    MemberStatus,
)
from niangjia.members.identity import ric_check_digit
from niangjia.members.models import (
    CeremonyVenue,
    JoinApplication,
    JoinCeremony,
    Member,
    MemberEvent,
    Transfer,
    id_hash_of,
)
from niangjia.orgs.choices import UnionKind, UnionLevel
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.workdays import add_workdays

MEMBERS_PER_UNION = 6
PENDING_APPLICATIONS = 8
CEREMONY_JOINERS_PER_VENUE = 6
CEREMONY_NAME = "江岸区新就业形态劳动者集中入会仪式"
VENUE_NAMES = ("大智街道会场", "一元街道会场")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "海燕", "晓东", "红梅", "建国",
    "玉兰", "文博", "思远", "子涵", "雨欣", "浩然", "佳怡", "俊杰", "欣怡", "宇航", "梓萱", "嘉豪",
)  # fmt: skip
GIG_JOBS = (
    (GigOccupation.COURIER, "快递员"),
    (GigOccupation.DELIVERY_RIDER, "外卖骑手"),
    (GigOccupation.RIDE_HAILING, "网约车司机"),
    (GigOccupation.TRUCK_DRIVER, "货车司机"),
    (GigOccupation.DOMESTIC, "家政服务员"),
)
JOBS = ("车间操作工", "仓库管理员", "销售员", "会计", "技术员", "厨师", "保安", "收银员", "司机")
EDUCATIONS = (
    Education.JUNIOR,
    Education.SENIOR,
    Education.SENIOR,
    Education.COLLEGE,
    Education.BACHELOR,
    Education.BACHELOR,
    Education.POSTGRADUATE,
)
CHANNELS = (ApplicationChannel.QR, ApplicationChannel.ONLINE, ApplicationChannel.CADRE)


@dataclass
class MembersSummary:
    members_created: int = 0
    applications_created: int = 0
    transfers_created: int = 0
    ceremonies_created: int = 0


def _n(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class Person:
    seed: str
    name: str
    id_number: str
    phone: str
    birth: datetime.date


class _People:
    """Deterministic synthetic people with distinct, valid ID numbers and phones."""

    def __init__(self) -> None:
        self.numbers: set[str] = set()
        self.phones: set[str] = set()

    def person(self, seed: str, region_code: str) -> Person:
        n = _n(seed)
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // 97) % len(GIVEN)]
        birth = datetime.date(1966, 1, 1) + datetime.timedelta(days=(n // 7919) % (38 * 365))
        serial = (n // 104729) % 1000
        while True:
            body = f"{region_code}{birth:%Y%m%d}{serial:03d}"
            number = body + ric_check_digit(body)
            if number not in self.numbers:
                break
            serial = (serial + 1) % 1000
        self.numbers.add(number)
        phone_n = (n // 1299709) % 10**8
        while (phone := f"1{'3578'[n % 4]}{(n // 13) % 10}{phone_n:08d}") in self.phones:
            phone_n = (phone_n + 1) % 10**8
        self.phones.add(phone)
        return Person(seed=seed, name=name, id_number=number, phone=phone, birth=birth)


def _region_code(union: Union) -> str:
    code = union.region.code[:6] if union.region is not None else "420102"
    return "420102" if code.endswith("0000") else code


def _join_data(person: Person, union: Union, employer: Employer | None) -> services.JoinData:
    n = _n(person.seed + ":job")
    gig = union.kind == UnionKind.JOINT or n % 7 == 0
    occupation, job = GIG_JOBS[n % len(GIG_JOBS)] if gig else ("", JOBS[n % len(JOBS)])
    works_for = None if gig and n % 2 else employer
    return services.JoinData(
        name=person.name,
        id_type=IdType.RESIDENT,
        id_number=person.id_number,
        phone=person.phone,
        employer=works_for,
        employer_name="" if works_for else ("个人（平台接单）" if gig else _shop_name(union)),
        occupation=job,
        employment_form=EmploymentForm.GIG if gig else EmploymentForm.STANDARD,
        gig_occupation=occupation,
        household=Household.RURAL if n % 3 == 0 else Household.URBAN,
        ethnic_group="01" if n % 11 else ("03", "15", "06")[n % 3],
        education=EDUCATIONS[n % len(EDUCATIONS)],
    )


def _shop_name(union: Union) -> str:
    """An employer not registered yet, named after the union's area."""
    return union.name.removesuffix("工会委员会").removesuffix("联合") + "某商户"


def _employers(unions: list[Union]) -> dict[int, Employer]:
    found: dict[int, Employer] = {}
    for employer in Employer.objects.filter(covering_union__in=unions).order_by("name", "id"):
        assert employer.covering_union_id is not None
        found.setdefault(employer.covering_union_id, employer)
    return found


def load_members(*, admin: User, jiangan: Union, jianghan: Union) -> MembersSummary:
    """Create what is missing of the demo's members. ``admin`` acts (national admin);
    ``jiangan`` and ``jianghan`` are the two Wuhan county federations of the personas."""
    summary = MembersSummary()
    today = timezone.localdate()
    people = _People()
    unions = list(
        Union.objects.filter(
            level=UnionLevel.GRASSROOTS, kind__in=[UnionKind.GRASSROOTS, UnionKind.JOINT]
        )
        .select_related("region")
        .order_by("path")
    )
    employers = _employers(unions)
    planned: list[tuple[Person, Union]] = [
        (people.person(f"member:{union.name}:{i}", _region_code(union)), union)
        for union in unions
        for i in range(MEMBERS_PER_UNION)
    ]
    existing = set(
        Member.objects.filter(
            id_hash__in=[id_hash_of(p.id_number) for p, _ in planned]
        ).values_list("id_hash", flat=True)
    )
    for index, (person, union) in enumerate(planned):
        if id_hash_of(person.id_number) in existing:
            continue
        application = services.application_submit(
            union=union,
            data=_join_data(person, union, employers.get(union.pk)),
            channel=CHANNELS[index % len(CHANNELS)],
            phone_verified=True,
            acting_user=admin,
        )
        member = services.application_approve(
            application=application, acting_user=admin, reason="演示数据"
        )
        joined = datetime.date(2008, 1, 1) + datetime.timedelta(
            days=_n(person.seed + ":joined") % ((today - datetime.date(2008, 1, 1)).days - 30)
        )
        Member.objects.filter(pk=member.pk).update(join_date=joined, status_changed_on=joined)
        MemberEvent.objects.filter(member=member).update(date=joined)
        applied = timezone.make_aware(datetime.datetime.combine(joined, datetime.time(9)))
        JoinApplication.objects.filter(pk=application.pk).update(
            submitted_at=applied - datetime.timedelta(days=3),
            decided_at=applied,
            due_date=add_workdays(joined - datetime.timedelta(days=3), 15),
        )
        summary.members_created += 1
        age = (today - person.birth).days // 365
        if age >= 58 and index % 2 == 0:
            services.member_change_status(
                member=member, to_status=MemberStatus.RESERVED, reason="退休", acting_user=admin
            )
        elif index % 97 == 13:
            services.member_change_status(
                member=member, to_status=MemberStatus.LEFT, reason="本人申请退会", acting_user=admin
            )

    jiangan_unions = [u for u in unions if u.path.startswith(jiangan.path)]
    jianghan_unions = [u for u in unions if u.path.startswith(jianghan.path)]
    summary.applications_created = _pending_applications(
        people, jiangan_unions, employers, admin=admin, today=today
    )
    summary.transfers_created = _transfer_in_flight(jiangan_unions, jianghan_unions[0], admin=admin)
    ceremony_summary = _ceremony(people, jiangan, jiangan_unions, admin=admin)
    summary.ceremonies_created = ceremony_summary[0]
    summary.members_created += ceremony_summary[1]
    return summary


def _pending_applications(
    people: _People,
    unions: list[Union],
    employers: dict[int, Employer],
    *,
    admin: User,
    today: datetime.date,
) -> int:
    """Applications waiting in 江岸's queue, the first of them past its 15 working days."""
    created = 0
    for i in range(PENDING_APPLICATIONS):
        union = unions[i % len(unions)]
        person = people.person(f"applicant:{i}", _region_code(union))
        if JoinApplication.objects.filter(id_hash=id_hash_of(person.id_number)).exists():
            continue
        application = services.application_submit(
            union=union,
            data=_join_data(person, union, employers.get(union.pk)),
            channel=(ApplicationChannel.QR, ApplicationChannel.ONLINE)[i % 2],
            phone_verified=True,
        )
        days_ago = 30 if i == 0 else i
        submitted = today - datetime.timedelta(days=days_ago)
        JoinApplication.objects.filter(pk=application.pk).update(
            submitted_at=timezone.now() - datetime.timedelta(days=days_ago),
            due_date=add_workdays(submitted, 15),
        )
        created += 1
    return created


def _transfer_in_flight(sending: list[Union], receiving: Union, *, admin: User) -> int:
    """One member of 江岸 released to a union of 江汉, waiting to be accepted there."""
    if Transfer.objects.filter(from_union=sending[0], to_union=receiving).exists():
        return 0
    member = (
        Member.objects.filter(union=sending[0], status=MemberStatus.ACTIVE).order_by("id").first()
    )
    if member is None:
        return 0
    services.transfer_release(
        member=member,
        to_union=receiving,
        reason="调入新单位工作",
        new_employer_name=receiving.name.removesuffix("工会委员会"),
        acting_user=admin,
    )
    return 1


def _ceremony(people: _People, host: Union, unions: list[Union], *, admin: User) -> tuple[int, int]:
    """The ceremony of 江岸 with a venue in each street's joint union and a few joiners."""
    if JoinCeremony.objects.filter(name=CEREMONY_NAME, union=host).exists():
        return 0, 0
    joint = [u for u in unions if u.kind == UnionKind.JOINT][: len(VENUE_NAMES)]
    if len(joint) < len(VENUE_NAMES):
        return 0, 0
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    ceremony = services.ceremony_create(
        acting_user=admin,
        union=host,
        name=CEREMONY_NAME,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=9),
        auto_approve=True,
    )
    joined = 0
    for name, union in zip(VENUE_NAMES, joint, strict=True):
        venue: CeremonyVenue = services.venue_add(
            ceremony=ceremony, acting_user=admin, name=name, union=union
        )
        for i in range(CEREMONY_JOINERS_PER_VENUE):
            person = people.person(f"ceremony:{name}:{i}", _region_code(union))
            services.application_submit(
                union=union,
                data=_join_data(person, union, None),
                channel=ApplicationChannel.CEREMONY,
                venue=venue,
                phone_verified=True,
            )
            joined += 1
    assert not JoinApplication.objects.filter(
        venue__ceremony=ceremony, status=ApplicationStatus.SUBMITTED
    ).exists()
    return 1, joined
