from __future__ import annotations

from typing import Any

from rest_framework import serializers

from labeling.models import GoldLabel
from oversight.models import ReviewRequest


class SpanInputSerializer(serializers.Serializer[Any]):
    """One span (core.spans): code-point offsets into the item's text, end exclusive, with its quote."""

    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=0)
    # A field named like the Field.label attribute: DRF takes it as a field, the stubs do not know that.
    label = serializers.CharField(max_length=64, help_text="The entity type's label key.")  # type: ignore[assignment]
    text = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="The quoted text, text[start:end]: where given, it must match the item's text there.",
    )


class ReviewDecideInputSerializer(serializers.Serializer[Any]):
    item_id = serializers.IntegerField(min_value=1)
    labels = serializers.ListField(
        child=serializers.CharField(max_length=64), allow_empty=False, required=False,
        help_text="Item projects: the final label(s). Span projects: not used (the types of the spans).",
    )  # fmt: skip
    spans = SpanInputSerializer(
        many=True, required=False,
        help_text="Span projects: the gold spans (an empty list: no entities), checked against the item's text "
        "(offsets inside it, quotes matching), the entity types and, unless the project allows them, overlaps.",
    )  # fmt: skip
    annotation_id = serializers.IntegerField(
        min_value=1, required=False,
        help_text="Span projects: accept this answer's spans (an annotation on the item) instead of giving spans.",
    )  # fmt: skip
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)
    use_as_check = serializers.BooleanField(required=False, default=False)
    dwell_ms = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(name in attrs for name in ("labels", "spans", "annotation_id")):
            raise serializers.ValidationError({"labels": ["This field is required."]}, code="required")
        return attrs


class ReviewPassInputSerializer(serializers.Serializer[Any]):
    item_id = serializers.IntegerField(min_value=1)


class ReviewRequestInputSerializer(serializers.Serializer[Any]):
    item_id = serializers.IntegerField(min_value=1)
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)


class GoldLabelOutputSerializer(serializers.ModelSerializer[GoldLabel]):
    external_id = serializers.CharField(source="item.external_id", read_only=True)
    decided_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = GoldLabel
        fields = [
            "item", "external_id", "labels", "spans", "source", "is_check", "decided_by", "note", "based_on",
            "created_at", "updated_at",
        ]  # fmt: skip


class FeedbackOutputSerializer(serializers.Serializer[Any]):
    """oversight.selectors.review.Feedback, as the feedback endpoint writes it."""

    item_id = serializers.IntegerField()
    external_id = serializers.CharField()
    text = serializers.CharField()
    your_labels = serializers.ListField(child=serializers.CharField())
    final_labels = serializers.ListField(child=serializers.CharField())
    agreed = serializers.BooleanField()
    note = serializers.CharField()
    reviewer = serializers.CharField()
    decided_at = serializers.DateTimeField()


class ReviewRequestOutputSerializer(serializers.ModelSerializer[ReviewRequest]):
    external_id = serializers.CharField(source="item.external_id", read_only=True)
    claimed_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    resolved_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ReviewRequest
        fields = [
            "id", "item", "external_id", "reasons", "detail", "priority", "status", "claimed_by", "claimed_until",
            "resolved_by", "resolved_at", "created_at",
        ]  # fmt: skip


class KnownAnswerInputSerializer(serializers.Serializer[Any]):
    external_id = serializers.CharField(max_length=255)
    labels = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False)


class KnownAnswersInputSerializer(serializers.Serializer[Any]):
    answers = KnownAnswerInputSerializer(many=True, allow_empty=False)
    is_check = serializers.BooleanField(required=False, default=True)


class ReviewAllInputSerializer(serializers.Serializer[Any]):
    enabled = serializers.BooleanField()


class ItemReviewSendInputSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)


class ItemDeleteInputSerializer(serializers.Serializer[Any]):
    confirm = serializers.IntegerField(
        min_value=0, required=False, allow_null=True, default=None,
        help_text="How many items the filters select: without it (or with another count) nothing is deleted, "
        "and the answer says the count.",
    )  # fmt: skip


class BulkResultOutputSerializer(serializers.Serializer[Any]):
    selected = serializers.IntegerField(help_text="Items the filters selected.")
    changed = serializers.IntegerField(help_text="Items the action changed (sent, made checks, deleted).")
    skipped = serializers.DictField(
        child=serializers.IntegerField(), help_text="Items left as they were, per reason."
    )
