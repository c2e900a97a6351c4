"""Retraining a span project: the token classifier (active_learning.tagger) fitted on the usable gold spans,
the open items tagged in chunks that any worker can take, the queue ordered by the tagger's doubt, and its
predicted spans stored on the items at the queue's front (Item.suggested_spans).

The same LearnerModel lifecycle and the same tasks as item projects (active_learning.services.training
hands a span project's steps to the functions here): a model's `chunks` are ranges of open item ids
([first, last], SPAN_CHUNK_ITEMS items each) instead of feature blocks, and no feature cache is built (token
features are hashed as they are read, faster than reading them back). How a strategy orders a span
project's pool is `active_learning.span_evaluation`'s policy, shared with the simulator.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from active_learning.audit import AUDIT_SHARE, AUDIT_STRATUM, audit_draw, batch_compose, batch_sizes
from active_learning.choices import ModelStatus
from active_learning.models import LearnerModel, LearnerSettings, ScoreChunk
from active_learning.selectors import model_payload_load, span_texts_get, span_training_set_get
from active_learning.span_evaluation import ADAPTIVE, RANDOM, span_policy, span_scores
from active_learning.tagger import Tagged, Tagger, tagger_fit, tagger_predict
from core.spans import SpanDict
from core.storage import storage_write
from features.classifiers import hash_uniform
from projects.models import Item, Project

# Items tagged per scoring chunk: about 125,000 tokens of 25-token sentences, a few seconds of hashing and
# decoding on one core; a million-item pool is 200 chunks for the workers to share.
SPAN_CHUNK_ITEMS = 5000
# Rows one suggestion write updates (as training.PRIORITY_BATCH: the queue skips locked rows).
SUGGESTION_BATCH = 100
# Open items one retrain tags at most: a fresh random draw of the pool each retrain (the draw is keyed by the
# model's number), the most doubtful of which lead the queue. Tagging costs about 0.8 ms of CPU per
# 12-token item on this machine (hashing token features in Python, then Viterbi): 2,000 items keep a retrain
# near 2 s however large the project, where tagging every open item took 8 s at 10,000 items and would take
# over 10 minutes at a million, while analysts wait on the same two cores. Pool subsampling is the usual
# way uncertainty sampling scales (a batch of 50 from 2,000 candidates keeps nearly all of its gain).
SPAN_POOL_ITEMS = 2000


def span_chunks_plan(*, project: Project, number: int = 0) -> list[list[float]]:
    """The open items' ids cut into [first, last, sampled share, draw key] ranges of SPAN_CHUNK_ITEMS items,
    one scoring chunk each; a chunk tags only its items in the retrain's draw of SPAN_POOL_ITEMS."""
    ids = list(
        Item.objects.filter(project=project, remaining__gt=0)
        .order_by("pk")
        .values_list("pk", flat=True)
        .iterator(chunk_size=20_000)
    )
    share = min(1.0, SPAN_POOL_ITEMS / len(ids)) if ids else 1.0
    starts = range(0, len(ids), SPAN_CHUNK_ITEMS)
    return [[ids[start], ids[min(start + SPAN_CHUNK_ITEMS, len(ids)) - 1], share, number] for start in starts]


def _pool_draw(ids: npt.NDArray[np.int64], chunk: list[Any], project_id: int) -> npt.NDArray[np.int64]:
    """The chunk's items in the retrain's draw (all of them where the pool is small)."""
    share = float(chunk[2]) if len(chunk) > 2 else 1.0
    if share >= 1.0:
        return ids
    draw = hash_uniform(ids, f"span-pool:{project_id}:{chunk[3]}")
    return ids[draw < share]


