from django.urls import path

from labeling.api import views

app_name = "labeling-api"

urlpatterns = [
    path("projects/<slug:slug>/items/<int:item_id>/", views.ItemDetailApi.as_view(), name="item-detail"),
    path("projects/<slug:slug>/queue/next/", views.QueueNextApi.as_view(), name="queue-next"),
    path("projects/<slug:slug>/queue/skip/", views.QueueSkipApi.as_view(), name="queue-skip"),
    path("projects/<slug:slug>/queue/undo/", views.QueueUndoApi.as_view(), name="queue-undo"),
    path(
        "projects/<slug:slug>/annotations/",
        views.AnnotationSubmitApi.as_view(),
        name="annotation-submit",
    ),
    path("projects/<slug:slug>/flags/", views.FlagCreateApi.as_view(), name="flag-create"),
    path("projects/<slug:slug>/events/", views.InteractionEventListCreateApi.as_view(), name="event-list"),
    path(
        "projects/<slug:slug>/events/export/<str:fmt>/",
        views.InteractionEventExportApi.as_view(),
        name="event-export",
    ),
    path("projects/<slug:slug>/analysts/", views.AnalystSummaryListApi.as_view(), name="analyst-list"),
]
