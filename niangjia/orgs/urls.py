from django.urls import path

from niangjia.orgs import views

app_name = "orgs"
urlpatterns = [
    path("unions/", views.union_tree, name="union_tree"),
    path("unions/lookup/", views.union_lookup, name="union_lookup"),
    path("unions/<int:pk>/", views.union_detail, name="union_detail"),
    path("unions/<int:pk>/children/", views.union_children, name="union_children"),
    path("unions/<int:pk>/add/", views.union_create, name="union_create"),
    path("unions/<int:pk>/edit/", views.union_edit, name="union_edit"),
    path("unions/<int:pk>/move/", views.union_move, name="union_move"),
    path("unions/<int:pk>/merge/", views.union_merge, name="union_merge"),
    path("unions/<int:pk>/dissolve/", views.union_dissolve, name="union_dissolve"),
    path("unions/<int:pk>/delete/", views.union_delete, name="union_delete"),
    path("unions/<int:pk>/export.xlsx", views.union_export, name="union_export"),
    path("regions/children/", views.region_children, name="region_children"),
    path("employers/", views.employer_list, name="employer_list"),
    path("employers/add/", views.employer_create, name="employer_create"),
    path("employers/export.xlsx", views.employer_export, name="employer_export"),
    path("employers/<int:pk>/", views.employer_detail, name="employer_detail"),
    path("employers/<int:pk>/edit/", views.employer_edit, name="employer_edit"),
]
