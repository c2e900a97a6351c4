"""A span project's snapshot files, written into the build's scratch folder: the rows datasets.selectors.span_rows
chooses, given their splits for good (datasets.services.splits, as for item projects), filtered by split and
entity type, counted and hashed (the Tally), and written in every requested format (span_writers).
datasets.services.snapshots uploads them and publishes the version as it does an item project's."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from datasets.selectors.span_rows import SpanRowChunk, SpanRowSpec, span_snapshot_rows
from datasets.services.manifests import Tally, dataset_card
from datasets.services.snapshot_requests import SnapshotRequest
from datasets.services.span_writers import SPAN_FIELDS, SpanSink, ner_tag_names, span_table, span_tally
from datasets.services.splits import SplitAssigner
from projects.models import Project
from weak_supervision.models import LabelModelRun


@dataclass
class SpanFiles:
    """What the span build wrote: (format, name) per file, the counts and hash, the schema's types and the
    token-classification tag names (ClassLabel ids are their positions)."""

    names: list[tuple[str, str]]
    tally: Tally
    label_keys: list[str]
    tag_names: list[str]


def span_snapshot_files_write(
    *, project: Project, request: SnapshotRequest, folder: Path, run: LabelModelRun | None
) -> SpanFiles:
    label_keys = list(project.labels.order_by("order", "id").values_list("key", flat=True))
    spec = SpanRowSpec(
        policy=request.policy, min_confidence=request.min_confidence, label_keys=label_keys, run=run
    )
    tag_names = ner_tag_names(label_keys)
    header = json.dumps({"labels": label_keys, "kind": "spans", "schema": SPAN_FIELDS, "ner_tags": tag_names})
    tally = span_tally(header)
    assigner = SplitAssigner(project=project)
    card = dataset_card(project)
    sinks = [SpanSink(fmt, folder, tag_names=tag_names, card=card) for fmt in request.formats]
    for chunk in span_snapshot_rows(project=project, spec=spec):
        assigner.assign(chunk)
        kept = _kept(chunk, request)
        if not len(kept):
            continue
        tally.add(kept)
        table = span_table(kept)
        for sink in sinks:
            sink.write(table)
    names = [name for sink in sinks for name in sink.close()]
    assigner.persist()
    return SpanFiles(names=names, tally=tally, label_keys=label_keys, tag_names=tag_names)


def _kept(chunk: SpanRowChunk, request: SnapshotRequest) -> SpanRowChunk:
    """The rows in the requested splits that hold a requested entity type (no filter: all)."""
    splits, types = set(request.splits), set(request.labels)
    if not splits and not types:
        return chunk
    rows = [
        index
        for index, (split, labels) in enumerate(zip(chunk.split, chunk.labels, strict=True))
        if (not splits or split in splits) and (not types or types.intersection(labels))
    ]
    kept = SpanRowChunk()
    for column in dataclasses.fields(chunk):
        values = getattr(chunk, column.name)
        setattr(kept, column.name, [values[index] for index in rows])
    return kept
