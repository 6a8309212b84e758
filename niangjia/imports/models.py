"""Roster imports: one ``ImportRun`` per uploaded file, its validated rows staged in bulk.

The flow (services.py): upload → the column mapping is proposed and confirmed → dry run (a
background job reads the whole file, normalises and validates every row, stages the good rows
in ``StagedMember``/``StagedEmployer`` ready to write, and records each bad or conflicting row
with its original values and a Chinese reason in ``ImportProblem``) → commit (a second job
writes the staged rows in chunked transactions; each chunk records its ``ImportChunk`` row in
the same transaction, so a crash or ``kill -9`` resumes with the chunks not yet written, and
none is written twice).

The staged tables are a work area, not a registry: they carry plain ids instead of foreign
keys (every id is checked again, against the committing user's scope, by the commit), and are
deleted with their run.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from niangjia.imports.choices import ImportKind, ImportState, Outcome
from niangjia.utilities.querysets import RestrictedQuerySet


class ImportRunQuerySet(RestrictedQuerySet["ImportRun"]):
    pass


class ImportRun(models.Model):
    kind = models.CharField("名册类型", max_length=16, choices=ImportKind.choices)
    union = models.ForeignKey(
        "orgs.Union",
        verbose_name="导入到",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="名册所属的工会：文件中未写工会的行归入此工会；写了的必须在其下级范围内",
    )
    union_path = models.CharField(max_length=255, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认导入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    original_name = models.CharField("文件名", max_length=255)
    stored_name = models.CharField(max_length=64, editable=False)
    sha256 = models.CharField("文件 SHA-256", max_length=64)
    size = models.PositiveBigIntegerField("文件大小")
    file_kind = models.CharField("文件格式", max_length=8)
    sheet = models.CharField("工作表", max_length=64, blank=True)
    header_row = models.PositiveIntegerField("表头所在行", default=1)
    headers = models.JSONField("表头", default=list, blank=True)
    mapping = models.JSONField("列对应", default=dict, blank=True)
    state = models.CharField(
        "状态", max_length=16, choices=ImportState.choices, default=ImportState.UPLOADED
    )
    rows_total = models.PositiveIntegerField("数据行", default=0)
    rows_new = models.PositiveIntegerField("新增", default=0)
    rows_updated = models.PositiveIntegerField("更新", default=0)
    rows_unchanged = models.PositiveIntegerField("无变化", default=0)
    rows_error = models.PositiveIntegerField("有误", default=0)
    rows_conflict = models.PositiveIntegerField("冲突", default=0)
    # The commit's own counts, moved forward with each chunk (exact after a resume).
    committed_new = models.PositiveIntegerField("已新增", default=0)
    committed_updated = models.PositiveIntegerField("已更新", default=0)
    committed_conflict = models.PositiveIntegerField("提交时发现的冲突", default=0)
    checkpoint = models.PositiveIntegerField("已写入至行", default=0)
    validated_at = models.DateTimeField("试导入完成时间", null=True, blank=True)
    committed_at = models.DateTimeField("导入完成时间", null=True, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    job = models.ForeignKey(
        "jobs.Job",
        verbose_name="后台任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ImportRunQuerySet.as_manager()
    scope_path_lookups = ("union_path",)

    class Meta:
        verbose_name = "名册导入"
        verbose_name_plural = "名册导入"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["union_path", "created_at"], name="import_run_scope")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.original_name}"

    @property
    def rows_good(self) -> int:
        return self.rows_new + self.rows_updated + self.rows_unchanged


class ImportProblemQuerySet(RestrictedQuerySet["ImportProblem"]):
    pass


class ImportProblem(models.Model):
    """A row that cannot be imported as it is: the original values and every reason."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="problems")
    row_no = models.PositiveIntegerField("行号")
    outcome = models.CharField(
        "类别",
        max_length=16,
        choices=[(Outcome.ERROR, Outcome.ERROR.label), (Outcome.CONFLICT, Outcome.CONFLICT.label)],
    )
    message = models.TextField("原因")
    raw = models.JSONField("原始内容", default=list)

    objects = ImportProblemQuerySet.as_manager()
    scope_path_lookups = ("run__union_path",)

    class Meta:
        verbose_name = "问题行"
        verbose_name_plural = "问题行"
        ordering = ["run", "row_no"]
        indexes = [models.Index(fields=["run", "row_no"], name="import_problem_run_row")]

    def __str__(self) -> str:
        return f"第 {self.row_no} 行：{self.message}"


