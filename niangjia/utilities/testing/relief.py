"""Test data for hardship relief: thresholds, household data, files walked through the real
workflow to the state a test needs, funds with money, and a finance officer.

    set_threshold(tree)                        # 武汉市: 1000 元/人·月 this year
    file = make_file(tree, personas)           # filed, deep hardship, under 长江机械工会
    fund = make_fund(tree, personas, amount=Decimal("50000"))   # 江岸区's fund
"""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from niangjia.accounts.choices import Role
from niangjia.accounts.models import RoleAssignment, User
from niangjia.orgs.models import Region, Union
from niangjia.relief import services
from niangjia.relief.choices import ArchiveLevel, Category, FileState, FundSource, HardshipCause
from niangjia.relief.models import Fund, HardshipFile, LivingThreshold
from niangjia.utilities.testing.members import make_id_number, make_phone
from niangjia.utilities.testing.personas import PERSONA_PASSWORD, Personas, Tree

_births = itertools.count(1)


def today() -> datetime.date:
    return timezone.localdate()


def person_id(region: str = "420102") -> str:
    """A valid ID number unlikely to repeat within a test (birth date and serial vary)."""
    n = next(_births)
    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=n % 15000)
    return make_id_number(region=region, birth=f"{birth:%Y%m%d}", serial=n)


def set_threshold(
    tree: Tree, amount: Decimal | str = "1000", year: int | None = None
) -> LivingThreshold:
    """武汉市's minimum-living threshold (the test tree's only city)."""
    region = Region.objects.get(code="420100")
    row, _ = LivingThreshold.objects.update_or_create(
        region=region,
        year=year or today().year,
        defaults={"monthly_amount": Decimal(amount), "union": tree.wuhan},
    )
    return row


def file_data(**overrides: Any) -> services.FileData:
    """A household of three earning 1,500 a month: 500 per head (deep hardship at 1,000)."""
    values: dict[str, Any] = {
        "name": "刘建国",
        "id_number": person_id(),
        "phone": make_phone(),
        "employer_name": "武汉长江机械有限公司",
        "monthly_wage": Decimal("1500"),
        "other_income_year": Decimal(0),
        "household_size": 3,
        "main_cause": HardshipCause.ILLNESS,
        "secondary_causes": [HardshipCause.EDUCATION],
        "bank_name": "中国工商银行武汉江岸支行",
        "bank_account": "6222021234567890123",
        "household_members": [
            services.PersonData(name="王秀英", relation="spouse", id_number=person_id()),
            services.PersonData(name="刘小明", relation="child", school_or_employer="江岸实验小学"),
        ],
    }
    values.update(overrides)
    return services.FileData(**values)


STEPS = (
    FileState.APPLIED,
    FileState.FIRST_CHECKED,
    FileState.SURVEYED,
    FileState.REVIEWED,
    FileState.PUBLICITY,
    FileState.FILED,
)


def make_file(
    tree: Tree,
    personas: Personas,
    *,
    state: str = FileState.FILED,
    union: Union | None = None,
    category: str = Category.DEEP,
    level: str = ArchiveLevel.COUNTY,
    **overrides: Any,
) -> HardshipFile:
    """A file applied by the county cadre under 长江机械工会 (or ``union``) and walked
    through the real steps to ``state`` (the publicity backdated so that it has ended)."""
    cadre = personas["county_cadre"] if union is None else personas["national_admin"]
    if not LivingThreshold.objects.exists():
        set_threshold(tree)
    file = services.file_apply(
        union=union or tree.jiangan_grassroots, data=file_data(**overrides), acting_user=cadre
    )
    target = STEPS.index(state)
    start = today() - datetime.timedelta(days=10)
    if target >= 1:
        file = services.file_first_check(file=file, acting_user=cadre)
    if target >= 2:
        file = services.file_survey(file=file, acting_user=cadre, consent_signed=True)
    if target >= 3:
        file = services.file_review(
            file=file,
            acting_user=cadre,
            category=category,
            archive_level=level,
            category_reason="" if category == file.category_proposed else "入户核实情况特殊",
        )
        HardshipFile.objects.filter(pk=file.pk).update(reviewed_on=start)
        file.refresh_from_db()
    if target >= 4:
        file = services.publicity_start(file=file, acting_user=cadre, days=7, starts_on=start)
    if target >= 5:
        file = services.file_file(file=file, acting_user=cadre)
    return file


def make_fund(
    tree: Tree,
    personas: Personas,
    *,
    amount: Decimal | str = "100000",
    union: Union | None = None,
    year: int | None = None,
) -> Fund:
    """A fund of 江岸区 (or ``union``) holding ``amount``, opened by the national admin."""
    admin = personas["national_admin"]
    fund = services.fund_create(
        union=union or tree.jiangan,
        name="困难职工帮扶资金",
        source=FundSource.CENTRAL,
        year=year or today().year,
        acting_user=admin,
    )
    if Decimal(amount) > 0:
        services.fund_receive(fund=fund, amount=Decimal(amount), acting_user=admin)
    fund.refresh_from_db()
    return fund


def make_finance_officer(union: Union, username: str = "finance_officer") -> User:
    """A user holding the finance role on ``union`` (second approvals of large payments)."""
    user = User(username=username, full_name="江岸区总财务")
    user.set_password(PERSONA_PASSWORD)
    user.save()
    RoleAssignment.objects.create(user=user, union=union, role=Role.FINANCE)
    return user


def make_cadre(union: Union, username: str) -> User:
    """Another cadre on ``union`` (approvals must come from a second person)."""
    user = User(username=username, full_name=f"{union.name}干部{username[-2:]}")
    user.set_password(PERSONA_PASSWORD)
    user.save()
    RoleAssignment.objects.create(user=user, union=union, role=Role.CADRE)
    return user
