"""Reads of the weak-supervision app: LF lists, runs, and the preview of a rule being edited."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count, F, QuerySet
from scipy import sparse

from core.exceptions import NotFoundError
from core.queries import filter_ids
from labeling.models import EvaluationLabel, GoldLabel
from labeling.selectors.gold import gold_labels_usable
from projects.choices import Split
from projects.models import Item, Project
from weak_supervision.choices import (
    AGGREGATOR_NAMES,
    DECLARATIVE_KINDS,
    MULTI_LABEL_AGGREGATOR_NAMES,
    EndModelStatus,
    LabelingFunctionKind,
    RunStatus,
)
from weak_supervision.declarative import ABSTAIN, first_match, rule_compile, rules_votes
from weak_supervision.models import ExternalVote, LabelingFunction, LabelModelRun, RunChunk
from weak_supervision.sandbox import python_code_validate, python_spans, python_votes
from weak_supervision.span_aggregation import SPAN_AGGREGATOR_NAMES, codes_to_spans
from weak_supervision.span_functions import span_rule_compile, span_rules_spans
from weak_supervision.ties import predictions

PREVIEW_SAMPLE = 10_000
PREVIEW_SAMPLE_SECONDS = 300  # how long a preview sample is reused (an import that adds items changes it)
PREVIEW_MATCHES = 25
MULTI_LABEL_THRESHOLD = 0.5
ERROR_UNKNOWN_LABEL = "'{label}' is not a label of this project; its labels are: {labels}."


def labeling_function_list(*, project: Project) -> QuerySet[LabelingFunction]:
    return (
        LabelingFunction.objects.filter(project=project)
        .select_related("current_version__created_by")
        .order_by("name")
    )


def labeling_function_get(*, project: Project, lf_id: int) -> LabelingFunction:
    lf = labeling_function_list(project=project).filter(pk=lf_id).first()
    if lf is None:
        raise NotFoundError("Labeling function not found.")
    return lf


def run_list(*, project: Project) -> QuerySet[LabelModelRun]:
    """Newest first, each with its finished chunks counted in the same query (run_progress reads it)."""
    return (
        LabelModelRun.objects.filter(project=project)
        .annotate(chunks_done=Count("done_chunks"))
        .order_by("-number")
    )


def run_progress(*, run: LabelModelRun) -> dict[str, Any]:
    """Chunks done and the fraction of the run's work behind it, for the progress bars."""
    counted: int | None = getattr(run, "chunks_done", None)  # annotated by run_list
    done = RunChunk.objects.filter(run=run).count() if counted is None else counted
    total = len(run.chunks) or 1
    # Applying the LFs is most of the work; fitting and writing the labels is counted as one more chunk.
    finished = run.status == RunStatus.SUCCEEDED
    fraction = 1.0 if finished else done / (total + 1)
    return {
        "chunks_done": done,
        "chunks": len(run.chunks),
        "fraction": fraction,
        "percent": int(fraction * 100),
    }


def run_get(*, project: Project, number: int) -> LabelModelRun:
    run = run_list(project=project).filter(number=number).first()
    if run is None:
        raise NotFoundError("Run not found.")
    return run


@dataclass(frozen=True)
class PreviewMatch:
    item_id: int
    external_id: str
    text: str
    start: int | None
    end: int | None


class SampleItem(NamedTuple):
    """One item of the preview sample, read by name."""

    item_id: int
    external_id: str
    text: str
    metadata: dict[str, Any]


