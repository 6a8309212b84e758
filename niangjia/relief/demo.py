"""The demo's hardship relief: thresholds of the demo cities, Hubei's rules, a central fund
allocated down to the Wuhan counties, about thirty households in every state of the workflow
in 江岸区 and 江汉区, plans, payments (one waiting for the finance officer), a paid winter
batch with one returned payment, income checks proposing exits, an exit, and a relapse.

Every household is derived from a fixed seed; loading again finds the files by the keyed hash
of the worker's ID number and creates nothing. The steps go through
``niangjia.relief.services`` acting as the demo's cadres (a second person approves what one
recorded); only dates are moved back afterwards, as a file is not built in a day.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.members.models import id_hash_of
from niangjia.orgs.choices import UnionKind, UnionLevel
from niangjia.orgs.models import Region, Union
from niangjia.relief import services
from niangjia.relief.choices import (
    ArchiveLevel,
    AssistanceType,
    Category,
    Cycle,
    FileState,
    FundSource,
    HardshipCause,
    HousingType,
    MeasureState,
    WorkStatus,
)
from niangjia.relief.models import (
    Assistance,
    AssistanceRule,
    BatchPayment,
    CategoryRule,
    Fund,
    HardshipFile,
    LivingThreshold,
    RelapseCheck,
)
from niangjia.relief.services.common import add_months
from niangjia.utilities.scoping import allowed
from niangjia.web.demo_members import Person, _People

# City thresholds, yuan per head per month: (region code, last year, this year).
THRESHOLDS = (("420100", "1040", "1070"), ("440100", "1400", "1436"), ("440300", "1490", "1540"))
FUND_NAME = "中央财政困难职工帮扶专项资金"
CAUSES = (
    HardshipCause.ILLNESS,
    HardshipCause.DISABILITY,
    HardshipCause.EDUCATION,
    HardshipCause.UNEMPLOYMENT,
    HardshipCause.LOW_INCOME,
    HardshipCause.SINGLE_PARENT,
    HardshipCause.ACCIDENT,
)
# The states of the households, in the order they are built: (state, how many, where).
PLAN: tuple[tuple[str, int, str], ...] = (
    (FileState.APPLIED, 3, "jiangan"),
    (FileState.FIRST_CHECKED, 2, "jiangan"),
    (FileState.SURVEYED, 2, "jiangan"),
    (FileState.REVIEWED, 2, "jiangan"),
    (FileState.PUBLICITY, 2, "jiangan"),
    (FileState.FILED, 12, "jiangan"),
    (FileState.EXITED, 2, "jiangan"),
    (FileState.CLOSED, 1, "jiangan"),
    (FileState.REJECTED, 1, "jiangan"),
    (FileState.APPLIED, 1, "jianghan"),
    (FileState.FILED, 4, "jianghan"),
)
STEPS = (
    FileState.APPLIED,
    FileState.FIRST_CHECKED,
    FileState.SURVEYED,
    FileState.REVIEWED,
    FileState.PUBLICITY,
    FileState.FILED,
)


@dataclass
class ReliefSummary:
    files_created: int = 0
    assistance_created: int = 0


@dataclass
class _Cast:
    """Who acts in the demo."""

    admin: User
    province: User  # hubei_cadre
    county: User  # jiangan_cadre
    county_staff: User  # jiangan_staff
    grassroots: User  # grassroots_cadre
    sibling: User  # jianghan_cadre
    finance: User | None  # jiangan_finance


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _grassroots(county: Union) -> list[Union]:
    return list(
        Union.objects.filter(
            path__startswith=county.path,
            level=UnionLevel.GRASSROOTS,
            kind=UnionKind.GRASSROOTS,
        ).order_by("path")[:6]
    )


def _rules(cast: _Cast, today: datetime.date) -> None:
    for code, last, this in THRESHOLDS:
        region = Region.objects.filter(code=code).first()
        if region is None or not Union.objects.filter(region=region).exists():
            continue
        for year, amount in ((today.year - 1, last), (today.year, this)):
            if not LivingThreshold.objects.filter(region=region, year=year).exists():
                services.threshold_set(
                    region=region, year=year, monthly_amount=Decimal(amount), acting_user=cast.admin
                )
    hubei = Region.objects.get(code="420000")
    if not CategoryRule.objects.filter(province=hubei).exists():
        services.category_rule_add(
            province=hubei,
            valid_from=datetime.date(today.year - 1, 1, 1),
            deep_multiple=Decimal("1.0"),
            relative_multiple=Decimal("2.0"),
            accident_loss_ratio=Decimal("0.8"),
            acting_user=cast.province,
        )
    if AssistanceRule.objects.filter(province=hubei, year=today.year).exists():
        return
    rules = (
        (AssistanceType.LIVING, "6000", Cycle.HALF_YEAR, "2000"),
        (AssistanceType.MEDICAL, "20000", Cycle.YEAR, "5000"),
        (AssistanceType.EDUCATION, "5000", Cycle.YEAR, "3000"),
        (AssistanceType.WARMTH, "2000", Cycle.HALF_YEAR, None),
    )
    for kind, cap, cycle, above in rules:
        services.assistance_rule_set(
            province=hubei,
            year=today.year,
            assistance_type=kind,
            cap_per_year=Decimal(cap),
            cycle=cycle,
            second_approval_above=Decimal(above) if above else None,
            acting_user=cast.province,
        )


def _funds(
    cast: _Cast, hubei: Union, wuhan: Union, jiangan: Union, jianghan: Union, year: int
) -> Fund:
    """The province's central fund allocated to Wuhan and on to the two counties; returns
    江岸区's share."""
    province = Fund.objects.filter(union=hubei, name=FUND_NAME, year=year, parent=None).first()
    if province is None:
        province = services.fund_create(
            union=hubei,
            name=FUND_NAME,
            source=FundSource.CENTRAL,
            year=year,
            acting_user=cast.admin,
        )
        services.fund_receive(
            fund=province,
            amount=Decimal("2000000"),
            acting_user=cast.admin,
            note="中央财政专项资金下达",
        )
        city = services.fund_allocate(
            fund=province, union=wuhan, amount=Decimal("800000"), acting_user=cast.province
        )
        services.fund_allocate(
            fund=city, union=jiangan, amount=Decimal("300000"), acting_user=cast.province
        )
        services.fund_allocate(
            fund=city, union=jianghan, amount=Decimal("200000"), acting_user=cast.province
        )
        donation = services.fund_create(
            union=jiangan,
            name="爱心企业捐赠",
            source=FundSource.DONATION,
            year=year,
            acting_user=cast.admin,
        )
        services.fund_receive(
            fund=donation, amount=Decimal("50000"), acting_user=cast.admin, note="企业捐赠到账"
        )
    return Fund.objects.get(union=jiangan, name=FUND_NAME, year=year)


