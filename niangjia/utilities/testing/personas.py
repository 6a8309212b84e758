"""The small union tree and the named personas shared by the whole test suite.

The tree sits on real GB/T 2260 regions (loaded by migration) under the national root::

    中华全国总工会                                  root
    └── 湖北省总工会 (420000)                      hubei
        ├── 武汉市总工会 (420100)                  wuhan
        │   ├── 江岸区总工会 (420102)              jiangan
        │   │   └── 武汉长江机械有限公司工会       jiangan_grassroots ─ covers jiangan_employer
        │   └── 江汉区总工会 (420103)              jianghan (the sibling county)
        │       └── 武汉汉江物流有限公司工会       jianghan_grassroots ─ covers jianghan_employer
        └── 湖北省交通运输产业工会 (industry)      transport_industry
                  ⇢ jianghan_grassroots also belongs here through ``industry_union``

Employers are registered with their county federation (``owner``) and covered by their
grassroots union (``covering_union``).

Personas (``PERSONAS``): each a user holding one role on one node of the tree, named by what
they are, so a test reads ``county_cadre`` rather than ``user3``. Every persona's password
is ``PERSONA_PASSWORD``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from niangjia.accounts.choices import SECOND_FACTOR_ROLES, Role
from niangjia.accounts.models import ApiToken, RoleAssignment, User
from niangjia.orgs.choices import (
    EmployerStatus,
    IndustrySection,
    OwnershipType,
    UnionKind,
    UnionLevel,
)
from niangjia.orgs.models import Employer, Region, Union
from niangjia.utilities.testing.factories import make_uscc

PERSONA_PASSWORD = "Niangjia-Test-2024!"  # noqa: S105 (test accounts only)
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass
class Tree:
    """The unions and employers of the test tree, as attributes and by Chinese name."""

    root: Union
    hubei: Union
    wuhan: Union
    jiangan: Union
    jianghan: Union
    jiangan_grassroots: Union
    jianghan_grassroots: Union
    transport_industry: Union
    jiangan_employer: Employer
    jianghan_employer: Employer
    unions: dict[str, Union] = field(default_factory=dict)
    employers: dict[str, Employer] = field(default_factory=dict)

    def union(self, name: str) -> Union:
        return self.unions[name]

    def employer(self, name: str) -> Employer:
        return self.employers[name]

    def refresh(self) -> Tree:
        """Re-read every node (paths and counters change when the tree is edited)."""
        for obj in [*self.unions.values(), *self.employers.values()]:
            obj.refresh_from_db()
        return self


def _add(parent: Union, **fields: Any) -> Union:
    # treebeard also updates ``parent`` in memory (numchild), so no re-read is needed.
    node: Union = Union.objects.add_child(parent, instance=Union(**fields))
    return node


def build_tree() -> Tree:
    """Create the tree directly with treebeard (no audit rows, no acting user)."""
    root = Union.objects.get(depth=1)
    regions = {
        r.code: r for r in Region.objects.filter(code__in=["420000", "420100", "420102", "420103"])
    }
    hubei = _add(
        root,
        name="湖北省总工会",
        level=UnionLevel.PROVINCE,
        kind=UnionKind.FEDERATION,
        region=regions["420000"],
    )
    wuhan = _add(
        hubei,
        name="武汉市总工会",
        level=UnionLevel.CITY,
        kind=UnionKind.FEDERATION,
        region=regions["420100"],
    )
    transport = _add(
        hubei,
        name="湖北省交通运输产业工会",
        level=UnionLevel.PROVINCE,
        kind=UnionKind.INDUSTRY,
        region=regions["420000"],
    )
    jiangan_region, jianghan_region = regions["420102"], regions["420103"]
    jiangan = _add(
        wuhan,
        name="江岸区总工会",
        level=UnionLevel.COUNTY,
        kind=UnionKind.FEDERATION,
        region=jiangan_region,
    )
    jianghan = _add(
        wuhan,
        name="江汉区总工会",
        level=UnionLevel.COUNTY,
        kind=UnionKind.FEDERATION,
        region=jianghan_region,
    )
    jiangan_grassroots = _add(
        jiangan,
        name="武汉长江机械有限公司工会",
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        region=jiangan_region,
    )
    jianghan_grassroots = _add(
        jianghan,
        name="武汉汉江物流有限公司工会",
        level=UnionLevel.GRASSROOTS,
        kind=UnionKind.GRASSROOTS,
        region=jianghan_region,
        industry_union=transport,
    )
    jiangan_employer = Employer.objects.create(
        name="武汉长江机械有限公司",
        uscc=make_uscc(region_code="420102", serial=1),
        region=jiangan_region,
        industry_section=IndustrySection.C,
        ownership=OwnershipType.PRIVATE,
        headcount=320,
        status=EmployerStatus.ACTIVE,
        owner=jiangan,
        covering_union=jiangan_grassroots,
    )
    jianghan_employer = Employer.objects.create(
        name="武汉汉江物流有限公司",
        uscc=make_uscc(region_code="420103", serial=2),
        region=jianghan_region,
        industry_section=IndustrySection.G,
        ownership=OwnershipType.PRIVATE,
        headcount=150,
        status=EmployerStatus.ACTIVE,
        owner=jianghan,
        covering_union=jianghan_grassroots,
    )
    unions = [
        root,
        hubei,
        wuhan,
        transport,
        jiangan,
        jianghan,
        jiangan_grassroots,
        jianghan_grassroots,
    ]
    return Tree(
        root=root,
        hubei=hubei,
        wuhan=wuhan,
        jiangan=jiangan,
        jianghan=jianghan,
        jiangan_grassroots=jiangan_grassroots,
        jianghan_grassroots=jianghan_grassroots,
        transport_industry=transport,
        jiangan_employer=jiangan_employer,
        jianghan_employer=jianghan_employer,
        unions={u.name: u for u in unions},
        employers={e.name: e for e in (jiangan_employer, jianghan_employer)},
    )


@dataclass(frozen=True)
class PersonaSpec:
    full_name: str
    node: str | None  # attribute of Tree holding the role; None: no role at all
    role: str | None


PERSONAS: dict[str, PersonaSpec] = {
    "national_admin": PersonaSpec("全总管理员", "root", Role.ADMIN),
    "provincial_cadre": PersonaSpec("湖北省总干部", "hubei", Role.CADRE),
    "county_cadre": PersonaSpec("江岸区总干部", "jiangan", Role.CADRE),
    "grassroots_cadre": PersonaSpec("长江机械工会干部", "jiangan_grassroots", Role.CADRE),
    "auditor": PersonaSpec("湖北省总审计员", "hubei", Role.AUDITOR),
    "sibling_cadre": PersonaSpec("江汉区总干部", "jianghan", Role.CADRE),
    "worker": PersonaSpec("普通职工", None, None),
    "system_admin": PersonaSpec("系统管理员", "root", Role.SYSTEM_ADMIN),
    "security_admin": PersonaSpec("安全保密管理员", "root", Role.SECURITY_ADMIN),
    "audit_admin": PersonaSpec("安全审计员", "root", Role.AUDIT_ADMIN),
    # The three separated administrators of one county: they see 江岸区 and nothing beside it.
    "county_system_admin": PersonaSpec("江岸区系统管理员", "jiangan", Role.SYSTEM_ADMIN),
    "county_security_admin": PersonaSpec("江岸区安全保密管理员", "jiangan", Role.SECURITY_ADMIN),
    "county_audit_admin": PersonaSpec("江岸区安全审计员", "jiangan", Role.AUDIT_ADMIN),
}


def make_persona(name: str, tree: Tree) -> User:
    """Create the user ``name`` of ``PERSONAS`` with its role on its node of ``tree``."""
    spec = PERSONAS[name]
    user = User(username=name, full_name=spec.full_name, email=f"{name}@example.org")
    user.set_password(PERSONA_PASSWORD)
    user.save()
    if spec.role is not None and spec.node is not None:
        RoleAssignment.objects.create(user=user, union=getattr(tree, spec.node), role=spec.role)
    return user


class Personas:
    """Personas created on first use and kept for the rest of the test, so the ``county_cadre``
    fixture and ``personas["county_cadre"]`` are the same user."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._users: dict[str, User] = {}

    def __getitem__(self, name: str) -> User:
        if name not in self._users:
            self._users[name] = make_persona(name, self.tree)
        return self._users[name]


def needs_second_factor(user: User) -> bool:
    return RoleAssignment.objects.filter(user=user, role__in=SECOND_FACTOR_ROLES).exists()


def confirmed_device(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="测试动态口令", confirmed=True)
    return device


def login(client: Client, user: User, *, second_factor: bool = True) -> Client:
    """Log ``user`` into ``client``; administrators have their TOTP step already passed
    (unless ``second_factor=False``, to test the second-factor gate itself)."""
    client.force_login(user, backend=MODEL_BACKEND)
    if second_factor and needs_second_factor(user):
        device = confirmed_device(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def logged_in_client(user: User | None, *, second_factor: bool = True) -> Client:
    """A fresh test client; anonymous when ``user`` is None."""
    client = Client()
    if user is not None:
        login(client, user, second_factor=second_factor)
    return client


def api_client(user: User | None) -> Client:
    """A fresh test client sending an API token of ``user`` (anonymous when None)."""
    if user is None:
        return Client()
    _, raw = ApiToken.issue(user=user, name="测试令牌")
    return Client(headers={"Authorization": f"Bearer {raw}"})
