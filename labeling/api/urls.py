from django.urls import path

from labeling.api import views

app_name = "labeling-api"

urlpatterns = [
    path("projects/", views.ProjectListCreateApi.as_view(), name="project-list"),
    path("projects/<slug:slug>/", views.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<slug:slug>/members/", views.MembershipListCreateApi.as_view(), name="member-list"),
    path(
        "projects/<slug:slug>/members/<int:user_id>/",
        views.MembershipDetailApi.as_view(),
        name="member-detail",
    ),
    path("projects/<slug:slug>/items/", views.ItemListApi.as_view(), name="item-list"),
    path("projects/<slug:slug>/items/<int:item_id>/", views.ItemDetailApi.as_view(), name="item-detail"),
    path("projects/<slug:slug>/imports/", views.ImportJobListCreateApi.as_view(), name="import-list"),
    path(
        "projects/<slug:slug>/imports/<int:job_id>/", views.ImportJobDetailApi.as_view(), name="import-detail"
    ),
]