def preview_sample(project: Project) -> list[SampleItem]:
    """Up to PREVIEW_SAMPLE items spread over the whole project (every n-th id), the same every time.

    Picking them reads every item of the project, so the sample is cached for a few minutes, under the
    project's item count: an editor previews rule after rule on the same sample, and an import changes it.
    """
    items = Item.objects.filter(project=project)
    count = items.count()
    key = f"lf-preview-sample:v2:{project.pk}:{project.created_at.timestamp()}:{count}"
    cached: list[SampleItem] | None = cache.get(key)
    if cached is not None:
        return cached
    step = max(1, count // PREVIEW_SAMPLE)
    if step > 1:
        items = items.annotate(bucket=F("id") % step).filter(bucket=0)
    rows = items.order_by("id").values_list("id", "external_id", "text", "metadata")[:PREVIEW_SAMPLE]
    sample = [SampleItem(*row) for row in rows]
    cache.set(key, sample, PREVIEW_SAMPLE_SECONDS)
    return sample


def _other_votes(
    project: Project, exclude_id: int | None, ids: list[int], texts: list[str], metadata: list[dict[str, Any]]
) -> npt.NDArray[np.int8]:
    labels = list(project.labels.values_list("key", flat=True))
    label_index = {pk: labels.index(key) for pk, key in project.labels.values_list("pk", "key")}
    position = {item_id: row for row, item_id in enumerate(ids)}
    columns = []
    rules = []
    lfs = LabelingFunction.objects.filter(project=project, active=True).exclude(pk=exclude_id or 0)
    for lf in lfs.select_related("current_version"):
        if (
            lf.kind in DECLARATIVE_KINDS and lf.current_version is not None
        ):  # Python LFs: too slow to rerun here
            version = lf.current_version
            rules.append(rule_compile(lf.kind, version.spec, labels.index(version.label)))
        elif lf.kind == LabelingFunctionKind.EXTERNAL:
            column = np.full(len(ids), ABSTAIN, dtype=np.int8)
            votes = filter_ids(ExternalVote.objects.filter(labeling_function=lf), "item_id", ids)
            for item_id, label_id in votes.values_list("item_id", "label_id"):
                column[position[item_id]] = label_index[label_id]
            columns.append(column)
    if rules:  # the declarative rules together: the text ones in one pass (rules_votes)
        columns += list(rules_votes(rules, texts, metadata).T)
    return np.column_stack(columns) if columns else np.zeros((len(ids), 0), dtype=np.int8)


def labeling_function_preview(
    *, project: Project, kind: str, spec: dict[str, Any], label: str, exclude_id: int | None = None
) -> dict[str, Any]:
    """How a rule would vote on a sample of the project: coverage, matches (with the span to highlight),
    overlaps and conflicts with the other active LFs, and accuracy on the sample's gold items."""
    labels = list(project.labels.values_list("key", flat=True))
    sample = preview_sample(project)
    ids = [row.item_id for row in sample]
    texts, metadata = [row.text for row in sample], [row.metadata or {} for row in sample]
    rule = None
    if kind == LabelingFunctionKind.PYTHON:
        result = python_votes(
            code=python_code_validate(str(spec.get("code") or "")),
            labels=labels,
            texts=texts,
            metadata=metadata,
            multi_label=project.multi_label,
        )
        if result.votes is None:
            failing = sample[result.item_index][1] if result.item_index is not None and sample else None
            return {"error": result.error, "failing_item": failing, "sample_size": len(ids)}
        votes = result.votes
        if votes.ndim == 2:  # multi-label: summarised by the first label returned, for coverage and overlaps
            votes = np.where(votes.any(axis=1), votes.argmax(axis=1), ABSTAIN).astype(np.int8)
    else:
        if label not in labels:
            raise ValidationError(
                ERROR_UNKNOWN_LABEL.format(label=label, labels=", ".join(labels)), code="label"
            )
        rule = rule_compile(kind, spec, labels.index(label))
        votes = rules_votes([rule], texts, metadata)[:, 0]
    fired = votes != ABSTAIN
    others = _other_votes(project, exclude_id, ids, texts, metadata)
    others_fired = others != ABSTAIN
    overlaps = fired & others_fired.any(axis=1)
    conflicts = fired & (others_fired & (others != votes[:, None])).any(axis=1)
    gold = gold_labels_usable(project=project, item_ids=ids)  # LF development reads usable gold only
    judged = [
        (gold[item_id], vote)
        for item_id, vote in zip(ids, votes.tolist(), strict=True)
        if vote != ABSTAIN and item_id in gold
    ]
    correct = sum(1 for answer, vote in judged if answer == labels[vote])
    matches = []
    for row in np.flatnonzero(fired)[:PREVIEW_MATCHES]:
        span = first_match(rule, texts[row]) if rule else None
        matches.append(PreviewMatch(ids[row], sample[row][1], texts[row], *(span or (None, None))))
    n = len(ids) or 1
    return {
        "sample_size": len(ids),
        "matched": int(fired.sum()),
        "coverage": round(float(fired.sum()) / n, 4),
        "overlaps": round(float(overlaps.sum()) / n, 4),
        "conflicts": round(float(conflicts.sum()) / n, 4),
        "gold_judged": len(judged),
        "correct": correct,
        "incorrect": len(judged) - correct,
        "empirical_accuracy": round(correct / len(judged), 4) if judged else None,
        "matches": [match.__dict__ for match in matches],
        "spec": rule.spec if rule else spec,
    }


@dataclass(frozen=True)
class WeakLabelAnswer:
    """The label model's answer for one item: the most probable label (blank when no LF voted)."""

    item_id: int
    label: str
    confidence: float
    probabilities: dict[str, float]
    labels: list[str]  # multi-label projects: every label at probability >= 0.5; else [label] or []
    # The run's end model (trained on the label model's answers), which answers where no LF voted too.
    end_model_label: str = ""
    end_model_confidence: float = 0.0


def run_probabilities_get(
    *, run: LabelModelRun
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.bool_]] | None:
    """A finished run's item ids (sorted), their label probabilities (columns in run.labels order) and whether
    any LF voted on each, as arrays; None for a run without them."""
    if not run.probabilities_path:
        return None
    with (
        default_storage.open(run.probabilities_path, "rb") as handle,
        np.load(io.BytesIO(handle.read())) as stored,
    ):
        return stored["ids"], stored["probabilities"], stored["covered"]


