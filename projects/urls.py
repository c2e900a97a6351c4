from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("<slug:slug>/settings/", views.project_settings, name="project-settings"),
    path("<slug:slug>/settings/labels/", views.label_add_view, name="label-add"),
    path("<slug:slug>/settings/labels/<str:key>/", views.label_edit_view, name="label-edit"),
    path("<slug:slug>/settings/labels/<str:key>/retire/", views.label_retire_view, name="label-retire"),
    path("<slug:slug>/settings/labels/<str:key>/merge/", views.label_merge_view, name="label-merge"),
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
