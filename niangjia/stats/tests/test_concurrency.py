"""Exact under concurrency (PostgreSQL): joins committing in any order while the folder runs.

On PostgreSQL a transaction that took a lower id can commit after one with a higher id was
folded; the folder reads by transaction snapshot, so such a row is folded when it commits,
once. These tests run with real transactions and threads, each with its own connection.
"""

import datetime
import threading

import pytest
from django.db import connection, connections, transaction

from niangjia.members import services as member_services
from niangjia.members.choices import ApplicationChannel
from niangjia.stats import fold
from niangjia.stats.tests.conftest import assert_exact, fold_now, value
from niangjia.utilities.testing.members import join_data

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="commit order only varies on PostgreSQL"
    ),
]


def _person(n: int) -> dict:
    birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=n // 900)
    from niangjia.utilities.testing.members import make_id_number, make_phone

    return {
        "id_number": make_id_number(birth=birth.strftime("%Y%m%d"), serial=n % 900),
        "phone": make_phone(serial=n),
    }


def _join(union, n: int):
    application = member_services.application_submit(
        union=union,
        data=join_data(**_person(n)),
        channel=ApplicationChannel.ONLINE,
        phone_verified=True,
    )
    with transaction.atomic():
        return member_services._approve(application, acting_user=None, reason="测试")


def test_a_join_committing_after_a_later_one_was_folded_is_folded_once(tree):
    fold_now()
    inserted = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def slow_join() -> None:
        try:
            with transaction.atomic():
                _join(tree.jiangan_grassroots, 1)
                inserted.set()  # its rows are written (lower ids), not yet committed
                release.wait(30)
        except BaseException as exc:
            errors.append(exc)
            inserted.set()
        finally:
            connections.close_all()

    worker = threading.Thread(target=slow_join)
    worker.start()
    assert inserted.wait(30)
    _join(tree.jiangan_grassroots, 2)  # higher ids, committed first
    fold_now()
    assert value(tree.root, "members") == 1
    release.set()
    worker.join(30)
    assert not errors, errors
    result = fold_now()
    assert result.events == 1
    assert value(tree.root, "members") == 2
    assert value(tree.root, "joins") == 2
    fold_now()
    assert value(tree.root, "members") == 2
    assert_exact()


def test_every_ancestor_is_exact_after_concurrent_joins_while_folding(tree):
    fold_now()
    threads, per_thread = 4, 40
    unions = [tree.jiangan_grassroots, tree.jianghan_grassroots, tree.jiangan, tree.jianghan]
    stop = threading.Event()
    errors: list[BaseException] = []
    folds = []

    def joiner(index: int) -> None:
        try:
            for i in range(per_thread):
                _join(unions[(index + i) % len(unions)], index * 1000 + i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def folder() -> None:
        try:
            while not stop.is_set():
                result = fold.fold_once()
                if result is not None:
                    folds.append(result)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    folding = threading.Thread(target=folder)
    folding.start()
    workers = [threading.Thread(target=joiner, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    stop.set()
    folding.join(60)
    assert not errors, errors
    assert sum(r.events for r in folds) > 0, "the folder ran while the joins went on"
    fold_now()
    assert value(tree.root, "members") == threads * per_thread
    assert value(tree.root, "joins") == threads * per_thread
    assert_exact()
    assert connection.vendor == "postgresql"


def test_two_folders_never_fold_at_once(tree):
    fold_now()
    got: list[object] = []
    with fold._exclusive() as mine:
        assert mine

        def other() -> None:
            try:
                got.append(fold.fold_once())
            finally:
                connections.close_all()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(30)
    assert got == [None]
