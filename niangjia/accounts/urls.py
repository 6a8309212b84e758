from django.contrib.auth import views as auth_views
from django.urls import path

from niangjia.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("otp/", views.otp_verify, name="otp_verify"),
    path("otp/enroll/", views.otp_enroll, name="otp_enroll"),
]
