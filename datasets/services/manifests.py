"""A snapshot's manifest: provenance, schema, counts, checksums and datasheet, beside its files."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from django.utils import timezone

from active_learning.selectors import learner_model_latest
from core.csv_safety import FORMULA_CELLS_NOTE
from core.version import code_version
from datasets.choices import LabelPolicy
from datasets.models import Snapshot
from datasets.selectors import InferenceSource, RowChunk, Suspects
from datasets.services.snapshot_requests import SnapshotRequest
from datasets.services.writers import SCHEMA, SCHEMA_DESCRIPTION, ContentHash
from oversight.selectors.agreement import agreement_get
from projects.models import Project
from weak_supervision.models import LabelModelRun

# The policies whose labels beyond gold must be at least `min_confidence` sure.
THRESHOLD_POLICIES = (LabelPolicy.GOLD_WEAK, LabelPolicy.INFERRED)


@dataclass(frozen=True)
class SpanManifest:
    """A span project's snapshot: its files' schema and column descriptions, and the token-classification tag
    names (a ClassLabel's, in id order)."""

    schema: pa.Schema
    descriptions: dict[str, str]
    ner_tags: list[str]


class Tally:
    """Counts and the content hash, updated chunk by chunk; and the rows the label-error scan flags (among
    those that pass the filters) and how many of them were left out."""

    def __init__(self, header: str) -> None:
        self.digest = ContentHash(header)
        self.rows = 0
        self.by_split: Counter[str] = Counter()
        self.by_label: Counter[str] = Counter()
        self.by_source: Counter[str] = Counter()
        self.by_split_label: dict[str, Counter[str]] = {}
        self.flagged = 0
        self.excluded = 0

    def add(self, chunk: RowChunk) -> None:
        self.digest.update(chunk)
        self.rows += len(chunk)
        # Counted per distinct (split, labels, source) first: few of them, however many rows.
        distinct = Counter(zip(chunk.split, chunk.label, chunk.label_source, strict=True))
        for (split, labels, source), count in distinct.items():
            self.by_split[split] += count
            self.by_source[source] += count
            for label in labels.split("|") if labels else ():
                self.by_label[label] += count
                self.by_split_label.setdefault(split, Counter())[label] += count

    def suspects(self, flagged: int, *, excluded: bool) -> None:
        self.flagged += flagged
        self.excluded += flagged if excluded else 0


def _datasheet(
    project: Project, request: SnapshotRequest, tally: Tally, run_number: int | None
) -> dict[str, Any]:
    how = {
        LabelPolicy.GOLD: "Only gold labels: items adjudicated by a reviewer, items with a known answer, and items "
        "whose annotators all gave the same answer.",
        LabelPolicy.GOLD_WEAK: "Gold labels first; other items carry the label model's answer where it is at "
        f"least {request.min_confidence:.2f} sure (for items no LF covers, the end model's, trained on the label "
        "model's answers).",
        LabelPolicy.SOFT: "Every item with a label: gold labels, the annotators' vote shares where they disagree, "
        "and the label model's probabilities elsewhere (the end model's for items no LF covers).",
        LabelPolicy.INFERRED: "Gold labels first; other items carry truth inference's label where its posterior "
        f"is at least {request.min_confidence:.2f} (the inference weighs every source, annotators, labeling "
        "functions and models, by its estimated reliability; the posterior per label is the soft label). Items "
        "the inference run has no answer for are left out.",
    }[LabelPolicy(request.policy)]
    if request.exclude_label_errors:
        how += " Items the latest label-error scan flags as probably mislabeled are left out."
    return {
        "title": project.name,
        "description": project.description,
        "label_definitions": project.instructions,
        "labels": [{"key": label.key, "name": label.name} for label in project.labels.all()],
        "multi_label": project.multi_label,
        "how_labels_were_made": how,
        "annotations_per_item_wanted": project.overlap,
        "label_sources": dict(tally.by_source),
        "weak_supervision_run": run_number,
        "splits": "An item keeps its split in every version: imported splits are kept, and other items get one the "
        "first time a snapshot holds them (80/10/10, stratified by label, in the order of a hash of the project "
        "and the external id).",
    }


def manifest_build(
    snapshot: Snapshot,
    request: SnapshotRequest,
    label_keys: list[str],
    tally: Tally,
    run: LabelModelRun | None,
    files: list[dict[str, Any]],
    *,
    inference: InferenceSource | None = None,
    suspects: Suspects | None = None,
    spans: SpanManifest | None = None,
) -> dict[str, Any]:
    """Everything about the snapshot beside its files: provenance, schema, counts, checksums, datasheet.

    `label_errors` says which scan's suspects were looked for (null: none succeeded yet), how many of the rows
    that pass the filters it flags, and how many of those the snapshot leaves out (all or none of them)."""
    project = snapshot.project
    fields, descriptions = (spans.schema, spans.descriptions) if spans else (SCHEMA, SCHEMA_DESCRIPTION)
    schema = [
        {"name": f.name, "type": str(f.type), "nullable": f.nullable, "description": descriptions[f.name]}
        for f in fields
    ]
    counts = {
        "rows": tally.rows,
        "splits": dict(tally.by_split),
        "label_sources": dict(tally.by_source),
        "labels_by_split": {split: dict(counter) for split, counter in tally.by_split_label.items()},
    }
    agreement_keys = (
        "n_items",
        "percent_agreement",
        "cohen_kappa_mean",
        "fleiss_kappa",
        "krippendorff_alpha",
    )
    # Item-label agreement; a span project's (span F1 between annotators) is on its agreement page.
    agreement = None if spans else agreement_get(project=project).to_json()
    manifest = {
        "project": {"slug": project.slug, "name": project.name},
        "created_at": timezone.now().isoformat(),
        "created_by": snapshot.created_by.get_username() if snapshot.created_by else None,
        "trigger": snapshot.trigger,
        "schedule": snapshot.schedule.name if snapshot.schedule else None,
        "policy": request.policy,
        "min_confidence": request.min_confidence if request.policy in THRESHOLD_POLICIES else None,
        "filters": snapshot.filters,
        "labels": label_keys,
        "schema": schema,
        "counts": counts,
        "label_distribution": dict(tally.by_label),
        "agreement": {key: agreement[key] for key in agreement_keys} if agreement is not None else None,
        "label_model_run": _run(run),
        "inference": inference.to_json() if inference is not None else None,
        "exclude_label_errors": request.exclude_label_errors,
        "label_errors": {
            "scan": suspects.scan if suspects is not None else None,
            "flagged": tally.flagged,
            "excluded": tally.excluded,
        },
        "end_model": _end_model(run),
        # The run's guardrails (weak_supervision.services.guardrails): what a user of these labels should know.
        "warnings": list((run.metrics or {}).get("warnings", [])) if run is not None else [],
        "active_learning_model": _learner_model(project),
        "code_version": code_version(),
        "content_hash": tally.digest.hexdigest(),
        "fewshot_k": request.fewshot_k,
        "files": files,
        "csv_formula_cells": FORMULA_CELLS_NOTE,
        "datasheet": _datasheet(project, request, tally, run.number if run else None),
    }
    if spans:
        manifest["kind"] = "spans"
        manifest["ner_tags"] = spans.ner_tags
        manifest["fewshot_k"] = []
        manifest["datasheet"]["how_labels_were_made"] = SPAN_HOW.get(request.policy, "")
    return manifest


SPAN_HOW: dict[str, str] = {
    LabelPolicy.GOLD: "Only gold spans: a reviewer's or a known answer's, and those every annotator of an item "
    "marked exactly alike.",
    LabelPolicy.GOLD_WEAK: "Gold spans first; other items carry the label model's weak spans where they are at "
    "least min_confidence sure.",
    LabelPolicy.SOFT: "Gold spans first; where annotators differ, the spans more than half of them marked exactly; "
    "other items carry the label model's weak spans.",
}


def _run(run: LabelModelRun | None) -> dict[str, Any] | None:
    """The run whose weak labels the snapshot holds, and the aggregator that delivered them."""
    if run is None:
        return None
    aggregator = (run.metrics or {}).get("aggregator")
    return {"id": run.pk, "number": run.number,
            "aggregator": aggregator if isinstance(aggregator, dict) else None}  # fmt: skip


def _end_model(run: LabelModelRun | None) -> dict[str, Any] | None:
    """The run's end model, whose labels (alone or with the aggregator's) the snapshot holds for the items no
    LF covers and for the covered ones where held-out gold showed that it beats the aggregator there
    (`fills_uncovered`, `overrides_covered`; `fill` and `override` say who answers and on what evidence)."""
    entry = (run.metrics or {}).get("end_model") if run is not None else None
    if not entry:
        return None
    keys = ("status", "n_train", "features", "C", "selected_on", "fills_uncovered", "overrides_covered", "fill",
            "override", "reason")  # fmt: skip
    return {key: entry[key] for key in keys if key in entry}


def _learner_model(project: Project) -> dict[str, Any] | None:
    """The active-learning model version current when the snapshot was made (its metrics on held-out gold)."""
    model = learner_model_latest(project=project)
    if model is None:
        return None
    return {
        "number": model.number,
        "strategy": model.strategy,
        "n_labels": model.n_labels,
        "metrics": model.metrics,
    }


def dataset_card(project: Project) -> str:
    return f"# {project.name}\n\n{project.description}\n\nExported from Oversight. See manifest.json beside it.\n"
