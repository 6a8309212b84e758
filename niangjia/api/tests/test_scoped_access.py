"""Every API endpoint through the personas: anonymous 401, out of scope 404, in scope without
the action 403, allowed 2xx — and lists show only what lies in the caller's scope."""

from __future__ import annotations

from niangjia.accounts.choices import Action
from niangjia.orgs.choices import IndustrySection, OwnershipType, UnionKind, UnionLevel
from niangjia.orgs.models import Employer, Union
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Tree

API = "/api/v1"


def _grassroots_under_jiangan(tree: Tree) -> Union:
    node: Union = Union.objects.add_child(
        tree.jiangan,
        instance=Union(
            name="武汉江岸食品有限公司工会",
            level=UnionLevel.GRASSROOTS,
            kind=UnionKind.GRASSROOTS,
            region=tree.jiangan.region,
        ),
    )
    return node


def _joint_under_jiangan(tree: Tree) -> Union:
    node: Union = Union.objects.add_child(
        tree.jiangan,
        instance=Union(
            name="江岸区百步亭联合工会", level=UnionLevel.TOWNSHIP, kind=UnionKind.JOINT
        ),
    )
    return node


class TestApiScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="api-me",
            url=lambda t: f"{API}/me",
            api=True,
            allowed=("county_cadre", "worker", "national_admin"),
        ),
        ScopedCase(
            name="api-region-list",
            url=lambda t: f"{API}/regions?parent=420100",
            api=True,
            allowed=("county_cadre", "worker"),
            contains=lambda t: ["江岸区", "江汉区"],
        ),
        ScopedCase(
            name="api-region-detail",
            url=lambda t: f"{API}/regions/420102",
            api=True,
            allowed=("county_cadre", "worker"),
            contains=lambda t: ["湖北省武汉市江岸区"],
        ),
        ScopedCase(
            name="api-union-list",
            url=lambda t: f"{API}/unions",
            api=True,
            model=Union,
            allowed="county_cadre",
            contains=lambda t: [t.jiangan.name, t.jiangan_grassroots.name],
            excludes=lambda t: [t.jianghan.name, t.jianghan_grassroots.name, t.wuhan.name],
        ),
        ScopedCase(
            name="api-union-list-sibling",
            url=lambda t: f"{API}/unions?q=工会",
            api=True,
            model=Union,
            allowed="sibling_cadre",
            contains=lambda t: [t.jianghan_grassroots.name],
            excludes=lambda t: [t.jiangan.name, t.jiangan_grassroots.name],
        ),
        ScopedCase(
            name="api-union-detail",
            url=lambda t: f"{API}/unions/{t.jiangan.pk}",
            api=True,
            model=Union,
            allowed=("county_cadre", "provincial_cadre", "auditor", "national_admin"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker", "system_admin"),
            contains=lambda t: [t.jiangan.name],
        ),
        ScopedCase(
            name="api-union-children",
            url=lambda t: f"{API}/unions/{t.jiangan.pk}/children",
            api=True,
            model=Union,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker"),
            contains=lambda t: [t.jiangan_grassroots.name],
        ),
        ScopedCase(
            name="api-union-create",
            url=lambda t: f"{API}/unions",
            method="post",
            action=Action.ADD,
            api=True,
            model=Union,
            data=lambda t: {
                "parent": t.jiangan.pk,
                "name": "武汉江岸食品有限公司工会",
                "level": UnionLevel.GRASSROOTS,
                "kind": UnionKind.GRASSROOTS,
                "region": "420102",
            },
            allowed=("county_cadre", "provincial_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
        ),
        ScopedCase(
            name="api-union-update",
            url=lambda t: f"{API}/unions/{t.jiangan.pk}",
            method="patch",
            action=Action.CHANGE,
            api=True,
            model=Union,
            data=lambda t: {"address": "武汉市江岸区沿江大道 1 号"},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
        ),
        ScopedCase(
            name="api-union-move",
            url=lambda t, joint: f"{API}/unions/{t.jiangan_grassroots.pk}/move",
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Union,
            setup=_joint_under_jiangan,
            data=lambda t, joint: {"parent": joint.pk},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="api-union-merge",
            url=lambda t, extra: f"{API}/unions/{extra.pk}/merge",
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Union,
            setup=_grassroots_under_jiangan,
            data=lambda t, extra: {"target": t.jiangan_grassroots.pk},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="api-union-dissolve",
            url=lambda t, extra: f"{API}/unions/{extra.pk}/dissolve",
            method="post",
            action=Action.CHANGE,
            api=True,
            model=Union,
            setup=_grassroots_under_jiangan,
            data=lambda t, extra: {"reason": "企业破产清算"},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="api-union-delete",
            url=lambda t, extra: f"{API}/unions/{extra.pk}",
            method="delete",
            action=Action.DELETE,
            api=True,
            model=Union,
            setup=_grassroots_under_jiangan,
            allowed="national_admin",
            # A cadre may add and change, not delete; an auditor only reads.
            forbidden=("county_cadre", "auditor"),
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="api-employer-list",
            url=lambda t: f"{API}/employers",
            api=True,
            model=Employer,
            allowed=("county_cadre", "grassroots_cadre"),
            contains=lambda t: [t.jiangan_employer.name],
            excludes=lambda t: [t.jianghan_employer.name],
        ),
        ScopedCase(
            name="api-employer-detail",
            url=lambda t: f"{API}/employers/{t.jiangan_employer.pk}",
            api=True,
            model=Employer,
            allowed=("county_cadre", "grassroots_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: [t.jiangan_employer.name],
        ),
        ScopedCase(
            name="api-employer-create",
            url=lambda t: f"{API}/employers",
            method="post",
            action=Action.ADD,
            api=True,
            model=Employer,
            data=lambda t: {
                "name": "武汉江岸食品有限公司",
                "region": "420102",
                "industry_section": IndustrySection.C,
                "ownership": OwnershipType.PRIVATE,
                "headcount": 45,
                "owner": t.jiangan.pk,
            },
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
        ),
        ScopedCase(
            name="api-employer-update",
            url=lambda t: f"{API}/employers/{t.jiangan_employer.pk}",
            method="patch",
            action=Action.CHANGE,
            api=True,
            model=Employer,
            data=lambda t: {"headcount": 330},
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
        ),
    ]