def _data(people: _People, person: Person, index: int, union: Union) -> services.FileData:
    name, number, phone = person.name, person.id_number, person.phone
    size = 2 + index % 3
    # Incomes spread around Wuhan's threshold: most deep, some relative, one accident.
    per_head = Decimal([620, 780, 900, 1150, 1500, 980, 700][index % 7])
    wage = (per_head * size * Decimal("0.8")).quantize(Decimal("1"))
    other = (per_head * size * 12 - wage * 12).quantize(Decimal("1"))
    cause = CAUSES[index % len(CAUSES)]
    relatives = [
        people.person(f"relief:household:{index}:member:{i}", "420102") for i in range(size - 1)
    ]
    household = [
        services.PersonData(
            name=relatives[i].name,
            relation=("spouse", "child", "parent")[i % 3],
            id_number=relatives[i].id_number if i == 0 else "",
            school_or_employer="江岸区实验小学" if i == 1 else "",
        )
        for i in range(size - 1)
    ]
    return services.FileData(
        name=name,
        id_number=number,
        phone=phone,
        employer_name=f"{union.name.removesuffix('工会')}",
        work_status=(
            WorkStatus.ON_POST,
            WorkStatus.LAID_OFF,
            WorkStatus.SICK_LEAVE,
            WorkStatus.MIGRANT,
        )[index % 4],
        housing_type=(HousingType.PUBLIC_RENTAL, HousingType.OWNED, HousingType.PRIVATE_RENTAL)[
            index % 3
        ],
        monthly_wage=wage,
        other_income_year=max(other, Decimal(0)),
        household_size=size,
        accident_loss_year=Decimal("60000") if cause == HardshipCause.ACCIDENT else Decimal(0),
        main_cause=cause,
        secondary_causes=[HardshipCause.EDUCATION]
        if cause != HardshipCause.EDUCATION and index % 2
        else [],
        single_parent=cause == HardshipCause.SINGLE_PARENT,
        bank_name="中国工商银行武汉分行",
        bank_account=f"62220{int(number[6:14]):08d}{index:06d}",
        archive_level=(
            ArchiveLevel.COUNTY,
            ArchiveLevel.CITY,
            ArchiveLevel.PROVINCE,
            ArchiveLevel.NATIONAL,
        )[index % 4],
        household_members=household,
    )


