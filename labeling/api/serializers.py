from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import Serializer
from labeling.models import Annotation, AnnotationRevision, Flag, InteractionEvent
from projects.api.serializers import ItemOutputSerializer
from projects.models import Item


class AnnotationRevisionOutputSerializer(serializers.ModelSerializer[AnnotationRevision]):
    edited_by = serializers.CharField(source="edited_by.username", default=None, allow_null=True)

    class Meta:
        model = AnnotationRevision
        fields = ["labels", "spans", "lead_time_ms", "edited_by", "created_at"]


class AnnotationOutputSerializer(serializers.ModelSerializer[Annotation]):
    annotator = serializers.CharField(source="annotator.username", default=None, allow_null=True)
    revisions = AnnotationRevisionOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Annotation
        fields = ["id", "labels", "spans", "annotator", "external_annotator", "source", "lead_time_ms",
                  "created_at", "updated_at", "revisions"]  # fmt: skip


class ItemDetailOutputSerializer(ItemOutputSerializer):
    """An item with the annotations its reader may see (context["annotations"]: the view's selector)."""

    annotations = serializers.SerializerMethodField()

    class Meta(ItemOutputSerializer.Meta):
        fields = [*ItemOutputSerializer.Meta.fields, "annotations"]

    @extend_schema_field(AnnotationOutputSerializer(many=True))
    def get_annotations(self, item: Item) -> list[dict[str, Any]]:
        return list(AnnotationOutputSerializer(self.context["annotations"], many=True).data)


# --- the labeling queue ------------------------------------------------------------------------------------
INPUT_METHODS = [("", "unknown"), ("hotkey", "hotkey"), ("click", "click"), ("api", "api")]


class SuggestionOutputSerializer(Serializer):
    label_ = serializers.CharField()
    name = serializers.CharField()
    confidence = serializers.FloatField()
    model = serializers.IntegerField(help_text="The model version that made it.")


class SpanSerializer(Serializer):
    """A span of an item's text: code-point offsets of the stored text (end exclusive), the entity type's
    key, and the quoted text."""

    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=1)
    label_ = serializers.CharField(max_length=64)
    text = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="Checked against the item's text."
    )


class QueueItemOutputSerializer(serializers.Serializer[Any]):
    item = ItemOutputSerializer()
    lease_expires_at = serializers.DateTimeField(source="assignment.expires_at")
    previous_labels = serializers.ListField(child=serializers.CharField())
    previous_spans = SpanSerializer(many=True, help_text="Span projects: the undone answer's spans.")
    tokens = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Span projects: the item's tokens as [start, end] code-point offsets (selections snap to them).",
    )
    suggestion = SuggestionOutputSerializer(
        allow_null=True, help_text="The model's predicted label, where the project shows suggestions."
    )
    suggested_spans = SpanSerializer(
        many=True,
        help_text="Span projects: the model's suggested spans, where the project shows suggestions.",
    )


class RationaleInputSerializer(Serializer):
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=1)
    quote = serializers.CharField(required=False, default="", allow_blank=True, trim_whitespace=False)
    label_ = serializers.CharField(required=False, default="", allow_blank=True)


class _ClientActionInputSerializer(serializers.Serializer[Any]):
    input_method = serializers.ChoiceField(choices=INPUT_METHODS, required=False, default="api")
    client_ts = serializers.DateTimeField(required=False, default=None, allow_null=True)


class AnnotationSubmitInputSerializer(_ClientActionInputSerializer):
    item_id = serializers.IntegerField(min_value=1)
    labels = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list,
        help_text="Label keys (item projects).",
    )  # fmt: skip
    spans = SpanSerializer(
        many=True, required=False, default=None, allow_null=True,
        help_text="Span projects: the answer, a list of spans (empty: no entities).",
    )  # fmt: skip
    spans_suggested = serializers.BooleanField(
        required=False, default=False,
        help_text="Span projects: you were shown the model's suggested_spans (whether you kept them is recorded).",
    )  # fmt: skip
    client_uuid = serializers.UUIDField(
        help_text="Made by the client once per answer: a retry is stored once."
    )
    lead_time_ms = serializers.IntegerField(required=False, default=None, allow_null=True, min_value=0)
    rationales = RationaleInputSerializer(many=True, required=False, default=list)
    suggested_label = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=64,
        help_text="The model's suggestion you were shown (from the next-item response), if any.",
    )  # fmt: skip


class AnnotationSubmitOutputSerializer(serializers.Serializer[Any]):
    annotation = AnnotationOutputSerializer()
    created = serializers.BooleanField()
    changed = serializers.BooleanField()


class QueueSkipInputSerializer(_ClientActionInputSerializer):
    item_id = serializers.IntegerField(min_value=1)
    dwell_ms = serializers.IntegerField(required=False, default=None, allow_null=True, min_value=0)


class QueueUndoInputSerializer(_ClientActionInputSerializer):
    pass


