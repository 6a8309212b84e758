"""The scope rules cannot be forgotten: every model of ours is either scoped or exempted with a
reason, every scoped model and every URL has scoped-access cases (ScopedViewCases).

When one of these tests fails for a new model or view: give the model ``scope_path_lookups``
(and a RestrictedQuerySet manager), and add ScopedCase entries for its pages and endpoints —
in its app's tests or in niangjia/tests/test_scoped_access.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import models

from niangjia.accounts.choices import Action
from niangjia.orgs.models import Union
from niangjia.utilities.querysets import RestrictedQuerySet
from niangjia.utilities.testing.permissions import (
    Endpoint,
    all_case_classes,
    all_cases,
    case_endpoint,
    url_endpoints,
)
from niangjia.utilities.testing.personas import PERSONAS

# Models of ours that belong to no union, each with the reason.
UNSCOPED_MODELS: dict[str, str] = {
    "stats.StatOwnValue": (
        "the statistics folder's working rows (what each union contributes by itself), read "
        "only by the folder; users read the rolled-up figures (stats.StatValue)"
    ),
    "stats.FoldState": "how far the statistics folder has read its sources; no union data",
    "orgs.Region": "GB/T 2260 reference data, the same for everyone",
    "members.SmsCode": (
        "a one-time code tied to a phone (by keyed hash), read only by the code check of the "
        "public joining and card pages; never listed"
    ),
    "accounts.ApiToken": (
        "a person's own credential: reached only through its user (the token pages check the "
        "owner with accounts.rules.sees), never listed by union"
    ),
}

# Scoped models whose queryset writes its own restrict() instead of (or on top of) the
# generic scope lookups, each with the reason.
OWN_RESTRICT: dict[str, str] = {
    "accounts.User": (
        "an account is seen through the unions of its roles, or, without roles, the union it "
        "was opened under"
    ),
    "audit.AuditEntry": "rows filed under no union are seen only from the root of the tree",
    "exports.ExportFile": (
        "a stored export is its owner's alone, while the owner may still export under its union"
    ),
    "jobs.Job": (
        "a background job is seen by the person who started it as well as within its union's "
        "subtree; a job filed under no union only by that person"
    ),
}

# URL patterns without scoped-access cases, each with the reason.
UNSCOPED_URLS: dict[str, str] = {
    "login": "the login page itself",
    "logout": "ends any session",
    "otp_verify": "second step of the login, for the signed-in user only",
    "otp_enroll": "second-factor enrolment of the signed-in user",
    "healthz": "health probe of the load balancer, no data",
    "api:openapi-json": "API description, no data",
    "api:openapi-view": "API documentation page, no data",
    "api:api-root": "API index, no data",
    # The worker pages under /j/ (no login): a worker proves a phone by a texted code and
    # then reads only the rows of that phone (by keyed hash); nothing is listed by union.
    "join:union": "a union's public join form (QR code on posters); writes only an application",
    "join:venue": "a ceremony venue's public join form, found by its unguessable QR token",
    "join:employers": "names of registered employers in the joining union's area, names only",
    "join:done": "an application's result, reached by a signed token; the name shown masked",
    "join:sms_send": "texts a code to the phone given, rate-limited per phone",
    "join:status": "the applications of the phone proven by a texted code, that phone's only",
    "join:card": "the member card of the phone proven by a texted code, that phone's only",
    "join:card_verify": "a signed member-card token's check: number, masked name, union, status",
    "join:forget": "forgets the proven phone of the session",
    # The worker's relief pages under /r/ (no login), on the same terms as /j/.
    "relief_public:check": "the eligibility self-check against a city's threshold; stores nothing",
    "relief_public:union_check": "the self-check from a union's QR code; stores nothing",
    "relief_public:apply": "a union's public relief application form; writes only an application",
    "relief_public:done": "an application's result, reached by a signed token; the name masked",
    "relief_public:sms_send": "texts a code to the phone given, rate-limited per phone",
    "relief_public:status": "the relief files of the phone proven by a texted code, that phone's only",
    "relief_public:forget": "forgets the proven phone of the session",
}


def our_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if m.__module__.startswith("niangjia.") and not m._meta.abstract
    ]


def label(model: type[models.Model]) -> str:
    return model._meta.label


def declares_lookups(model: type[models.Model]) -> bool:
    return bool(getattr(model, "scope_path_lookups", ()))


def has_own_restrict(model: type[models.Model]) -> bool:
    queryset = model._default_manager.get_queryset()
    restrict = getattr(type(queryset), "restrict", None)
    return restrict is not None and restrict is not RestrictedQuerySet.restrict


def is_scoped(model: type[models.Model]) -> bool:
    return declares_lookups(model) or has_own_restrict(model)


def owners(model: type[models.Model]) -> list[str]:
    """Forward relations of ``model`` to a union or to a model owned by one."""
    return [
        f"{field.name} → {label(field.related_model)}"
        for field in model._meta.concrete_fields
        if field.is_relation
        and field.related_model is not model
        and (field.related_model is Union or declares_lookups(field.related_model))
    ]


# --- (a) Models


def test_every_model_is_scoped_or_exempted_with_a_reason():
    unclassified = [
        label(m) for m in our_models() if not is_scoped(m) and label(m) not in UNSCOPED_MODELS
    ]
    assert not unclassified, (
        f"{unclassified}: declare scope_path_lookups (see niangjia/utilities/querysets.py) "
        "or add the model to UNSCOPED_MODELS with the reason it belongs to no union"
    )


def test_exemptions_are_current():
    labels = {label(m): m for m in our_models()}
    for name, reason in {**UNSCOPED_MODELS, **OWN_RESTRICT}.items():
        assert name in labels, f"{name} is exempted but is no model of ours"
        assert reason.strip(), f"{name}: give the reason"
    for name in UNSCOPED_MODELS:
        assert not is_scoped(labels[name]), f"{name} is scoped now: drop it from UNSCOPED_MODELS"


def test_models_belonging_to_a_union_declare_how():
    missing = [
        f"{label(m)} ({', '.join(owners(m))})"
        for m in our_models()
        if owners(m) and not declares_lookups(m) and label(m) not in OWN_RESTRICT
    ]
    assert not missing, (
        f"{missing} point at a union but declare no scope_path_lookups: add them, or list the "
        "model in OWN_RESTRICT with the reason its queryset scopes itself"
    )


def test_own_restrict_is_declared():
    undeclared = [
        label(m) for m in our_models() if has_own_restrict(m) and label(m) not in OWN_RESTRICT
    ]
    assert not undeclared, f"{undeclared} write their own restrict(): list them in OWN_RESTRICT"
    for name in OWN_RESTRICT:
        assert has_own_restrict(apps.get_model(name)), f"{name} no longer writes its restrict()"


def _lookup_target(model: type[models.Model], lookup: str) -> models.Field:
    parts = lookup.split("__")
    current = model
    for part in parts[:-1]:
        field = current._meta.get_field(part)
        assert field.concrete and (field.many_to_one or field.one_to_one), (
            f"{label(model)}.scope_path_lookups: {lookup!r} must follow forward foreign keys "
            "only (a reverse relation repeats rows)"
        )
        current = field.related_model
    return current._meta.get_field(parts[-1])


def test_scope_lookups_end_on_a_tree_path():
    for model in our_models():
        for lookup in getattr(model, "scope_path_lookups", ()):
            target = _lookup_target(model, lookup)
            assert (target.model is Union and target.name == "path") or (
                isinstance(target, models.CharField) and target.name.endswith("path")
            ), f"{label(model)}: {lookup!r} does not end on a union's tree path"


@pytest.mark.django_db
def test_restrict_runs_for_every_scoped_model(personas):
    users = [personas[name] for name in ("national_admin", "county_cadre", "worker")]
    for model in our_models():
        if not is_scoped(model):
            continue
        for user in users:
            list(model._default_manager.restrict(user, Action.VIEW)[:5])
        assert not model._default_manager.restrict(None, Action.VIEW).exists()


def test_every_scoped_model_has_scoped_access_cases():
    covered = {case.model for case in all_cases() if case.model is not None}
    missing = [label(m) for m in our_models() if is_scoped(m) and m not in covered]
    assert not missing, (
        f"{missing} have no scoped-access cases: add ScopedCase(..., model=...) for their "
        "pages and API endpoints (niangjia/utilities/testing/permissions.py)"
    )


# --- (b) URLs


def test_every_url_has_scoped_access_cases(tree, personas):
    # Every persona exists before the cases' set-ups, which are rolled back one by one.
    for name in PERSONAS:
        personas[name]
    cases = all_cases()
    covered: set[Endpoint] = set()
    for case in cases:
        endpoint = case_endpoint(case, tree, personas)
        covered.add(endpoint)
        covered.add(Endpoint(endpoint.route, endpoint.name))
    missing = [str(e) for e in url_endpoints() if e.name not in UNSCOPED_URLS and e not in covered]
    assert not missing, (
        "these endpoints have no scoped-access cases (anonymous / without the right / out of "
        f"scope / allowed): {missing}"
    )


def test_url_exemptions_are_current():
    names = {e.name for e in url_endpoints()}
    stale = sorted(set(UNSCOPED_URLS) - names)
    assert not stale, f"{stale} are exempted but no longer in the URL conf"


def test_case_names_are_unique():
    seen: dict[str, Any] = {}
    for cls in all_case_classes():
        for case in cls.CASES:
            assert case.name not in seen, (
                f"scoped case {case.name!r} is declared in {cls.__qualname__} and "
                f"{seen[case.name].__qualname__}"
            )
            seen[case.name] = cls


def test_cases_are_found_across_the_project():
    assert len(all_case_classes()) >= 5
    assert len(all_cases()) >= 50
