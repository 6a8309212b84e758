"""The worker pages mounted elsewhere (a test of the result page's address)."""

from django.urls import include, path

urlpatterns = [path("elsewhere/", include("niangjia.members.urls_public"))]
