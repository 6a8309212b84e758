"""/api/v1/imports: roster import runs — their state and counts, their problem rows, and the
dry run and commit of a run uploaded through the pages."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema

from niangjia.accounts.choices import Action
from niangjia.api.auth import acting_user
from niangjia.api.schemas import MAX_ID, UnionRef, responses
from niangjia.imports import selectors, services
from niangjia.imports.choices import ImportKind, ImportState, Outcome
from niangjia.imports.models import ImportProblem, ImportRun
from niangjia.utilities.scoping import get_scoped_or_404

router = Router(tags=["名册导入"])

RunId = Annotated[int, Path(ge=1, le=MAX_ID, title="导入编号")]


class RunOut(Schema):
    id: int
    kind: ImportKind
    state: ImportState
    state_display: str
    original_name: str
    sha256: str
    union: UnionRef
    rows_total: int
    rows_new: int
    rows_updated: int
    rows_unchanged: int
    rows_error: int
    rows_conflict: int
    committed_new: int
    committed_updated: int
    committed_conflict: int
    job_id: int | None
    message: str
    created_at: datetime.datetime
    validated_at: datetime.datetime | None
    committed_at: datetime.datetime | None


class ProblemOut(Schema):
    row_no: int
    outcome: Outcome
    message: str


class ProblemPage(Schema):
    items: list[ProblemOut]
    total: int


def _out(run: ImportRun) -> dict[str, Any]:
    return {
        **{field: getattr(run, field) for field in RunOut.model_fields if hasattr(run, field)},
        "state_display": run.get_state_display(),
        "union": run.union,
    }


def _run(request: HttpRequest, run_id: int, action: str) -> ImportRun:
    run = get_scoped_or_404(ImportRun, acting_user(request), action, pk=run_id)
    return ImportRun.objects.select_related("union").get(pk=run.pk)


@router.get(
    "",
    response=responses({200: list[RunOut]}),
    summary="导入记录",
    description="本人管辖范围内最近 100 次名册导入。",
)
def run_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(run) for run in selectors.runs_for(acting_user(request))[:100]]


@router.get("/{run_id}", response=responses({200: RunOut}), summary="导入详情")
def run_detail(request: HttpRequest, run_id: RunId) -> dict[str, Any]:
    return _out(_run(request, run_id, Action.VIEW))


@router.get(
    "/{run_id}/problems",
    response=responses({200: ProblemPage}),
    summary="问题行",
    description="试导入或正式导入发现的有误和冲突的行：行号、类别和原因（不含原始内容；完整报告请下载 xlsx）。",
)
def run_problems(
    request: HttpRequest,
    run_id: RunId,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    run = _run(request, run_id, Action.VIEW)
    problems = ImportProblem.objects.filter(run=run).order_by("row_no", "id")
    items = list(problems.values("row_no", "outcome", "message")[offset : offset + limit])
    return {"items": items, "total": problems.count()}


def _act(request: HttpRequest, run_id: int, fn: Any) -> dict[str, Any]:
    # A refused step (wrong state, lost scope) raises ValidationError: the API's handler
    # answers 400 with its Chinese message.
    fn(run=_run(request, run_id, Action.ADD), acting_user=acting_user(request))
    return _out(_run(request, run_id, Action.VIEW))


@router.post(
    "/{run_id}/dry-run",
    response=responses({200: RunOut}),
    summary="试导入",
    description="逐行检查，不写入会员库；在后台进行，进度见 job_id。",
)
def run_dry_run(request: HttpRequest, run_id: RunId) -> dict[str, Any]:
    return _act(request, run_id, services.import_dry_run)


@router.post(
    "/{run_id}/commit",
    response=responses({200: RunOut}),
    summary="正式导入",
    description="写入试导入通过的行；在后台分段进行，中断后可继续。",
)
def run_commit(request: HttpRequest, run_id: RunId) -> dict[str, Any]:
    return _act(request, run_id, services.import_commit)
