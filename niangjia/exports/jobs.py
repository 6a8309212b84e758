"""The background job of a big export: ``exports.members`` and ``exports.employers``.

The job's only parameter is the ``ExportFile`` to write (``services.export_file_build``). It
first deletes stored files and requests past their time (``services.exports_cleanup``). It
reports progress per chunk of rows and stops when cancelled. Resumable in the simplest way: a
run after a crash writes the file again from the start (nothing is recorded until the file is
complete; the audit row and the file's hash are written with it).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from niangjia.exports import services
from niangjia.exports.models import ExportFile
from niangjia.jobs.models import Job
from niangjia.jobs.registry import JobContext, JobError, handler


@handler("exports.members")
@handler("exports.employers")
def build_export(job: Job, ctx: JobContext) -> dict[str, Any] | None:
    services.exports_cleanup()
    export_file = ExportFile.objects.filter(pk=job.params.get("export_file")).first()
    if export_file is None:
        raise JobError("要导出的文件记录已不存在")
    total = export_file.rows_expected or None
    ctx.progress(0, total, note="正在读取并写入表格")

    def on_chunk(done: int) -> None:
        if ctx.cancelled():
            raise services.ExportCancelled
        ctx.progress(done, max(done, total or 0) or None)

    try:
        export_file = services.export_file_build(export_file=export_file, on_chunk=on_chunk)
    except services.ExportCancelled:
        return None
    except PermissionDenied as exc:
        raise JobError(f"导出未完成：{exc}") from exc
    except ValidationError as exc:
        raise JobError("导出未完成：" + "；".join(exc.messages)) from exc
    rows = export_file.rows or 0
    ctx.progress(rows, rows, note="文件已生成")
    return {
        "summary": f"已导出 {rows:,} 行，文件保留至 {_local(export_file.expires_at)}",
        "export_file": export_file.pk,
        "rows": rows,
        "sha256": export_file.sha256,
    }


def _local(moment: Any) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
