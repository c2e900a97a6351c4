"""Runs of span projects: every LF's spans per item as BIO tags over the item's tokens, aggregated into weak
spans (weak_supervision.span_aggregation), scored with exact-match span precision, recall and F1.

The steps are those of an item run (weak_supervision.services.runs), which hands span projects here:
`span_chunk_apply` marks one chunk's items with every LF and stores their tags per token (a sparse file with
the tokens' offsets, so the finish step never reads the items' texts); `span_run_finish` stacks the chunks,
chooses an aggregator on held-out usable gold spans, scores every aggregator and the delivered one on each
split's truth (gold spans, and evaluation-only spans in their items' place), and stores the run's answer file:
the standard keys (`ids`, `probabilities`: per item and type the highest token posterior of the type,
`covered`) that every reader of a run takes, and the tags per token with the tokens' offsets, from which
`run_span_answers` decodes the weak spans. Span runs train no end model (it classifies whole items) and send no
items to review by confidence; `confidence` is the mean posterior of the delivered tags over the tokens some
LF tagged (span_aggregation.item_confidence).
"""

from __future__ import annotations

import io
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.utils import timezone
from scipy import sparse

from core.jobs import enqueue_on_commit
from core.spans import SpanDict, TokenOffsets, token_offsets_of
from core.storage import storage_write
from projects.models import Item
from weak_supervision import tasks
from weak_supervision.choices import EndModelStatus, LabelingFunctionKind, RunStatus
from weak_supervision.models import ExternalSpanVote, LabelModelRun, RunChunk
from weak_supervision.sandbox import python_spans
from weak_supervision.selectors import run_chunks_complete, span_chunk_load, span_gold_usable, span_truth
from weak_supervision.services.guardrails import BELOW_MAJORITY_VOTE, LABELS_WITHOUT_LFS, MARGIN, MIN_SCORED
from weak_supervision.services.lf_analysis import split_labels_reported
from weak_supervision.span_aggregation import (
    SpanGold,
    SpanKey,
    TokenAnswer,
    TokenVotes,
    item_confidence,
    item_spans,
    span_aggregator_select,
    span_scores,
    spans_to_codes,
    type_probabilities,
)
from weak_supervision.span_functions import Span, span_rule_compile, span_rules_spans

READ_BATCH = 5_000
END_MODEL_SKIPPED = "span projects train no end model (it classifies whole items)"


def span_chunk_path(run: LabelModelRun, index: int) -> str:
    return f"weak_supervision/runs/{run.project_id}/{run.pk}/spans-{index:05d}.npz"


@dataclass
class SpanChunkItems:
    ids: list[int]
    texts: list[str]
    splits: list[str]
    metadata: list[dict[str, Any]]
    offsets: list[TokenOffsets]


def _chunk_items(run: LabelModelRun, index: int) -> SpanChunkItems:
    first, last = run.chunks[index]
    rows = (
        Item.objects.filter(project_id=run.project_id, id__gte=first, id__lte=last)
        .order_by("id")
        .values_list("id", "text", "split", "metadata", "token_offsets")
    )
    items = SpanChunkItems([], [], [], [], [])
    for item_id, text, split, metadata, offsets in rows.iterator(chunk_size=READ_BATCH):
        items.ids.append(item_id)
        items.texts.append(text)
        items.splits.append(split)
        items.metadata.append(metadata or {})
        items.offsets.append(token_offsets_of(text, offsets))
    return items


def _external_spans(column: dict[str, Any], items: SpanChunkItems, types: set[str]) -> list[list[Span]]:
    position = {item_id: row for row, item_id in enumerate(items.ids)}
    spans: list[list[Span]] = [[] for _ in items.ids]
    if not items.ids:
        return spans
    found = ExternalSpanVote.objects.filter(
        labeling_function_id=column["lf"], item_id__gte=items.ids[0], item_id__lte=items.ids[-1]
    ).values_list("item_id", "spans")
    for item_id, stored in found.iterator(chunk_size=READ_BATCH):
        if item_id in position:
            spans[position[item_id]] = [
                (int(span["start"]), int(span["end"]), str(span["label"]))
                for span in stored or []
                if str(span["label"]) in types
            ]
    return spans


