"""The demo's hardship relief: households in every state, money that adds up, scope."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum
from django.test import TestCase

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.relief import selectors
from niangjia.relief.choices import AssistanceState, FileState, WatchState
from niangjia.relief.models import (
    Assistance,
    DisbursementBatch,
    Fund,
    HardshipFile,
    LedgerEntry,
    LivingThreshold,
    RelapseWatch,
)
from niangjia.web.demo import load_demo


def _user(username: str) -> User:
    return User.objects.get(username=username)


class ReliefDemoTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        load_demo()

    def test_about_thirty_households_in_every_state(self) -> None:
        states = set(HardshipFile.objects.values_list("state", flat=True))
        assert 28 <= HardshipFile.objects.count() <= 40
        assert states == set(FileState.values) - {FileState.DRAFT}

    def test_the_demo_cities_have_thresholds(self) -> None:
        codes = set(LivingThreshold.objects.values_list("region__code", flat=True))
        assert {"420100", "440100", "440300"} <= codes

    def test_every_fund_balance_is_its_ledger(self) -> None:
        for fund in Fund.objects.all():
            total = LedgerEntry.objects.filter(fund=fund).aggregate(s=Sum("amount"))["s"]
            assert fund.balance == (total or Decimal(0)) >= 0

    def test_payments_include_a_batch_a_return_and_one_waiting_for_finance(self) -> None:
        assert Assistance.objects.filter(state=AssistanceState.PAID).count() >= 8
        assert Assistance.objects.filter(state=AssistanceState.SECOND_PENDING).count() == 1
        assert Assistance.objects.filter(state=AssistanceState.FAILED).count() == 1
        assert DisbursementBatch.objects.filter(state="paid").count() == 1
        waiting = selectors.approvals_waiting(user=_user("jiangan_finance"))
        assert waiting.count() == 1

    def test_an_exit_a_proposal_and_a_relapse(self) -> None:
        assert (
            HardshipFile.objects.filter(state=FileState.FILED)
            .exclude(exit_proposed_kind="")
            .exists()
        )
        assert RelapseWatch.objects.filter(state=WatchState.RELAPSED).count() == 1
        relapsed = HardshipFile.objects.get(relapse_of__isnull=False)
        assert relapsed.state == FileState.APPLIED
        assert selectors.relapse_checks_due(user=_user("jiangan_cadre")).count() == 1

    def test_the_plan_board_has_an_overdue_measure(self) -> None:
        board = selectors.measure_board(user=_user("jiangan_cadre"), overdue_only=True)
        assert board.count() == 1

    def test_the_sibling_county_sees_only_its_own(self) -> None:
        files = HardshipFile.objects.restrict(_user("jianghan_cadre"), Action.VIEW)
        assert 1 <= files.count() <= 6
        assert (
            not Fund.objects.restrict(_user("jianghan_cadre"), Action.VIEW)
            .filter(union__name__contains="江岸")
            .exists()
        )

    def test_loading_again_creates_nothing(self) -> None:
        counts = (
            HardshipFile.objects.count(),
            Assistance.objects.count(),
            LedgerEntry.objects.count(),
        )
        load_demo()
        assert counts == (
            HardshipFile.objects.count(),
            Assistance.objects.count(),
            LedgerEntry.objects.count(),
        )
