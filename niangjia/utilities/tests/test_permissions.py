"""The scoped-access checks catch the leaks they exist for (on deliberately faulty views)."""

from __future__ import annotations

import pytest
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from niangjia.accounts.choices import Action
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.models import Union
from niangjia.utilities.scoping import get_scoped_or_404, require
from niangjia.utilities.testing.permissions import (
    ALLOWED,
    ANONYMOUS,
    FORBIDDEN,
    OUT_OF_SCOPE,
    ScopedCase,
    assert_scoped_access,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@login_required
def scoped(request: HttpRequest, pk: int) -> HttpResponse:
    union = get_scoped_or_404(Union, request.user, request.GET.get("action", "view"), pk=pk)
    return HttpResponse(union.name)


@login_required
def unscoped(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(Union.objects.get(pk=pk).name)


def no_login(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(Union.objects.get(pk=pk).name)


@login_required
def forbids_instead_of_hiding(request: HttpRequest, pk: int) -> HttpResponse:
    union = Union.objects.get(pk=pk)
    require(request.user, request.GET.get("action", "view"), union)
    return HttpResponse(union.name)


@login_required
def writes_then_refuses(request: HttpRequest, pk: int) -> HttpResponse:
    union = get_scoped_or_404(Union, request.user, Action.VIEW, pk=pk)
    record(action=AuditAction.CHANGE, actor=request.user, obj=union, after={"name": "改"})
    require(request.user, Action.CHANGE, union)
    return HttpResponse(union.name)


@login_required
def every_union(request: HttpRequest) -> HttpResponse:
    return HttpResponse("\n".join(Union.objects.values_list("name", flat=True)))


@login_required
def own_unions(request: HttpRequest) -> HttpResponse:
    names = Union.objects.restrict(request.user, Action.VIEW).values_list("name", flat=True)
    return HttpResponse("\n".join(names))


urlpatterns = [
    path("scoped/<int:pk>/", scoped),
    path("unscoped/<int:pk>/", unscoped),
    path("no-login/<int:pk>/", no_login),
    path("forbids/<int:pk>/", forbids_instead_of_hiding),
    path("writes/<int:pk>/", writes_then_refuses),
    path("every/", every_union),
    path("own/", own_unions),
    path("", include("niangjia.urls")),  # login, and the pages the error templates link to
]


def detail_case(prefix: str, **kwargs) -> ScopedCase:
    kwargs.setdefault("allowed", ("county_cadre", "provincial_cadre"))
    kwargs.setdefault("out_of_scope", ("sibling_cadre", "worker"))
    return ScopedCase(name=prefix, url=lambda t: f"/{prefix}/{t.jiangan.pk}/", **kwargs)


def list_case(prefix: str) -> ScopedCase:
    return ScopedCase(
        name=prefix,
        url=lambda t: f"/{prefix}/",
        allowed="county_cadre",
        contains=lambda t: ["江岸区总工会"],
        excludes=lambda t: ["江汉区总工会"],
    )


def test_a_scoped_view_passes_every_check(tree, personas):
    assert_scoped_access(detail_case("scoped"), tree=tree, personas=personas)
    change = ScopedCase(
        name="scoped-change",
        url=lambda t: f"/scoped/{t.jiangan.pk}/?action=change",
        action=Action.CHANGE,
        allowed="county_cadre",
        forbidden="auditor",
        out_of_scope="sibling_cadre",
    )
    assert_scoped_access(change, tree=tree, personas=personas)
    assert_scoped_access(list_case("own"), tree=tree, personas=personas)


def test_a_view_without_scope_check_is_caught(tree, personas):
    with pytest.raises(
        AssertionError, match=r"as sibling_cadre: out of scope must be 404, got 200"
    ):
        assert_scoped_access(detail_case("unscoped"), tree=tree, personas=personas)


def test_a_view_without_login_is_caught(tree, personas):
    with pytest.raises(AssertionError, match="anonymous must be sent to the login page, got 200"):
        assert_scoped_access(detail_case("no-login"), tree=tree, personas=personas)


def test_403_where_404_is_due_is_caught(tree, personas):
    with pytest.raises(AssertionError, match="out of scope must be 404, got 403"):
        assert_scoped_access(detail_case("forbids"), tree=tree, personas=personas)


def test_404_where_403_is_due_is_caught(tree, personas):
    case = ScopedCase(
        name="scoped-view-only",
        url=lambda t: f"/scoped/{t.jiangan.pk}/",  # asks for view, so the auditor passes
        action=Action.CHANGE,
        allowed="county_cadre",
        forbidden="auditor",
    )
    with pytest.raises(AssertionError, match="in scope without the action must be 403, got 200"):
        assert_scoped_access(case, tree=tree, personas=personas)


def test_a_refusal_that_wrote_a_change_is_caught(tree, personas):
    case = ScopedCase(
        name="writes",
        url=lambda t: f"/writes/{t.jiangan.pk}/",
        action=Action.CHANGE,
        allowed="county_cadre",
        forbidden="auditor",
    )
    with pytest.raises(AssertionError, match="a refused request wrote audit rows"):
        assert_scoped_access(case, tree=tree, personas=personas)


def test_a_list_showing_other_subtrees_is_caught(tree, personas):
    with pytest.raises(AssertionError, match="shows '江汉区总工会', outside the scope"):
        assert_scoped_access(list_case("every"), tree=tree, personas=personas)


def test_each_case_expands_to_one_check_per_persona():
    case = detail_case("scoped", forbidden="auditor")
    assert [(c.expectation, c.persona) for c in case.checks()] == [
        (ANONYMOUS, None),
        (OUT_OF_SCOPE, "sibling_cadre"),
        (OUT_OF_SCOPE, "worker"),
        (FORBIDDEN, "auditor"),
        (ALLOWED, "county_cadre"),
        (ALLOWED, "provincial_cadre"),
    ]
    assert case.checks()[1].id == "scoped-out_of_scope-sibling_cadre"


def test_a_case_must_name_an_allowed_persona_and_a_known_action():
    with pytest.raises(ValueError, match="at least one allowed persona"):
        ScopedCase(name="nobody", url=lambda t: "/")
    with pytest.raises(ValueError, match="unknown action 'approve'"):
        ScopedCase(name="odd", url=lambda t: "/", action="approve", allowed="county_cadre")
