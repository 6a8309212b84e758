"""Mass joining ceremonies and join QR codes: the services, the cadre pages, the QR codes, the
big screen's figures during joins, and who may reach each page (ScopedViewCases)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.members import services
from niangjia.members.choices import ApplicationChannel, ApplicationStatus
from niangjia.members.models import CeremonyVenue, JoinApplication, JoinCeremony
from niangjia.orgs.choices import UnionKind
from niangjia.orgs.models import Union
from niangjia.utilities.testing.factories import UnionFactory
from niangjia.utilities.testing.members import join_data
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases
from niangjia.utilities.testing.personas import Tree, logged_in_client

pytestmark = pytest.mark.django_db

REDIRECT = frozenset({302})


def times(hours_from_now: float = -1, length: float = 4) -> dict[str, datetime.datetime]:
    start = timezone.now() + datetime.timedelta(hours=hours_from_now)
    return {"starts_at": start, "ends_at": start + datetime.timedelta(hours=length)}


def ceremony_on(tree: Tree, **overrides) -> JoinCeremony:
    values = {"name": "江岸区五一集中入会仪式", "union": tree.jiangan, **times(), **overrides}
    return JoinCeremony.objects.create(**values)


def venue_on(tree: Tree, ceremony: JoinCeremony | None = None, **overrides) -> CeremonyVenue:
    ceremony = ceremony or ceremony_on(tree)
    values = {
        "ceremony": ceremony,
        "name": "长江机械会场",
        "union": tree.jiangan_grassroots,
        "token": services.new_venue_token(),
        **overrides,
    }
    return CeremonyVenue.objects.create(**values)


def join_at(venue: CeremonyVenue, **overrides) -> JoinApplication:
    return services.application_submit(
        union=venue.union,
        data=join_data(**overrides),
        channel=ApplicationChannel.CEREMONY,
        venue=venue,
    )


def local_input(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


# --- Services


def test_ceremony_create_is_audited(tree, county_cadre):
    ceremony = services.ceremony_create(
        acting_user=county_cadre, union=tree.jiangan, name="  江岸区 集中入会  ", **times()
    )
    assert ceremony.name == "江岸区 集中入会"
    assert ceremony.auto_approve and not ceremony.require_sms
    entry = AuditEntry.objects.get(object_type="members.joinceremony", object_id=str(ceremony.pk))
    assert entry.action == AuditAction.CREATE and entry.actor == county_cadre
    assert entry.union_path == tree.jiangan.path


def test_ceremony_create_checks_scope_and_times(tree, county_cadre, auditor, sibling_cadre):
    with pytest.raises(PermissionDenied):
        services.ceremony_create(acting_user=auditor, union=tree.jiangan, name="仪式", **times())
    with pytest.raises(PermissionDenied):
        services.ceremony_create(
            acting_user=sibling_cadre, union=tree.jiangan, name="仪式", **times()
        )
    backwards = times()
    backwards["ends_at"] = backwards["starts_at"] - datetime.timedelta(minutes=1)
    with pytest.raises(ValidationError) as exc:
        services.ceremony_create(
            acting_user=county_cadre, union=tree.jiangan, name=" ", **backwards
        )
    assert exc.value.message_dict == {
        "name": ["请填写仪式名称"],
        "ends_at": ["结束时间应晚于开始时间"],
    }
    assert not JoinCeremony.objects.exists()


def test_ceremony_update_keeps_the_counters_and_audits_the_change(tree, county_cadre):
    ceremony = ceremony_on(tree)
    venue = venue_on(tree, ceremony)
    stale = JoinCeremony.objects.get(pk=ceremony.pk)
    join_at(venue)  # a join committed after the edit form was loaded
    services.ceremony_update(
        ceremony=stale,
        acting_user=county_cadre,
        name="江岸区集中入会仪式（改期）",
        starts_at=ceremony.starts_at,
        ends_at=ceremony.ends_at,
        auto_approve=False,
        require_sms=True,
    )
    ceremony.refresh_from_db()
    assert ceremony.joined_count == 1
    assert ceremony.name == "江岸区集中入会仪式（改期）" and not ceremony.auto_approve
    entry = AuditEntry.objects.filter(object_type="members.joinceremony").latest("pk")
    assert entry.before == {
        "name": "江岸区五一集中入会仪式",
        "auto_approve": True,
        "require_sms": False,
    }
    assert set(entry.after) == {"name", "auto_approve", "require_sms"}


def test_ceremony_update_without_change_writes_nothing(tree, county_cadre):
    ceremony = ceremony_on(tree)
    services.ceremony_update(
        ceremony=ceremony,
        acting_user=county_cadre,
        name=ceremony.name,
        starts_at=ceremony.starts_at,
        ends_at=ceremony.ends_at,
        auto_approve=ceremony.auto_approve,
        require_sms=ceremony.require_sms,
    )
    assert not AuditEntry.objects.filter(object_type="members.joinceremony").exists()


def test_venue_add_gives_a_random_token_and_is_audited(tree, county_cadre):
    ceremony = ceremony_on(tree)
    first = services.venue_add(
        ceremony=ceremony, acting_user=county_cadre, name="一号会场", union=tree.jiangan_grassroots
    )
    second = services.venue_add(
        ceremony=ceremony, acting_user=county_cadre, name="二号会场", union=tree.jiangan
    )
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", first.token)
    assert first.token != second.token
    entry = AuditEntry.objects.get(object_type="members.ceremonyvenue", object_id=str(first.pk))
    assert entry.after == {
        "ceremony": ceremony.pk,
        "name": "一号会场",
        "union": tree.jiangan_grassroots.pk,
    }


@pytest.mark.parametrize(
    ("union_name", "name", "message"),
    [
        ("wuhan", "会场", "“武汉市总工会”不直接接收会员"),
        ("jianghan_grassroots", "会场", "所选工会不在您的管辖范围内"),
        ("jiangan_grassroots", " ", "请填写会场名称"),
        ("jiangan_grassroots", "长江机械会场", "本仪式已有名为“长江机械会场”的会场"),
    ],
)
def test_venue_add_refusals(tree, county_cadre, provincial_cadre, union_name, name, message):
    ceremony = ceremony_on(tree)
    venue_on(tree, ceremony)
    user = provincial_cadre if union_name == "wuhan" else county_cadre
    with pytest.raises(ValidationError) as exc:
        services.venue_add(
            ceremony=ceremony, acting_user=user, name=name, union=getattr(tree, union_name)
        )
    assert any(message in m for m in exc.value.messages), exc.value.messages


def test_venue_union_must_be_inside_the_host(tree, provincial_cadre):
    ceremony = ceremony_on(tree)  # hosted by 江岸区
    with pytest.raises(ValidationError) as exc:
        services.venue_add(
            ceremony=ceremony,
            acting_user=provincial_cadre,
            name="江汉会场",
            union=tree.jianghan_grassroots,
        )
    assert exc.value.message_dict["union"] == [
        "“武汉汉江物流有限公司工会”不在主办工会“江岸区总工会”的范围内"
    ]


def test_auditor_cannot_add_venues(tree, auditor):
    with pytest.raises(PermissionDenied):
        services.venue_add(
            ceremony=ceremony_on(tree),
            acting_user=auditor,
            name="会场",
            union=tree.jiangan_grassroots,
        )


# --- Cadre pages


def test_cadre_creates_a_ceremony_and_adds_a_venue(tree, county_cadre):
    client = logged_in_client(county_cadre)
    form = client.get(reverse("members:ceremony_create"))
    assert form.status_code == 200 and "主办工会" in form.content.decode()
    start = timezone.now() + datetime.timedelta(days=2)
    response = client.post(
        reverse("members:ceremony_create"),
        {
            "name": "江岸区新就业形态劳动者集中入会",
            "union": tree.jiangan.pk,
            "starts_at": local_input(start),
            "ends_at": local_input(start + datetime.timedelta(hours=3)),
            "auto_approve": "on",
        },
    )
    ceremony = JoinCeremony.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("members:ceremony_detail", args=[ceremony.pk])
    assert ceremony.auto_approve and not ceremony.require_sms
    response = client.post(
        reverse("members:venue_add", args=[ceremony.pk]),
        {"name": "骑手会场", "union": tree.jiangan_grassroots.pk},
    )
    assert response.status_code == 302
    venue = ceremony.venues.get()
    detail = client.get(reverse("members:ceremony_detail", args=[ceremony.pk])).content.decode()
    assert "骑手会场" in detail and "武汉长江机械有限公司工会" in detail
    assert f"http://testserver/j/v/{venue.token}/" in detail


def test_ceremony_form_explains_each_bad_field(tree, county_cadre):
    client = logged_in_client(county_cadre)
    response = client.post(
        reverse("members:ceremony_create"),
        {"name": "", "union": "", "starts_at": "明天上午", "ends_at": ""},
    )
    errors = response.context["form"].errors
    assert errors["name"] == ["请填写“仪式名称”"]
    assert errors["union"] == ["请选择“主办工会”"]
    assert errors["starts_at"] == ["“开始时间”不是有效的时间，请按“年-月-日 时:分”填写"]
    assert errors["ends_at"] == ["请填写“结束时间”"]


def test_ceremony_form_shows_the_services_time_check(tree, county_cadre):
    client = logged_in_client(county_cadre)
    start = timezone.now() + datetime.timedelta(days=1)
    response = client.post(
        reverse("members:ceremony_create"),
        {
            "name": "仪式",
            "union": tree.jiangan.pk,
            "starts_at": local_input(start),
            "ends_at": local_input(start - datetime.timedelta(hours=1)),
        },
    )
    assert response.context["form"].errors["ends_at"] == ["结束时间应晚于开始时间"]


def test_cadre_edits_a_ceremony(tree, county_cadre):
    ceremony = ceremony_on(tree)
    client = logged_in_client(county_cadre)
    page = client.get(reverse("members:ceremony_edit", args=[ceremony.pk]))
    assert local_input(ceremony.starts_at) in page.content.decode()
    response = client.post(
        reverse("members:ceremony_edit", args=[ceremony.pk]),
        {
            "name": "改名后的仪式",
            "starts_at": local_input(ceremony.starts_at),
            "ends_at": local_input(ceremony.ends_at),
            "require_sms": "on",
        },
    )
    assert response.status_code == 302
    ceremony.refresh_from_db()
    assert ceremony.name == "改名后的仪式" and ceremony.require_sms and not ceremony.auto_approve


def test_venue_form_offers_only_unions_taking_members_inside_the_host(tree, county_cadre):
    ceremony = ceremony_on(tree)
    response = logged_in_client(county_cadre).get(reverse("members:venue_add", args=[ceremony.pk]))
    offered = {str(value) for value, _ in response.context["form"].fields["union"].choices}
    assert offered == {"", str(tree.jiangan.pk), str(tree.jiangan_grassroots.pk)}


def test_venue_form_explains_a_missing_name(tree, county_cadre):
    ceremony = ceremony_on(tree)
    response = logged_in_client(county_cadre).post(
        reverse("members:venue_add", args=[ceremony.pk]),
        {"name": "", "union": tree.jiangan_grassroots.pk},
    )
    assert response.context["form"].errors["name"] == ["请填写“会场名称”"]
    assert not CeremonyVenue.objects.exists()


def test_ceremony_list_shows_phase_and_count(tree, county_cadre):
    venue = venue_on(tree)
    join_at(venue)
    text = logged_in_client(county_cadre).get(reverse("members:ceremony_list")).content.decode()
    assert "江岸区五一集中入会仪式" in text and "进行中" in text
    assert re.search(r'data-label="入会人数" class="num">1<', text)


# --- QR codes


def test_union_join_qr_svg_and_png_encode_the_join_page(tree, county_cadre, settings):
    client = logged_in_client(county_cadre)
    svg = client.get(reverse("members:union_join_qr_svg", args=[tree.jiangan_grassroots.pk]))
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert svg.content.startswith(b"<?xml") and b"<svg" in svg.content
    assert "filename*=utf-8''" in svg["Content-Disposition"]
    png = client.get(reverse("members:union_join_qr_png", args=[tree.jiangan_grassroots.pk]))
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    poster = client.get(reverse("members:union_join_poster", args=[tree.jiangan_grassroots.pk]))
    assert f"http://testserver/j/u/{tree.jiangan_grassroots.pk}/" in poster.content.decode()
    settings.PUBLIC_BASE_URL = "https://rh.example.org"
    poster = client.get(reverse("members:union_join_poster", args=[tree.jiangan_grassroots.pk]))
    assert f"https://rh.example.org/j/u/{tree.jiangan_grassroots.pk}/" in poster.content.decode()


def test_qr_code_content_is_the_join_address(tree, county_cadre, settings):
    """The code itself decodes to the join page (segno builds the same matrix from it)."""
    import segno

    settings.PUBLIC_BASE_URL = "https://rh.example.org"
    client = logged_in_client(county_cadre)
    png = client.get(reverse("members:union_join_qr_png", args=[tree.jiangan_grassroots.pk]))
    expected = segno.make(f"https://rh.example.org/j/u/{tree.jiangan_grassroots.pk}/", error="m")
    import io

    buffer = io.BytesIO()
    expected.save(buffer, kind="png", scale=12)
    assert png.content == buffer.getvalue()


def test_union_taking_no_members_has_no_join_qr(tree, provincial_cadre):
    client = logged_in_client(provincial_cadre)
    response = client.get(reverse("members:union_join_qr_svg", args=[tree.wuhan.pk]))
    assert response.status_code == 400
    assert "“武汉市总工会”不直接接收会员" in response.content.decode()
    poster = client.get(reverse("members:union_join_poster", args=[tree.wuhan.pk]))
    assert "不直接接收会员，没有入会二维码" in poster.content.decode()


def test_qr_sheet_has_one_code_per_venue(tree, county_cadre):
    ceremony = ceremony_on(tree)
    first = venue_on(tree, ceremony)
    second = venue_on(tree, ceremony, name="江岸会场", union=tree.jiangan)
    text = (
        logged_in_client(county_cadre)
        .get(reverse("members:ceremony_qr_sheet", args=[ceremony.pk]))
        .content.decode()
    )
    assert text.count('class="qr-card"') == 2
    assert f"/j/v/{first.token}/" in text and f"/j/v/{second.token}/" in text
    assert text.count("<svg") == 2


def test_venue_qr_png(tree, county_cadre):
    venue = venue_on(tree)
    response = logged_in_client(county_cadre).get(reverse("members:venue_qr_png", args=[venue.pk]))
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")


# --- The big screen


def test_screen_json_counts_joins_per_venue_and_lists_the_latest_masked(tree, county_cadre):
    ceremony = ceremony_on(tree)
    one = venue_on(tree, ceremony)
    two = venue_on(tree, ceremony, name="江岸会场", union=tree.jiangan)
    for i in range(3):
        join_at(one, name=f"张{'三四五'[i]}丰")
    join_at(two, name="欧阳娜娜")
    url = reverse("members:ceremony_screen_json", args=[ceremony.pk])
    data = logged_in_client(county_cadre).get(url).json()
    assert data["total"] == 4
    assert [(v["name"], v["count"], v["share"]) for v in data["venues"]] == [
        ("长江机械会场", 3, 100.0),
        ("江岸会场", 1, 33.3),
    ]
    assert [a["name"] for a in data["latest"]] == ["欧***", "张**", "张**", "张**"]
    assert data["latest"][0]["venue"] == "江岸会场"
    assert re.fullmatch(r"\d\d:\d\d:\d\d", data["latest"][0]["time"])
    assert "欧阳娜娜" not in str(data)


def test_screen_json_shows_at_most_twenty_and_only_approved(tree, county_cadre):
    ceremony = ceremony_on(tree)
    venue = venue_on(tree, ceremony)
    for _ in range(22):
        join_at(venue)
    JoinCeremony.objects.filter(pk=ceremony.pk).update(auto_approve=False)
    pending = join_at(CeremonyVenue.objects.select_related("ceremony").get(pk=venue.pk))
    assert pending.status == ApplicationStatus.SUBMITTED
    data = (
        logged_in_client(county_cadre)
        .get(reverse("members:ceremony_screen_json", args=[ceremony.pk]))
        .json()
    )
    assert data["total"] == 22
    assert len(data["latest"]) == 20
    assert pending.pk not in [a["id"] for a in data["latest"]]


def test_screen_json_shows_only_its_own_ceremonys_joiners(tree, county_cadre):
    mine = venue_on(tree)
    other = venue_on(tree, ceremony_on(tree, name="另一场仪式"), name="另一会场")
    join_at(mine, name="钱学森")
    join_at(other, name="邓稼先")
    data = (
        logged_in_client(county_cadre)
        .get(reverse("members:ceremony_screen_json", args=[mine.ceremony_id]))
        .json()
    )
    assert data["total"] == 1
    assert [(a["name"], a["venue"]) for a in data["latest"]] == [("钱**", "长江机械会场")]


def test_screen_json_follows_joins_through_the_venue_page(tree, county_cadre):
    from niangjia.members.tests.test_public_views import form_data

    ceremony = ceremony_on(tree)
    venue = venue_on(tree, ceremony)
    screen = logged_in_client(county_cadre)
    url = reverse("members:ceremony_screen_json", args=[ceremony.pk])
    assert screen.get(url).json()["total"] == 0
    worker = Client()
    for _ in range(5):
        assert (
            worker.post(reverse("join:venue", args=[venue.token]), form_data()).status_code == 302
        )
    data = screen.get(url).json()
    assert data["total"] == 5 and data["venues"][0]["count"] == 5 and len(data["latest"]) == 5
    assert screen.get(url)["Cache-Control"].startswith("max-age=0")


def test_screen_json_stays_cheap(tree, county_cadre, django_assert_max_num_queries):
    ceremony = ceremony_on(tree)
    for n in range(4):
        venue = venue_on(tree, ceremony, name=f"会场{n}")
        join_at(venue)
    client = logged_in_client(county_cadre)
    url = reverse("members:ceremony_screen_json", args=[ceremony.pk])
    client.get(url)
    # session, user, roles for the scope, the ceremony (with its total), the venues, the
    # latest joiners; then the session's idle clock (an update inside a savepoint here)
    with django_assert_max_num_queries(9):
        client.get(url)


def test_screen_page_renders_the_figures_for_a_start_without_script(tree, county_cadre):
    ceremony = ceremony_on(tree)
    venue = venue_on(tree, ceremony)
    join_at(venue, name="李雷")
    text = (
        logged_in_client(county_cadre)
        .get(reverse("members:ceremony_screen", args=[ceremony.pk]))
        .content.decode()
    )
    assert "data-total>1<" in text and "李*" in text and "长江机械会场" in text
    assert reverse("members:ceremony_screen_json", args=[ceremony.pk]) in text
    assert "js/ceremony.js" in text
    assert "李雷" not in text


# --- Who may reach each page


def setup_venue(tree: Tree) -> CeremonyVenue:
    return venue_on(tree)


def a_ceremony_elsewhere(tree: Tree) -> CeremonyVenue:
    """A ceremony of 江岸区 and one of 江汉区, to see which a list shows."""
    venue_on(
        tree,
        ceremony_on(tree, name="江汉区集中入会仪式", union=tree.jianghan),
        union=tree.jianghan_grassroots,
    )
    return venue_on(tree)


def ceremony_post(tree: Tree, venue: CeremonyVenue | None = None) -> dict[str, str]:
    start = timezone.now() + datetime.timedelta(days=3)
    return {
        "name": "江岸区集中入会（修改）",
        "union": str(tree.jiangan.pk),
        "starts_at": local_input(start),
        "ends_at": local_input(start + datetime.timedelta(hours=2)),
        "auto_approve": "on",
    }


class TestCeremonyPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="union-join-poster",
            url=lambda t: reverse("members:union_join_poster", args=[t.jiangan_grassroots.pk]),
            model=Union,
            allowed=("grassroots_cadre", "county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: [f"/j/u/{t.jiangan_grassroots.pk}/"],
        ),
        ScopedCase(
            name="union-join-qr-svg",
            url=lambda t: reverse("members:union_join_qr_svg", args=[t.jiangan_grassroots.pk]),
            model=Union,
            allowed=("grassroots_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="union-join-qr-png",
            url=lambda t: reverse("members:union_join_qr_png", args=[t.jiangan_grassroots.pk]),
            model=Union,
            allowed=("county_cadre", "grassroots_cadre"),
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="ceremony-list",
            url=lambda t: reverse("members:ceremony_list"),
            setup=a_ceremony_elsewhere,
            model=JoinCeremony,
            allowed=("county_cadre", "auditor"),
            forbidden="worker",
            contains=lambda t: ["江岸区五一集中入会仪式"],
        ),
        ScopedCase(
            name="ceremony-list-shows-own-subtree",
            url=lambda t: reverse("members:ceremony_list"),
            setup=a_ceremony_elsewhere,
            anonymous=False,
            allowed="sibling_cadre",
            contains=lambda t: ["江汉区集中入会仪式"],
            excludes=lambda t: ["江岸区五一集中入会仪式"],
        ),
        ScopedCase(
            name="ceremony-create-form",
            url=lambda t: reverse("members:ceremony_create"),
            action=Action.ADD,
            model=JoinCeremony,
            allowed=("county_cadre", "grassroots_cadre"),
            forbidden=("auditor", "worker"),
        ),
        ScopedCase(
            name="ceremony-create",
            url=lambda t: reverse("members:ceremony_create"),
            method="post",
            action=Action.ADD,
            data=ceremony_post,
            model=JoinCeremony,
            allowed=("county_cadre", "provincial_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="ceremony-detail",
            url=lambda t, v: reverse("members:ceremony_detail", args=[v.ceremony_id]),
            setup=setup_venue,
            model=JoinCeremony,
            allowed=("county_cadre", "provincial_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker"),
            contains=lambda t: ["长江机械会场"],
        ),
        ScopedCase(
            name="ceremony-edit-form",
            url=lambda t, v: reverse("members:ceremony_edit", args=[v.ceremony_id]),
            setup=setup_venue,
            action=Action.CHANGE,
            model=JoinCeremony,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="ceremony-edit",
            url=lambda t, v: reverse("members:ceremony_edit", args=[v.ceremony_id]),
            setup=setup_venue,
            method="post",
            action=Action.CHANGE,
            data=ceremony_post,
            model=JoinCeremony,
            allowed=("county_cadre", "national_admin"),
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="venue-add-form",
            url=lambda t, v: reverse("members:venue_add", args=[v.ceremony_id]),
            setup=setup_venue,
            action=Action.CHANGE,
            model=CeremonyVenue,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre"),
        ),
        ScopedCase(
            name="venue-add",
            url=lambda t, v: reverse("members:venue_add", args=[v.ceremony_id]),
            setup=setup_venue,
            method="post",
            action=Action.CHANGE,
            data=lambda t: {"name": "二号会场", "union": str(t.jiangan.pk)},
            model=CeremonyVenue,
            allowed="county_cadre",
            forbidden="auditor",
            out_of_scope="sibling_cadre",
            allowed_statuses=REDIRECT,
        ),
        ScopedCase(
            name="venue-qr-svg",
            url=lambda t, v: reverse("members:venue_qr_svg", args=[v.pk]),
            setup=setup_venue,
            model=CeremonyVenue,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="venue-qr-png",
            url=lambda t, v: reverse("members:venue_qr_png", args=[v.pk]),
            setup=setup_venue,
            model=CeremonyVenue,
            allowed="county_cadre",
            out_of_scope="sibling_cadre",
        ),
        ScopedCase(
            name="ceremony-qr-sheet",
            url=lambda t, v: reverse("members:ceremony_qr_sheet", args=[v.ceremony_id]),
            setup=setup_venue,
            model=CeremonyVenue,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["长江机械会场"],
        ),
        ScopedCase(
            name="ceremony-screen",
            url=lambda t, v: reverse("members:ceremony_screen", args=[v.ceremony_id]),
            setup=setup_venue,
            model=JoinCeremony,
            allowed=("county_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker"),
            contains=lambda t: ["长江机械会场"],
        ),
        ScopedCase(
            name="ceremony-screen-json",
            url=lambda t, v: reverse("members:ceremony_screen_json", args=[v.ceremony_id]),
            setup=setup_venue,
            model=JoinCeremony,
            allowed=("county_cadre", "provincial_cadre"),
            out_of_scope=("sibling_cadre", "worker"),
            contains=lambda t: ["长江机械会场"],
        ),
    ]


def test_sibling_county_cadre_gets_404_on_the_ceremony_and_its_qr(tree, sibling_cadre):
    venue = venue_on(tree)
    client = logged_in_client(sibling_cadre)
    for url in (
        reverse("members:ceremony_detail", args=[venue.ceremony_id]),
        reverse("members:ceremony_screen_json", args=[venue.ceremony_id]),
        reverse("members:venue_qr_svg", args=[venue.pk]),
        reverse("members:union_join_qr_png", args=[tree.jiangan_grassroots.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_venue_of_a_union_outside_the_scope_is_404(tree, county_cadre):
    ceremony = ceremony_on(tree)
    response = logged_in_client(county_cadre).post(
        reverse("members:venue_add", args=[ceremony.pk]),
        {"name": "江汉会场", "union": tree.jianghan_grassroots.pk},
    )
    assert response.status_code == 404
    assert not CeremonyVenue.objects.exists()


def test_joint_union_is_a_venue_choice(tree, county_cadre):
    joint = UnionFactory(parent=tree.jiangan, kind=UnionKind.JOINT, name="江岸区快递行业联合工会")
    ceremony = ceremony_on(tree)
    response = logged_in_client(county_cadre).post(
        reverse("members:venue_add", args=[ceremony.pk]), {"name": "快递会场", "union": joint.pk}
    )
    assert response.status_code == 302
    assert ceremony.venues.get().union == joint
