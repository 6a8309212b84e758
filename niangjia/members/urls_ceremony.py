"""The cadre pages of joining, included in ``niangjia.members.urls`` (under ``/members/``):
a union's join QR code and poster, mass joining ceremonies and their big screen."""

from django.urls import path

from niangjia.members import views_ceremony as views

urlpatterns = [
    path("unions/<int:pk>/join-qr/", views.union_join_poster, name="union_join_poster"),
    path(
        "unions/<int:pk>/join-qr.svg",
        views.union_join_qr,
        {"fmt": "svg"},
        name="union_join_qr_svg",
    ),
    path(
        "unions/<int:pk>/join-qr.png",
        views.union_join_qr,
        {"fmt": "png"},
        name="union_join_qr_png",
    ),
    path("ceremonies/", views.ceremony_list, name="ceremony_list"),
    path("ceremonies/add/", views.ceremony_create, name="ceremony_create"),
    path("ceremonies/<int:pk>/", views.ceremony_detail, name="ceremony_detail"),
    path("ceremonies/<int:pk>/edit/", views.ceremony_edit, name="ceremony_edit"),
    path("ceremonies/<int:pk>/venues/add/", views.venue_add, name="venue_add"),
    path("ceremonies/<int:pk>/qr-sheet/", views.ceremony_qr_sheet, name="ceremony_qr_sheet"),
    path("ceremonies/<int:pk>/screen/", views.ceremony_screen, name="ceremony_screen"),
    path(
        "ceremonies/<int:pk>/screen.json",
        views.ceremony_screen_json,
        name="ceremony_screen_json",
    ),
    path("ceremonies/venues/<int:pk>/qr.svg", views.venue_qr, {"fmt": "svg"}, name="venue_qr_svg"),
    path("ceremonies/venues/<int:pk>/qr.png", views.venue_qr, {"fmt": "png"}, name="venue_qr_png"),
]
