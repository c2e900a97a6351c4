from django.urls import path

from projects.api import views

app_name = "projects-api"

urlpatterns = [
    path("projects/", views.ProjectListCreateApi.as_view(), name="project-list"),
    path("projects/<slug:slug>/", views.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<slug:slug>/labels/", views.LabelListCreateApi.as_view(), name="label-list"),
    path("projects/<slug:slug>/labels/history/", views.LabelHistoryApi.as_view(), name="label-history"),
    path("projects/<slug:slug>/labels/<str:key>/", views.LabelDetailApi.as_view(), name="label-detail"),
    path("projects/<slug:slug>/labels/<str:key>/merge/", views.LabelMergeApi.as_view(), name="label-merge"),
    path("projects/<slug:slug>/members/", views.MembershipListCreateApi.as_view(), name="member-list"),
    path(
        "projects/<slug:slug>/members/<int:user_id>/",
        views.MembershipDetailApi.as_view(),
        name="member-detail",
    ),
]
