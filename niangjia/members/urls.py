from django.urls import include, path

from niangjia.members import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("search/", views.member_search, name="member_search"),
    path("export.xlsx", views.member_export, name="member_export"),
    path("<int:pk>/", views.member_detail, name="member_detail"),
    path("<int:pk>/reveal/", views.member_reveal, name="member_reveal"),
    path("<int:pk>/status/", views.member_status, name="member_status"),
    path("<int:pk>/transfer/", views.member_transfer, name="member_transfer"),
    path("transfer-targets/", views.transfer_targets, name="transfer_targets"),
    path("applications/", views.application_list, name="application_list"),
    path("applications/decide/", views.application_bulk, name="application_bulk"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/decide/", views.application_decide, name="application_decide"),
    path("applications/<int:pk>/reveal/", views.application_reveal, name="application_reveal"),
    path("transfers/", views.transfer_list, name="transfer_list"),
    path("transfers/<int:pk>/accept/", views.transfer_accept, name="transfer_accept"),
    path("transfers/<int:pk>/refuse/", views.transfer_refuse, name="transfer_refuse"),
    path("transfers/<int:pk>/cancel/", views.transfer_cancel, name="transfer_cancel"),
    # Join QR codes and mass joining ceremonies (niangjia/members/urls_ceremony.py).
    path("", include("niangjia.members.urls_ceremony")),
]
