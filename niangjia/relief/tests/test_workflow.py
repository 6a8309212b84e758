"""A household from application to filing, through the real services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from niangjia.audit.models import AuditEntry
from niangjia.relief import services
from niangjia.relief.choices import Category, EventKind, FileState
from niangjia.relief.models import FilePerson, HardshipFile
from niangjia.utilities.testing.relief import file_data, make_file, set_threshold, today

pytestmark = pytest.mark.django_db


def test_a_household_goes_from_application_to_filed(tree, personas):
    set_threshold(tree)
    file = make_file(tree, personas)
    assert file.state == FileState.FILED
    assert file.category == Category.DEEP
    assert file.income_per_head == Decimal("500.00")
    assert file.review_due_on == datetime.date(today().year + 1, today().month, min(today().day, 28)) or file.review_due_on > today()
    kinds = list(file.events.values_list("kind", flat=True))
    assert kinds[:2] == [EventKind.APPLIED, EventKind.FIRST_CHECKED]
    assert EventKind.FILED in kinds
    assert AuditEntry.objects.filter(object_type="relief.hardshipfile", object_id=str(file.pk)).count() >= 6
    assert FilePerson.objects.filter(file=file, is_open=True).count() == 2


def test_grassroots_cadre_cannot_review(tree, personas):
    set_threshold(tree)
    file = make_file(tree, personas, state=FileState.SURVEYED)
    with pytest.raises(PermissionDenied, match="县级及以上"):
        services.file_review(
            file=file,
            acting_user=personas["grassroots_cadre"],
            category=Category.DEEP,
            archive_level="county",
        )
    assert HardshipFile.objects.get(pk=file.pk).state == FileState.SURVEYED
