"""Object look-ups on behalf of a user: out of scope is 404, in scope but not allowed 403."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from niangjia.accounts.choices import Action
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.scoping import allowed, get_scoped_or_404, require

pytestmark = pytest.mark.django_db


def test_object_in_scope_is_returned(county_cadre, tree):
    assert get_scoped_or_404(Union, county_cadre, Action.CHANGE, pk=tree.jiangan.pk) == tree.jiangan


def test_object_out_of_scope_is_404_with_chinese_message(sibling_cadre, tree):
    with pytest.raises(Http404, match="工会不存在或不在您的管辖范围内"):
        get_scoped_or_404(Union, sibling_cadre, Action.VIEW, pk=tree.jiangan.pk)


def test_out_of_scope_is_404_even_for_an_action_the_user_lacks(sibling_cadre, tree):
    with pytest.raises(Http404):
        get_scoped_or_404(Employer, sibling_cadre, Action.DELETE, pk=tree.jiangan_employer.pk)


def test_visible_but_not_allowed_is_403(auditor, tree):
    assert get_scoped_or_404(Employer, auditor, Action.VIEW, pk=tree.jiangan_employer.pk)
    with pytest.raises(PermissionDenied, match="您没有对“武汉长江机械有限公司”执行此操作的权限"):
        get_scoped_or_404(Employer, auditor, Action.CHANGE, pk=tree.jiangan_employer.pk)


def test_missing_object_is_404(national_admin, tree):
    with pytest.raises(Http404):
        get_scoped_or_404(Union, national_admin, Action.VIEW, pk=10**9)


def test_anonymous_gets_404(tree):
    with pytest.raises(Http404):
        get_scoped_or_404(Union, None, Action.VIEW, pk=tree.root.pk)


def test_allowed_and_require(county_cadre, tree):
    assert allowed(county_cadre, Action.ADD, tree.jiangan)
    assert not allowed(county_cadre, Action.ADD, tree.wuhan)
    assert not allowed(county_cadre, Action.DELETE, tree.jiangan)
    require(county_cadre, Action.CHANGE, tree.jiangan_grassroots)
    with pytest.raises(PermissionDenied):
        require(county_cadre, Action.CHANGE, tree.jianghan)
