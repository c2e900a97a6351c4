from django.urls import URLPattern, path

from active_learning.api import views

app_name = "active-learning-api"

urlpatterns: list[URLPattern] = [
    path(
        "projects/<slug:slug>/active-learning/settings/", views.LearnerSettingsApi.as_view(), name="settings"
    ),
    path(
        "projects/<slug:slug>/active-learning/models/", views.LearnerModelListApi.as_view(), name="model-list"
    ),
    path(
        "projects/<slug:slug>/active-learning/models/<int:number>/",
        views.LearnerModelDetailApi.as_view(),
        name="model-detail",
    ),
    path("projects/<slug:slug>/active-learning/retrain/", views.LearnerRetrainApi.as_view(), name="retrain"),
    path("projects/<slug:slug>/active-learning/curve/", views.LearningCurveApi.as_view(), name="curve"),
    path(
        "projects/<slug:slug>/active-learning/simulations/",
        views.SimulationListCreateApi.as_view(),
        name="simulation-list",
    ),
    path(
        "projects/<slug:slug>/active-learning/simulations/<int:simulation_id>/",
        views.SimulationDetailApi.as_view(),
        name="simulation-detail",
    ),
]
