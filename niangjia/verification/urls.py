from django.urls import path

from niangjia.verification import views

app_name = "verification"
urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("new/", views.campaign_create, name="campaign_create"),
    path("mine/", views.my_items, name="my_items"),
    path("<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("<int:pk>/open/", views.campaign_open, name="campaign_open"),
    path("<int:pk>/split/", views.campaign_split, name="campaign_split"),
    path("<int:pk>/close/", views.campaign_close, name="campaign_close"),
    path("<int:pk>/reopen/", views.campaign_reopen, name="campaign_reopen"),
    path("<int:pk>/export.xlsx", views.campaign_export, name="campaign_export"),
    path("<int:pk>/items/", views.item_list, name="item_list"),
    path("<int:pk>/items/bulk/", views.item_bulk, name="item_bulk"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("items/<int:pk>/mark/", views.item_mark, name="item_mark"),
]
