"""The oversight app's part of a label merge (projects.hooks.labels_merged): open review requests whose
detail names the merged key, and the latest inference run's labels and majorities. A resolved review's
decision lives in its gold label (migrated by labeling)."""

from __future__ import annotations

import json
from typing import Any

from oversight.models import ItemInferredLabel, ReviewRequest
from projects.hooks import LabelsMerged, labels_merged
from projects.services.label_schema import keys_replace


def _detail_replace(value: Any, source: str, into: str) -> Any:
    """The detail with every string equal to `source` (and every list of keys) read as `into`."""
    if isinstance(value, str):
        return into if value == source else value
    if isinstance(value, list):
        return (
            list(dict.fromkeys(_detail_replace(entry, source, into) for entry in value))
            if all(isinstance(entry, str) for entry in value)
            else [_detail_replace(entry, source, into) for entry in value]
        )
    if isinstance(value, dict):
        return {key: _detail_replace(entry, source, into) for key, entry in value.items()}
    return value


def _comma_keys(value: str, source: str, into: str, order: tuple[str, ...]) -> str:
    return ",".join(keys_replace(value.split(","), source, into, order)) if value else value


def on_labels_merged(event: LabelsMerged) -> None:
    project, source, into, order = event.project, event.source.key, event.into.key, event.keys
    quoted = json.dumps(source)
    reviews = []
    for review in (
        ReviewRequest.objects.filter(project=project).only("pk", "detail").iterator(chunk_size=2000)
    ):
        if quoted in json.dumps(review.detail):
            review.detail = _detail_replace(review.detail, source, into)
            reviews.append(review)
    ReviewRequest.objects.bulk_update(reviews, ["detail"], batch_size=1000)
    event.counts["review_requests"] = len(reviews)
    inferred = []
    for row in (
        ItemInferredLabel.objects.filter(project=project)
        .only("pk", "label", "majority")
        .iterator(chunk_size=2000)
    ):
        label, majority = (
            _comma_keys(row.label, source, into, order),
            _comma_keys(row.majority, source, into, order),
        )
        if (label, majority) != (row.label, row.majority):
            row.label, row.majority = label, majority
            inferred.append(row)
    ItemInferredLabel.objects.bulk_update(inferred, ["label", "majority"], batch_size=1000)
    event.counts["inferred_labels"] = len(inferred)


def receivers_register() -> None:
    labels_merged.register("oversight.labels_merged", on_labels_merged)
