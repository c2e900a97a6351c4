from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.api import serializers as s
from accounts.filtersets import ApiTokenFilterSet
from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from core.web import user_of

ERROR_BAD_CREDENTIALS = "Unable to log in with provided credentials."


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class ApiTokenObtainApi(APIView):
    """Username and password in, a new expiring token out. Failed attempts count towards a lockout (429)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.ApiTokenObtainInputSerializer,
        responses={
            200: s.ApiTokenObtainOutputSerializer,
            400: OpenApiResponse(description="Wrong username or password, or a field missing."),
            429: OpenApiResponse(
                s.LockoutOutputSerializer, description="Too many failed logins: locked out."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = s.ApiTokenObtainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # django-axes reads and marks the Django request: its middleware turns a lockout into the 429.
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": [ERROR_BAD_CREDENTIALS]}, code="authorization"
            )
        issued = api_token_create(user=user, name=data.validated_data.get("name", ""))
        out = {"token": issued.key, "expires_at": issued.token.expires_at}
        return Response(s.ApiTokenObtainOutputSerializer(out).data)


class ApiTokenListCreateApi(ListAPIView[ApiToken]):
    """The caller's own tokens (never their keys); POST issues another one."""

    serializer_class = s.ApiTokenOutputSerializer
    filterset_class = ApiTokenFilterSet

    queryset = ApiToken.objects.none()  # the schema's model; get_queryset is what is served

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no user
            return ApiToken.objects.none()
        return selectors.api_token_list(user=user_of(self.request))

    @extend_schema(request=s.ApiTokenInputSerializer, responses={201: s.ApiTokenCreatedOutputSerializer})
    def post(self, request: Request) -> Response:
        data = s.ApiTokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_token_create(user=user_of(request), name=data.validated_data.get("name", ""))
        body = {**s.ApiTokenOutputSerializer(issued.token).data, "token": issued.key}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiTokenDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        api_token_revoke(user=user_of(request), token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
