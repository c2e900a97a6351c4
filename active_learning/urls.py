from django.urls import URLPattern, path

from active_learning import views

app_name = "active_learning"

urlpatterns: list[URLPattern] = [
    path("<slug:slug>/active-learning/", views.learner_page, name="learner"),
    path("<slug:slug>/active-learning/settings/", views.learner_settings_view, name="settings"),
    path("<slug:slug>/active-learning/retrain/", views.learner_retrain_view, name="retrain"),
    path("<slug:slug>/active-learning/models/<int:number>/", views.learner_model_row, name="model-row"),
    path("<slug:slug>/active-learning/simulations/", views.simulation_create_view, name="simulation-create"),
    path(
        "<slug:slug>/active-learning/simulations/<int:simulation_id>/",
        views.simulation_row,
        name="simulation-row",
    ),
]