def weak_labels_get(
    *, run: LabelModelRun, item_ids: Iterable[int] | None = None
) -> dict[int, WeakLabelAnswer]:
    """A finished run's probabilistic labels, for the given items (all when None), read from its file."""
    loaded = run_probabilities_get(run=run)
    if loaded is None:
        return {}
    ids, probabilities, covered = loaded
    rows = np.arange(len(ids))
    if item_ids is not None:
        wanted = np.fromiter(item_ids, dtype=np.int64)
        positions = np.searchsorted(ids, wanted)  # chunks are in id order, so ids are sorted
        found = (positions < len(ids)) & (ids[np.minimum(positions, len(ids) - 1)] == wanted)
        rows = positions[found]
    # The end model's answers too, for a few items (an item's page, a review): not for whole-project reads.
    end = end_model_probabilities_get(run=run) if item_ids is not None else None
    end_rows = end[1] if end is not None and np.array_equal(end[0], ids) else None
    answers = {}
    multi_label = run.project.multi_label
    bests = predictions(probabilities[rows], ids[rows]) if not multi_label else np.zeros(len(rows), np.int64)
    for row, top in zip(rows.tolist(), bests.tolist(), strict=True):
        probs = probabilities[row]
        best = int(top) if not multi_label else int(np.argmax(probs))
        label = run.labels[best] if covered[row] else ""
        chosen = [key for key, p in zip(run.labels, probs, strict=True) if p >= MULTI_LABEL_THRESHOLD]
        end_best = int(np.argmax(end_rows[row])) if end_rows is not None else -1
        answers[int(ids[row])] = WeakLabelAnswer(
            item_id=int(ids[row]),
            label=label,
            confidence=round(float(probs[best]), 4) if covered[row] else 0.0,
            probabilities={key: round(float(p), 4) for key, p in zip(run.labels, probs, strict=True)},
            labels=chosen if multi_label and covered[row] else [label] if label else [],
            end_model_label=run.labels[end_best] if end_rows is not None else "",
            end_model_confidence=round(float(end_rows[row][end_best]), 4) if end_rows is not None else 0.0,
        )
    return answers


def latest_run(*, project: Project) -> LabelModelRun | None:
    return run_list(project=project).filter(status="succeeded").first()


def chunk_load(path: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8], npt.NDArray[np.str_]]:
    """A chunk's item ids, votes (-1 = abstain) and item splits (see runs._matrix_bytes)."""
    ids, votes, codes, names = chunk_load_coded(path)
    return ids, votes, np.asarray(names, dtype="U8")[codes] if len(names) else np.zeros(0, dtype="U8")


