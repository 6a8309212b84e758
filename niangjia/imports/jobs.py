"""The importer's background jobs: the dry run and the commit of one ``ImportRun``.

Both are resumable as the job system asks (niangjia/jobs/registry.py): a dry run that is run
again starts from scratch (it writes only the run's own staging rows, cleared first); a commit
that is run again writes only the chunks without an ``ImportChunk`` row, each recorded in the
chunk's own transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from niangjia.imports import employers, engine, services
from niangjia.imports.choices import ImportKind, ImportState
from niangjia.imports.models import ImportRun
from niangjia.jobs.registry import JobContext, JobError, handler

logger = logging.getLogger(__name__)


def _run(job: Any, state: str) -> ImportRun | None:
    run = (
        ImportRun.objects.select_related("union", "created_by", "committed_by")
        .filter(pk=job.params.get("run"))
        .first()
    )
    if run is None or run.state != state or run.job_id != job.pk:
        return None  # deleted, cancelled or superseded meanwhile: nothing to do
    return run


@handler("imports.dry_run")
def dry_run(job: Any, ctx: JobContext) -> dict[str, Any] | None:
    run = _run(job, ImportState.VALIDATING)
    if run is None:
        return None
    try:
        if run.kind == ImportKind.EMPLOYERS:
            tally = employers.employer_dry_run(run, progress=ctx.progress, cancelled=ctx.cancelled)
        else:
            tally = engine.member_dry_run(run, progress=ctx.progress, cancelled=ctx.cancelled)
    except engine.Cancelled:
        return None
    except Exception as exc:
        from niangjia.imports.files import RejectedFile

        if isinstance(exc, RejectedFile):
            services.mark_failed(run, str(exc))
            raise JobError(str(exc)) from exc
        logger.exception("dry run of import %s failed", run.pk)
        services.mark_failed(run, "读取或检查文件时出错，请检查文件后重新上传")
        raise JobError("读取或检查文件时出错，请检查文件后重新上传") from exc
    run = services.mark_validated(run, tally)
    return {
        "rows": tally.total,
        "new": tally.new,
        "updated": tally.update,
        "unchanged": tally.unchanged,
        "errors": tally.error,
        "conflicts": tally.conflict,
    }


@handler("imports.commit")
def commit(job: Any, ctx: JobContext) -> dict[str, Any] | None:
    run = _run(job, ImportState.COMMITTING)
    if run is None:
        return None
    commit_rows = (
        employers.employer_commit if run.kind == ImportKind.EMPLOYERS else engine.member_commit
    )
    try:
        run = commit_rows(
            run, acting_user=run.committed_by, progress=ctx.progress, cancelled=ctx.cancelled
        )
    except engine.Cancelled:
        engine.sum_chunks(run)
        return None
    run = engine.finish_commit(run)
    engine.stored_path(run).unlink(missing_ok=True)
    return {
        "new": run.committed_new,
        "updated": run.committed_updated,
        "conflicts": run.committed_conflict,
    }
