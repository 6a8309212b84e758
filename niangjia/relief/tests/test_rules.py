"""Thresholds and rules as data, the category proposal, the self-check, attachments."""

from __future__ import annotations

import datetime
import struct
import zlib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs.models import Region
from niangjia.relief import services
from niangjia.relief.choices import AttachmentKind, Category, FileState
from niangjia.relief.models import Attachment, LivingThreshold
from niangjia.relief.services.rules import (
    Multiples,
    category_rule_for,
    propose_category,
    threshold_for,
)
from niangjia.utilities.testing.relief import make_file, set_threshold, today

pytestmark = pytest.mark.django_db

WUHAN = "420100"
HUBEI = "420000"


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def test_the_city_federation_sets_its_threshold_and_a_county_may_not(tree, personas):
    with pytest.raises(PermissionDenied):
        services.threshold_set(
            region=region(WUHAN),
            year=2025,
            monthly_amount=Decimal("1070"),
            acting_user=personas["county_cadre"],
        )
    row = services.threshold_set(
        region=region(WUHAN),
        year=2025,
        monthly_amount=Decimal("1070"),
        acting_user=personas["provincial_cadre"],
    )
    assert (row.union, row.monthly_amount) == (tree.wuhan, Decimal("1070.00"))
    assert threshold_for(region(WUHAN), 2026) == Decimal("1070.00")  # the latest earlier year
    assert threshold_for(region(WUHAN), 2024) is None


def test_a_stale_threshold_edit_is_a_conflict(tree, personas):
    user = personas["provincial_cadre"]
    row = services.threshold_set(
        region=region(WUHAN), year=2025, monthly_amount=Decimal("1000"), acting_user=user
    )
    services.threshold_set(
        region=region(WUHAN),
        year=2025,
        monthly_amount=Decimal("1050"),
        version=row.version,
        acting_user=user,
    )
    with pytest.raises(ValidationError, match="已被他人修改"):
        services.threshold_set(
            region=region(WUHAN),
            year=2025,
            monthly_amount=Decimal("990"),
            version=row.version,
            acting_user=user,
        )
    assert LivingThreshold.objects.get(pk=row.pk).monthly_amount == Decimal("1050.00")
    assert (
        AuditEntry.objects.filter(
            object_type="relief.livingthreshold", action=AuditAction.CHANGE
        ).count()
        == 1
    )


def test_thresholds_are_set_for_cities_only(tree, personas):
    with pytest.raises(ValidationError, match="按地级市设置"):
        services.threshold_set(
            region=region(HUBEI),
            year=2025,
            monthly_amount=Decimal("1000"),
            acting_user=personas["national_admin"],
        )


def test_a_province_sets_its_own_multiples_by_version(tree, personas):
    hubei = region(HUBEI)
    assert category_rule_for(region(WUHAN), today()) == Multiples(
        Decimal("1.00"), Decimal("2.00"), Decimal("0.80")
    )
    services.category_rule_add(
        province=None,
        valid_from=datetime.date(2020, 1, 1),
        deep_multiple=Decimal("1.0"),
        relative_multiple=Decimal("1.8"),
        accident_loss_ratio=Decimal("0.8"),
        acting_user=personas["national_admin"],
    )
    assert category_rule_for(region(WUHAN), today()).relative == Decimal("1.80")
    services.category_rule_add(
        province=hubei,
        valid_from=datetime.date(2024, 1, 1),
        deep_multiple=Decimal("1.2"),
        relative_multiple=Decimal("2.5"),
        accident_loss_ratio=Decimal("0.6"),
        acting_user=personas["provincial_cadre"],
    )
    assert category_rule_for(region(WUHAN), datetime.date(2025, 6, 1)).relative == Decimal("2.50")
    assert category_rule_for(region(WUHAN), datetime.date(2023, 6, 1)).relative == Decimal("1.80")
    with pytest.raises(PermissionDenied):
        services.category_rule_add(
            province=hubei,
            valid_from=datetime.date(2025, 1, 1),
            deep_multiple=Decimal("1"),
            relative_multiple=Decimal("2"),
            accident_loss_ratio=Decimal("0.8"),
            acting_user=personas["county_cadre"],
        )
    with pytest.raises(ValidationError, match="不能小于深度困难倍数"):
        services.category_rule_add(
            province=hubei,
            valid_from=datetime.date(2025, 1, 1),
            deep_multiple=Decimal("2"),
            relative_multiple=Decimal("1"),
            accident_loss_ratio=Decimal("0.8"),
            acting_user=personas["provincial_cadre"],
        )