def span_model_train(*, model: LearnerModel, path: str) -> LearnerModel:
    """Fits the tagger on the usable gold spans, measures it on the held-out items' known spans (exact-match
    micro span F1), stores it at `path` and plans the scoring chunks."""
    started = time.perf_counter()
    LearnerModel.objects.filter(pk=model.pk).update(status=ModelStatus.TRAINING)
    data = span_training_set_get(project=model.project)
    tagger = tagger_fit(data.train.texts, data.train.spans, model.labels, seed=model.number)
    metrics: dict[str, Any] = {}
    if tagger is not None and len(data.heldout.ids):
        predicted = [tagged.spans for tagged in tagger_predict(tagger, data.heldout.texts)]
        metrics = span_scores(data.heldout.spans, predicted)
    payload = {"tagger": tagger, "labels": model.labels, "labeled_ids": data.labeled_ids, "kind": "spans"}
    buffer = io.BytesIO()
    joblib.dump(payload, buffer)
    storage_write(path, buffer.getvalue())
    LearnerModel.objects.filter(pk=model.pk).update(
        status=ModelStatus.SCORING, path=path, metrics=metrics, n_labels=len(data.train.ids), n_weak=0,
        chunks=span_chunks_plan(project=model.project, number=model.number),
        seconds={"train": round(time.perf_counter() - started, 3)},
    )  # fmt: skip
    model.refresh_from_db()
    return model


@dataclass
class SpanCandidates:
    """A chunk's best items (or every chunk's): ids, scores (higher first), which are audit draws (their
    score is 1 - their draw), and the tagger's spans and confidence for each (empty before a tagger)."""

    ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]
    audit: npt.NDArray[np.bool_]
    spans: list[list[SpanDict]]
    confidence: list[float]

    def rows(self, rows: npt.NDArray[np.int64]) -> SpanCandidates:
        picked = rows.tolist()
        return SpanCandidates(
            self.ids[rows], self.scores[rows], self.audit[rows], [self.spans[r] for r in picked] if self.spans else [],
            [self.confidence[r] for r in picked] if self.confidence else [],
        )  # fmt: skip


def _empty() -> SpanCandidates:
    return SpanCandidates(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, dtype=bool), [], [])


def _chunk_candidates(
    model: LearnerModel, tagger: Tagger | None, ids: npt.NDArray[np.int64], texts: list[Any], keep: int, draws: int
) -> SpanCandidates:  # fmt: skip
    """A chunk's open items ranked by the policy, cut to `keep`, and for the adaptive policy the chunk's
    first `draws` audit draws."""
    tagged: list[Tagged] = tagger_predict(tagger, texts) if tagger is not None else []
    policy = span_policy(model.strategy)
    if policy == RANDOM or not tagged:
        scores = hash_uniform(ids, f"spans:{model.project_id}:{model.number}")
    else:
        scores = np.asarray([result.uncertainty for result in tagged], dtype=np.float64)
    found = SpanCandidates(ids, scores, np.zeros(len(ids), dtype=bool), [result.spans for result in tagged],
                           [result.confidence for result in tagged])  # fmt: skip
    stratum = np.zeros(len(ids), dtype=bool)
    draw = audit_draw(ids, model.project_id)
    if policy == ADAPTIVE:
        stratum = draw < AUDIT_STRATUM
    others = np.flatnonzero(~stratum)
    top = others[np.argsort(-scores[others], kind="stable")[:keep]]
    audit = np.flatnonzero(stratum)
    audit = audit[np.argsort(draw[audit], kind="stable")[:draws]]
    found.scores[audit] = 1.0 - draw[audit]
    found.audit[audit] = True
    return found.rows(np.concatenate([top, audit]).astype(np.int64))


def span_chunk_compute(*, model: LearnerModel, index: int, path: str, keep: int, draws: int) -> ScoreChunk:
    """Tags one chunk's open items that have no usable gold spans and keeps its best candidates (`keep`
    ranked ones, `draws` audit draws) in a file at `path`. Idempotent."""
    done = ScoreChunk.objects.filter(model=model, index=index).first()
    if done is not None:
        return done
    started = time.perf_counter()
    payload = model_payload_load(model.path)
    first, last = model.chunks[index][:2]
    open_ids = Item.objects.filter(project=model.project, pk__gte=first, pk__lte=last, remaining__gt=0)
    ids = np.fromiter(open_ids.values_list("pk", flat=True), dtype=np.int64)
    ids = _pool_draw(
        np.sort(ids[~np.isin(ids, payload["labeled_ids"])]), model.chunks[index], model.project_id
    )
    candidates = _empty()
    if len(ids):
        texts = span_texts_get(project=model.project, item_ids=ids.tolist())
        candidates = _chunk_candidates(
            model, payload["tagger"], ids, [texts[i] for i in ids.tolist()], keep, draws
        )
    buffer = io.BytesIO()
    joblib.dump(candidates.__dict__, buffer)
    storage_write(path, buffer.getvalue())
    chunk, _ = ScoreChunk.objects.get_or_create(
        model=model,
        index=index,
        defaults={"path": path, "rows": len(ids), "seconds": time.perf_counter() - started},
    )
    return chunk