def chunk_load_coded(
    path: str,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8], npt.NDArray[np.uint8], list[str]]:
    """A chunk's item ids, votes (-1 = abstain), and its items' splits as codes into a list of names."""
    with default_storage.open(path, "rb") as handle, np.load(io.BytesIO(handle.read())) as stored:
        shape = tuple(int(n) for n in stored["shape"])
        if "id_first" not in stored.files:  # a file written before ids, rows and splits were packed
            shifted = sparse.csr_matrix((stored["data"], stored["indices"], stored["indptr"]), shape=shape)
            names, codes = np.unique(stored["splits"].astype("U8"), return_inverse=True)
            votes = (shifted.toarray().astype(np.int8) - 1).astype(np.int8)
            return stored["ids"], votes, codes.astype(np.uint8), [str(name) for name in names]
        ids = np.cumsum(np.concatenate([stored["id_first"], stored["id_gaps"].astype(np.int64)]))
        indptr = np.concatenate([[0], np.cumsum(stored["row_counts"].astype(np.int64))])
        shifted = sparse.csr_matrix((stored["data"], stored["indices"].astype(np.int32), indptr), shape=shape)
        votes = (shifted.toarray().astype(np.int8) - 1).astype(np.int8)
        split_names = [str(name) for name in stored["split_names"]]
        return ids.astype(np.int64), votes, stored["split_codes"].astype(np.uint8), split_names


@dataclass(frozen=True)
class LfVote:
    name: str
    kind: str
    vote: str  # the label key it voted for; blank when it abstained


def item_lf_votes_get(*, run: LabelModelRun, item_id: int) -> list[LfVote]:
    """How each LF of a finished run voted on one item, read from the chunk file that holds the item."""
    chunk = next((index for index, (first, last) in enumerate(run.chunks) if first <= item_id <= last), None)
    stored = RunChunk.objects.filter(run=run, index=chunk).first() if chunk is not None else None
    if stored is None:
        return []
    if run.project.is_spans:
        return _item_span_votes(run, stored.path, item_id)
    ids, matrix, _ = chunk_load(stored.path)
    position = int(np.searchsorted(ids, item_id))
    if position >= len(ids) or ids[position] != item_id:
        return []
    return [
        LfVote(name=str(column["name"]), kind=str(column["kind"]),
               vote=run.labels[int(value)] if int(value) != ABSTAIN else "")
        for column, value in zip(run.lf_versions, matrix[position].tolist(), strict=True)
    ]  # fmt: skip


def end_model_takes(*, run: LabelModelRun) -> tuple[bool, bool]:
    """Whether the run's delivered weak labels take the end model's answers for the items no LF covers, and
    for the covered ones (each where held-out gold showed that it beats the aggregator there; see
    weak_supervision.services.end_model)."""
    entry = (run.metrics or {}).get("end_model") or {}
    if entry.get("status") != EndModelStatus.SUCCEEDED:
        return False, False
    return bool(entry.get("fills_uncovered")), bool(entry.get("overrides_covered"))


def end_model_probabilities_get(
    *, run: LabelModelRun, delivered: bool = False
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]] | None:
    """The end model's probabilities for every item of the run (ids sorted), or None when it has none. With
    `delivered`, those the delivered weak labels take where the end model answers: its own, or its product
    with the aggregator's where the two answer together (see weak_supervision.services.end_model)."""
    entry = (run.metrics or {}).get("end_model") or {}
    if entry.get("status") != EndModelStatus.SUCCEEDED:
        return None
    with default_storage.open(entry["path"], "rb") as handle, np.load(io.BytesIO(handle.read())) as stored:
        key = "delivered" if delivered and "delivered" in stored.files else "probabilities"
        return stored["ids"], stored[key]


@dataclass(frozen=True)
class AggregatorRow:
    """One candidate aggregator of a run, as the run page lists it."""

    name: str
    chosen: bool
    heldout: float | None  # its held-out score, the one the choice read
    splits: dict[str, dict[str, Any]]  # split -> its scores on that split's truth labels
    skipped: str  # why it was not fitted ("" when it was)


