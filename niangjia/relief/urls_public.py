"""The worker's phone pages of hardship relief, mounted at ``/r/`` (short, for QR codes):
no login."""

from django.urls import path

from niangjia.relief import views_public

app_name = "relief_public"
urlpatterns = [
    path("", views_public.self_check, name="check"),
    path("u/<int:pk>/", views_public.self_check, name="union_check"),
    path("u/<int:pk>/apply/", views_public.apply, name="apply"),
    path("done/<str:token>/", views_public.done, name="done"),
    path("sms/", views_public.sms_send, name="sms_send"),
    path("status/", views_public.status, name="status"),
    path("forget/", views_public.forget, name="forget"),
]
