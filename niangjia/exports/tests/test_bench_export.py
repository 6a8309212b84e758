"""The export benchmark's own code path, on a few members: queue, worker, file, read back."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction

from bench import export_members
from niangjia.utilities.testing.members import make_member


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("unmasked", [False, True])
def test_the_bench_exports_through_a_worker_and_reads_the_file_back(
    tree, settings, tmp_path, unmasked
):
    settings.EXPORT_DIR = tmp_path
    settings.EXPORT_INLINE_ROWS = 1
    settings.EXPORT_UNMASKED_APPROVAL_ROWS = 1
    settings.JOBS_INLINE = False
    with transaction.atomic():
        for _ in range(3):
            make_member(tree.jiangan_grassroots)
    result = export_members.export(3, unmasked=unmasked)
    assert result["rows"] == 3 and result["unmasked"] is unmasked
    assert result["peak_rss_kb"] > 0 and result["size"] == Path(result["path"]).stat().st_size
    export_members.verify(result, 3)
    with pytest.raises(export_members.BenchError):
        export_members.verify(result, 4)
