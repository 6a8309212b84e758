from django.contrib.auth import views as auth_views
from django.urls import path

from niangjia.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("otp/", views.otp_verify, name="otp_verify"),
    path("otp/enroll/", views.otp_enroll, name="otp_enroll"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/new/", views.user_role_grant, name="user_role_grant"),
    path("users/<int:pk>/password/", views.user_password_reset, name="user_password_reset"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path("users/<int:pk>/otp-reset/", views.user_totp_reset, name="user_totp_reset"),
    path("roles/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("unions/search/", views.union_search, name="union_search"),
]
