"""The scope choke point: RestrictedQuerySet.restrict() and the paths behind it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from niangjia.accounts.choices import Action, Role
from niangjia.accounts.models import RoleAssignment, User
from niangjia.accounts.scope import can, paths_for
from niangjia.orgs.choices import UnionStatus
from niangjia.orgs.models import Employer, Region, Union
from niangjia.utilities.querysets import scope_q

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as a new request would load it (roles are cached per instance)."""
    return User.objects.get(pk=user.pk)


def grant(user: User, union: Union, role: str = Role.CADRE) -> User:
    RoleAssignment.objects.create(user=user, union=union, role=role)
    return fresh(user)


def test_scope_paths_are_minimal(tree, worker):
    user = grant(worker, tree.jiangan)
    user = grant(user, tree.hubei)
    user = grant(user, tree.jiangan_grassroots)
    assert paths_for(user, Action.VIEW) == [tree.hubei.path]


def test_disjoint_subtrees_are_all_kept(tree, worker):
    user = grant(grant(worker, tree.jiangan), tree.jianghan)
    assert paths_for(user, Action.VIEW) == sorted([tree.jiangan.path, tree.jianghan.path])
    assert set(Union.objects.restrict(user, Action.CHANGE)) == {
        tree.jiangan,
        tree.jiangan_grassroots,
        tree.jianghan,
        tree.jianghan_grassroots,
    }


def test_paths_depend_on_the_action(tree, auditor):
    assert paths_for(auditor, Action.VIEW) == [tree.hubei.path]
    assert paths_for(auditor, Action.CHANGE) == []
    assert can(auditor, Action.VIEW, tree.jiangan_grassroots.path)
    assert not can(auditor, Action.VIEW, tree.root.path)


def test_cadre_sees_own_subtree_only(county_cadre, tree):
    assert set(Union.objects.restrict(county_cadre, Action.VIEW)) == {
        tree.jiangan,
        tree.jiangan_grassroots,
    }
    assert list(Employer.objects.restrict(county_cadre, Action.VIEW)) == [tree.jiangan_employer]


def test_grassroots_cadre_does_not_see_its_county(grassroots_cadre, tree):
    assert list(Union.objects.restrict(grassroots_cadre, Action.VIEW)) == [tree.jiangan_grassroots]


def test_employer_in_scope_by_both_lookups_appears_once(provincial_cadre, tree):
    employers = list(Employer.objects.restrict(provincial_cadre, Action.VIEW))
    assert sorted(e.pk for e in employers) == sorted(
        [tree.jiangan_employer.pk, tree.jianghan_employer.pk]
    )


def test_anonymous_and_none_see_nothing(tree):
    assert not Union.objects.restrict(None, Action.VIEW).exists()
    assert not Union.objects.restrict(AnonymousUser(), Action.VIEW).exists()


def test_user_without_roles_sees_nothing(worker, tree):
    assert not Union.objects.restrict(worker, Action.VIEW).exists()
    assert not Employer.objects.restrict(worker, Action.VIEW).exists()


def test_inactive_user_sees_nothing(county_cadre, tree):
    User.objects.filter(pk=county_cadre.pk).update(is_active=False)
    user = fresh(county_cadre)
    assert paths_for(user, Action.VIEW) == []
    assert not Union.objects.restrict(user, Action.VIEW).exists()
    assert not Employer.objects.restrict(user, Action.VIEW).exists()


@pytest.mark.parametrize("status", [UnionStatus.DISSOLVED, UnionStatus.MERGED])
def test_roles_on_closed_unions_do_not_count(county_cadre, tree, status):
    Union.objects.filter(pk=tree.jiangan.pk).update(status=status)
    user = fresh(county_cadre)
    assert user.active_roles() == []
    assert not Union.objects.restrict(user, Action.VIEW).exists()
    assert not Employer.objects.restrict(user, Action.VIEW).exists()


def test_the_three_administrators_see_no_business_data(
    system_admin, security_admin, audit_admin, tree
):
    for admin in (system_admin, security_admin, audit_admin):
        for action in (Action.VIEW, Action.ADD, Action.CHANGE, Action.EXPORT):
            assert not Union.objects.restrict(admin, action).exists()
            assert not Employer.objects.restrict(admin, action).exists()


def test_national_admin_sees_everything_and_may_delete(national_admin, tree):
    assert Union.objects.restrict(national_admin, Action.DELETE).count() == Union.objects.count()


def test_role_assignments_are_scoped_by_their_union(county_cadre, sibling_cadre, tree):
    visible = RoleAssignment.objects.restrict(county_cadre, Action.VIEW)
    assert list(visible.values_list("user__username", flat=True)) == ["county_cadre"]


def test_scope_q_needs_scope_lookups():
    with pytest.raises(TypeError, match="Region declares no scope_path_lookups"):
        scope_q(Region, ["0001"])


def test_scope_q_without_paths_matches_nothing(tree):
    assert not Union.objects.filter(scope_q(Union, [])).exists()