def run_aggregator_rows(*, run: LabelModelRun) -> list[AggregatorRow]:
    """Every candidate aggregator with its held-out score and its scores per split (simplest first)."""
    aggregator = (run.metrics or {}).get("aggregator")
    if not isinstance(aggregator, dict):
        return []
    splits = (run.metrics or {}).get("splits") or {}
    known = (
        SPAN_AGGREGATOR_NAMES
        if run.project.is_spans
        else MULTI_LABEL_AGGREGATOR_NAMES
        if run.project.multi_label
        else AGGREGATOR_NAMES
    )
    names = list(known) + [
        name for split in splits.values() for name in (split.get("aggregators") or {}) if name not in known
    ]
    rows = []
    for name in dict.fromkeys(names):
        per_split = {split: entry["aggregators"][name] for split, entry in splits.items()
                     if name in (entry.get("aggregators") or {})}  # fmt: skip
        skipped = (aggregator.get("skipped") or {}).get(name, "")
        if not per_split and not skipped and name not in (aggregator.get("scores") or {}):
            continue
        rows.append(AggregatorRow(name=name, chosen=name == aggregator.get("name"),
                                  heldout=(aggregator.get("scores") or {}).get(name), splits=per_split,
                                  skipped=skipped))  # fmt: skip
    return rows


# --- span projects ------------------------------------------------------------------------------------------
SpanKey = tuple[int, int, str]  # start, end, entity type key


def _span_keys(spans: Any) -> list[SpanKey]:
    return [(int(span["start"]), int(span["end"]), str(span["label"])) for span in spans or []]


def span_gold_usable(*, project: Project) -> dict[int, list[SpanKey]]:
    """Item id to its gold spans (GoldLabel.spans; [] = "no entities"), outside the test split: what may fit
    and choose a span aggregator. Never evaluation-only spans, never the test split's."""
    rows = (
        GoldLabel.objects.filter(project=project)
        .exclude(item__split=Split.TEST)
        .values_list("item_id", "spans")
        .iterator(chunk_size=5000)
    )
    return {item_id: _span_keys(spans) for item_id, spans in rows}


def span_truth(*, project: Project) -> dict[int, list[SpanKey]]:
    """Item id to its true spans, what scores: gold spans, and evaluation-only spans in their items' place."""
    found = {
        item_id: _span_keys(spans)
        for item_id, spans in GoldLabel.objects.filter(project=project)
        .values_list("item_id", "spans")
        .iterator(chunk_size=5000)
    }
    rows = EvaluationLabel.objects.filter(project=project).values_list("item_id", "spans")
    for item_id, spans in rows.iterator(chunk_size=5000):
        found[item_id] = _span_keys(spans)
    return found


@dataclass
class SpanChunk:
    ids: npt.NDArray[np.int64]
    token_counts: npt.NDArray[np.int64]
    offsets: npt.NDArray[np.int32]
    votes: npt.NDArray[np.int8]
    split_codes: npt.NDArray[np.uint8]
    split_names: list[str]


ERROR_CHUNKS_MISSING = "Chunks {missing} of the run have no votes; run it again."


def run_chunks_complete(run: LabelModelRun) -> list[RunChunk]:
    """The run's chunks in order; ValidationError naming those that have no votes yet."""
    chunks = list(RunChunk.objects.filter(run=run).order_by("index"))
    missing = sorted(set(range(len(run.chunks))) - {chunk.index for chunk in chunks})
    if missing:
        raise ValidationError(
            ERROR_CHUNKS_MISSING.format(missing=", ".join(map(str, missing))), code="chunks"
        )
    return chunks


def span_chunk_load(path: str) -> SpanChunk:
    with default_storage.open(path, "rb") as handle, np.load(io.BytesIO(handle.read())) as stored:
        shape = tuple(int(n) for n in stored["shape"])
        votes = sparse.csr_matrix((stored["data"], stored["indices"], stored["indptr"]), shape=shape)
        return SpanChunk(
            ids=stored["ids"].astype(np.int64),
            token_counts=stored["token_counts"].astype(np.int64),
            offsets=stored["token_offsets"].astype(np.int32).reshape(-1, 2),
            votes=votes.toarray().astype(np.int8),
            split_codes=stored["split_codes"].astype(np.uint8),
            split_names=[str(name) for name in stored["split_names"]],
        )


def run_span_answers(
    *, run: LabelModelRun
) -> tuple[npt.NDArray[np.int64], list[list[SpanKey]], npt.NDArray[np.float32], npt.NDArray[np.bool_]] | None:
    """A finished span run's item ids, weak spans (start, end, type) per item, confidence and coverage, from
    its answer file; None for a run without one."""
    if not run.probabilities_path:
        return None
    with (
        default_storage.open(run.probabilities_path, "rb") as handle,
        np.load(io.BytesIO(handle.read())) as stored,
    ):
        if "tags" not in stored.files:
            return None
        counts = stored["token_counts"].astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)])
        offsets, tags = stored["token_offsets"], stored["tags"]
        spans = []
        for item in range(len(counts)):
            item_offsets = [(int(s), int(e)) for s, e in offsets[starts[item] : starts[item + 1]].tolist()]
            spans.append(codes_to_spans(tags[starts[item] : starts[item + 1]], item_offsets, run.labels))
        return stored["ids"], spans, stored["confidence"], stored["covered"]


