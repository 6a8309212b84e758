from __future__ import annotations

from typing import Any

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.imports.models import ImportProblem, ImportRun


def may_import(user: Any) -> bool:
    """Holds a role that may add records somewhere (the importer's pages are theirs)."""
    return bool(paths_for(user, Action.ADD))


def runs_for(user: Any) -> Any:
    return (
        ImportRun.objects.restrict(user, Action.VIEW)
        .select_related("union", "created_by")
        .order_by("-created_at", "-id")
    )


def first_problems(run: ImportRun, limit: int) -> list[ImportProblem]:
    return list(ImportProblem.objects.filter(run=run).order_by("row_no", "id")[:limit])
