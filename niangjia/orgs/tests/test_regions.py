"""GB/T 2260 regions: the shipped file loaded by migration, and township files imported later."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from niangjia.orgs.choices import RegionLevel, UnionKind, UnionLevel
from niangjia.orgs.models import Region
from niangjia.orgs.regions import REGIONS_CSV, load_regions, read_rows
from niangjia.orgs.rules import check_placement

pytestmark = pytest.mark.django_db

HEADER = "code,name,level,parent_code,revision\n"


def write(tmp_path: Path, body: str, name: str = "townships.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def import_regions(path: Path) -> str:
    out = io.StringIO()
    call_command("import_regions", str(path), stdout=out)
    return out.getvalue().strip()


def test_migration_loads_every_province_city_and_county():
    assert Region.objects.count() == 3222
    assert Region.objects.filter(level=RegionLevel.PROVINCE).count() == 34
    assert Region.objects.filter(level=RegionLevel.CITY).count() == 342
    assert Region.objects.filter(level=RegionLevel.COUNTY).count() == 2846
    assert not Region.objects.filter(level=RegionLevel.PROVINCE, parent__isnull=False).exists()
    assert not Region.objects.exclude(level=RegionLevel.PROVINCE).filter(parent=None).exists()


def test_regions_hang_from_their_parents():
    jiangan = Region.objects.get(code="420102")
    assert (jiangan.name, jiangan.parent.code, jiangan.parent.parent.code) == (
        "江岸区",
        "420100",
        "420000",
    )


def test_loading_the_shipped_file_again_changes_nothing():
    assert load_regions(Region) == {"created": 0, "updated": 0, "total": 3222}
    assert Region.objects.count() == 3222


def test_loading_repairs_a_changed_region():
    Region.objects.filter(code="420102").update(name="江岸")
    assert load_regions(Region) == {"created": 0, "updated": 1, "total": 3222}
    assert Region.objects.get(code="420102").name == "江岸区"


def test_township_file_is_imported_by_the_command(tmp_path):
    path = write(
        tmp_path,
        "420102001,大智街道,township,420102,2024\n420102002,一元街道,township,420102,2024\n",
    )
    assert import_regions(path) == "行政区划：新增 2，更新 0，共 2"
    street = Region.objects.get(code="420102001")
    assert street.level == RegionLevel.TOWNSHIP and street.parent.code == "420102"
    assert street.full_name == "湖北省武汉市江岸区大智街道"
    assert import_regions(path) == "行政区划：新增 0，更新 0，共 2"


def test_township_import_updates_renamed_townships(tmp_path):
    import_regions(write(tmp_path, "420102001,大智街道,township,420102,2023\n"))
    path = write(tmp_path, "420102001,大智街道办事处,township,420102,2024\n", "v2.csv")
    assert import_regions(path) == "行政区划：新增 0，更新 1，共 1"
    assert Region.objects.get(code="420102001").revision == "2024"


def test_imported_township_carries_a_township_federation(tmp_path, tree):
    import_regions(write(tmp_path, "420102001,大智街道,township,420102,2024\n"))
    check_placement(
        parent=tree.jiangan,
        level=UnionLevel.TOWNSHIP,
        kind=UnionKind.FEDERATION,
        region=Region.objects.get(code="420102001"),
        industry_union=None,
    )


def test_import_with_an_unknown_parent_imports_nothing(tmp_path):
    path = write(
        tmp_path,
        "420102001,大智街道,township,420102,2024\n420199001,某街道,township,420199,2024\n",
    )
    with pytest.raises(CommandError, match=r"^区划 420199001 的上级 420199 不存在$"):
        import_regions(path)
    assert not Region.objects.filter(code="420102001").exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "42010200,大智街道,township,420102,2024\n",
            "第 2 行：行政区划代码“42010200”应为 6 位或 9 位数字",
        ),
        ("420102001,大智街道,village,420102,2024\n", "第 2 行：级别“village”无效"),
    ],
)
def test_bad_rows_are_named_by_line(tmp_path, body, message):
    with pytest.raises(ValidationError) as excinfo:
        read_rows(write(tmp_path, body))
    assert excinfo.value.messages == [message]


def test_file_without_the_required_columns_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("code,name,level\n420102001,大智街道,township\n", encoding="utf-8")
    with pytest.raises(ValidationError) as excinfo:
        read_rows(path)
    assert excinfo.value.messages == ["区划文件缺少列：parent_code, revision"]


def test_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text(HEADER + "420102001,大智街道,township,420102,2024\n", encoding="utf-8-sig")
    assert read_rows(path)[0]["code"] == "420102001"


def test_shipped_file_is_the_one_loaded():
    assert len(read_rows(REGIONS_CSV)) == 3222


def test_import_regions_reports_a_bad_file_in_chinese_and_changes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,level,parent_code,revision\n420102001,某街道,township,420102,2024\n12,错,township,420102,2024\n",
        encoding="utf-8",
    )
    before = Region.objects.count()
    with pytest.raises(CommandError, match="第 3 行：行政区划代码“12”应为 6 位或 9 位数字"):
        call_command("import_regions", str(bad))
    assert Region.objects.count() == before
    with pytest.raises(CommandError, match="找不到区划文件"):
        call_command("import_regions", str(tmp_path / "missing.csv"))
