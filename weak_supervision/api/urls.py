from django.urls import path

from weak_supervision.api import views

app_name = "weak-supervision-api"

urlpatterns = [
    path(
        "projects/<slug:slug>/labeling-functions/",
        views.LabelingFunctionListCreateApi.as_view(),
        name="lf-list",
    ),
    path(
        "projects/<slug:slug>/labeling-functions/preview/",
        views.LabelingFunctionPreviewApi.as_view(),
        name="lf-preview",
    ),
    path(
        "projects/<slug:slug>/labeling-functions/external-votes/",
        views.ExternalVotesPostApi.as_view(),
        name="lf-external-votes",
    ),
    path(
        "projects/<slug:slug>/labeling-functions/suggestions/",
        views.LabelingFunctionSuggestionListApi.as_view(),
        name="lf-suggestions",
    ),
    path(
        "projects/<slug:slug>/labeling-functions/suggestions/accept/",
        views.LabelingFunctionSuggestionAcceptApi.as_view(),
        name="lf-suggestion-accept",
    ),
    path(
        "projects/<slug:slug>/labeling-functions/<int:lf_id>/",
        views.LabelingFunctionDetailApi.as_view(),
        name="lf-detail",
    ),
    path(
        "projects/<slug:slug>/labeling-functions/<int:lf_id>/versions/",
        views.LabelingFunctionVersionListApi.as_view(),
        name="lf-versions",
    ),
    path("projects/<slug:slug>/runs/", views.RunListCreateApi.as_view(), name="run-list"),
    path("projects/<slug:slug>/runs/<int:number>/", views.RunDetailApi.as_view(), name="run-detail"),
]
