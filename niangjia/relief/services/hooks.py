"""Keeping relief's copies of union tree paths in step when the tree changes."""

from __future__ import annotations

from django.db.models import Value
from django.db.models.functions import Concat, Substr

from niangjia.accounts.models import User
from niangjia.orgs.models import Union


def _paths_moved(old_prefix: str, new_prefix: str) -> int:
    from niangjia.relief.models import Assistance, HardshipFile

    moved = 0
    for model in (HardshipFile, Assistance):
        moved += model.objects.filter(union_path__startswith=old_prefix).update(
            union_path=Concat(Value(new_prefix), Substr("union_path", len(old_prefix) + 1))
        )
    return moved


def _merge_files(source: Union, target: Union, acting_user: User) -> dict[str, int]:
    from niangjia.relief.models import Assistance, HardshipFile

    ids = list(HardshipFile.objects.filter(union=source).values_list("pk", flat=True))
    files = HardshipFile.objects.filter(pk__in=ids).update(union=target, union_path=target.path)
    Assistance.objects.filter(file_id__in=ids).update(union_path=target.path)
    return {"hardship_files": files}


def _files_block_deletion(union: Union) -> str | None:
    from niangjia.relief.models import Fund, HardshipFile

    count = HardshipFile.objects.filter(union=union).count()
    if count:
        return f"有 {count} 份困难职工档案"
    if Fund.objects.filter(union=union).exists():
        return "有帮扶资金"
    return None


def register_org_hooks() -> None:
    from niangjia.orgs import rules
    from niangjia.orgs import services as org_services

    if _paths_moved not in org_services.PATH_CHANGE_STEPS:
        org_services.PATH_CHANGE_STEPS.append(_paths_moved)
    if _merge_files not in org_services.MERGE_STEPS:
        org_services.MERGE_STEPS.append(_merge_files)
    if _files_block_deletion not in rules.DELETION_CHECKS:
        rules.DELETION_CHECKS.append(_files_block_deletion)
