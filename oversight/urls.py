from django.urls import path

from oversight.views import dashboard, items, label_errors, review, truth

app_name = "oversight"

urlpatterns = [
    path("<slug:slug>/dashboard/", dashboard.project_dashboard, name="project-dashboard"),
    path("<slug:slug>/review/", review.review_page, name="review"),
    path("<slug:slug>/review/decide/", review.review_decide_view, name="review-decide"),
    path("<slug:slug>/review/pass/", review.review_pass_view, name="review-pass"),
    path("<slug:slug>/review/refresh/", review.review_refresh_view, name="review-refresh"),
    path("<slug:slug>/review/items/<int:item_id>/", review.review_item, name="review-item"),
    path("<slug:slug>/gold/", review.gold_list, name="gold-list"),
    path("<slug:slug>/feedback/", review.feedback_list, name="feedback"),
    path("<slug:slug>/members/<int:user_id>/review-all/", review.member_review_all, name="member-review-all"),
    path("<slug:slug>/inference/", truth.inference_page, name="inference"),
    path("<slug:slug>/inference/runs/", truth.inference_start, name="inference-start"),
    path("<slug:slug>/label-errors/", label_errors.label_errors_page, name="label-errors"),
    path("<slug:slug>/label-errors/scans/", label_errors.label_errors_start, name="label-errors-start"),
    path("<slug:slug>/items/", items.item_list, name="item-list"),
    path("<slug:slug>/items/bulk/", items.item_bulk, name="item-bulk"),
    path("<slug:slug>/items/<int:item_id>/", items.item_detail, name="item-detail"),
]
