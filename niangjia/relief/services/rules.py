"""Thresholds and rules as data: setting them, and reading the one in force.

The minimum-living threshold is set per city and year by the city federation (or above); the
category rules and the assistance rules per province by the provincial federation, with the
national federation's as the default for provinces that set none.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.choices import RegionLevel, UnionKind, UnionStatus
from niangjia.orgs.models import Region, Union
from niangjia.relief.choices import AssistanceType, Category, Cycle
from niangjia.relief.models import AssistanceRule, CategoryRule, LivingThreshold
from niangjia.relief.services.common import bump, check_version, locked, money
from niangjia.utilities.scoping import require

# The national defaults, used when no rule row exists at all.
DEFAULT_DEEP_MULTIPLE = Decimal("1.00")
DEFAULT_RELATIVE_MULTIPLE = Decimal("2.00")
DEFAULT_ACCIDENT_LOSS_RATIO = Decimal("0.80")


def federation_of(region: Region) -> Union:
    """The active federation sitting on ``region`` (the national root for none)."""
    union = Union.objects.filter(
        region=region, kind=UnionKind.FEDERATION, status=UnionStatus.ACTIVE
    ).first()
    if union is None:
        raise ValidationError({"region": f"{region.name}尚无地方总工会，无法维护其标准"})
    return union


def province_of(region: Region) -> Region | None:
    node: Region | None = region
    while node is not None and node.level != RegionLevel.PROVINCE:
        node = node.parent
    return node


def city_of(region: Region) -> Region | None:
    """The city (地级) region of ``region`` (itself for a city, its parent for a county)."""
    node: Region | None = region
    while node is not None and node.level not in (RegionLevel.CITY, RegionLevel.PROVINCE):
        node = node.parent
    return node if node is not None and node.level == RegionLevel.CITY else None


# --- The minimum-living threshold


def threshold_for(region: Region | int, year: int) -> Decimal | None:
    """The city's threshold (yuan per head per month) for ``year``; the latest earlier year's
    when the year has none yet; None when the city has never had one."""
    region_id = region if isinstance(region, int) else region.pk
    row = (
        LivingThreshold.objects.filter(region_id=region_id, year__lte=year)
        .order_by("-year")
        .values_list("monthly_amount", flat=True)
        .first()
    )
    return row


def require_threshold(region: Region, year: int) -> Decimal:
    amount = threshold_for(region, year)
    if amount is None:
        raise ValidationError(
            {
                "city_region": f"{region.name}尚未设置最低生活保障标准，请联系市总工会先行设置后再办理"
            }
        )
    return amount


@transaction.atomic
def threshold_set(
    *,
    region: Region,
    year: int,
    monthly_amount: Decimal,
    acting_user: User,
    version: int | None = None,
) -> LivingThreshold:
    """Set the city's threshold for ``year`` (a new row, or a change of the existing one
    from ``version``). Only the city's federation or one above it may."""
    if region.level != RegionLevel.CITY:
        raise ValidationError({"region": "最低生活保障标准按地级市设置，请选择一个市"})
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "年度应在 2000 至 2100 之间"})
    amount = money(monthly_amount)
    if amount <= 0 or amount > Decimal(100000):
        raise ValidationError({"monthly_amount": "月人均标准应为大于 0、不超过 100000 的金额"})
    union = federation_of(region)
    require(acting_user, Action.CHANGE, union)
    existing = LivingThreshold.objects.filter(region=region, year=year).first()
    if existing is None:
        row = LivingThreshold.objects.create(
            region=region, year=year, monthly_amount=amount, union=union, updated_by=acting_user
        )
        record(action=AuditAction.CREATE, actor=acting_user, obj=row, after={"amount": amount})
        return row
    row = locked(existing)
    check_version(row, version)
    before = row.monthly_amount
    row.monthly_amount = amount
    row.updated_by = acting_user
    bump(row)
    row.save()
    record(
        action=AuditAction.CHANGE,
        actor=acting_user,
        obj=row,
        before={"monthly_amount": before},
        after={"monthly_amount": amount},
    )
    return row


# --- Category rules


@dataclass(frozen=True)
class Multiples:
    deep: Decimal
    relative: Decimal
    accident_loss_ratio: Decimal
    rule_id: int | None = None


