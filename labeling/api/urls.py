from django.urls import path

from labeling.api import agreement_views, quality_views, queue_views, review_views, views

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
    path("projects/<slug:slug>/agreement/", agreement_views.AgreementApi.as_view(), name="agreement"),
    path(
        "projects/<slug:slug>/annotators/",
        quality_views.AnnotatorQualityListApi.as_view(),
        name="annotator-list",
    ),
    path(
        "projects/<slug:slug>/annotators/export.csv",
        quality_views.AnnotatorQualityCsvApi.as_view(),
        name="annotator-export",
    ),
    path("projects/<slug:slug>/review/next/", review_views.ReviewNextApi.as_view(), name="review-next"),
    path(
        "projects/<slug:slug>/review/decisions/",
        review_views.ReviewDecisionApi.as_view(),
        name="review-decide",
    ),
    path("projects/<slug:slug>/review/pass/", review_views.ReviewPassApi.as_view(), name="review-pass"),
    path(
        "projects/<slug:slug>/review/refresh/", review_views.ReviewRefreshApi.as_view(), name="review-refresh"
    ),
    path(
        "projects/<slug:slug>/review/requests/",
        review_views.ReviewRequestListCreateApi.as_view(),
        name="review-request-list",
    ),
    path(
        "projects/<slug:slug>/review/items/<int:item_id>/",
        review_views.ReviewItemApi.as_view(),
        name="review-item",
    ),
    path("projects/<slug:slug>/gold/", review_views.GoldLabelListCreateApi.as_view(), name="gold-list"),
    path(
        "projects/<slug:slug>/members/<int:user_id>/review-all/",
        review_views.MemberReviewAllApi.as_view(),
        name="member-review-all",
    ),
    path("projects/<slug:slug>/feedback/", review_views.FeedbackListApi.as_view(), name="feedback"),
]
