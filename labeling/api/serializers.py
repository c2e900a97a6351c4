from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from labeling.choices import ImportFormat, OnConflict, Role
from labeling.models import (
    Annotation,
    AnnotationRevision,
    Flag,
    GoldLabel,
    ImportJob,
    InteractionEvent,
    Item,
    Label,
    Membership,
    Project,
    ReviewRequest,
)


# --- output ----------------------------------------------------------------------------------------------
class LabelOutputSerializer(serializers.ModelSerializer[Label]):
    class Meta:
        model = Label
        fields = ["key", "name", "hotkey", "color", "order"]


class ProjectOutputSerializer(serializers.ModelSerializer[Project]):
    labels = LabelOutputSerializer(many=True, read_only=True)
    instructions_html = serializers.CharField(read_only=True)
    role = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id", "name", "slug", "description", "instructions", "instructions_html", "multi_label", "overlap",
            "lease_seconds", "gold_check_rate", "gold_accuracy_threshold", "gold_min_checks", "gold_auto_review",
            "review_audit_rate", "review_confidence_threshold", "analysts_see_suggestions", "labels", "role",
            "created_at", "updated_at",
        ]  # fmt: skip

    def get_role(self, project: Project) -> str | None:
        roles: dict[int, str] = self.context.get("roles", {})
        return getattr(project, "user_role", None) or roles.get(project.pk)


class MembershipOutputSerializer(serializers.ModelSerializer[Membership]):
    user_id = serializers.IntegerField(source="user.id")
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["user_id", "username", "role", "created_at"]


class ItemOutputSerializer(serializers.ModelSerializer[Item]):
    annotation_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Item
        fields = [
            "id",
            "external_id",
            "text",
            "metadata",
            "content_hash",
            "split",
            "priority",
            "remaining",
            "annotation_count",
            "created_at",
        ]


class AnnotationRevisionOutputSerializer(serializers.ModelSerializer[AnnotationRevision]):
    edited_by = serializers.CharField(source="edited_by.username", default=None, allow_null=True)

    class Meta:
        model = AnnotationRevision
        fields = ["labels", "lead_time_ms", "edited_by", "created_at"]


class AnnotationOutputSerializer(serializers.ModelSerializer[Annotation]):
    annotator = serializers.CharField(source="annotator.username", default=None, allow_null=True)
    revisions = AnnotationRevisionOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Annotation
        fields = ["id", "labels", "annotator", "external_annotator", "source", "lead_time_ms", "created_at",
                  "updated_at", "revisions"]  # fmt: skip


class ItemDetailOutputSerializer(ItemOutputSerializer):
    annotations = AnnotationOutputSerializer(many=True, read_only=True)

    class Meta(ItemOutputSerializer.Meta):
        fields = [*ItemOutputSerializer.Meta.fields, "annotations"]


class ImportJobOutputSerializer(serializers.ModelSerializer[ImportJob]):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "status", "format", "original_name", "options", "on_conflict", "rows_total", "items_created",
            "items_updated", "items_skipped", "annotations_imported", "votes_imported", "error", "error_line",
            "progress", "created_at", "started_at", "finished_at",
        ]  # fmt: skip

    def get_progress(self, job: ImportJob) -> dict[str, Any]:
        from labeling.selectors import import_job_progress

        return import_job_progress(job=job)


# --- input -----------------------------------------------------------------------------------------------
class LabelInputSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200, required=False, default="")
    hotkey = serializers.CharField(max_length=1, required=False, default="", allow_blank=True)
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False, default="")


class ProjectCreateInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100, required=False, default="")
    description = serializers.CharField(required=False, default="", allow_blank=True)
    instructions = serializers.CharField(required=False, default="", allow_blank=True)
    multi_label = serializers.BooleanField(required=False, default=False)
    overlap = serializers.IntegerField(required=False, default=1, min_value=1, max_value=20)
    labels = LabelInputSerializer(many=True)


class ProjectUpdateInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    instructions = serializers.CharField(required=False, allow_blank=True)
    overlap = serializers.IntegerField(required=False, min_value=1, max_value=20)
    lease_seconds = serializers.IntegerField(required=False, min_value=10, max_value=86_400)
    gold_check_rate = serializers.FloatField(required=False, min_value=0, max_value=0.5)
    gold_accuracy_threshold = serializers.FloatField(required=False, min_value=0, max_value=1)
    gold_min_checks = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    gold_auto_review = serializers.BooleanField(required=False)
    review_audit_rate = serializers.FloatField(required=False, min_value=0, max_value=1)
    review_confidence_threshold = serializers.FloatField(required=False, min_value=0, max_value=1)
    analysts_see_suggestions = serializers.BooleanField(
        required=False, help_text="Analysts see the active-learning model's suggestion while labeling."
    )


class MembershipCreateInputSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipUpdateInputSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices)


class _JsonObjectField(serializers.JSONField):
    """Accepts a JSON object, also when sent as a string in a multipart form."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except json.JSONDecodeError as exc:
                raise serializers.ValidationError(f"Not valid JSON: {exc.msg}.") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise serializers.ValidationError("Expected an object mapping raw values to label keys.")
        return data


def _csv_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class ImportCreateInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    format = serializers.ChoiceField(
        choices=ImportFormat.choices, required=False, allow_blank=True, default=""
    )
    on_conflict = serializers.ChoiceField(choices=OnConflict.choices, required=False, default=OnConflict.SKIP)
    text_field = serializers.CharField(required=False, default="text")
    id_field = serializers.CharField(required=False, allow_blank=True, default="")
    label_field = serializers.CharField(required=False, allow_blank=True, default="")
    split_field = serializers.CharField(required=False, allow_blank=True, default="")
    annotator_field = serializers.CharField(required=False, allow_blank=True, default="")
    metadata_fields = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Comma-separated; empty keeps all other fields.",
    )
    label_map = _JsonObjectField(required=False, default=dict)
    delimiter = serializers.CharField(required=False, allow_blank=True, default="", max_length=2)
    has_header = serializers.BooleanField(required=False, default=True)
    columns = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Comma-separated."
    )

    def validate_delimiter(self, value: str) -> str:
        value = {"\\t": "\t", "tab": "\t"}.get(value, value)
        if len(value) > 1:
            raise serializers.ValidationError("A delimiter is one character (use \\t for tab).")
        return value

    def validate_metadata_fields(self, value: str) -> list[str] | None:
        return _csv_list(value) or None

    def validate_columns(self, value: str) -> list[str]:
        return _csv_list(value)


# --- the labeling queue ------------------------------------------------------------------------------------
INPUT_METHODS = [("", "unknown"), ("hotkey", "hotkey"), ("click", "click"), ("api", "api")]


class SuggestionOutputSerializer(serializers.Serializer[Any]):
    label = serializers.CharField()  # type: ignore[assignment]
    name = serializers.CharField()
    confidence = serializers.FloatField()
    model = serializers.IntegerField(help_text="The model version that made it.")


class QueueItemOutputSerializer(serializers.Serializer[Any]):
    item = ItemOutputSerializer()
    lease_expires_at = serializers.DateTimeField(source="assignment.expires_at")
    previous_labels = serializers.ListField(child=serializers.CharField())
    suggestion = SuggestionOutputSerializer(
        allow_null=True, help_text="The model's predicted label, where the project shows suggestions."
    )


class RationaleInputSerializer(serializers.Serializer[Any]):
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=1)
    quote = serializers.CharField(required=False, default="", allow_blank=True, trim_whitespace=False)
    label = serializers.CharField(required=False, default="", allow_blank=True)  # type: ignore[assignment]


class _ClientActionInputSerializer(serializers.Serializer[Any]):
    input_method = serializers.ChoiceField(choices=INPUT_METHODS, required=False, default="api")
    client_ts = serializers.DateTimeField(required=False, default=None, allow_null=True)


class AnnotationSubmitInputSerializer(_ClientActionInputSerializer):
    item_id = serializers.IntegerField(min_value=1)
    labels = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False)
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


class ReviewDecideInputSerializer(serializers.Serializer[Any]):
    item_id = serializers.IntegerField(min_value=1)
    labels = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False)
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)
    use_as_check = serializers.BooleanField(required=False, default=False)
    dwell_ms = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)


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
            "item", "external_id", "labels", "source", "is_check", "decided_by", "note", "based_on",
            "created_at", "updated_at",
        ]  # fmt: skip


class FeedbackOutputSerializer(serializers.Serializer[Any]):
    """labeling.selectors.review.Feedback, as the feedback endpoint writes it."""

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
