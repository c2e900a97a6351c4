"""The weak-supervision app's part of a label merge (projects.hooks.labels_merged): LF targets (a new version
of each LF whose current version votes for the merged key: versions are never changed), external votes and
spans, the latest run's per-item votes, weak labels and end-model labels. Earlier runs' files stay as they
were; the next run reads the new schema."""

from __future__ import annotations

from django.db.models import Exists, Max, OuterRef

from projects.hooks import LabelsMerged, labels_merged
from projects.services.label_schema import rows_storing, spans_rename
from weak_supervision.models import (
    ExternalSpanVote,
    ExternalVote,
    ItemEndModelLabel,
    ItemLfVote,
    ItemWeakLabel,
    LabelingFunction,
    LabelingFunctionVersion,
)


def _lf_targets(event: LabelsMerged) -> int:
    source, into = event.source.key, event.into.key
    moved = 0
    functions = LabelingFunction.objects.filter(project=event.project, current_version__label=source)
    for function in functions.select_related("current_version"):
        current = function.current_version
        assert current is not None
        number = function.versions.aggregate(top=Max("number"))["top"] or 0
        version = LabelingFunctionVersion.objects.create(
            labeling_function=function, number=number + 1, label=into, spec=current.spec,
            created_by=current.created_by,
        )  # fmt: skip
        function.current_version = version
        function.save(update_fields=["current_version"])
        moved += 1
    return moved


def on_labels_merged(event: LabelsMerged) -> None:
    project, source, into = event.project, event.source.key, event.into.key
    event.counts["lf_targets"] = _lf_targets(event)
    event.counts["external_votes"] = ExternalVote.objects.filter(
        labeling_function__project=project, label=event.source
    ).update(label=event.into)
    span_votes = ExternalSpanVote.objects.filter(labeling_function__project=project)
    event.counts["external_span_votes"] = spans_rename(
        ExternalSpanVote, rows_storing(span_votes, "spans", source, spans=True), "spans", source, into
    )
    votes = ItemLfVote.objects.filter(labeling_function__project=project)
    # An LF that voted for both (multi-label) keeps one vote for the label they became.
    same = ItemLfVote.objects.filter(
        item_id=OuterRef("item_id"), labeling_function_id=OuterRef("labeling_function_id"), label=into
    )
    votes.filter(label=source).filter(Exists(same)).delete()
    event.counts["item_votes"] = votes.filter(label=source).update(label=into)
    weak = ItemWeakLabel.objects.filter(project=project)
    event.counts["weak_labels"] = weak.filter(label=source).update(label=into)
    event.counts["weak_spans"] = spans_rename(
        ItemWeakLabel, rows_storing(weak, "spans", source, spans=True), "spans", source, into
    )
    event.counts["end_model_labels"] = ItemEndModelLabel.objects.filter(project=project, label=source).update(
        label=into
    )


def receivers_register() -> None:
    labels_merged.register("weak_supervision.labels_merged", on_labels_merged)
