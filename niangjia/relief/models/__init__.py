"""The models of hardship relief, by subdomain: files, rules, assistance, funds, exits."""

from niangjia.relief.models.assistance import Assistance, PlanMeasure, ReliefPlan
from niangjia.relief.models.exits import IncomeCheck, RelapseCheck, RelapseWatch
from niangjia.relief.models.files import (
    BANK_PURPOSE,
    Attachment,
    FileEvent,
    FilePerson,
    HardshipFile,
    HouseholdMember,
    Objection,
    private_storage,
)
from niangjia.relief.models.funds import BatchPayment, DisbursementBatch, Fund, LedgerEntry
from niangjia.relief.models.rules import AssistanceRule, CategoryRule, LivingThreshold

__all__ = [
    "BANK_PURPOSE",
    "Assistance",
    "AssistanceRule",
    "Attachment",
    "BatchPayment",
    "CategoryRule",
    "DisbursementBatch",
    "FileEvent",
    "FilePerson",
    "Fund",
    "HardshipFile",
    "HouseholdMember",
    "IncomeCheck",
    "LedgerEntry",
    "LivingThreshold",
    "Objection",
    "PlanMeasure",
    "RelapseCheck",
    "RelapseWatch",
    "ReliefPlan",
    "private_storage",
]
