from django.urls import path

from niangjia.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("upload/", views.import_upload, name="import_upload"),
    path("template/<str:kind>.xlsx", views.import_template, name="import_template"),
    path("<int:pk>/", views.import_detail, name="import_detail"),
    path("<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("<int:pk>/dry-run/", views.import_dry_run, name="import_dry_run"),
    path("<int:pk>/commit/", views.import_commit, name="import_commit"),
    path("<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("<int:pk>/delete/", views.import_delete, name="import_delete"),
    path("<int:pk>/problems.xlsx", views.import_report, name="import_report"),
]
