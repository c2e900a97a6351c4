from __future__ import annotations

from typing import Any

from rest_framework import serializers

from projects.choices import ProjectKind, Role
from projects.models import Item, Label, LabelChange, Membership, Project


# --- output ----------------------------------------------------------------------------------------------
class LabelOutputSerializer(serializers.ModelSerializer[Label]):
    class Meta:
        model = Label
        fields = ["key", "name", "hotkey", "color", "order", "retired_at"]


class LabelChangeOutputSerializer(serializers.ModelSerializer[LabelChange]):
    changed_by = serializers.CharField(source="changed_by.username", default=None, allow_null=True)

    class Meta:
        model = LabelChange
        fields = ["id", "action", "key", "into", "before", "after", "counts", "changed_by", "created_at"]


class ProjectOutputSerializer(serializers.ModelSerializer[Project]):
    labels = LabelOutputSerializer(many=True, read_only=True)
    instructions_html = serializers.CharField(read_only=True)
    role = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id", "name", "slug", "description", "instructions", "instructions_html", "kind", "multi_label",
            "allow_overlapping_spans", "overlap",
            "lease_seconds", "gold_check_rate", "gold_accuracy_threshold", "gold_min_checks", "gold_auto_review",
            "review_audit_rate", "review_confidence_threshold", "analysts_see_suggestions", "labels", "role",
            "created_at", "updated_at",
        ]  # fmt: skip

    def get_role(self, project: Project) -> str | None:
        roles: dict[int, str] = self.context.get("roles", {})
        return roles.get(project.pk)


class MembershipOutputSerializer(serializers.ModelSerializer[Membership]):
    user_id = serializers.IntegerField(source="user.id")
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["user_id", "username", "role", "created_at"]


class ItemOutputSerializer(serializers.ModelSerializer[Item]):
    annotation_count = serializers.SerializerMethodField(help_text="Everyone's annotations of the item.")

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

    def get_annotation_count(self, item: Item) -> int:
        # Lists annotate it in their one query (selectors.item_list); a single item counts them.
        count: int | None = getattr(item, "annotation_count", None)
        return item.annotations.count() if count is None else count


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
    kind = serializers.ChoiceField(
        choices=ProjectKind.choices, required=False, default="",
        help_text="single, multi or spans (entity types marked in the text); default: from multi_label.",
    )  # fmt: skip
    multi_label = serializers.BooleanField(required=False, default=False)
    allow_overlapping_spans = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Span projects: answers may hold nested or overlapping spans.",
    )
    overlap = serializers.IntegerField(required=False, default=1, min_value=1, max_value=20)
    labels = LabelInputSerializer(many=True, help_text="The labels (span projects: the entity types).")


class LabelStateInputSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(max_length=64, help_text="A label's key (a new key adds a label).")
    name = serializers.CharField(max_length=200, required=False, default=None)
    hotkey = serializers.CharField(
        max_length=1, required=False, default=None, allow_blank=True, trim_whitespace=False
    )
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False, default=None)
    retired = serializers.BooleanField(required=False, default=None, allow_null=True)


class LabelEditInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, required=False, default=None)
    hotkey = serializers.CharField(
        max_length=1, required=False, default=None, allow_blank=True, trim_whitespace=False
    )
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False, default=None)
    retired = serializers.BooleanField(
        required=False, default=None, allow_null=True, help_text="true retires the label, false restores it."
    )


class LabelMergeInputSerializer(serializers.Serializer[Any]):
    into = serializers.CharField(max_length=64, help_text="The label that takes the merged label's answers.")


class ProjectUpdateInputSerializer(serializers.Serializer[Any]):
    labels = LabelStateInputSerializer(
        many=True, required=False,
        help_text="Labels to edit (known keys) or add (new keys); labels left out stay. Merge and retire "
        "through /labels/.",
    )  # fmt: skip
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