def span_chunk_marks(
    run: LabelModelRun, items: SpanChunkItems
) -> tuple[list[list[list[Span]]], dict[str, dict[str, Any]]]:
    """Per LF column, per item, the spans it marks; and the Python LFs that failed (they mark nothing)."""
    types = list(run.labels)
    marks: list[list[list[Span]]] = [[[] for _ in items.ids] for _ in run.lf_versions]
    errors: dict[str, dict[str, Any]] = {}
    rule_columns = []
    for column, lf in enumerate(run.lf_versions):
        if lf["kind"] in (LabelingFunctionKind.KEYWORD, LabelingFunctionKind.REGEX):
            rule_columns.append(column)
        elif lf["kind"] == LabelingFunctionKind.EXTERNAL:
            marks[column] = _external_spans(lf, items, set(types))
        elif lf["kind"] == LabelingFunctionKind.PYTHON:
            result = python_spans(
                code=lf["spec"]["code"], labels=types, texts=items.texts, metadata=items.metadata
            )
            if result.spans is None:
                failing = (
                    items.ids[result.item_index] if result.item_index is not None and items.ids else None
                )
                errors[str(lf["lf"])] = {"name": lf["name"], "error": result.error, "item_id": failing}
            else:
                marks[column] = [[(s, e, types[t]) for s, e, t in spans] for spans in result.spans]
    if rule_columns:
        rules = [
            span_rule_compile(
                run.lf_versions[c]["kind"], run.lf_versions[c]["spec"], run.lf_versions[c]["label"]
            )
            for c in rule_columns
        ]
        for column, spans in zip(rule_columns, span_rules_spans(rules, items.texts), strict=True):
            marks[column] = spans
    return marks, errors


def _as_dicts(spans: Sequence[Span]) -> list[SpanDict]:
    return [{"start": s, "end": e, "label": kind, "text": ""} for s, e, kind in spans]


def span_chunk_apply(*, run: LabelModelRun, index: int) -> RunChunk:
    """Computes and stores one chunk's tags per token and LF. Idempotent: a chunk already recorded stays."""
    done = RunChunk.objects.filter(run=run, index=index).first()
    if done is not None:
        return done
    started = time.perf_counter()
    items = _chunk_items(run, index)
    marks, errors = span_chunk_marks(run, items)
    type_index = {key: position for position, key in enumerate(run.labels)}
    counts = np.asarray([len(offsets) for offsets in items.offsets], dtype=np.int64)
    votes = np.zeros((int(counts.sum()), len(run.lf_versions)), dtype=np.int8)
    starts = np.concatenate([[0], np.cumsum(counts)])
    for column, per_item in enumerate(marks):
        for row, spans in enumerate(per_item):
            if spans:
                votes[starts[row] : starts[row + 1], column] = spans_to_codes(
                    items.offsets[row], _as_dicts(spans), type_index
                )
    offsets = np.asarray([pair for item in items.offsets for pair in item], dtype=np.int32).reshape(-1, 2)
    path = span_chunk_path(run, index)
    storage_write(path, _chunk_bytes(items, counts, offsets, votes))
    tagged = votes != 0
    item_of = np.repeat(np.arange(len(items.ids)), counts)
    marked = np.zeros((len(items.ids), votes.shape[1]), dtype=bool)
    if len(item_of):
        np.logical_or.at(marked, item_of, tagged)
    analysis = {
        "rows": len(items.ids),
        "tokens": len(votes),
        "items_marked": marked.sum(axis=0).astype(np.int64).tolist(),
        "tokens_tagged": tagged.sum(axis=0).astype(np.int64).tolist(),
    }
    chunk, _ = RunChunk.objects.get_or_create(
        run=run,
        index=index,
        defaults={
            "path": path, "rows": len(items.ids), "seconds": time.perf_counter() - started, "errors": errors,
            "analysis": analysis,
        },
    )  # fmt: skip
    return chunk


