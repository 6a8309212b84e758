"""The employer roster: dry run and commit of an employers file (用人单位名册).

Employer files are small (a county registers thousands, not millions), so the rows are
checked in this process and written through the ORM; the flow is the members' one: the dry
run stages the good rows in ``StagedEmployer`` and records the bad ones in ``ImportProblem``
without touching the registry; the commit writes chunk by chunk, each chunk claimed by its
``ImportChunk`` row in the same transaction, with one audit row per chunk.

Natural key: the unified social credit code (GB 32100). A code registered by a union of the
run's subtree updates that employer; a code registered elsewhere is a conflict (the employer
belongs to another union's registry: never moved silently).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.imports import normalise
from niangjia.imports.choices import Outcome
from niangjia.imports.engine import (
    BATCH,
    CancelFn,
    Cancelled,
    ProgressFn,
    Tally,
    _header_text,
    _jsonable_row,
    data_rows,
    sum_chunks,
)
from niangjia.imports.member_rows import union_key
from niangjia.imports.models import ImportChunk, ImportProblem, ImportRun, StagedEmployer
from niangjia.imports.normalise import CellError, Codes
from niangjia.orgs.choices import (
    EmployerStatus,
    IndustrySection,
    OwnershipType,
    UnionKind,
    UnionStatus,
)
from niangjia.orgs.models import Employer, Region, Union
from niangjia.orgs.validators import validate_uscc

INDUSTRIES = Codes(IndustrySection.choices)
OWNERSHIPS = Codes(
    OwnershipType.choices,
    {
        "国企": OwnershipType.STATE,
        "国有": OwnershipType.STATE,
        "民营企业": OwnershipType.PRIVATE,
        "民营": OwnershipType.PRIVATE,
        "私营": OwnershipType.PRIVATE,
        "股份有限公司": OwnershipType.JOINT_STOCK,
        "有限责任公司": OwnershipType.JOINT_STOCK,
        "外资企业": OwnershipType.FOREIGN,
        "外企": OwnershipType.FOREIGN,
        "港澳台企业": OwnershipType.HMT,
        "个体": OwnershipType.INDIVIDUAL,
        "政府机关": OwnershipType.GOVERNMENT,
    },
)
STATUSES = Codes(
    EmployerStatus.choices,
    {"在业": EmployerStatus.ACTIVE, "正常": EmployerStatus.ACTIVE, "开业": EmployerStatus.ACTIVE},
)
COMMIT_CHUNK = 2000
_COMPARED = (
    "name",
    "region_id",
    "industry_section",
    "ownership",
    "headcount",
    "status",
    "owner_id",
    "covering_union_id",
)


@dataclass
class _Lookups:
    unions_by_name: dict[str, list[Union]]
    unions_by_code: dict[str, Union]
    regions_by_code: dict[str, Region]
    regions_by_name: dict[str, list[Region]]


def _lookups(run: ImportRun) -> _Lookups:
    unions = list(
        Union.objects.filter(path__startswith=run.union_path, status=UnionStatus.ACTIVE).only(
            "pk", "name", "uscc", "path", "kind", "level"
        )
    )
    by_name: dict[str, list[Union]] = {}
    by_code: dict[str, Union] = {}
    for union in unions:
        by_name.setdefault(union_key(union.name), []).append(union)
        if union.uscc:
            by_code[union.uscc.upper()] = union
    regions = list(Region.objects.only("pk", "code", "name"))
    by_region_name: dict[str, list[Region]] = {}
    for region in regions:
        by_region_name.setdefault(region.name, []).append(region)
    return _Lookups(by_name, by_code, {r.code: r for r in regions}, by_region_name)


class EmployerRowChecker:
    def __init__(self, run: ImportRun) -> None:
        self.run = run
        self.columns = {key: int(index) for index, key in run.mapping.items()}
        self.look = _lookups(run)

    def header(self, key: str) -> str:
        index = self.columns.get(key)
        return _header_text(self.run, index) if index is not None else key

    def _cell(self, raw: list[Any], key: str) -> Any:
        index = self.columns.get(key)
        if index is None or index >= len(raw):
            return None
        return raw[index]

    def _union(
        self, value: Any, key: str, problems: list[str], *, grassroots: bool
    ) -> Union | None:
        spelled = normalise.text(value)
        if not spelled:
            return None
        found = self.look.unions_by_code.get(spelled.upper()) if len(spelled) == 18 else None
        if found is None:
            candidates = self.look.unions_by_name.get(union_key(spelled), [])
            if len(candidates) > 1:
                problems.append(
                    f"「{self.header(key)}」“{spelled}”在导入范围内有同名工会，请改填工会的统一社会信用代码"
                )
                return None
            found = candidates[0] if candidates else None
        if found is None:
            problems.append(f"「{self.header(key)}」“{spelled}”不是本次导入范围内的工会")
            return None
        if grassroots and found.kind not in (UnionKind.GRASSROOTS, UnionKind.JOINT):
            problems.append(f"「{self.header(key)}」“{found.name}”不是基层工会或联合基层工会")
            return None
        return found

    def check(self, row_no: int, raw: list[Any]) -> tuple[dict[str, Any] | None, list[str]]:
        problems: list[str] = []
        cell = self._cell
        name = normalise.text(cell(raw, "name"))
        if not name:
            problems.append(f"「{self.header('name')}」未填写")
        elif len(name) > 200:
            problems.append(f"「{self.header('name')}」超过 200 个字")
        uscc = normalise.compact(cell(raw, "uscc"))
        if not uscc:
            problems.append(f"「{self.header('uscc')}」未填写")
        else:
            try:
                validate_uscc(uscc)
            except ValidationError as exc:
                problems.append(f"「{self.header('uscc')}」" + "；".join(exc.messages))
        region = None
        region_text = normalise.compact(cell(raw, "region"))
        if not region_text:
            problems.append(f"「{self.header('region')}」未填写")
        elif region_text.isdigit():
            region = self.look.regions_by_code.get(region_text)
            if region is None:
                problems.append(f"「{self.header('region')}」行政区划代码“{region_text}”不存在")
        else:
            named = self.look.regions_by_name.get(normalise.text(cell(raw, "region")), [])
            if len(named) == 1:
                region = named[0]
            else:
                problems.append(
                    f"「{self.header('region')}」“{region_text}”"
                    + (
                        "有重名，请填写 6 位行政区划代码"
                        if named
                        else "不是有效的行政区划名称，请填写 6 位行政区划代码"
                    )
                )

        def coded(key: str, codes: Codes, default: str, required: bool) -> str:
            value = cell(raw, key)
            if value in (None, ""):
                if required:
                    problems.append(f"「{self.header(key)}」未填写")
                return default
            try:
                return codes(value)
            except CellError as exc:
                problems.append(f"「{self.header(key)}」{exc}")
                return default

        industry = coded("industry_section", INDUSTRIES, "", True)
        ownership = coded("ownership", OWNERSHIPS, "", True)
        status = coded("status", STATUSES, EmployerStatus.ACTIVE, False)
        headcount = 0
        raw_count = cell(raw, "headcount")
        if raw_count not in (None, ""):
            try:
                number = float(normalise.text(raw_count).replace(",", ""))
                if number < 0 or not number.is_integer():
                    raise ValueError
                headcount = int(number)
            except ValueError:
                problems.append(f"「{self.header('headcount')}」应为不小于 0 的整数")
        owner = self._union(cell(raw, "owner"), "owner", problems, grassroots=False) or (
            self.run.union if cell(raw, "owner") in (None, "") else None
        )
        covering = self._union(
            cell(raw, "covering_union"), "covering_union", problems, grassroots=True
        )
        if problems:
            return None, problems
        assert owner is not None and region is not None
        return (
            {
                "name": name,
                "uscc": uscc,
                "region_id": region.pk,
                "industry_section": industry,
                "ownership": ownership,
                "headcount": headcount,
                "status": status,
                "owner_id": owner.pk,
                "owner_path": owner.path,
                "covering_union_id": covering.pk if covering else None,
            },
            [],
        )


def employer_dry_run(
    run: ImportRun, *, progress: ProgressFn | None = None, cancelled: CancelFn | None = None
) -> Tally:
    StagedEmployer.objects.filter(run=run).delete()
    ImportProblem.objects.filter(run=run).delete()
    checker = EmployerRowChecker(run)
    tally = Tally()
    seen: dict[str, int] = {}
    staged: list[StagedEmployer] = []
    problems: list[ImportProblem] = []
    rows = list(data_rows(run))
    checked = []
    for row_no, raw in rows:
        tally.total += 1
        values, messages = checker.check(row_no, raw)
        if values is None:
            problems.append(
                ImportProblem(
                    run=run,
                    row_no=row_no,
                    outcome=Outcome.ERROR,
                    message="；".join(messages),
                    raw=_jsonable_row(raw),
                )
            )
            continue
        first = seen.get(values["uscc"])
        if first is not None:
            problems.append(
                ImportProblem(
                    run=run,
                    row_no=row_no,
                    outcome=Outcome.ERROR,
                    message=f"「{checker.header('uscc')}」与第 {first} 行重复",
                    raw=_jsonable_row(raw),
                )
            )
            continue
        seen[values["uscc"]] = row_no
        checked.append((row_no, raw, values))
    existing = {
        e.uscc: e
        for e in Employer.objects.filter(uscc__in=list(seen)).select_related(
            "owner", "covering_union"
        )
    }
    for row_no, raw, values in checked:
        current = existing.get(values["uscc"])
        outcome = Outcome.NEW
        if current is not None:
            inside = current.owner.path.startswith(run.union_path) or (
                current.covering_union is not None
                and current.covering_union.path.startswith(run.union_path)
            )
            if not inside:
                problems.append(
                    ImportProblem(
                        run=run,
                        row_no=row_no,
                        outcome=Outcome.CONFLICT,
                        message=f"统一社会信用代码 {values['uscc']} 的单位已由「{current.owner.name}」登记，不能由本次导入修改",
                        raw=_jsonable_row(raw),
                    )
                )
                continue
            same = all(getattr(current, name) == values[name] for name in _COMPARED)
            outcome = Outcome.UNCHANGED if same else Outcome.UPDATE
        tally.add(outcome)
        staged.append(
            StagedEmployer(
                run=run,
                row_no=row_no,
                outcome=outcome,
                employer_id=current.pk if current else None,
                **values,
            )
        )
    for problem in problems:
        tally.add(problem.outcome)
    StagedEmployer.objects.bulk_create(staged, batch_size=BATCH)
    ImportProblem.objects.bulk_create(problems, batch_size=BATCH)
    if progress is not None:
        progress(tally.total, tally.total)
    if cancelled is not None and cancelled():
        raise Cancelled
    return tally


def employer_commit(
    run: ImportRun,
    *,
    acting_user: Any,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> ImportRun:
    row_nos = list(
        StagedEmployer.objects.filter(run=run)
        .exclude(outcome=Outcome.UNCHANGED)
        .order_by("row_no")
        .values_list("row_no", flat=True)
    )
    bounds = []
    lo = run.header_row
    for start in range(0, len(row_nos), COMMIT_CHUNK):
        hi = row_nos[min(start + COMMIT_CHUNK, len(row_nos)) - 1]
        bounds.append((lo, hi))
        lo = hi
    done = set(ImportChunk.objects.filter(run=run).values_list("lo", flat=True))
    total = len(row_nos)
    for lo, hi in bounds:
        if lo in done:
            continue
        _commit_chunk(run, lo, hi, acting_user)
        if progress is not None:
            written = ImportChunk.objects.filter(run=run).aggregate(n=Sum("new"), u=Sum("updated"))
            progress((written["n"] or 0) + (written["u"] or 0), total or None)
        if cancelled is not None and cancelled():
            raise Cancelled
    return sum_chunks(run)


def _commit_chunk(run: ImportRun, lo: int, hi: int, acting_user: Any) -> None:
    paths = paths_for(acting_user, Action.ADD)
    with transaction.atomic():
        try:
            with transaction.atomic():
                chunk = ImportChunk.objects.create(run=run, lo=lo, hi=hi)
        except IntegrityError:
            return
        rows = list(
            StagedEmployer.objects.filter(run=run, row_no__gt=lo, row_no__lte=hi)
            .exclude(outcome=Outcome.UNCHANGED)
            .order_by("row_no")
        )
        refused: list[int] = []
        creates: list[Employer] = []
        updates: list[Employer] = []
        current = {
            e.pk: e
            for e in Employer.objects.select_for_update().filter(
                pk__in=[r.employer_id for r in rows if r.employer_id]
            )
        }
        live_unions = set(
            Union.objects.filter(
                pk__in={r.owner_id for r in rows}
                | {r.covering_union_id for r in rows if r.covering_union_id},
                status=UnionStatus.ACTIVE,
            ).values_list("pk", flat=True)
        )
        taken = set(
            Employer.objects.filter(
                uscc__in=[r.uscc for r in rows if r.outcome == Outcome.NEW]
            ).values_list("uscc", flat=True)
        )
        for row in rows:
            if (
                not any(row.owner_path.startswith(p) for p in paths)
                or row.owner_id not in live_unions
                or (row.covering_union_id and row.covering_union_id not in live_unions)
            ):
                refused.append(row.row_no)
                continue
            fields = {
                "name": row.name,
                "region_id": row.region_id,
                "industry_section": row.industry_section,
                "ownership": row.ownership,
                "headcount": row.headcount,
                "status": row.status,
                "owner_id": row.owner_id,
                "covering_union_id": row.covering_union_id,
            }
            if row.outcome == Outcome.NEW:
                if row.uscc in taken:
                    refused.append(row.row_no)
                    continue
                creates.append(Employer(uscc=row.uscc, created_by=acting_user, **fields))
            else:
                employer = current.get(row.employer_id)
                if employer is None:
                    refused.append(row.row_no)
                    continue
                for name, value in fields.items():
                    setattr(employer, name, value)
                updates.append(employer)
        Employer.objects.bulk_create(creates, batch_size=500)
        if updates:
            Employer.objects.bulk_update(updates, [*_COMPARED, "updated_at"], batch_size=500)
        if refused:
            ImportProblem.objects.bulk_create(
                ImportProblem(
                    run=run,
                    row_no=row_no,
                    outcome=Outcome.CONFLICT,
                    message="试导入后该单位或其工会已变更（已登记、撤销或不在您的管辖范围内），本行未导入，请重新试导入核对",
                    raw=[],
                )
                for row_no in refused
            )
        chunk.new = len(creates)
        chunk.updated = len(updates)
        chunk.conflicts = len(refused)
        chunk.save(update_fields=["new", "updated", "conflicts"])
        record(
            action=AuditAction.IMPORT,
            actor=acting_user,
            obj=run,
            detail={
                "rows": f"{lo + 1}-{hi}",
                "new": len(creates),
                "updated": len(updates),
                "conflicts": len(refused),
                "sha256": run.sha256,
                "file": run.original_name,
                "kind": "employers",
            },
        )
