from django.urls import path

from projects.api import views

app_name = "projects-api"

urlpatterns = [
    path("projects/", views.ProjectListCreateApi.as_view(), name="project-list"),
    path("projects/<slug:slug>/", views.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<slug:slug>/members/", views.MembershipListCreateApi.as_view(), name="member-list"),
    path(
        "projects/<slug:slug>/members/<int:user_id>/",
        views.MembershipDetailApi.as_view(),
        name="member-detail",
    ),
]
