from django.urls import path

from labeling.api import queue_views, views

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
    path("projects/<slug:slug>/queue/next/", queue_views.QueueNextApi.as_view(), name="queue-next"),
    path("projects/<slug:slug>/queue/skip/", queue_views.QueueSkipApi.as_view(), name="queue-skip"),
    path("projects/<slug:slug>/queue/undo/", queue_views.QueueUndoApi.as_view(), name="queue-undo"),
    path(
        "projects/<slug:slug>/annotations/",
        queue_views.AnnotationSubmitApi.as_view(),
        name="annotation-submit",
    ),
    path("projects/<slug:slug>/flags/", queue_views.FlagCreateApi.as_view(), name="flag-create"),
    path(
        "projects/<slug:slug>/events/", queue_views.InteractionEventListCreateApi.as_view(), name="event-list"
    ),
    path(
        "projects/<slug:slug>/events/export/<str:fmt>/",
        queue_views.InteractionEventExportApi.as_view(),
        name="event-export",
    ),
    path("projects/<slug:slug>/analysts/", queue_views.AnalystSummaryListApi.as_view(), name="analyst-list"),
]
