"""The home page and the pages of the organisation registry, run through the personas:
anonymous, without the right, out of scope, allowed (see niangjia.utilities.testing.permissions).

The account pages, the audit viewer and the REST API declare their cases in their own apps'
tests. A new view gets its cases here or there (any ScopedViewCases subclass counts);
niangjia/tests/test_permission_coverage.py fails until it has them.
"""

from __future__ import annotations

from django.urls import reverse

from niangjia.accounts.choices import Action
from niangjia.orgs.choices import UnionKind, UnionLevel
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.testing.factories import UnionFactory, make_uscc
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Tree

REDIRECT = frozenset({302})
CREATED = frozenset({201})
NO_CONTENT = frozenset({204})


def bare_union(tree: Tree) -> Union:
    """A grassroots union under 江岸区 with nothing attached: it may be merged or deleted."""
    return UnionFactory(parent=tree.jiangan, name="武汉江岸待并工会")


def movable_union(tree: Tree) -> Union:
    """A grassroots union under 江岸区 placed on no region: it may move to another county."""
    return UnionFactory(parent=tree.jiangan, name="武汉江岸待迁工会", region=None)


def in_county(tree: Tree) -> list[str]:
    return ["江岸区总工会"]


def not_sibling(tree: Tree) -> list[str]:
    return ["江汉区总工会", "武汉汉江物流有限公司"]


# --- Pages of the organisation registry


class TestHomeScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="home",
            url=lambda t: reverse("home"),
            allowed=("county_cadre", "worker"),
        ),
        ScopedCase(
            name="home-shows-own-subtree",
            url=lambda t: reverse("home"),
            allowed="county_cadre",
            anonymous=False,
            contains=in_county,
            excludes=lambda t: ["江汉区总工会"],
        ),
    ]


class TestUnionPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="union-tree",
            url=lambda t: reverse("orgs:union_tree"),
            model=Union,
            allowed=("county_cadre", "worker"),
        ),
        ScopedCase(
            name="union-tree-search",
            url=lambda t: reverse("orgs:union_tree") + "?q=工会",
            allowed="county_cadre",
            anonymous=False,
            contains=lambda t: ["武汉长江机械有限公司工会"],
            excludes=not_sibling,
        ),
        ScopedCase(
            name="union-lookup",
            url=lambda t: reverse("orgs:union_lookup") + "?purpose=cover&q=公司",
            allowed="county_cadre",
            contains=lambda t: ["武汉长江机械有限公司工会"],
            excludes=lambda t: ["武汉汉江物流有限公司工会"],
        ),
        ScopedCase(
            name="union-lookup-for-a-move",
            url=lambda t: (
                reverse("orgs:union_lookup") + f"?purpose=parent&union={t.jiangan_grassroots.pk}"
            ),
            action=Action.CHANGE,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="region-children",
            url=lambda t: reverse("orgs:region_children") + "?parent=420100",
            allowed="worker",
            contains=lambda t: ["江岸区", "江汉区"],
        ),
        ScopedCase(
            name="union-detail",
            url=lambda t: reverse("orgs:union_detail", args=[t.jiangan.pk]),
            model=Union,
            allowed=("county_cadre", "provincial_cadre", "auditor", "national_admin"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker", "system_admin"),
            contains=lambda t: ["江岸区总工会", "武汉长江机械有限公司工会"],
        ),
        ScopedCase(
            name="industry-union-detail",
            url=lambda t: reverse("orgs:union_detail", args=[t.transport_industry.pk]),
            model=Union,
            allowed="provincial_cadre",
            out_of_scope=("sibling_cadre", "county_cadre"),
            contains=lambda t: ["武汉汉江物流有限公司工会"],
        ),
        ScopedCase(
            name="union-children",
            url=lambda t: reverse("orgs:union_children", args=[t.jiangan.pk]),
            model=Union,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["武汉长江机械有限公司工会"],
        ),
        ScopedCase(
            name="union-create-form",
            url=lambda t: reverse("orgs:union_create", args=[t.jiangan.pk]),
            action=Action.ADD,
            model=Union,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
        ),
        ScopedCase(
            name="union-create",
            url=lambda t: reverse("orgs:union_create", args=[t.jiangan.pk]),
            method="post",
            action=Action.ADD,
            model=Union,
            data=lambda t: {
                "name": "武汉江岸新星电子有限公司工会",
                "kind": UnionKind.GRASSROOTS,
                "level": UnionLevel.GRASSROOTS,
                "region": "420102",
            },
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="union-edit-form",
            url=lambda t: reverse("orgs:union_edit", args=[t.jiangan_grassroots.pk]),
            action=Action.CHANGE,
            model=Union,
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="union-edit",
            url=lambda t: reverse("orgs:union_edit", args=[t.jiangan_grassroots.pk]),
            method="post",
            action=Action.CHANGE,
            model=Union,
            data=lambda t: {
                "name": "武汉长江机械有限公司工会",
                "region": "420102",
                "address": "武汉市江岸区解放大道1号",
            },
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="union-move-form",
            url=lambda t: reverse("orgs:union_move", args=[t.jiangan_grassroots.pk]),
            action=Action.CHANGE,
            model=Union,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="union-move",
            url=lambda t, union: reverse("orgs:union_move", args=[union.pk]),
            setup=movable_union,
            method="post",
            action=Action.CHANGE,
            model=Union,
            data=lambda t: {"new_parent": t.jianghan.pk},
            allowed="provincial_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="union-merge-form",
            url=lambda t, source: reverse("orgs:union_merge", args=[source.pk]),
            setup=bare_union,
            action=Action.CHANGE,
            model=Union,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="union-merge",
            url=lambda t, source: reverse("orgs:union_merge", args=[source.pk]),
            setup=bare_union,
            method="post",
            action=Action.CHANGE,
            model=Union,
            data=lambda t, source: {"target": t.jiangan_grassroots.pk, "confirm": "on"},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="union-dissolve-form",
            url=lambda t: reverse("orgs:union_dissolve", args=[t.jiangan_grassroots.pk]),
            action=Action.CHANGE,
            model=Union,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="union-dissolve",
            url=lambda t: reverse("orgs:union_dissolve", args=[t.jiangan_grassroots.pk]),
            method="post",
            action=Action.CHANGE,
            model=Union,
            data=lambda t: {"reason": "企业关闭"},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="union-delete-form",
            url=lambda t, union: reverse("orgs:union_delete", args=[union.pk]),
            setup=bare_union,
            action=Action.DELETE,
            model=Union,
            allowed="national_admin",
            forbidden=("county_cadre", "auditor"),
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="union-delete",
            url=lambda t, union: reverse("orgs:union_delete", args=[union.pk]),
            setup=bare_union,
            method="post",
            action=Action.DELETE,
            model=Union,
            allowed="national_admin",
            forbidden=("county_cadre", "provincial_cadre"),
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="union-export",
            url=lambda t: reverse("orgs:union_export", args=[t.jiangan.pk]),
            action=Action.EXPORT,
            model=Union,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
        ),
    ]


class TestEmployerPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="employer-list",
            url=lambda t: reverse("orgs:employer_list"),
            model=Employer,
            allowed=("county_cadre", "auditor", "worker"),
        ),
        ScopedCase(
            name="employer-list-shows-own-subtree",
            url=lambda t: reverse("orgs:employer_list"),
            allowed=("county_cadre", "grassroots_cadre"),
            anonymous=False,
            contains=lambda t: ["武汉长江机械有限公司"],
            excludes=lambda t: ["武汉汉江物流有限公司"],
        ),
        ScopedCase(
            name="employer-detail",
            url=lambda t: reverse("orgs:employer_detail", args=[t.jiangan_employer.pk]),
            model=Employer,
            allowed=("county_cadre", "grassroots_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker", "system_admin"),
            contains=lambda t: ["武汉长江机械有限公司"],
        ),
        ScopedCase(
            name="employer-create-form",
            url=lambda t: reverse("orgs:employer_create"),
            action=Action.ADD,
            model=Employer,
            allowed="county_cadre",
            forbidden=("auditor", "worker"),
        ),
        ScopedCase(
            name="employer-create",
            url=lambda t: reverse("orgs:employer_create"),
            method="post",
            action=Action.ADD,
            model=Employer,
            data=lambda t: {
                "name": "武汉江岸新开元商贸有限公司",
                "uscc": make_uscc(region_code="420102", serial=4242),
                "region": "420102",
                "industry_section": "F",
                "ownership": "private",
                "headcount": "12",
                "status": "active",
                "owner": t.jiangan.pk,
            },
            allowed="county_cadre",
            forbidden=("auditor", "worker"),
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="employer-edit-form",
            url=lambda t: reverse("orgs:employer_edit", args=[t.jiangan_employer.pk]),
            action=Action.CHANGE,
            model=Employer,
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="employer-edit",
            url=lambda t: reverse("orgs:employer_edit", args=[t.jiangan_employer.pk]),
            method="post",
            action=Action.CHANGE,
            model=Employer,
            data=lambda t: {
                "name": "武汉长江机械有限公司",
                "uscc": t.jiangan_employer.uscc,
                "region": "420102",
                "industry_section": "C",
                "ownership": "private",
                "headcount": "400",
                "status": "active",
                "owner": t.jiangan.pk,
                "covering_union": t.jiangan_grassroots.pk,
            },
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="employer-export",
            url=lambda t: reverse("orgs:employer_export"),
            action=Action.EXPORT,
            model=Employer,
            allowed="county_cadre",
            forbidden=("auditor", "worker"),
        ),
    ]