class ImportChunkQuerySet(RestrictedQuerySet["ImportChunk"]):
    pass


class ImportChunk(models.Model):
    """One committed chunk of a run: rows (lo, hi] written in one transaction with this row.
    Unique per run and range, so no chunk is ever written twice, even by two workers."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="chunks")
    lo = models.PositiveIntegerField()
    hi = models.PositiveIntegerField()
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    committed_at = models.DateTimeField(auto_now_add=True)

    objects = ImportChunkQuerySet.as_manager()
    scope_path_lookups = ("run__union_path",)

    class Meta:
        verbose_name = "已提交的分段"
        verbose_name_plural = "已提交的分段"
        constraints = [
            models.UniqueConstraint(fields=["run", "lo"], name="import_chunk_once"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.lo}-{self.hi}"


class StagedMemberQuerySet(RestrictedQuerySet["StagedMember"]):
    pass


class StagedMember(models.Model):
    """A validated member row, in the form it will be written to ``members.Member``."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    row_no = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    member_id = models.BigIntegerField(null=True)
    name = models.CharField(max_length=50)
    id_type = models.CharField(max_length=20)
    id_number_enc = models.BinaryField()
    id_hash = models.CharField(max_length=64)
    id_masked = models.CharField(max_length=24)
    sex = models.CharField(max_length=1, blank=True)
    birth_date = models.DateField(null=True)
    phone_enc = models.BinaryField()
    phone_hash = models.CharField(max_length=64)
    phone_masked = models.CharField(max_length=16)
    ethnic_group = models.CharField(max_length=2)
    education = models.CharField(max_length=16, blank=True)
    household = models.CharField(max_length=8)
    employment_form = models.CharField(max_length=10)
    gig_occupation = models.CharField(max_length=16, blank=True)
    occupation = models.CharField(max_length=50, blank=True)
    employer_id = models.BigIntegerField(null=True)
    employer_name = models.CharField(max_length=200, blank=True)
    union_id = models.BigIntegerField()
    union_path = models.CharField(max_length=255)
    join_date = models.DateField()

    objects = StagedMemberQuerySet.as_manager()
    scope_path_lookups = ("run__union_path",)

    class Meta:
        verbose_name = "待写入会员"
        verbose_name_plural = "待写入会员"
        indexes = [models.Index(fields=["run", "row_no"], name="staged_member_run_row")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.row_no}"


class StagedEmployerQuerySet(RestrictedQuerySet["StagedEmployer"]):
    pass


class StagedEmployer(models.Model):
    """A validated employer row, in the form it will be written to ``orgs.Employer``."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    row_no = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    employer_id = models.BigIntegerField(null=True)
    name = models.CharField(max_length=200)
    uscc = models.CharField(max_length=18)
    region_id = models.BigIntegerField()
    industry_section = models.CharField(max_length=1, blank=True)
    ownership = models.CharField(max_length=16)
    headcount = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16)
    owner_id = models.BigIntegerField()
    owner_path = models.CharField(max_length=255)
    covering_union_id = models.BigIntegerField(null=True)

    objects = StagedEmployerQuerySet.as_manager()
    scope_path_lookups = ("run__union_path",)

    class Meta:
        verbose_name = "待写入用人单位"
        verbose_name_plural = "待写入用人单位"
        indexes = [models.Index(fields=["run", "row_no"], name="staged_employer_run_row")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.row_no}"