@pytest.mark.parametrize(
    ("per_head", "income_year", "loss", "expected"),
    [
        ("999.99", "36000", "0", Category.DEEP),
        ("1000", "36000", "0", Category.RELATIVE),
        ("1999.99", "72000", "0", Category.RELATIVE),
        ("2000", "72000", "0", ""),
        ("2500", "90000", "72001", Category.ACCIDENT),
        ("2500", "90000", "72000", ""),
    ],
)
def test_the_category_proposal(per_head, income_year, loss, expected):
    assert (
        propose_category(
            income_per_head=Decimal(per_head),
            household_income_year=Decimal(income_year),
            accident_loss_year=Decimal(loss),
            threshold=Decimal("1000"),
            multiples=Multiples(Decimal("1"), Decimal("2"), Decimal("0.8")),
        )
        == expected
    )


def test_the_self_check_says_whether_to_apply(tree):
    set_threshold(tree, "1000")
    low = services.eligibility_check(
        city_region=region(WUHAN), household_income_year=Decimal("30000"), household_size=3
    )
    assert (low.eligible, low.category, low.income_per_head) == (
        True,
        Category.DEEP,
        Decimal("833.33"),
    )
    assert "可以提交建档申请" in low.message
    high = services.eligibility_check(
        city_region=region(WUHAN), household_income_year=Decimal("90000"), household_size=3
    )
    assert not high.eligible
    assert "暂不符合" in high.message
    with pytest.raises(ValidationError, match="至少为 1 人"):
        services.eligibility_check(
            city_region=region(WUHAN), household_income_year=Decimal("1"), household_size=0
        )


def _png() -> bytes:
    """A valid 1×1 PNG, built with its real checksums."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_attachments_are_typed_by_content_and_stored_privately(tree, personas, media):
    set_threshold(tree)
    file = make_file(tree, personas, state=FileState.APPLIED)
    cadre = personas["county_cadre"]
    sheet = services.attachment_add(
        file=file,
        kind=AttachmentKind.SURVEY_SHEET,
        original_name="调查表.exe",
        upload=PDF,
        acting_user=cadre,
    )
    assert sheet.content_type == "application/pdf"
    assert sheet.content.name.endswith(".pdf")
    assert (media / "private" / sheet.content.name).read_bytes() == PDF
    photo = services.attachment_add(
        file=file, kind=AttachmentKind.PHOTO, original_name="a.png", upload=PNG, acting_user=cadre
    )
    assert photo.content_type == "image/png"
    broken = PNG[:20] + b"\x00" * 10 + PNG[30:]
    try:
        import PIL  # noqa: F401
    except ImportError:
        pass
    else:
        with pytest.raises(ValidationError, match="图片文件已损坏"):
            services.attachment_add(
                file=file,
                kind=AttachmentKind.PHOTO,
                original_name="b.png",
                upload=broken,
                acting_user=cadre,
            )
    with services.attachment_open(attachment=photo, acting_user=cadre) as handle:
        assert handle.read() == PNG
    assert (
        AuditEntry.objects.filter(
            action=AuditAction.REVEAL, object_type="relief.attachment"
        ).count()
        == 1
    )
    with pytest.raises(ValidationError, match="JPG、PNG 图片或 PDF"):
        services.attachment_add(
            file=file,
            kind=AttachmentKind.PROOF,
            original_name="证明.pdf",
            upload=b"<html>",
            acting_user=cadre,
        )
    with pytest.raises(ValidationError, match="PDF 文件不完整"):
        services.attachment_add(
            file=file,
            kind=AttachmentKind.PROOF,
            original_name="证明.pdf",
            upload=b"%PDF-1.4 cut",
            acting_user=cadre,
        )
    with pytest.raises(ValidationError, match="超过 10 MB"):
        services.attachment_add(
            file=file,
            kind=AttachmentKind.PROOF,
            original_name="big.pdf",
            upload=PDF + b" " * (10 * 1024 * 1024),
            acting_user=cadre,
        )
    with pytest.raises(PermissionDenied):
        services.attachment_open(attachment=photo, acting_user=personas["sibling_cadre"])
    assert Attachment.objects.filter(file=file).count() == 2
