from django.urls import path

from labeling.views import dashboard, queue, review
from labeling.views import projects as views

app_name = "labeling"

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("<slug:slug>/", views.project_detail, name="project-detail"),
    path("<slug:slug>/settings/", views.project_settings, name="project-settings"),
    path("<slug:slug>/dashboard/", dashboard.project_dashboard, name="project-dashboard"),
    path("<slug:slug>/label/", queue.label_page, name="label"),
    path("<slug:slug>/label/submit/", queue.label_submit, name="label-submit"),
    path("<slug:slug>/label/skip/", queue.label_skip, name="label-skip"),
    path("<slug:slug>/label/undo/", queue.label_undo, name="label-undo"),
    path("<slug:slug>/label/flag/", queue.label_flag, name="label-flag"),
    path("<slug:slug>/label/skips-reset/", queue.label_skips_reset, name="label-skips-reset"),
    path("<slug:slug>/review/", review.review_page, name="review"),
    path("<slug:slug>/review/decide/", review.review_decide_view, name="review-decide"),
    path("<slug:slug>/review/pass/", review.review_pass_view, name="review-pass"),
    path("<slug:slug>/review/refresh/", review.review_refresh_view, name="review-refresh"),
    path("<slug:slug>/review/items/<int:item_id>/", review.review_item, name="review-item"),
    path("<slug:slug>/gold/", review.gold_list, name="gold-list"),
    path("<slug:slug>/feedback/", review.feedback_list, name="feedback"),
    path("<slug:slug>/members/<int:user_id>/review-all/", review.member_review_all, name="member-review-all"),
    path("<slug:slug>/items/", views.item_list, name="item-list"),
    path("<slug:slug>/items/<int:item_id>/", views.item_detail, name="item-detail"),
    path("<slug:slug>/imports/", views.import_list, name="import-list"),
    path("<slug:slug>/imports/<int:job_id>/", views.import_detail, name="import-detail"),
    path("<slug:slug>/members/", views.member_list, name="member-list"),
    path("<slug:slug>/members/<int:user_id>/", views.member_update, name="member-update"),
    path("<slug:slug>/members/new-account/", views.member_account_create, name="member-account-create"),
    path(
        "<slug:slug>/members/<int:user_id>/set-password-link/",
        views.member_set_password_link,
        name="member-set-password-link",
    ),
    path(
        "<slug:slug>/members/<int:user_id>/lift-lockout/",
        views.member_lockout_lift,
        name="member-lockout-lift",
    ),
]
