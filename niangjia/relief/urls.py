"""The cadre pages of hardship relief, mounted at ``/relief/``."""

from django.urls import path

from niangjia.relief import views, views_assistance, views_funds, views_rules

app_name = "relief"
urlpatterns = [
    # The workbench and the household files
    path("", views.file_list, name="file_list"),
    path("search/", views.file_search, name="file_search"),
    path("export.xlsx", views.file_export, name="file_export"),
    path("files/new/", views.file_create, name="file_create"),
    path("files/<int:pk>/", views.file_detail, name="file_detail"),
    path("files/<int:pk>/edit/", views.file_edit, name="file_edit"),
    path("files/<int:pk>/step/<slug:step>/", views.file_step, name="file_step"),
    path("files/<int:pk>/reveal/", views.file_reveal, name="file_reveal"),
    path("files/<int:pk>/form.pdf", views.file_pdf, name="file_pdf"),
    path("files/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("poster/", views.application_poster, name="application_poster"),
    # Household plans (一户一策)
    path("files/<int:pk>/plan/", views_assistance.plan_edit, name="plan_edit"),
    path("plans/", views_assistance.plan_board, name="plan_board"),
    path("measures/<int:pk>/", views_assistance.measure_update, name="measure_update"),
    # Assistance
    path(
        "files/<int:pk>/assistance/new/",
        views_assistance.assistance_create,
        name="assistance_create",
    ),
    path("assistance/", views_assistance.assistance_queue, name="assistance_queue"),
    path("assistance/<int:pk>/", views_assistance.assistance_detail, name="assistance_detail"),
    path(
        "assistance/<int:pk>/<slug:decision>/",
        views_assistance.assistance_decide,
        name="assistance_decide",
    ),
    # Disbursement batches
    path("batches/", views_funds.batch_list, name="batch_list"),
    path("batches/new/", views_funds.batch_create, name="batch_create"),
    path("batches/<int:pk>/", views_funds.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/<slug:action>/", views_funds.batch_action, name="batch_action"),
    path("payments/<int:pk>/fail/", views_funds.payment_fail, name="payment_fail"),
    path("payments/<int:pk>/retry/", views_funds.payment_retry, name="payment_retry"),
    # Funds
    path("funds/", views_funds.fund_list, name="fund_list"),
    path("funds/new/", views_funds.fund_create, name="fund_create"),
    path("funds/report/", views_funds.fund_report, name="fund_report"),
    path("funds/<int:pk>/", views_funds.fund_detail, name="fund_detail"),
    path("funds/<int:pk>/receive/", views_funds.fund_receive, name="fund_receive"),
    path("funds/<int:pk>/allocate/", views_funds.fund_allocate, name="fund_allocate"),
    # Thresholds and rules
    path("rules/", views_rules.rule_list, name="rule_list"),
    path("rules/<slug:kind>/", views_rules.rule_save, name="rule_save"),
]
