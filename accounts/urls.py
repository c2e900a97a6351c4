from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("me/", views.account_detail, name="account-detail"),
    path("me/tokens/<int:token_id>/revoke/", views.api_token_revoke_view, name="api-token-revoke"),
    path("me/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set-password"),
    path("lockouts/", views.lockout_list, name="lockout-list"),
]