def _walk(file: HardshipFile, state: str, cast: _Cast, county: User, days_ago: int) -> HardshipFile:
    """Take ``file`` through the real steps up to ``state`` (the publicity backdated)."""
    today = timezone.localdate()
    start = today - datetime.timedelta(days=days_ago)
    target = STEPS.index(state) if state in STEPS else STEPS.index(FileState.FILED)
    if state == FileState.REJECTED:
        return services.file_reject(
            file=file, acting_user=county, reason="入户核实家庭有经营性收入，不符合条件"
        )
    if target >= 1:
        file = services.file_first_check(
            file=file,
            acting_user=cast.grassroots
            if allowed(cast.grassroots, Action.CHANGE, file)
            else county,
            note="材料齐全",
        )
    if target >= 2:
        file = services.file_survey(
            file=file, acting_user=county, consent_signed=True, note="入户核实，情况属实"
        )
    if target >= 3:
        proposed = file.category_proposed or Category.RELATIVE
        file = services.file_review(
            file=file,
            acting_user=county,
            category=proposed,
            archive_level=file.archive_level,
            category_reason=""
            if proposed == file.category_proposed
            else "收入接近标准，家庭负担重",
        )
        HardshipFile.objects.filter(pk=file.pk).update(reviewed_on=start)
        file.refresh_from_db()
    if target >= 4:
        file = services.publicity_start(file=file, acting_user=county, days=7, starts_on=start)
    if target >= 5:
        file = services.file_file(file=file, acting_user=county)
    return file


def load_relief(*, admin: User, hubei: Union, jiangan: Union, jianghan: Union) -> ReliefSummary:
    """Create what is missing of the demo's hardship relief."""
    summary = ReliefSummary()
    today = timezone.localdate()
    cast = _Cast(
        admin=admin,
        province=_user("hubei_cadre") or admin,
        county=_user("jiangan_cadre") or admin,
        county_staff=_user("jiangan_staff") or admin,
        grassroots=_user("grassroots_cadre") or admin,
        sibling=_user("jianghan_cadre") or admin,
        finance=_user("jiangan_finance"),
    )
    wuhan = Union.objects.get_parent(jiangan)
    assert wuhan is not None
    _rules(cast, today)
    fund = _funds(cast, hubei, wuhan, jiangan, jianghan, today.year)
    people = _People()
    unions = {"jiangan": _grassroots(jiangan), "jianghan": _grassroots(jianghan)}
    files: dict[str, list[HardshipFile]] = {}
    index = 0
    for state, count, where in PLAN:
        for _ in range(count):
            index += 1
            union = unions[where][index % len(unions[where])]
            person = people.person(
                f"relief:household:{index}", "420102" if where == "jiangan" else "420103"
            )
            if HardshipFile.objects.filter(id_hash=id_hash_of(person.id_number)).exists():
                continue
            county = cast.county if where == "jiangan" else cast.sibling
            file = services.file_apply(
                union=union, data=_data(people, person, index, union), acting_user=county
            )
            file = _walk(file, state, cast, county, days_ago=20 + index * 9)
            files.setdefault(f"{where}:{state}", []).append(file)
            summary.files_created += 1
    if not summary.files_created:
        return summary
    filed = files.get(f"jiangan:{FileState.FILED}", [])
    _date_back(filed, today)
    summary.assistance_created += _payments(cast, fund, filed, today)
    _plans(cast, filed, jiangan, today)
    _exits(cast, files, filed, today)
    return summary


def _date_back(filed: list[HardshipFile], today: datetime.date) -> None:
    """Filed households were filed over the past two years; two are past their review."""
    for i, file in enumerate(filed):
        filed_on = today - datetime.timedelta(days=60 + 45 * i)
        due = add_months(filed_on, 12)
        HardshipFile.objects.filter(pk=file.pk).update(filed_on=filed_on, review_due_on=due)
        file.refresh_from_db()


def _recorder(cast: _Cast, file: HardshipFile) -> User:
    """The household's grassroots cadre when it is theirs, else the county's second cadre."""
    return cast.grassroots if allowed(cast.grassroots, Action.CHANGE, file) else cast.county_staff


def _approve_and_pay(record: Assistance, cast: _Cast) -> Assistance:
    record = services.assistance_approve(assistance=record, acting_user=cast.county)
    if record.state == "second_pending":
        if cast.finance is None:
            return record
        record = services.assistance_second_approve(assistance=record, acting_user=cast.finance)
    return services.assistance_pay(assistance=record, acting_user=cast.county)


