"""The same roster imported with django-import-export, for the ratio ``make bench-import`` prints.

django-import-export is what a Django project would pick to import a spreadsheet. Here it
imports a members workbook of the same kind as the benchmark's own (``write_workbook`` with
another seed and people not in the registry yet, ~1 % bad rows, ~1 % people registered as
members of a union in another province), into the same province, through a
``resources.ModelResource`` for ``members.Member`` that does the work our importer does for
each row:

- the same normalisation and checks: ``MemberRowChecker`` (niangjia.imports.member_rows) with
  the column mapping our upload proposes and the province's unions (``engine.build_checker``):
  full-width digits, +86 phones, the date spellings, ID check characters, coded values, the
  union by USCC or name inside the province; the ID number and the phone sealed (AES-GCM),
  keyed-hashed and masked; a person twice in the file is refused from the second row on;
- employers looked up by name in the province (one query, not one per row);
- upsert on the keyed hash of the ID number (``import_id_fields``), ``skip_unchanged``; a person
  holding a membership in another union (or recorded as deceased) is refused as a conflict,
  never overwritten; the sealed values of a known person are kept unless they changed (AES-GCM
  seals differently every time, which would make every row "changed");
- a "joined" history row for every new member (a "changed" one for an update), one audit row
  for the import.

Rows refused by the checks raise ``ValidationError`` in ``before_import_row`` (conflicts in
``after_init_instance``, once the existing member is loaded), so they are reported per row as
django-import-export's invalid rows and the others are imported.

It runs as its admin does: the workbook is read with its XLSX format (openpyxl through tablib,
``create_dataset``), ``import_data(dataset, dry_run=True)``, then read again and
``import_data(dataset, dry_run=False)`` — each in one transaction (``use_transactions``). Its
documentation's advice for large imports is followed: bulk mode (``use_bulk``, ``batch_size``
1,000), ``CachedInstanceLoader`` (existing members fetched in one query, not one per row),
``skip_html_diff``; foreign keys are set by id (the checker has found the union and employer),
not through ``ForeignKeyWidget``'s query per row. The admin's own extras (its HTML preview and a
``LogEntry`` per row) are left out, and it would refuse to confirm a file with invalid rows at
all: ``import_data`` is called directly, as a background job would.

Timed end to end: both reads, the dry run and the import (not writing the workbook). The counts
are checked against what the workbook holds; the members it created (and the conflict members
registered for it) are deleted afterwards.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

from bench.common import BenchError

COMPARE_PERSON_BASE = 14_500_000  # far from import_bench's people (12,000,000 + rows)
BATCH_SIZE = 1000


def make_resource_class() -> type:
    """The resource class (built after Django is set up)."""
    from django.core.exceptions import ValidationError
    from django.db.models import Q
    from import_export import fields, resources, widgets
    from import_export.instance_loaders import CachedInstanceLoader

    from niangjia.audit.choices import AuditAction
    from niangjia.audit.services import record
    from niangjia.imports.columns import MEMBER_COLUMNS, detect_header
    from niangjia.imports.engine import MEMBER_FIELDS, build_checker
    from niangjia.imports.member_rows import F, RowProblem
    from niangjia.imports.models import ImportRun
    from niangjia.members.choices import HOLDING_STATUSES, MemberStatus
    from niangjia.members.models import Member, MemberEvent
    from niangjia.orgs.models import Employer

    class SealWidget(widgets.Widget):
        """Sealed bytes kept as they are; shown in hex in the diff (the default widget would
        decode them as UTF-8)."""

        def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
            return bytes(value).hex() if value is not None else ""

    class MemberResource(resources.ModelResource):
        # Set by id: the checker has resolved them (no ForeignKeyWidget query per row).
        union_id = fields.Field(
            attribute="union_id", column_name="union_id", widget=widgets.IntegerWidget()
        )
        employer_id = fields.Field(
            attribute="employer_id", column_name="employer_id", widget=widgets.IntegerWidget()
        )
        id_number_enc = fields.Field(
            attribute="id_number_enc", column_name="id_number_enc", widget=SealWidget()
        )
        phone_enc = fields.Field(
            attribute="phone_enc", column_name="phone_enc", widget=SealWidget()
        )

        class Meta:
            model = Member
            fields = (*MEMBER_FIELDS, "status", "status_changed_on")
            import_id_fields = ("id_hash",)
            instance_loader_class = CachedInstanceLoader
            skip_unchanged = True
            report_skipped = False
            skip_html_diff = True
            use_bulk = True
            batch_size = BATCH_SIZE
            use_transactions = True

        def __init__(self, *, union: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.union = union
            self.outcomes: dict[int, Any] = {}  # row number → CheckedRow | RowProblem
            self.employers: dict[int, int] = {}  # row number → employer id
            self.created = 0

        # --- the whole file: checks, duplicates, employers, the key column -------------------

        def before_import(self, dataset: Any, **kwargs: Any) -> None:
            guess = detect_header([dataset.headers], MEMBER_COLUMNS)
            run = ImportRun(
                union=self.union,
                union_path=self.union.path,
                mapping={str(k): v for k, v in guess.mapping.items()},
                headers=list(guess.headers),
            )
            checker = build_checker(run)
            checker.copy_lines = False  # COPY text is for our staging table only
            self.today = checker.today
            id_header = checker.header("id_number")
            seen: dict[str, int] = {}
            hashes: list[str | None] = []
            names: set[str] = set()
            for number, cells in enumerate(dataset, 1):
                outcome = checker.check(number, list(cells))
                if not isinstance(outcome, RowProblem):
                    key = outcome.values[F["id_hash"]]
                    if key in seen:
                        outcome = RowProblem(
                            number, [f"「{id_header}」与第 {seen[key]} 行是同一人，重复出现"], []
                        )
                    else:
                        seen[key] = number
                        if outcome.employer_name:
                            names.add(outcome.employer_name)
                self.outcomes[number] = outcome
                hashes.append(None if isinstance(outcome, RowProblem) else key)
            # The key column the instance loader and import_id_fields read.
            dataset.append_col(hashes, header="id_hash")
            by_name: dict[str, list[int]] = {}
            in_subtree = Q(owner__path__startswith=self.union.path) | Q(
                covering_union__path__startswith=self.union.path
            )
            for pk, name in Employer.objects.filter(in_subtree, name__in=names).values_list(
                "pk", "name"
            ):
                by_name.setdefault(name, []).append(pk)
            for number, outcome in self.outcomes.items():
                if not isinstance(outcome, RowProblem) and outcome.employer_name:
                    found = by_name.get(outcome.employer_name)
                    if found and len(found) == 1:
                        self.employers[number] = found[0]

        # --- one row ------------------------------------------------------------------------

        def before_import_row(self, row: Any, **kwargs: Any) -> None:
            outcome = self.outcomes[kwargs["row_number"]]
            if isinstance(outcome, RowProblem):
                raise ValidationError(outcome.messages)
            values = outcome.values
            for name in self._meta.fields:
                if name in F:
                    row[name] = values[F[name]]
            employer_id = self.employers.get(kwargs["row_number"])
            row["employer_id"] = employer_id
            if employer_id is not None:
                row["employer_name"] = ""
            row["status"] = MemberStatus.ACTIVE
            row["status_changed_on"] = None

        def after_init_instance(self, instance: Any, new: bool, row: Any, **kwargs: Any) -> None:
            if new:
                return
            if instance.status == MemberStatus.DECEASED:
                raise ValidationError(
                    f"证件号码 {instance.id_masked} 的人员在会员库中登记为已故，请核实"
                )
            holding = instance.status in HOLDING_STATUSES
            if holding and instance.union_id != row["union_id"]:
                raise ValidationError(
                    f"证件号码 {instance.id_masked} 的人员已是另一工会的会员（一人只能有一个会籍），"
                    "如确已调动，请由原工会办理会籍转接"
                )
            # Keep the seals of a known person unless the value changed.
            instance.id_number_enc = bytes(instance.id_number_enc)
            instance.phone_enc = bytes(instance.phone_enc)
            row["id_number_enc"] = instance.id_number_enc
            if instance.phone_hash == row["phone_hash"]:
                row["phone_enc"] = instance.phone_enc
            if holding:
                row["status"] = instance.status
                row["status_changed_on"] = instance.status_changed_on
            else:  # a former member joining again
                row["status_changed_on"] = self.today

        def get_bulk_update_fields(self) -> list[str]:
            return [*super().get_bulk_update_fields(), "updated_at"]

        # --- bulk writes with their history rows --------------------------------------------

        def bulk_create(
            self, using_transactions: bool, dry_run: bool, *args: Any, **kw: Any
        ) -> None:
            created = list(self.create_instances)
            super().bulk_create(using_transactions, dry_run, *args, **kw)
            if created and created[0].pk is not None:
                self.created += len(created)
                MemberEvent.objects.bulk_create(
                    [
                        self._event(m, MemberEvent.Kind.JOINED, MemberStatus.ACTIVE, m.join_date)
                        for m in created
                    ],
                    batch_size=BATCH_SIZE,
                )

        def bulk_update(
            self, using_transactions: bool, dry_run: bool, *args: Any, **kw: Any
        ) -> None:
            updated = list(self.update_instances)
            super().bulk_update(using_transactions, dry_run, *args, **kw)
            if updated:
                MemberEvent.objects.bulk_create(
                    [self._event(m, MemberEvent.Kind.CHANGED, "", self.today) for m in updated],
                    batch_size=BATCH_SIZE,
                )

        def _event(self, member: Any, kind: str, to_status: str, date: datetime.date) -> Any:
            return MemberEvent(
                member=member,
                kind=kind,
                from_status="",
                to_status=to_status,
                union_id=member.union_id,
                date=date,
                reason="名册导入（django-import-export）",
                actor=self.user,
            )

        def import_data(self, dataset: Any, dry_run: bool = False, **kwargs: Any) -> Any:
            self.user = kwargs.get("user")
            return super().import_data(dataset, dry_run=dry_run, **kwargs)

        def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
            totals = result.totals
            record(
                action=AuditAction.IMPORT,
                actor=kwargs.get("user"),
                union_path=self.union.path,
                object_type="members.Member",
                object_repr="django-import-export",
                detail={
                    "rows": len(dataset),
                    "new": totals["new"],
                    "updated": totals["update"],
                    "invalid": totals["invalid"],
                    "file": kwargs.get("file_name", ""),
                },
            )

    return MemberResource


def _province_of(unions: list[Any]) -> tuple[Any, set[str]]:
    from django.db.models import Count

    from niangjia.orgs.models import Union

    province = Union.objects.get(path=unions[0].path[: 2 * Union.steplen])
    duplicated = {
        row["name"]
        for row in Union.objects.filter(path__startswith=province.path)
        .order_by()
        .values("name")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    }
    return province, duplicated


def _other_union(province: Any) -> Any:
    from niangjia.orgs.choices import UnionLevel, UnionStatus
    from niangjia.orgs.models import Union

    return (
        Union.objects.filter(level=UnionLevel.GRASSROOTS, status=UnionStatus.ACTIVE)
        .exclude(path__startswith=province.path)
        .first()
    )


def _read(path: Path) -> Any:
    """As the admin reads an upload: the bytes, then its XLSX format's ``create_dataset``."""
    from import_export.formats.base_formats import XLSX

    return XLSX().create_dataset(path.read_bytes())


