"""Label-error scans over REST: the scans and the latest scan's suspects."""

from __future__ import annotations

from rest_framework import serializers

from oversight.models import ItemLabelIssue, LabelErrorScan


class LabelErrorScanOutputSerializer(serializers.ModelSerializer[LabelErrorScan]):
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = LabelErrorScan
        fields = [
            "number", "status", "trigger", "created_by", "labels", "features", "n_labeled", "n_flagged", "metrics",
            "error", "created_at", "started_at", "finished_at",
        ]  # fmt: skip


class ItemLabelIssueOutputSerializer(serializers.ModelSerializer[ItemLabelIssue]):
    """A suspect: its given label (and where it came from: gold, agreed or majority), the model's out-of-fold
    probability of it, and the label the model finds most likely."""

    external_id = serializers.CharField(source="item.external_id", read_only=True)
    scan = serializers.IntegerField(source="scan.number", read_only=True)

    class Meta:
        model = ItemLabelIssue
        fields = [
            "rank", "item", "external_id", "scan", "given_label", "given_from", "given_probability",
            "predicted_label", "predicted_probability",
        ]  # fmt: skip
