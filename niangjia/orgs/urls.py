from django.urls import path

from niangjia.orgs import views

app_name = "orgs"
urlpatterns = [
    path("unions/", views.union_tree, name="union_tree"),
    path("unions/<int:pk>/", views.union_detail, name="union_detail"),
    path("employers/", views.employer_list, name="employer_list"),
]
