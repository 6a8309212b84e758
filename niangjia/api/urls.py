from django.urls import path

from niangjia.api.api import api

urlpatterns = [path("", api.urls)]