def _chunks_load(model: LearnerModel) -> tuple[SpanCandidates, int]:
    chunks = list(ScoreChunk.objects.filter(model=model).order_by("index"))
    missing = sorted(set(range(len(model.chunks))) - {chunk.index for chunk in chunks})
    if missing:
        raise ValidationError(f"Chunks {missing} of model {model.number} were not scored.", code="chunks")
    found = _empty()
    for chunk in chunks:
        with default_storage.open(chunk.path, "rb") as handle:
            part = SpanCandidates(**joblib.load(io.BytesIO(handle.read())))
        found = SpanCandidates(
            np.concatenate([found.ids, part.ids]), np.concatenate([found.scores, part.scores]),
            np.concatenate([found.audit, part.audit]), found.spans + part.spans, found.confidence + part.confidence,
        )  # fmt: skip
    return found, sum(chunk.rows for chunk in chunks)


def span_order(*, model: LearnerModel, settings: LearnerSettings, window: int) -> tuple[SpanCandidates, int]:
    """The queue's new front, first to last, from every chunk's candidates: the batch (for the adaptive
    policy with its audit share spread through it), the rest of the window by score, then the next audit
    draws; and the open items tagged in all."""
    found, pool = _chunks_load(model)
    ranked = np.flatnonzero(~found.audit)
    ranked = ranked[np.argsort(-found.scores[ranked], kind="stable")][:window]
    if span_policy(model.strategy) != ADAPTIVE:
        return found.rows(ranked), pool
    audit = np.flatnonzero(found.audit)
    audit = audit[np.argsort(-found.scores[audit], kind="stable")]
    n_audit, n_chosen = batch_sizes(settings.batch_size, 1.0 - AUDIT_SHARE, len(audit), len(ranked))
    batch = batch_compose(ranked[:n_chosen], audit[:n_audit])
    rest = np.concatenate([ranked[n_chosen:], audit[n_audit : settings.batch_size]]).astype(np.int64)
    return found.rows(np.concatenate([batch, rest]).astype(np.int64)), pool


def span_suggestions_write(*, model: LearnerModel, found: SpanCandidates) -> int:
    """Stores the tagger's spans (and its confidence in them) on these items, in small batches; the item's
    suggested label stays empty (a span project's answer is its spans)."""
    if not found.spans:
        return 0
    items = [
        Item(pk=int(item), suggested_spans=spans, suggested_confidence=round(float(confidence), 4),
             suggested_by=model.number)
        for item, spans, confidence in zip(found.ids.tolist(), found.spans, found.confidence, strict=True)
    ]  # fmt: skip
    for start in range(0, len(items), SUGGESTION_BATCH):
        Item.objects.bulk_update(
            items[start : start + SUGGESTION_BATCH],
            ["suggested_spans", "suggested_confidence", "suggested_by"],
        )
    return len(items)


def span_suggestions_refresh(*, model: LearnerModel, front: list[int]) -> int:
    """Suggestions were turned on: the model tags these items (the queue's front) now."""
    payload = model_payload_load(model.path)
    tagger = payload["tagger"]
    if tagger is None or not front:
        return 0
    texts = span_texts_get(project=model.project, item_ids=front)
    ids = np.asarray(sorted(texts), dtype=np.int64)
    tagged = tagger_predict(tagger, [texts[i] for i in ids.tolist()])
    found = SpanCandidates(ids, np.zeros(len(ids)), np.zeros(len(ids), dtype=bool),
                           [result.spans for result in tagged], [result.confidence for result in tagged])  # fmt: skip
    return span_suggestions_write(model=model, found=found)