def category_rule_for(region: Region, on: datetime.date) -> Multiples:
    """The category rule in force on ``on`` for ``region``'s province, else the national one,
    else the defaults (1.0, 2.0, 0.8)."""
    province = province_of(region)
    rules = CategoryRule.objects.filter(valid_from__lte=on).order_by("-valid_from")
    # The province's own rule wins over the national one, whatever their dates.
    chosen = rules.filter(province=province).first() if province is not None else None
    chosen = chosen or rules.filter(province__isnull=True).first()
    if chosen is None:
        return Multiples(
            DEFAULT_DEEP_MULTIPLE, DEFAULT_RELATIVE_MULTIPLE, DEFAULT_ACCIDENT_LOSS_RATIO
        )
    return Multiples(
        chosen.deep_multiple, chosen.relative_multiple, chosen.accident_loss_ratio, chosen.pk
    )


def propose_category(
    *,
    income_per_head: Decimal,
    household_income_year: Decimal,
    accident_loss_year: Decimal,
    threshold: Decimal,
    multiples: Multiples,
) -> str:
    """Deep hardship below deep × threshold; accident-caused when this year's loss exceeds the
    ratio of the household's yearly income; relative hardship below relative × threshold;
    '' when the household does not qualify."""
    if income_per_head < threshold * multiples.deep:
        return Category.DEEP
    if accident_loss_year > 0 and accident_loss_year > (
        household_income_year * multiples.accident_loss_ratio
    ):
        return Category.ACCIDENT
    if income_per_head < threshold * multiples.relative:
        return Category.RELATIVE
    return ""


@transaction.atomic
def category_rule_add(
    *,
    province: Region | None,
    valid_from: datetime.date,
    deep_multiple: Decimal,
    relative_multiple: Decimal,
    accident_loss_ratio: Decimal,
    acting_user: User,
) -> CategoryRule:
    """A new version of the category rule of ``province`` (None: the national default), in
    force from ``valid_from``. The provincial federation (or the national one) sets it."""
    if province is not None and province.level != RegionLevel.PROVINCE:
        raise ValidationError({"province": "困难类别认定规则按省设置，请选择一个省"})
    union = federation_of(province) if province is not None else Union.objects.get(depth=1)
    require(acting_user, Action.CHANGE, union)
    rule = CategoryRule(
        province=province,
        union=union,
        valid_from=valid_from,
        deep_multiple=deep_multiple,
        relative_multiple=relative_multiple,
        accident_loss_ratio=accident_loss_ratio,
        created_by=acting_user,
    )
    if deep_multiple <= 0:
        raise ValidationError({"deep_multiple": "深度困难倍数应大于 0"})
    if relative_multiple < deep_multiple:
        raise ValidationError({"relative_multiple": "相对困难倍数不能小于深度困难倍数"})
    if not Decimal(0) < accident_loss_ratio <= Decimal(10):
        raise ValidationError({"accident_loss_ratio": "意外致困损失比例应大于 0"})
    if CategoryRule.objects.filter(union=union, valid_from=valid_from).exists():
        raise ValidationError({"valid_from": f"{valid_from} 已有一版规则，请选择其他施行日期"})
    rule.save(force_insert=True)
    record(
        action=AuditAction.CREATE,
        actor=acting_user,
        obj=rule,
        after={
            "valid_from": valid_from,
            "deep_multiple": deep_multiple,
            "relative_multiple": relative_multiple,
            "accident_loss_ratio": accident_loss_ratio,
        },
    )
    return rule


# --- Assistance rules


@dataclass(frozen=True)
class Rule:
    """The assistance rule in force (no row: no cap, once a year, no second approval)."""

    cap_per_year: Decimal | None = None
    cycle: str = Cycle.YEAR
    second_approval_above: Decimal | None = None
    rule_id: int | None = None


def assistance_rule_for(region: Region | None, year: int, assistance_type: str) -> Rule:
    province = province_of(region) if region is not None else None
    rows = AssistanceRule.objects.filter(year=year, assistance_type=assistance_type)
    row = rows.filter(province=province).first() if province is not None else None
    row = row or rows.filter(province__isnull=True).first()
    if row is None:
        return Rule()
    return Rule(row.cap_per_year, row.cycle, row.second_approval_above, row.pk)