def _chunk_bytes(
    items: SpanChunkItems,
    counts: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int32],
    votes: npt.NDArray[np.int8],
) -> bytes:
    """A chunk's tags as a sparse file (O, the vast majority, is the sparse zero), with each item's token
    count and the tokens' offsets, and the items' splits as codes into their names."""
    shifted = sparse.csr_matrix(votes)
    names, codes = np.unique(np.asarray(items.splits, dtype="U8"), return_inverse=True)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        ids=np.asarray(items.ids, dtype=np.int64),
        token_counts=counts.astype(np.int32),
        token_offsets=offsets,
        data=shifted.data,
        indices=shifted.indices.astype(np.int32),
        indptr=shifted.indptr.astype(np.int64),
        shape=np.asarray(votes.shape),
        split_names=names,
        split_codes=codes.astype(np.uint8),
    )
    return buffer.getvalue()


@dataclass
class SpanRunData:
    ids: npt.NDArray[np.int64]
    tokens: TokenVotes
    splits: npt.NDArray[np.str_]  # per item, the reported split name


def span_run_data(run: LabelModelRun) -> SpanRunData:
    """The whole run's items, tokens and tags, stacked from its chunk files."""
    chunks = run_chunks_complete(run)
    loaded = [span_chunk_load(chunk.path) for chunk in chunks]
    m, k = len(run.lf_versions), len(run.labels)
    names = split_labels_reported(sorted({name for chunk in loaded for name in chunk.split_names}))
    raw_names = sorted({name for chunk in loaded for name in chunk.split_names})
    splits = [np.asarray(names, dtype="U8")[[raw_names.index(chunk.split_names[c]) for c in chunk.split_codes]]
              if len(chunk.split_codes) else np.zeros(0, "U8") for chunk in loaded]  # fmt: skip
    counts = np.concatenate([chunk.token_counts for chunk in loaded]) if loaded else np.zeros(0, np.int64)
    tokens = TokenVotes(
        votes=np.vstack([chunk.votes for chunk in loaded]) if loaded else np.zeros((0, m), np.int8),
        offsets=np.vstack([chunk.offsets for chunk in loaded]) if loaded else np.zeros((0, 2), np.int32),
        starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        k=k,
    )
    ids = np.concatenate([chunk.ids for chunk in loaded]) if loaded else np.zeros(0, np.int64)
    return SpanRunData(ids=ids, tokens=tokens, splits=np.concatenate(splits) if splits else np.zeros(0, "U8"))


def _positions(ids: npt.NDArray[np.int64], found: dict[int, list[SpanKey]]) -> dict[int, list[SpanKey]]:
    """The same spans keyed by the items' positions in the run (items no longer in the run left out)."""
    position = {int(item_id): row for row, item_id in enumerate(ids.tolist())}
    return {position[item_id]: spans for item_id, spans in found.items() if item_id in position}