def _item_span_votes(run: LabelModelRun, path: str, item_id: int) -> list[LfVote]:
    """A span run's LFs on one item: each LF's `vote` is the types it marks there, comma-separated."""
    chunk = span_chunk_load(path)
    position = int(np.searchsorted(chunk.ids, item_id))
    if position >= len(chunk.ids) or chunk.ids[position] != item_id:
        return []
    first = int(chunk.token_counts[:position].sum())
    tags = chunk.votes[first : first + int(chunk.token_counts[position])]
    return [
        LfVote(name=str(column["name"]), kind=str(column["kind"]), vote=", ".join(
            sorted({run.labels[(int(code) - 1) // 2] for code in np.unique(tags[:, index]).tolist() if code}))
        )
        for index, column in enumerate(run.lf_versions)
    ]  # fmt: skip


def _segments(text: str, spans: list[tuple[int, int, str]]) -> list[dict[str, str]]:
    """The text cut into plain and marked pieces (spans leftmost, non-overlapping), for highlighting."""
    pieces, position = [], 0
    for start, end, kind in sorted(spans):
        if start < position:
            continue
        if start > position:
            pieces.append({"text": text[position:start], "label": ""})
        pieces.append({"text": text[start:end], "label": kind})
        position = end
    if position < len(text):
        pieces.append({"text": text[position:], "label": ""})
    return pieces


def span_labeling_function_preview(
    *, project: Project, kind: str, spec: dict[str, Any], label: str
) -> dict[str, Any]:
    """How a span LF marks a sample of the project: the share of items it marks, its spans, their exact-match
    precision on the sample's usable gold spans, and the first matching items with the spans highlighted."""
    labels = list(project.labels.values_list("key", flat=True))
    sample = preview_sample(project)
    texts = [row.text for row in sample]
    if kind == LabelingFunctionKind.PYTHON:
        result = python_spans(
            code=python_code_validate(str(spec.get("code") or "")),
            labels=labels,
            texts=texts,
            metadata=[row.metadata or {} for row in sample],
        )
        if result.spans is None:
            failing = (
                sample[result.item_index].external_id if result.item_index is not None and sample else None
            )
            return {"error": result.error, "failing_item": failing, "sample_size": len(sample)}
        marks = [[(s, e, labels[t]) for s, e, t in spans] for spans in result.spans]
        normalised = spec
    else:
        if label not in labels:
            raise ValidationError(
                ERROR_UNKNOWN_LABEL.format(label=label, labels=", ".join(labels)), code="label"
            )
        rule = span_rule_compile(kind, spec, label)
        marks, normalised = span_rules_spans([rule], texts)[0], rule.spec
    gold = span_gold_usable(project=project)  # LF development reads usable gold only
    judged = [(set(spans), set(gold[row.item_id])) for row, spans in zip(sample, marks, strict=True)
              if row.item_id in gold]  # fmt: skip
    marked = sum(len(spans) for spans, _ in judged)
    correct = sum(len(spans & truth) for spans, truth in judged)
    matched = [row for row, spans in enumerate(marks) if spans]
    n = len(sample) or 1
    return {
        "sample_size": len(sample),
        "matched": len(matched),
        "coverage": round(len(matched) / n, 4),
        "spans": sum(len(spans) for spans in marks),
        "gold_judged": len(judged),
        "gold_spans_marked": marked,
        "correct": correct,
        "incorrect": marked - correct,
        "empirical_accuracy": round(correct / marked, 4) if marked else None,
        "matches": [
            {
                "item_id": sample[row].item_id,
                "external_id": sample[row].external_id,
                "segments": _segments(texts[row], marks[row]),
                "spans": len(marks[row]),
            }
            for row in matched[:PREVIEW_MATCHES]
        ],
        "spec": normalised,
    }
