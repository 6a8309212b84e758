"""The join burst of bench/ in small: synthetic workers join at a ceremony's venues through the
real HTTP form (CSRF and all) of a live server, the duplicate storm gets its clear answers, and
the checks the benchmark runs on the database find exactly what was sent."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.db import connection

from bench import join_burst, loadgen
from bench.common import BenchError
from niangjia.members.models import JoinApplication, Member
from niangjia.utilities.testing.personas import build_tree, make_persona

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the join burst runs on PostgreSQL only; set DATABASE_URL to PostgreSQL",
)


def _post_all(port: int, requests: list[bytes], keys: list[int]) -> loadgen.RunResult:
    async def submit(client: loadgen.Client, key: int) -> loadgen.Outcome:
        response = await client.send(requests[key])
        kind, detail = join_burst.classify(response)
        return loadgen.Outcome(key, kind, response.status, response.seconds, detail)

    return loadgen.run("127.0.0.1", port, keys, submit, concurrency=4, timeout=30, deadline=120)


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")  # no collectstatic in tests
def test_a_small_burst_and_storm_through_the_live_server(live_server):
    port = urlsplit(live_server.url).port
    scene = join_burst.build_scene(venues=3)
    assert len(scene.main) == 3 and scene.main[-1].gig
    csrf = join_burst.fetch_csrf(port, scene.warmup.token, timeout=30)

    maker = join_burst.WorkerMaker(seed=5)
    venues = scene.main
    workers = [maker.make(i, venues[i % len(venues)]) for i in range(30)]
    requests = [
        join_burst.post_join(venues[i % len(venues)].token, w, csrf) for i, w in enumerate(workers)
    ]
    result = _post_all(port, requests, list(range(30)))
    assert Counter(o.kind for o in result.outcomes) == {"ok": 30}, [
        o.detail for o in result.outcomes
    ]
    check = join_burst.check_burst(scene, workers)
    assert (check.rows, check.distinct, check.lost, check.dup) == (30, 30, 0, 0)
    assert check.problems == []
    gig = Member.objects.filter(union_id=venues[-1].union_id)
    assert gig.count() == 10 and not gig.exclude(employment_form="gig").exists()

    for plan, answer in (
        (scene.storm_auto, "already_member"),
        (scene.storm_review, "already_applied"),
    ):
        base = join_burst.STORM_BASE + (0 if answer == "already_member" else 50_000)
        people = [maker.make(base + p, plan) for p in range(5)]
        storm = [join_burst.post_join(plan.token, w, csrf) for w in people]
        result = _post_all(port, storm, [p for p in range(5) for _ in range(4)])
        kinds = Counter(o.kind for o in result.outcomes)
        assert kinds == {"ok": 5, answer: 15}, [o.detail for o in result.outcomes]
        rows, problems = join_burst.check_storm(plan, people_count=5)
        assert (rows, problems) == (5, [])
    assert JoinApplication.objects.count() == 40


def test_the_answers_are_told_apart_by_their_chinese_text():
    def response(status: int, body: str, location: str = "") -> loadgen.Response:
        headers = {"location": location} if location else {}
        return loadgen.Response(status, headers, body.encode(), 0.01)

    assert join_burst.classify(response(302, "", "/j/done/abc/"))[0] == "ok"
    member = "<h1>您已是工会会员</h1><p>…无需重复入会。</p>"
    assert join_burst.classify(response(409, member))[0] == "already_member"
    applied = "<h1>您已提交过入会申请</h1><p>…正在审批中，请勿重复提交。</p>"
    assert join_burst.classify(response(409, applied))[0] == "already_applied"
    kind, detail = join_burst.classify(
        response(200, '<ul class="errorlist"><li>身份证号码校验位不正确</li></ul>')
    )
    assert kind == "error" and "校验位不正确" in detail
    assert join_burst.classify(response(409, "conflict"))[0] == "error"
    assert join_burst.classify(response(302, "", "/accounts/login/"))[0] == "error"


@pytest.mark.django_db
def test_a_database_with_other_data_is_refused_without_reset():
    if connection.vendor != "postgresql":
        pytest.skip("the guard reads PostgreSQL's database comment")
    make_persona("county_cadre", build_tree())
    with pytest.raises(BenchError, match="--reset"):
        join_burst.guard_database(reset=False)


def test_sqlite_or_no_database_url_is_refused_in_chinese(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///tmp/x.sqlite3")
    assert join_burst.main(["--n", "10"]) == 2
    assert "不支持 SQLite" in capsys.readouterr().err
    monkeypatch.delenv("DATABASE_URL")
    assert join_burst.main(["--n", "10"]) == 2
    assert "DATABASE_URL=postgresql://" in capsys.readouterr().err


def test_the_load_generator_only_targets_this_machine():
    with pytest.raises(loadgen.LoadError, match="只对本机回环地址压测"):
        loadgen.Client("example.org", 80, timeout=1)
