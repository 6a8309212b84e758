"""The demo data set: it loads, loads again without change, and each persona sees its scope."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum.cn import uscc as stdnum_uscc

from niangjia.accounts.choices import Action, Role
from niangjia.accounts.models import RoleAssignment, User
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.members.choices import (
    ApplicationStatus,
    EmploymentForm,
    Household,
    IdType,
    MemberStatus,
    TransferStatus,
)
from niangjia.members.identity import parse_id
from niangjia.members.models import JoinApplication, JoinCeremony, Member, Transfer
from niangjia.orgs.choices import EmployerStatus, UnionKind, UnionLevel
from niangjia.orgs.models import Employer, Region, Union
from niangjia.orgs.validators import validate_union_uscc, validate_uscc
from niangjia.web.demo import (
    DEMO_PASSWORD,
    INDUSTRY_UNION_NAME,
    PERSONAS,
    current_totp,
    gb11714_check,
    load_demo,
    logins_table,
    make_uscc,
    organisation_code,
    totp_base32,
)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _parent(union: Union) -> Union:
    return Union.objects.get(path=union.path[: -Union.steplen])


def _federation(code: str) -> Union:
    return Union.objects.get(region__code=code, kind=UnionKind.FEDERATION)


class DemoDataTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.summary = load_demo()

    # --- shape of the tree

    def test_every_mainland_province_has_a_federation_under_the_root(self) -> None:
        provinces = Union.objects.filter(level=UnionLevel.PROVINCE, kind=UnionKind.FEDERATION)
        assert provinces.count() == 31
        assert all(u.depth == 2 for u in provinces)
        assert not provinces.filter(region__code__in=["710000", "810000", "820000"]).exists()

    def test_hubei_and_guangdong_have_a_federation_for_every_city_and_county(self) -> None:
        for province in ("420000", "440000"):
            counties = Region.objects.filter(level="county", code__startswith=province[:2])
            federations = Union.objects.filter(
                kind=UnionKind.FEDERATION, level=UnionLevel.COUNTY, region__in=counties
            )
            assert federations.count() == counties.count() > 100
            provincial = _federation(province)
            assert all(f.path.startswith(provincial.path) for f in federations)
        # 省直辖县级行政区划 is no city: 仙桃市 reports to the province directly.
        xiantao = _federation("429004")
        assert _parent(xiantao) == _federation("420000")
        assert _federation("420102").name == "武汉市江岸区总工会"
        assert _parent(_federation("420102")).name == "武汉市总工会"

    def test_demo_counties_have_townships_grassroots_unions_and_unorganised_employers(
        self,
    ) -> None:
        for code in ("420102", "420103", "440106"):
            county = _federation(code)
            subtree = county.subtree()
            assert subtree.filter(level=UnionLevel.TOWNSHIP).count() == 2
            grassroots = subtree.filter(level=UnionLevel.GRASSROOTS)
            assert 5 <= grassroots.count() <= 20
            assert grassroots.filter(kind=UnionKind.JOINT).exists()
            employers = Employer.objects.filter(owner__path__startswith=county.path)
            assert employers.filter(covering_union__isnull=True).count() >= 3
            assert employers.filter(covering_union__isnull=False).count() >= grassroots.count()
            assert employers.filter(status=EmployerStatus.MOVED_AWAY).exists()

    def test_every_code_is_a_valid_uscc(self) -> None:
        for employer in Employer.objects.all():
            validate_uscc(employer.uscc)
        for union in Union.objects.exclude(uscc=None):
            validate_union_uscc(union.uscc)
        assert Union.objects.exclude(depth=1).filter(uscc=None).count() == 0

    def test_industry_union_sits_beside_the_provincial_federation_with_linked_unions(self) -> None:
        industry = Union.objects.get(name=INDUSTRY_UNION_NAME)
        assert industry.kind == UnionKind.INDUSTRY
        assert industry.level == UnionLevel.PROVINCE
        assert _parent(industry) == _federation("420000")
        linked = Union.objects.filter(industry_union=industry)
        assert linked.count() >= 3
        assert all(u.path.startswith(_federation("420000").path) for u in linked)
        assert not linked.filter(path__startswith=_federation("440000").path).exists()

    def test_unions_and_employers_are_audited_as_the_national_admin(self) -> None:
        admin = _user("national_admin")
        creates = AuditEntry.objects.filter(action=AuditAction.CREATE, actor=admin)
        assert creates.filter(object_type="orgs.union").count() == Union.objects.count() - 1
        assert creates.filter(object_type="orgs.employer").count() == Employer.objects.count()
        grants = AuditEntry.objects.filter(action=AuditAction.ROLE_GRANT)
        assert grants.count() == RoleAssignment.objects.count()

    # --- accounts

    def test_every_persona_signs_in_with_the_demo_password(self) -> None:
        for persona in PERSONAS:
            user = _user(persona.username)
            assert user.check_password(DEMO_PASSWORD), persona.username
            assert user.full_name == persona.full_name
            roles = list(user.role_assignments.values_list("role", flat=True))
            assert roles == ([persona.role] if persona.role else [])

    def test_no_persona_is_forced_to_change_the_published_password(self) -> None:
        assert not User.objects.filter(
            username__in=[p.username for p in PERSONAS], password_must_change=True
        ).exists()

    def test_accounts_are_opened_by_the_system_administrator_under_their_union(self) -> None:
        sys_admin = _user("sys_admin")
        worker = _user("worker")
        assert worker.created_under == _user("grassroots_cadre").role_assignments.get().union
        assert _user("jiangan_cadre").created_under == _federation("420102")
        opened = AuditEntry.objects.filter(
            action=AuditAction.CREATE, object_type="accounts.user", actor=sys_admin
        )
        assert opened.count() == len(PERSONAS) - 2  # all but the two bootstrap administrators
        visible = User.objects.restrict(sys_admin, Action.MANAGE_ACCOUNTS)
        assert visible.filter(pk=worker.pk).exists()
        granted = AuditEntry.objects.filter(action=AuditAction.ROLE_GRANT, actor=_user("sec_admin"))
        assert granted.count() == RoleAssignment.objects.count() - 2

    def test_administrators_have_a_confirmed_totp_device_with_the_documented_key(self) -> None:
        for persona in PERSONAS:
            user = _user(persona.username)
            devices = TOTPDevice.objects.filter(user=user, confirmed=True)
            if persona.role in (
                Role.ADMIN,
                Role.SYSTEM_ADMIN,
                Role.SECURITY_ADMIN,
                Role.AUDIT_ADMIN,
            ):
                assert user.needs_second_factor()
                device = devices.get()
                assert device.key == persona.totp_key
                assert device.verify_token(current_totp(persona.totp_key))
            else:
                assert not devices.exists()

    # --- scopes

    def test_county_cadre_sees_own_county_but_not_the_sibling_county(self) -> None:
        jiangan, jianghan = _federation("420102"), _federation("420103")
        visible = Union.objects.restrict(_user("jiangan_cadre"), Action.VIEW)
        assert set(visible) == set(jiangan.subtree())
        assert not visible.filter(pk=jianghan.pk).exists()
        employers = Employer.objects.restrict(_user("jianghan_cadre"), Action.VIEW)
        assert employers.exists()
        assert not employers.filter(owner__path__startswith=jiangan.path).exists()

    def test_provincial_cadre_sees_hubei_with_its_industry_union_but_not_guangdong(self) -> None:
        visible = Union.objects.restrict(_user("hubei_cadre"), Action.CHANGE)
        assert visible.filter(name=INDUSTRY_UNION_NAME).exists()
        assert visible.filter(pk=_federation("420102").pk).exists()
        assert not visible.filter(pk=_federation("440000").pk).exists()
        assert not visible.filter(pk=Union.objects.get(depth=1).pk).exists()

    def test_grassroots_cadre_sees_only_their_union_and_its_employer(self) -> None:
        user = _user("grassroots_cadre")
        union = user.role_assignments.get().union
        assert union.level == UnionLevel.GRASSROOTS
        assert union.path.startswith(_federation("420102").path)
        assert list(Union.objects.restrict(user, Action.VIEW)) == [union]
        employers = Employer.objects.restrict(user, Action.VIEW)
        assert [e.covering_union_id for e in employers] == [union.pk]

    def test_auditor_may_view_hubei_but_change_nothing(self) -> None:
        auditor = _user("hubei_auditor")
        assert Union.objects.restrict(auditor, Action.VIEW).count() == (
            _federation("420000").counted_subtree().count()
        )
        assert not Union.objects.restrict(auditor, Action.CHANGE).exists()
        assert not Employer.objects.restrict(auditor, Action.CHANGE).exists()

    def test_worker_and_separated_administrators_see_no_business_data(self) -> None:
        for username in ("worker", "sys_admin", "sec_admin", "audit_admin"):
            assert not Union.objects.restrict(_user(username), Action.VIEW).exists(), username
            assert not Employer.objects.restrict(_user(username), Action.VIEW).exists()

    def test_national_admin_sees_every_union(self) -> None:
        admin = _user("national_admin")
        assert Union.objects.restrict(admin, Action.DELETE).count() == Union.objects.count()

    # --- members

    def test_a_few_hundred_members_across_the_grassroots_unions(self) -> None:
        members = Member.objects.all()
        assert 250 <= members.count() <= 500
        assert members.values("union").distinct().count() >= 40
        numbers = [m.reveal_id_number() for m in members]
        assert len(set(numbers)) == len(numbers)
        for number in numbers:
            parse_id(IdType.RESIDENT, number)
        assert members.filter(employment_form=EmploymentForm.GIG).count() >= 20
        assert members.filter(household=Household.RURAL).count() >= 20
        assert members.filter(status=MemberStatus.RESERVED).exists()
        assert members.filter(join_date__year__lt=2015).exists()

    def test_jiangan_has_pending_applications_one_of_them_overdue(self) -> None:
        queue = JoinApplication.objects.restrict(_user("jiangan_cadre"), Action.VIEW).filter(
            status=ApplicationStatus.SUBMITTED
        )
        assert queue.count() >= 5
        assert queue.filter(due_date__lt=timezone.localdate()).count() == 1
        assert not JoinApplication.objects.restrict(_user("jianghan_cadre"), Action.VIEW).filter(
            status=ApplicationStatus.SUBMITTED
        )

    def test_one_transfer_waits_for_the_sibling_county(self) -> None:
        transfer = Transfer.objects.get(status=TransferStatus.RELEASED)
        assert transfer.from_union.path.startswith(_federation("420102").path)
        assert Transfer.objects.restrict(_user("jianghan_cadre"), Action.CHANGE).filter(
            pk=transfer.pk, to_union__path__startswith=_federation("420103").path
        )
        assert transfer.member.status == MemberStatus.TRANSFERRING

    def test_a_ceremony_with_two_venues_counts_its_joiners(self) -> None:
        ceremony = JoinCeremony.objects.get()
        assert ceremony.union == _federation("420102")
        venues = list(ceremony.venues.all())
        assert len(venues) == 2 and all(v.token for v in venues)
        for venue in venues:
            approved = venue.applications.filter(status=ApplicationStatus.APPROVED).count()
            assert venue.joined_count == approved > 0
        assert ceremony.joined_count == sum(v.joined_count for v in venues)

    # --- idempotence and printing

    def test_loading_again_creates_nothing(self) -> None:
        counts = (
            Union.objects.count(),
            Employer.objects.count(),
            User.objects.count(),
            RoleAssignment.objects.count(),
            TOTPDevice.objects.count(),
            AuditEntry.objects.count(),
            Region.objects.count(),
            Member.objects.count(),
            JoinApplication.objects.count(),
            Transfer.objects.count(),
            JoinCeremony.objects.count(),
        )
        again = load_demo()
        assert not again.created_anything
        assert counts == (
            Union.objects.count(),
            Employer.objects.count(),
            User.objects.count(),
            RoleAssignment.objects.count(),
            TOTPDevice.objects.count(),
            AuditEntry.objects.count(),
            Region.objects.count(),
            Member.objects.count(),
            JoinApplication.objects.count(),
            Transfer.objects.count(),
            JoinCeremony.objects.count(),
        )

    def test_logins_table_lists_every_persona_with_its_union(self) -> None:
        table = logins_table()
        for persona in PERSONAS:
            assert persona.username in table
        assert "武汉市江岸区总工会" in table
        assert totp_base32(PERSONAS[0].totp_key) in table
        assert self.summary.unions_created > 300

    def test_readme_login_table_matches_the_personas(self) -> None:
        readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
        assert f"`{DEMO_PASSWORD}`" in readme
        for persona in PERSONAS:
            user = _user(persona.username)
            union = user.role_assignments.get().union.name if persona.role else "—"
            row = next(line for line in readme.splitlines() if f"| `{persona.username}` |" in line)
            assert f"| {persona.full_name} |" in row
            assert f"| {union} |" in row
            assert f"`{persona.totp_secret}`" in row if persona.totp_key else row.endswith("| — |")

    def test_command_with_if_empty_skips_loading_but_prints_the_logins(self) -> None:
        out = io.StringIO()
        call_command("load_demo", "--if-empty", stdout=out)
        assert "跳过" in out.getvalue()
        assert "national_admin" in out.getvalue()


@pytest.mark.django_db
def test_command_loads_the_demo_into_an_empty_database() -> None:
    out = io.StringIO()
    call_command("load_demo", "--if-empty", "--no-logins", stdout=out)
    assert "演示数据已载入" in out.getvalue()
    assert User.objects.filter(username="jiangan_cadre").exists()
    assert "national_admin" not in out.getvalue()


@pytest.mark.django_db
def test_demo_otp_prints_a_current_code_per_administrator() -> None:
    out = io.StringIO()
    call_command("demo_otp", stdout=out)
    lines = out.getvalue().splitlines()
    admins = [p for p in PERSONAS if p.totp_key]
    assert len(lines) == len(admins) + 1
    for persona, line in zip(admins, lines, strict=False):
        username, code = line.split()
        assert username == persona.username
        assert len(code) == 6 and code.isdigit()


def test_generated_uscc_passes_the_national_check() -> None:
    code = make_uscc("91", "420102", "employer:武汉大智物流有限公司")
    assert len(code) == 18 and code.startswith("91420102")
    assert stdnum_uscc.is_valid(code)
    assert make_uscc("91", "420102", "employer:武汉大智物流有限公司") == code


def test_gb11714_check_character_matches_the_standard_example() -> None:
    # GB 11714's worked example: D2143569-X.
    assert gb11714_check("D2143569") == "X"
    assert gb11714_check("00000000") == "0"


def test_organisation_code_ends_with_its_check_character() -> None:
    for seed in ("a", "b", "武汉大智物流有限公司"):
        code = organisation_code(seed)
        assert len(code) == 9 and code[:8].isdigit()
        assert code[8] == gb11714_check(code[:8])
