from django.urls import path

from weak_supervision import views

app_name = "weak_supervision"

urlpatterns = [
    path("<slug:slug>/labeling-functions/", views.labeling_function_list, name="lf-list"),
    path("<slug:slug>/labeling-functions/new/", views.labeling_function_new, name="lf-new"),
    path("<slug:slug>/labeling-functions/preview/", views.labeling_function_preview, name="lf-preview"),
    path(
        "<slug:slug>/labeling-functions/suggestions/",
        views.labeling_function_suggestions,
        name="lf-suggestions",
    ),
    path(
        "<slug:slug>/labeling-functions/suggestions/accept/",
        views.labeling_function_suggestion_accept,
        name="lf-suggestion-accept",
    ),
    path("<slug:slug>/labeling-functions/<int:lf_id>/", views.labeling_function_detail, name="lf-detail"),
    path(
        "<slug:slug>/labeling-functions/<int:lf_id>/toggle/", views.labeling_function_toggle, name="lf-toggle"
    ),
    path("<slug:slug>/runs/", views.run_list, name="run-list"),
    path("<slug:slug>/runs/<int:number>/", views.run_detail, name="run-detail"),
]
