"""The rows of a span project's snapshot: each item's spans, chosen under the snapshot's label policy, with its
tokens.

Which spans an item takes, in this order:
1. its gold spans (GoldLabel.spans: adjudicated by a reviewer, or a known answer), under every policy;
2. its annotators' spans where they all marked exactly the same spans (same offsets and types; "no entities"
   counts as an answer): source `gold`, as unanimous item labels are;
3. where they differ, under `soft` only: the spans a strict majority of them marked exactly (more than half
   of the annotators; two such spans cannot overlap unless some annotator marked both), source `majority`,
   with the smallest share of annotators behind a kept span as the confidence (with no span kept, the share
   who marked none);
4. under `gold+weak` (at least `min_confidence` sure) and `soft`: the weak spans of the snapshot's label model
   run (ItemWeakLabel.spans, with its confidence), source `weak`.
Anything else leaves the item out. The `inferred` policy has no span form (a span project's request is refused
before it gets here). An item's tokens are those its import gave, else the platform tokenizer's
(core.spans.token_offsets_of).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.spans import SpanDict, TokenOffsets, spans_sorted, token_offsets_of
from datasets.choices import LabelPolicy, LabelSource
from datasets.selectors.columns import RowChunk
from labeling.choices import GoldSource
from labeling.models import Annotation, GoldLabel
from projects.models import Item, Project
from weak_supervision.models import ItemWeakLabel, LabelModelRun

# Items per chunk: their texts, tokens and spans, and one query each for gold, answers and weak spans.
SPAN_ROW_CHUNK = 5_000
SpanKey = tuple[int, int, str]


@dataclass
class SpanRowChunk(RowChunk):
    """A chunk of span rows: the item columns of RowChunk (`labels`: the types present; `soft_label` empty),
    and per row its spans (text order) and token offsets."""

    spans: list[list[SpanDict]] = field(default_factory=list)
    token_offsets: list[TokenOffsets] = field(default_factory=list)


@dataclass(frozen=True)
class SpanRowSpec:
    policy: str
    min_confidence: float
    label_keys: list[str]
    run: LabelModelRun | None


@dataclass(frozen=True)
class _Decided:
    spans: list[SpanDict]
    source: str
    confidence: float
    agreement: float | None


def span_snapshot_rows(
    *, project: Project, spec: SpanRowSpec, chunk_size: int = SPAN_ROW_CHUNK
) -> Iterator[SpanRowChunk]:
    """Every row the span snapshot holds, in item id order, a chunk at a time (split as stored)."""
    last_id = 0
    while True:
        items = list(
            Item.objects.filter(project=project, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "external_id", "text", "metadata", "split", "token_offsets")[:chunk_size]
        )
        if not items:
            return
        last_id = items[-1][0]
        ids = [item[0] for item in items]
        gold = {
            item_id: (spans or [], source)
            for item_id, spans, source in GoldLabel.objects.filter(item_id__in=ids).values_list(
                "item_id", "spans", "source"
            )
        }
        answers: dict[int, list[list[SpanDict]]] = {}
        for item_id, spans in Annotation.objects.filter(project=project, item_id__in=ids).values_list(
            "item_id", "spans"
        ):
            answers.setdefault(item_id, []).append(spans or [])
        weak = _weak(project, spec, ids)
        chunk = SpanRowChunk()
        for item_id, external_id, text, metadata, split, stored in items:
            decided = _decide(spec, gold.get(item_id), answers.get(item_id, []), weak.get(item_id))
            if decided is None:
                continue
            _append(chunk, spec, (item_id, external_id, text, metadata, split), stored, decided,
                    len(answers.get(item_id, [])))  # fmt: skip
        if len(chunk):
            yield chunk


def _weak(project: Project, spec: SpanRowSpec, ids: list[int]) -> dict[int, tuple[list[SpanDict], float]]:
    if spec.run is None or spec.policy not in (LabelPolicy.GOLD_WEAK, LabelPolicy.SOFT):
        return {}
    rows = ItemWeakLabel.objects.filter(project=project, run=spec.run, item_id__in=ids)
    return {item_id: (spans or [], float(confidence))
            for item_id, spans, confidence in rows.values_list("item_id", "spans", "confidence")}  # fmt: skip


def _key(spans: list[SpanDict]) -> frozenset[SpanKey]:
    return frozenset((int(span["start"]), int(span["end"]), str(span["label"])) for span in spans)


def _decide(
    spec: SpanRowSpec,
    gold: tuple[list[SpanDict], str] | None,
    answers: list[list[SpanDict]],
    weak: tuple[list[SpanDict], float] | None,
) -> _Decided | None:
    keys = [_key(spans) for spans in answers]
    if gold is not None:
        spans, source = gold
        origin = LabelSource.ADJUDICATED if source == GoldSource.ADJUDICATED else LabelSource.GOLD
        return _Decided(spans, origin, 1.0, _agreement(keys, _key(spans)))
    if answers and all(key == keys[0] for key in keys):
        return _Decided(answers[0], LabelSource.GOLD, 1.0, 1.0)
    if answers and spec.policy == LabelPolicy.SOFT:
        return _majority(answers, keys)
    if weak is None or spec.policy == LabelPolicy.GOLD:
        return None
    spans, confidence = weak
    if spec.policy == LabelPolicy.GOLD_WEAK and confidence < spec.min_confidence:
        return None
    return _Decided(spans, LabelSource.WEAK, round(confidence, 6), _agreement(keys, _key(spans)))


def _majority(answers: list[list[SpanDict]], keys: list[frozenset[SpanKey]]) -> _Decided:
    """The spans more than half of the annotators marked exactly (see the module)."""
    votes: Counter[SpanKey] = Counter(key for answer in keys for key in answer)
    needed = len(answers) // 2 + 1
    kept = {key for key, count in votes.items() if count >= needed}
    by_key = {(span["start"], span["end"], span["label"]): span for answer in answers for span in answer}
    spans = spans_sorted([by_key[key] for key in kept])
    if kept:
        confidence = min(votes[key] for key in kept) / len(answers)
    else:
        confidence = sum(1 for key in keys if not key) / len(answers)
    return _Decided(spans, LabelSource.MAJORITY, round(confidence, 6), _agreement(keys, frozenset(kept)))


def _agreement(keys: list[frozenset[SpanKey]], decided: frozenset[SpanKey]) -> float | None:
    """The share of annotators whose spans are exactly the row's (None when nobody answered)."""
    if not keys:
        return None
    return round(sum(1 for key in keys if key == decided) / len(keys), 6)


def _append(
    chunk: SpanRowChunk, spec: SpanRowSpec, item: tuple[int, str, str, object, str], stored: object,
    decided: _Decided, n_annotators: int,
) -> None:  # fmt: skip
    item_id, external_id, text, metadata, split = item
    present = {span["label"] for span in decided.spans}
    types = [key for key in spec.label_keys if key in present]
    chunk.item_id.append(item_id)
    chunk.external_id.append(external_id)
    chunk.text.append(text)
    chunk.metadata.append(json.dumps(metadata or {}, ensure_ascii=False, sort_keys=True))
    chunk.label.append("|".join(types))
    chunk.labels.append(types)
    chunk.label_source.append(str(decided.source))
    chunk.soft_label.append([])
    chunk.confidence.append(float(decided.confidence))
    chunk.n_annotators.append(n_annotators)
    chunk.agreement.append(decided.agreement)
    chunk.split.append(split)
    chunk.spans.append(spans_sorted(decided.spans))
    chunk.token_offsets.append(token_offsets_of(text, stored if isinstance(stored, list) else None))
