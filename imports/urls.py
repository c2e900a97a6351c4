from django.urls import path

from imports import views

app_name = "imports"

urlpatterns = [
    path("<slug:slug>/imports/", views.import_list, name="import-list"),
    path("<slug:slug>/imports/<int:job_id>/", views.import_detail, name="import-detail"),
]