def _payments(cast: _Cast, fund: Fund, filed: list[HardshipFile], today: datetime.date) -> int:
    created = 0
    for i, file in enumerate(filed[:8]):
        record = services.assistance_create(
            file=file,
            assistance_type=AssistanceType.LIVING,
            amount=Decimal([800, 1000, 1200, 1500][i % 4]),
            fund=fund,
            acting_user=_recorder(cast, file),
            note="生活困难补助",
        )
        created += 1
        if i < 6:
            _approve_and_pay(record, cast)
    # A large medical payment: approved, paid after the finance officer's second approval.
    medical = services.assistance_create(
        file=filed[0],
        assistance_type=AssistanceType.MEDICAL,
        amount=Decimal("8000"),
        fund=fund,
        acting_user=_recorder(cast, filed[0]),
        note="住院医疗费用救助",
    )
    _approve_and_pay(medical, cast)
    # Another waits for the finance officer.
    waiting = services.assistance_create(
        file=filed[1],
        assistance_type=AssistanceType.MEDICAL,
        amount=Decimal("6500"),
        fund=fund,
        acting_user=_recorder(cast, filed[1]),
        note="大病医疗救助",
    )
    services.assistance_approve(assistance=waiting, acting_user=cast.county)
    # Goods on a warmth visit.
    warmth = services.assistance_create(
        file=filed[2],
        assistance_type=AssistanceType.WARMTH,
        in_kind_value=Decimal("500"),
        goods="米、面、油和慰问信",
        acting_user=_recorder(cast, filed[2]),
    )
    _approve_and_pay(warmth, cast)
    created += 3
    # The education batch for the deep-hardship households: paid, one payment returned.
    batch = services.batch_create(
        fund=fund,
        name=f"{today.year}年金秋助学",
        assistance_type=AssistanceType.EDUCATION,
        amount=Decimal("2000"),
        criteria=services.BatchCriteria(categories=[Category.DEEP]),
        acting_user=cast.county_staff,
    )
    if batch.payment_count:
        batch = services.batch_approve(batch=batch, acting_user=cast.county)
        services.batch_post(batch=batch, acting_user=cast.county)
        returned = BatchPayment.objects.filter(batch=batch).order_by("id").first()
        if returned is not None:
            services.batch_payment_fail(
                payment=returned, acting_user=cast.county, reason="银行账号已注销"
            )
        created += batch.payment_count
    return created


def _plans(cast: _Cast, filed: list[HardshipFile], jiangan: Union, today: datetime.date) -> None:
    for i, file in enumerate(filed[:3]):
        plan = services.plan_save(
            file=file,
            goal="两年内实现稳定就业，家庭人均收入超过当地低保标准",
            acting_user=cast.county,
        )
        employment = services.measure_add(
            plan=plan,
            assistance_type=AssistanceType.EMPLOYMENT,
            description="推荐到辖区企业就业，跟踪上岗情况",
            responsible_union=jiangan,
            deadline=today + datetime.timedelta(days=30 + 30 * i),
            acting_user=cast.county,
        )
        training = services.measure_add(
            plan=plan,
            assistance_type=AssistanceType.TRAINING,
            description="参加区总工会组织的技能培训",
            responsible_union=file.union,
            deadline=today + datetime.timedelta(days=15),
            acting_user=cast.county,
        )
        services.measure_update(
            measure=employment,
            acting_user=cast.county,
            version=employment.version,
            progress="已推荐两家企业面试",
            state=MeasureState.IN_PROGRESS,
        )
        if i == 0:  # one measure is overdue
            type(training).objects.filter(pk=training.pk).update(
                deadline=today - datetime.timedelta(days=5)
            )


def _exits(
    cast: _Cast,
    files: dict[str, list[HardshipFile]],
    filed: list[HardshipFile],
    today: datetime.date,
) -> None:
    first = today.replace(day=1)

    def six_months(file: HardshipFile, income: str) -> None:
        for i in range(6):
            services.income_check_record(
                file=file,
                month=add_months(first, -i),
                income_per_head=Decimal(income),
                acting_user=cast.county,
            )

    # Two filed households earn above the threshold: one is proposed for exit (not yet confirmed).
    if len(filed) > 11:
        six_months(filed[11], "1380")
    # The exited and closed households, exited through the proposal.
    exited = files.get(f"jiangan:{FileState.EXITED}", []) + files.get(
        f"jiangan:{FileState.CLOSED}", []
    )
    for i, file in enumerate(exited):
        six_months(file, "1450")
        file = services.exit_confirm(file=file, acting_user=cast.county)
        if i == len(exited) - 1:
            services.file_close(file=file, acting_user=cast.county)
    if exited:
        # The first exited household's re-check is due now and comes out below: it relapses.
        checks = RelapseCheck.objects.filter(watch__file=exited[0]).order_by("due_on")
        RelapseCheck.objects.filter(pk=checks[0].pk).update(due_on=today)
        services.relapse_check(
            check=checks[0],
            income_per_head=Decimal("820"),
            acting_user=cast.county,
            note="配偶再次失业",
        )
    if len(exited) > 1:
        # The second one's re-check is due and waiting.
        check = RelapseCheck.objects.filter(watch__file=exited[1]).order_by("due_on").first()
        if check is not None:
            RelapseCheck.objects.filter(pk=check.pk).update(
                due_on=today - datetime.timedelta(days=3)
            )