def cycle_key(cycle: str, day: datetime.date) -> str:
    """The cycle ``day`` falls in: ``2025``, ``2025H2``, ``2025Q3``, ``2025-07`` or ``once``."""
    if cycle == Cycle.ONCE:
        return "once"
    if cycle == Cycle.HALF_YEAR:
        return f"{day.year}H{1 if day.month <= 6 else 2}"
    if cycle == Cycle.QUARTER:
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    if cycle == Cycle.MONTH:
        return f"{day.year}-{day.month:02d}"
    return str(day.year)


@transaction.atomic
def assistance_rule_set(
    *,
    province: Region | None,
    year: int,
    assistance_type: str,
    cap_per_year: Decimal | None,
    cycle: str,
    second_approval_above: Decimal | None,
    acting_user: User,
) -> AssistanceRule:
    """Set the rule of one assistance type for ``province`` (None: national) and ``year``."""
    if assistance_type not in AssistanceType.values:
        raise ValidationError({"assistance_type": "请从列表中选择帮扶类型"})
    if cycle not in Cycle.values:
        raise ValidationError({"cycle": "请从列表中选择发放周期"})
    if province is not None and province.level != RegionLevel.PROVINCE:
        raise ValidationError({"province": "帮扶标准按省设置，请选择一个省"})
    for field, value in (
        ("cap_per_year", cap_per_year),
        ("second_approval_above", second_approval_above),
    ):
        if value is not None and value <= 0:
            raise ValidationError({field: "金额应大于 0，不设限制请留空"})
    union = federation_of(province) if province is not None else Union.objects.get(depth=1)
    require(acting_user, Action.CHANGE, union)
    rule, created = AssistanceRule.objects.select_for_update().get_or_create(
        union=union,
        year=year,
        assistance_type=assistance_type,
        defaults={"province": province, "cycle": cycle, "created_by": acting_user},
    )
    before = {
        "cap_per_year": rule.cap_per_year,
        "cycle": rule.cycle,
        "second_approval_above": rule.second_approval_above,
    }
    rule.province = province
    rule.cap_per_year = money(cap_per_year) if cap_per_year is not None else None
    rule.cycle = cycle
    rule.second_approval_above = (
        money(second_approval_above) if second_approval_above is not None else None
    )
    rule.save()
    after = {
        "cap_per_year": rule.cap_per_year,
        "cycle": rule.cycle,
        "second_approval_above": rule.second_approval_above,
    }
    record(
        action=AuditAction.CREATE if created else AuditAction.CHANGE,
        actor=acting_user,
        obj=rule,
        before=None if created else before,
        after=after,
    )
    return rule


# --- The worker's eligibility self-check


@dataclass(frozen=True)
class SelfCheck:
    """What the phone page tells a worker before they apply."""

    income_per_head: Decimal
    threshold: Decimal | None
    category: str
    message: str

    @property
    def eligible(self) -> bool:
        return bool(self.category)


def eligibility_check(
    *,
    city_region: Region,
    household_income_year: Decimal,
    household_size: int,
    accident_loss_year: Decimal = Decimal(0),
    on: datetime.date | None = None,
) -> SelfCheck:
    """The worker's self-check: income per head against the city's threshold, with the
    category it would suggest. Nothing is stored."""
    on = on or datetime.date.today()
    if household_size < 1:
        raise ValidationError({"household_size": "家庭人口至少为 1 人"})
    if household_income_year < 0:
        raise ValidationError({"household_income_year": "家庭年收入不能为负数"})
    per_head = money(Decimal(household_income_year) / 12 / household_size)
    threshold = threshold_for(city_region, on.year)
    if threshold is None:
        return SelfCheck(
            per_head, None, "", f"{city_region.name}尚未公布最低生活保障标准，请咨询所在工会。"
        )
    category = propose_category(
        income_per_head=per_head,
        household_income_year=money(household_income_year),
        accident_loss_year=money(accident_loss_year),
        threshold=threshold,
        multiples=category_rule_for(city_region, on),
    )
    if category:
        message = (
            f"您家庭月人均收入约 {per_head} 元，{city_region.name}最低生活保障标准为 "
            f"{threshold} 元，可能符合“{Category(category).label}”条件，可以提交建档申请。"
        )
    else:
        message = (
            f"您家庭月人均收入约 {per_head} 元，高于认定标准，暂不符合困难职工建档条件；"
            "如家庭遭遇重大变故，可联系所在工会说明情况。"
        )
    return SelfCheck(per_head, threshold, category, message)
