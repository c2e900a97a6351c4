"""A Serializer base for fields whose names clash with Serializer's own attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

# Serializer (a Field itself) has attributes with these names; a field declared under them is declared with a
# trailing underscore (label_ = CharField()) and served, read and documented under the plain name.
SHADOWED = frozenset({"label", "source"})


class Serializer(serializers.Serializer[Any]):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields: Mapping[str, serializers.Field[Any, Any, Any, Any]] = super().get_fields()
        return {
            name[:-1] if name.endswith("_") and name[:-1] in SHADOWED else name: field
            for name, field in fields.items()
        }
