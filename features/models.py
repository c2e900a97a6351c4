from __future__ import annotations

from django.db import models

from features.choices import BlockKind
from projects.models import Project


class FeatureBlock(models.Model):
    """Cached features of a contiguous range of a project's items (by id), in one file: hashed term counts
    as a sparse matrix (TF-IDF weighting is applied when read, from the blocks' document frequencies), or
    dense embeddings (of the text, or of its metadata text fields). Built once per item; new items get new
    blocks."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="feature_blocks")
    kind = models.CharField(max_length=16, choices=BlockKind.choices)
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    rows = models.PositiveIntegerField()
    path = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "active_learning_featureblock"  # kept from the app it lived in before (no table moves)
        ordering = ["project_id", "kind", "first_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind", "first_id"], name="feature_block_unique_start")
        ]

    def __str__(self) -> str:
        return f"features {self.kind} {self.first_id}-{self.last_id} of {self.project_id}"
