"""The labeling app's part of a label merge (projects.hooks.labels_merged): answers, gold labels, evaluation
labels and rationales that store the merged key now store the key it went into, and the answer summaries
follow (two answers the merge made equal agree now). Revisions stay as they were: they are the record of what
was answered then."""

from __future__ import annotations

from labeling.models import Annotation, EvaluationLabel, GoldLabel, Rationale
from labeling.services.answer_summary import answer_summaries_refresh
from projects.hooks import LabelsMerged, labels_merged
from projects.services.label_schema import keys_rename, rows_storing, spans_rename


def on_labels_merged(event: LabelsMerged) -> None:
    source, into, keys = event.source.key, event.into.key, event.keys
    for name, model in (
        ("annotations", Annotation),
        ("gold_labels", GoldLabel),
        ("evaluation_labels", EvaluationLabel),
    ):
        rows = model.objects.filter(project=event.project)
        event.counts[name] = keys_rename(
            model, rows_storing(rows, "labels", source), "labels", source, into, keys
        )
        spans = rows_storing(rows, "spans", source, spans=True)
        event.counts[f"{name}_spans"] = spans_rename(model, spans, "spans", source, into)
    event.counts["rationales"] = Rationale.objects.filter(project=event.project, label=source).update(
        label=into
    )
    if event.counts["annotations"] or event.counts["annotations_spans"]:
        answer_summaries_refresh(project=event.project, item_ids=None)


def receivers_register() -> None:
    labels_merged.register("labeling.labels_merged", on_labels_merged)
