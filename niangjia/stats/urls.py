from django.urls import path

from niangjia.stats import views

app_name = "stats"
urlpatterns = [
    path("", views.dashboard_home, name="dashboard_home"),
    path("indicators/", views.indicator_list, name="indicator_list"),
    path("<int:pk>/", views.dashboard_page, name="dashboard"),
    path("<int:pk>/data/", views.dashboard_data, name="dashboard_data"),
    path("<int:pk>/screen/", views.screen, name="screen"),
    path("<int:pk>/export/<slug:table>.xlsx", views.export, name="export"),
    path("<int:pk>/return/", views.return_page, name="annual_return"),
    path("<int:pk>/return.xlsx", views.return_xlsx, name="annual_return_xlsx"),
]
