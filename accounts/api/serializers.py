from __future__ import annotations

from rest_framework import serializers

from accounts.models import ApiToken


class ApiTokenObtainInputSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)


class ApiTokenObtainOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`; shown only this once.")
    expires_at = serializers.DateTimeField()


class ApiTokenInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)


class ApiTokenOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at"]


class ApiTokenCreatedOutputSerializer(ApiTokenOutputSerializer):
    token = serializers.CharField(help_text="The key, shown only this once.")

    class Meta(ApiTokenOutputSerializer.Meta):
        fields = [*ApiTokenOutputSerializer.Meta.fields, "token"]


class LockoutOutputSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Why logins are refused and for how long.")
    code = serializers.CharField()
