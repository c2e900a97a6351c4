from django.urls import path

from oversight.api import (
    agreement_views,
    item_views,
    label_error_views,
    quality_views,
    review_views,
    truth_views,
)

app_name = "oversight-api"

urlpatterns = [
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
    path("projects/<slug:slug>/inference/", truth_views.InferenceRunListApi.as_view(), name="inference-list"),
    path(
        "projects/<slug:slug>/inference/runs/",
        truth_views.InferenceRunStartApi.as_view(),
        name="inference-start",
    ),
    path(
        "projects/<slug:slug>/inference/items/",
        truth_views.ItemInferredLabelListApi.as_view(),
        name="inference-items",
    ),
    path(
        "projects/<slug:slug>/inference/<int:number>/",
        truth_views.InferenceRunDetailApi.as_view(),
        name="inference-detail",
    ),
    path(
        "projects/<slug:slug>/label-errors/",
        label_error_views.ItemLabelIssueListApi.as_view(),
        name="label-error-list",
    ),
    path(
        "projects/<slug:slug>/label-errors/scans/",
        label_error_views.LabelErrorScanListApi.as_view(),
        name="label-error-scans",
    ),
    path(
        "projects/<slug:slug>/label-errors/scans/start/",
        label_error_views.LabelErrorScanStartApi.as_view(),
        name="label-error-start",
    ),
    path(
        "projects/<slug:slug>/label-errors/scans/<int:number>/",
        label_error_views.LabelErrorScanDetailApi.as_view(),
        name="label-error-scan",
    ),
    path("projects/<slug:slug>/items/", item_views.ItemListApi.as_view(), name="item-list"),
    path("projects/<slug:slug>/items/review/", item_views.ItemReviewSendApi.as_view(), name="item-review"),
    path(
        "projects/<slug:slug>/items/gold-checks/",
        item_views.ItemGoldCheckSetApi.as_view(),
        name="item-gold-checks",
    ),
    path("projects/<slug:slug>/items/delete/", item_views.ItemDeleteApi.as_view(), name="item-delete"),
]