def _lf_analysis(
    run: LabelModelRun, data: SpanRunData, gold: dict[int, list[SpanKey]], errors: dict[str, Any]
) -> list[dict[str, Any]]:
    """Per LF: the types it marks, the share of items and of tokens it tags, overlaps (items where another LF
    tags too) and conflicts (tokens it tags that another LF tags otherwise, as a share of the items), and its
    spans' exact-match precision on usable gold items (correct / incorrect spans there)."""
    votes, tokens = data.tokens.votes, data.tokens
    n_items, n_tokens = max(tokens.n_items, 1), max(len(votes), 1)
    item_of = tokens.item_of_token()
    gold_items = sorted(gold)
    rows = []
    for column, lf in enumerate(run.lf_versions):
        mine = votes[:, column]
        tagged = mine != 0
        others = np.delete(votes, column, axis=1)
        other_tagged = (others != 0).any(axis=1) if others.shape[1] else np.zeros(len(votes), bool)
        clash = (
            tagged & ((others != 0) & (others != mine[:, None])).any(axis=1)
            if others.shape[1]
            else tagged & False
        )
        types = sorted({run.labels[(int(code) - 1) // 2] for code in np.unique(mine[tagged]).tolist()})
        predicted = item_spans(tokens, mine, run.labels, gold_items)
        correct = sum(len(set(p) & set(gold[i])) for p, i in zip(predicted, gold_items, strict=True))
        marked = sum(len(p) for p in predicted)
        rows.append({
            "lf": lf["lf"], "name": lf["name"], "kind": lf["kind"], "version": lf["version"], "polarity": types,
            "coverage": round(len(np.unique(item_of[tagged])) / n_items, 4),
            "token_coverage": round(int(tagged.sum()) / n_tokens, 4),
            "overlaps": round(len(np.unique(item_of[tagged & other_tagged])) / n_items, 4),
            "conflicts": round(len(np.unique(item_of[clash])) / n_items, 4),
            "correct": correct if gold_items else None, "incorrect": marked - correct if gold_items else None,
            "empirical_accuracy": round(correct / marked, 4) if marked else None,
            "failed": str(lf["lf"]) in errors,
        })  # fmt: skip
    return rows


def _split_metrics(
    run: LabelModelRun, data: SpanRunData, answers: dict[str, TokenAnswer], chosen: str,
    truth: dict[int, list[SpanKey]], usable: dict[int, list[SpanKey]], covered: npt.NDArray[np.bool_],
) -> dict[str, Any]:  # fmt: skip
    result: dict[str, Any] = {}
    for name in sorted(set(data.splits.tolist())):
        in_split = np.flatnonzero(data.splits == name)
        scored = [int(row) for row in in_split if int(row) in truth]
        entry: dict[str, Any] = {
            "n_items": len(in_split),
            "n_gold": len(scored),
            "n_usable_gold": sum(1 for row in in_split if int(row) in usable),
            "coverage": round(float(covered[in_split].mean()), 4) if len(in_split) else 0.0,
        }
        if scored:
            gold = [truth[row] for row in scored]
            entry["aggregators"] = {
                aggregator: span_scores(gold, item_spans(data.tokens, answer.tags, run.labels, scored))
                for aggregator, answer in answers.items()
            }
            entry["weak_label"] = entry["aggregators"][chosen]
            entry["majority_vote"] = entry["aggregators"]["majority_vote"]
        result[name] = entry
    return result


def span_run_warnings(
    metrics: dict[str, Any], labels: Sequence[str], analysis: Sequence[dict[str, Any]]
) -> list[dict[str, str]]:
    """The item runs' guardrails that apply to spans: types no LF marks, and delivered spans below majority
    vote's F1 on a split with enough scored items."""
    found = []
    marked = {kind for row in analysis if not row.get("failed") for kind in row.get("polarity", [])}
    silent = [label for label in labels if label not in marked]
    if silent and analysis:
        found.append({"code": LABELS_WITHOUT_LFS, "message": (
            f"No labeling function marks {', '.join(silent)}: the weak spans never give "
            f"{'it' if len(silent) == 1 else 'them'}. Write a labeling function for each, or mark them by hand."
        )})  # fmt: skip
    for split, entry in sorted((metrics.get("splits") or {}).items()):
        if entry.get("n_gold", 0) < MIN_SCORED or "weak_label" not in entry:
            continue
        delivered, vote = entry["weak_label"]["f1"], entry["majority_vote"]["f1"]
        if delivered < vote - MARGIN:
            found.append({"code": BELOW_MAJORITY_VOTE, "message": (
                f"On the {split} split's {entry['n_gold']} scored items the delivered weak spans score "
                f"{delivered:.3f} span F1, below majority vote's {vote:.3f}."
            )})  # fmt: skip
    return found


def span_answer_path(run: LabelModelRun) -> str:
    return f"weak_supervision/runs/{run.project_id}/{run.pk}/probabilities.npz"


def _answer_bytes(data: SpanRunData, answer: TokenAnswer) -> tuple[bytes, npt.NDArray[np.bool_]]:
    confidence, covered = item_confidence(data.tokens, answer)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        ids=data.ids,
        probabilities=type_probabilities(data.tokens, answer).astype(np.float32),
        covered=covered,
        confidence=confidence.astype(np.float32),
        token_counts=np.diff(data.tokens.starts).astype(np.int32),
        token_offsets=data.tokens.offsets,
        tags=answer.tags,
    )
    return buffer.getvalue(), covered


def span_run_finish(*, run: LabelModelRun) -> LabelModelRun:
    """Aggregates the run's tags into weak spans, chosen on held-out usable gold, and stores the metrics,
    the per-LF analysis and the answer file; the item browser's rows follow in their own task."""
    started = time.perf_counter()
    try:
        data = span_run_data(run)
        loaded = time.perf_counter()
        errors: dict[str, dict[str, Any]] = {}
        for errors_of_chunk in (
            RunChunk.objects.filter(run=run).order_by("index").values_list("errors", flat=True)
        ):
            for lf_id, error in (errors_of_chunk or {}).items():
                errors.setdefault(lf_id, error)
        for column, lf in enumerate(run.lf_versions):
            if str(lf["lf"]) in errors:  # an LF that failed anywhere is left out everywhere
                data.tokens.votes[:, column] = 0
        usable = _positions(data.ids, span_gold_usable(project=run.project))
        truth = _positions(data.ids, span_truth(project=run.project))
        selection = span_aggregator_select(
            tokens=data.tokens,
            types=run.labels,
            gold=SpanGold(usable),
            valid=data.splits == "valid",
            ids=data.ids,
        )
        delivered = selection.answers[selection.name]
        content, covered = _answer_bytes(data, delivered)
        analysis = _lf_analysis(run, data, usable, errors)
        spans = item_spans(data.tokens, delivered.tags, run.labels, range(data.tokens.n_items))
        metrics: dict[str, Any] = {
            "kind": "spans",
            "splits": _split_metrics(run, data, selection.answers, selection.name, truth, usable, covered),
            "aggregator": selection.to_json(),
            "coverage": round(float(covered.mean()), 4) if len(covered) else 0.0,
            "n_items": len(data.ids),
            "n_tokens": len(data.tokens.votes),
            "n_usable_gold": len(usable),
            "label_distribution": {
                label: sum(1 for item in spans for span in item if span[2] == label) for label in run.labels
            },
            "lf_errors": errors,
            "end_model": {"status": EndModelStatus.SKIPPED, "reason": END_MODEL_SKIPPED},
        }
        metrics["warnings"] = span_run_warnings(metrics, run.labels, analysis)
        computed = time.perf_counter()
        path = span_answer_path(run)
        storage_write(path, content)
        metrics["seconds"] = {
            "apply_chunks": round(sum(RunChunk.objects.filter(run=run).values_list("seconds", flat=True)), 2),
            "load_votes": round(loaded - started, 2),
            "fit_and_score": round(computed - loaded, 2),
            "write": round(time.perf_counter() - computed, 2),
        }
        with transaction.atomic():
            LabelModelRun.objects.filter(pk=run.pk).update(
                probabilities_path=path, status=RunStatus.SUCCEEDED, metrics=metrics, lf_analysis=analysis,
                error="", finished_at=timezone.now(),
            )  # fmt: skip
            enqueue_on_commit(tasks.run_outputs_store_task, run.pk)
    except Exception:
        LabelModelRun.objects.filter(pk=run.pk).exclude(status=RunStatus.SUCCEEDED).update(
            status=RunStatus.FAILED, error=traceback.format_exc()[-10_000:], finished_at=timezone.now()
        )
        raise
    run.refresh_from_db()
    return run
