"""The worker pages, mounted at ``/j/`` (short, for QR codes): no login."""

from django.urls import path

from niangjia.members import views_public

app_name = "join"
urlpatterns = [
    path("u/<int:pk>/", views_public.join_union, name="union"),
    path("u/<int:pk>/employers", views_public.employer_search, name="employers"),
    path("v/<str:token>/", views_public.join_venue, name="venue"),
    path("done/<str:token>/", views_public.join_done, name="done"),
    path("sms/", views_public.sms_send, name="sms_send"),
    path("status/", views_public.application_status, name="status"),
    path("card/", views_public.member_card, name="card"),
    path("card/verify/<str:token>/", views_public.card_verify, name="card_verify"),
    path("forget/", views_public.forget_phone, name="forget"),
]
