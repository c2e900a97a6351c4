from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/token/", views.ApiTokenObtainApi.as_view(), name="api-token"),
    path("auth/tokens/", views.ApiTokenListCreateApi.as_view(), name="api-token-list"),
    path("auth/tokens/<int:token_id>/", views.ApiTokenDetailApi.as_view(), name="api-token-detail"),
]
