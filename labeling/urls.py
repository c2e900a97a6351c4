from django.urls import path

from labeling.views import overview, queue

app_name = "labeling"

urlpatterns = [
    path("<slug:slug>/", overview.project_detail, name="project-detail"),
    path("<slug:slug>/label/", queue.label_page, name="label"),
    path("<slug:slug>/label/submit/", queue.label_submit, name="label-submit"),
    path("<slug:slug>/label/skip/", queue.label_skip, name="label-skip"),
    path("<slug:slug>/label/undo/", queue.label_undo, name="label-undo"),
    path("<slug:slug>/label/flag/", queue.label_flag, name="label-flag"),
    path("<slug:slug>/label/skips-reset/", queue.label_skips_reset, name="label-skips-reset"),
]