def compare(*, rows: int, unions: list[Any], seed: int, user: Any) -> float:
    """Rows per second of django-import-export on ``rows`` rows; see the module docstring."""
    from django.db import connection

    from bench.import_bench import WORK_DIR, register_conflicts, write_workbook
    from niangjia.members.models import Member

    province, duplicated = _province_of(unions)
    other = _other_union(province)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = WORK_DIR / f"import-export-{rows}-{seed}.xlsx"
    expected, conflicts = write_workbook(
        path,
        rows=rows,
        unions=unions,
        duplicated=duplicated,
        seed=seed,
        first_person=COMPARE_PERSON_BASE,
    )
    last_id = Member.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    register_conflicts(conflicts, other)
    before = Member.objects.filter(union_path__startswith=province.path).count()
    resource_class = make_resource_class()
    try:
        started = time.perf_counter()
        dataset = _read(path)
        dry = resource_class(union=province).import_data(
            dataset, dry_run=True, raise_errors=False, user=user, file_name=path.name
        )
        dry_seconds = time.perf_counter() - started
        dataset = _read(path)
        resource = resource_class(union=province)
        real = resource.import_data(
            dataset, dry_run=False, raise_errors=False, user=user, file_name=path.name
        )
        seconds = time.perf_counter() - started
        print(
            f"  import-export: dry run {dry_seconds:.1f} s, import {seconds - dry_seconds:.1f} s",
            flush=True,
        )
        failures = []
        for label, result in (("试导入", dry), ("导入", real)):
            totals = result.totals
            if result.has_errors():
                errors = [*result.base_errors, *(e for _n, row in result.row_errors() for e in row)]
                failures.append(f"{label}出错：{errors[0].error}")
            if totals["new"] != expected.ok or totals["invalid"] != (
                expected.errors + expected.conflicts
            ):
                failures.append(
                    f"{label}：新增 {totals['new']}、无效 {totals['invalid']}"
                    f"（应为 {expected.ok}、{expected.errors + expected.conflicts}）"
                )
        added = Member.objects.filter(union_path__startswith=province.path).count() - before
        if added != expected.ok or resource.created != expected.ok:
            failures.append(f"写入会员 {added} 名（应为 {expected.ok}）")
        if failures:
            raise BenchError("django-import-export 对照：" + "；".join(failures))
    finally:
        # The members it created and the conflict members registered for it.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM members_memberevent WHERE member_id > %s", [last_id])
            cursor.execute("DELETE FROM members_member WHERE id > %s", [last_id])
    return rows / seconds