class FlagInputSerializer(_ClientActionInputSerializer):
    item_id = serializers.IntegerField(min_value=1)
    comment = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class FlagOutputSerializer(serializers.ModelSerializer[Flag]):
    class Meta:
        model = Flag
        fields = ["id", "item_id", "comment", "created_at", "resolved_at"]


class InteractionEventOutputSerializer(serializers.ModelSerializer[InteractionEvent]):
    username = serializers.CharField(source="user.username", default=None, allow_null=True)

    class Meta:
        model = InteractionEvent
        fields = ["id", "type", "item_id", "user_id", "username", "payload", "client_ts", "server_ts"]


class InteractionEventInputSerializer(serializers.Serializer[Any]):
    type = serializers.CharField(max_length=32)
    item_id = serializers.IntegerField(required=False, default=None, allow_null=True)
    client_ts = serializers.DateTimeField(required=False, default=None, allow_null=True)
    payload = serializers.DictField(required=False, default=dict)


class InteractionEventBatchInputSerializer(serializers.Serializer[Any]):
    events = InteractionEventInputSerializer(many=True, allow_empty=False)


class AnalystSummaryOutputSerializer(serializers.Serializer[Any]):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    submitted = serializers.IntegerField()
    changed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    undone = serializers.IntegerField()
    flagged = serializers.IntegerField()
    active_minutes = serializers.FloatField()
    items_per_hour = serializers.FloatField(allow_null=True)
    median_seconds = serializers.FloatField(allow_null=True)
    skip_rate = serializers.FloatField(allow_null=True)
    hotkey_share = serializers.FloatField(allow_null=True)


# --- Review and adjudication ---------------------------------------------------------------------------------


# --- the hot path's responses, built without a serializer's per-call set-up -------------------------------
# A DRF serializer builds and deep-copies its fields on every instantiation (a ModelSerializer maps every
# model field again): about 0.7 ms of CPU for `next` and as much for `submit`, the two requests an analyst
# sends per item. These functions return exactly what QueueItemOutputSerializer and
# AnnotationSubmitOutputSerializer return (tests/labeling/api/test_serializers.py compares them on label and
# span projects, suggestions, revisions and undo); the serializers stay the schema's description.
_DATETIME = serializers.DateTimeField()


def _when(value: Any) -> Any:
    return None if value is None else _DATETIME.to_representation(value)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _spans_data(spans: Any) -> list[dict[str, Any]]:
    out = []
    for span in spans or []:
        row: dict[str, Any] = {
            "start": int(span["start"]),
            "end": int(span["end"]),
            "label": str(span["label"]),
        }
        if "text" in span:
            row["text"] = str(span["text"])
        out.append(row)
    return out


def item_data(item: Item) -> dict[str, Any]:
    """ItemOutputSerializer(item).data."""
    count: int | None = getattr(item, "annotation_count", None)
    return {
        "id": item.pk, "external_id": item.external_id, "text": item.text, "metadata": item.metadata,
        "content_hash": item.content_hash, "split": item.split, "priority": float(item.priority),
        "remaining": int(item.remaining), "annotation_count": item.annotations.count() if count is None else count,
        "created_at": _when(item.created_at),
    }  # fmt: skip


def queue_item_data(
    *, item: Item, lease_expires_at: Any, previous_labels: list[str], previous_spans: list[Any],
    tokens: list[Any], suggestion: Any, suggested_spans: Any,
) -> dict[str, Any]:  # fmt: skip
    """QueueItemOutputSerializer of the same values."""
    return {
        "item": item_data(item),
        "lease_expires_at": _when(lease_expires_at),
        "previous_labels": [str(label) for label in previous_labels],
        "previous_spans": _spans_data(previous_spans),
        "tokens": [[int(value) for value in token] for token in tokens],
        "suggestion": None if suggestion is None else {
            "label": str(suggestion.label), "name": str(suggestion.name),
            "confidence": float(suggestion.confidence), "model": int(suggestion.model),
        },
        "suggested_spans": _spans_data(suggested_spans),
    }  # fmt: skip


def _username(user: Any) -> str | None:
    return None if user is None else str(user.username)


def annotation_data(annotation: Annotation) -> dict[str, Any]:
    """AnnotationOutputSerializer(annotation).data."""
    return {
        "id": annotation.pk, "labels": annotation.labels, "spans": annotation.spans,
        "annotator": _username(annotation.annotator), "external_annotator": annotation.external_annotator,
        "source": annotation.source, "lead_time_ms": _int_or_none(annotation.lead_time_ms),
        "created_at": _when(annotation.created_at), "updated_at": _when(annotation.updated_at),
        "revisions": [
            {"labels": revision.labels, "spans": revision.spans, "lead_time_ms": _int_or_none(revision.lead_time_ms),
             "edited_by": _username(revision.edited_by), "created_at": _when(revision.created_at)}
            for revision in annotation.revisions.all()
        ],
    }  # fmt: skip
