from django.urls import path

from niangjia.exports import views

app_name = "exports"
urlpatterns = [
    path("new/<slug:kind>/", views.export_new, name="export_new"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/decide/", views.request_decide, name="request_decide"),
    path("requests/<int:pk>/run/", views.request_run, name="request_run"),
    path("files/<int:pk>/", views.file_detail, name="file_detail"),
    path("files/<int:pk>/download/", views.file_download, name="file_download"),
]
