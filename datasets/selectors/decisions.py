"""How each snapshot row gets its label: gold first, then the annotators' answers, then the weak labels (the
label model's, or the end model's where no LF voted), under the snapshot's label policy; under the `inferred`
policy, gold first and then truth inference's answer (datasets.selectors.inferred)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from datasets.choices import LabelPolicy, LabelSource
from datasets.selectors.inferred import InferenceSource, Inferred
from labeling.choices import GoldSource
from weak_supervision.models import LabelModelRun
from weak_supervision.selectors import end_model_probabilities_get, end_model_takes, run_probabilities_get


@dataclass(frozen=True)
class WeakArrays:
    ids: npt.NDArray[np.int64]
    probabilities: npt.NDArray[np.float32]
    covered: npt.NDArray[np.bool_]
    labels: list[str]  # the run's label order
    # What the run delivers where its end model answers (alone or with the aggregator; same rows as `ids`);
    # None when it has none or held-out gold did not show that it beats the aggregator anywhere.
    end_probabilities: npt.NDArray[np.float32] | None = None
    end_fills: bool = True  # the end model answers for the uncovered items
    end_overrides: bool = False  # ... and for the covered ones


def weak_arrays_get(*, run: LabelModelRun | None) -> WeakArrays | None:
    loaded = run_probabilities_get(run=run) if run is not None else None
    if run is None or loaded is None:
        return None
    ids, probabilities, covered = loaded
    # The end model's answers only where the run decided it beats the aggregator.
    fills, overrides = end_model_takes(run=run)
    end = end_model_probabilities_get(run=run, delivered=True) if fills or overrides else None
    end_probabilities = None
    if end is not None:
        end_ids, end_values = end
        if len(end_ids) == len(ids) and np.array_equal(end_ids, ids):
            end_probabilities = end_values
    return WeakArrays(ids=ids, probabilities=probabilities, covered=covered, labels=list(run.labels),
                      end_probabilities=end_probabilities, end_fills=fills, end_overrides=overrides)  # fmt: skip


@dataclass(frozen=True)
class RowSpec:
    """What a snapshot holds: the policy, its threshold, the schema's labels, the weak labels to use (and, under
    the `inferred` policy, the inference run whose answers to use)."""

    policy: str
    min_confidence: float
    label_keys: list[str]
    multi_label: bool
    weak: WeakArrays | None
    inference: InferenceSource | None = None


# An item's weak label: its probabilities in the schema's label order, and where they come from.
Weak = tuple[list[float], str]


def weak_rows(weak: WeakArrays | None, label_keys: Sequence[str], ids: list[int]) -> dict[int, Weak]:
    """Item id to its weak label for this chunk: the label model's where an LF voted, else the end model's
    where the run has one."""
    if weak is None or not ids or not len(weak.ids):
        return {}
    wanted = np.asarray(ids, dtype=np.int64)
    positions = np.minimum(np.searchsorted(weak.ids, wanted), len(weak.ids) - 1)
    present = weak.ids[positions] == wanted
    order = [weak.labels.index(key) if key in weak.labels else -1 for key in label_keys]
    result: dict[int, Weak] = {}
    covered = weak.covered[positions]
    end_rows = (covered & weak.end_overrides) | (~covered & weak.end_fills)
    if weak.end_probabilities is None:
        end_rows = np.zeros_like(covered)
    sources = [(weak.probabilities, covered & ~end_rows, str(LabelSource.WEAK))]
    if weak.end_probabilities is not None:
        sources.append((weak.end_probabilities, end_rows, str(LabelSource.END_MODEL)))
    for probabilities, chosen, source in sources:
        found = present & chosen
        for item_id, position in zip(wanted[found].tolist(), positions[found].tolist(), strict=True):
            row = probabilities[position]
            result[item_id] = ([float(round(float(row[j]), 6)) if j >= 0 else 0.0 for j in order], source)
    return result


def _votes(label_sets: list[tuple[str, ...]], label_keys: Sequence[str]) -> list[float]:
    """Soft label from annotators' answers: the share of them who gave each label (vote shares that sum to 1 in
    a single-label project; each label's own share in a multi-label one)."""
    counts = Counter(key for labels in label_sets for key in labels)
    return [round(counts[key] / len(label_sets), 6) for key in label_keys]


# An item's final labels, their source, the soft label and the confidence.
Decided = tuple[list[str], str, list[float], float]


def _decide(
    spec: RowSpec,
    gold: tuple[list[str], str] | None,
    human: list[tuple[str, ...]],
    weak_label: Weak | None,
    inferred: Inferred | None = None,
) -> Decided | None:
    """The final labels, their source, the soft label and the confidence of one item; None to leave it out."""
    keys = spec.label_keys
    if gold is not None:
        labels, source = gold
        soft = [1.0 if key in labels else 0.0 for key in keys]
        origin = LabelSource.ADJUDICATED if source == GoldSource.ADJUDICATED else LabelSource.GOLD
        return labels, origin, soft, 1.0
    if spec.policy == LabelPolicy.INFERRED:
        return _inferred(spec, inferred)
    if human:
        first = human[0]
        if all(answer == first for answer in human):
            labels = list(first)
            return labels, LabelSource.GOLD, [1.0 if key in labels else 0.0 for key in keys], 1.0
        if spec.policy == LabelPolicy.SOFT:
            soft = _votes(human, keys)
            top, count = Counter(human).most_common(1)[0]
            return list(top), LabelSource.MAJORITY, soft, round(count / len(human), 6)
    if weak_label is None or spec.policy == LabelPolicy.GOLD:
        return None
    weak, weak_source = weak_label
    if spec.multi_label:
        labels = [key for key, p in zip(keys, weak, strict=True) if p >= 0.5]
        confidence = min((max(p, 1 - p) for p in weak), default=0.0)
    else:
        best = int(np.argmax(weak))
        labels, confidence = [keys[best]], weak[best]
    if spec.policy == LabelPolicy.GOLD_WEAK and confidence < spec.min_confidence:
        return None
    return labels, weak_source, weak, round(float(confidence), 6)


def _inferred(spec: RowSpec, inferred: Inferred | None) -> Decided | None:
    """Under the `inferred` policy, an item without gold: truth inference's labels, with their posterior as the
    confidence and the posterior per label as the soft label, when at least `min_confidence` sure. Annotators
    agreeing is evidence the inference weighed, not gold; an item the run has no answer for is left out."""
    if inferred is None:
        return None
    labels, confidence, soft = inferred
    if confidence < spec.min_confidence:
        return None
    return list(labels), LabelSource.INFERRED, soft, confidence


@dataclass(frozen=True)
class Decision:
    """An item's final labels as a snapshot row holds them. Rows with the same answer share one."""

    labels: list[str]
    joined: str  # the labels joined by "|"
    source: str
    soft: list[float]
    confidence: float


# A row's decision (None: the row is left out) and its annotators' agreement with it (None: nobody answered).
Judged = tuple[Decision | None, float | None]


class Decider:
    """Decides the rows of a snapshot, chunk by chunk. Labels come as JSON text and are parsed once per distinct
    text, and the decision for a given (gold label, unanimous answer) is made once and shared by every row
    that has it: a project has few of them, however many items."""

    def __init__(self, spec: RowSpec) -> None:
        self.spec = spec
        self.order = {key: index for index, key in enumerate(spec.label_keys)}
        self.parsed: dict[str, tuple[str, ...]] = {}
        self.shared: dict[tuple[str | None, str | None, str | None], Judged] = {}

    def answer(self, raw: str) -> tuple[str, ...]:
        answer = self.parsed.get(raw)
        if answer is None:
            keys = json.loads(raw) or ()
            answer = self.parsed[raw] = tuple(sorted(keys, key=lambda key: self.order.get(key, 99)))
        return answer

    def decide(
        self,
        gold: tuple[list[str], str] | None,
        answers: list[tuple[str, ...]],
        weak: Weak | None,
        inferred: Inferred | None = None,
    ) -> Judged:
        """The decision and the annotators' agreement with it (None when nobody answered)."""
        decided = _decide(self.spec, gold, answers, weak, inferred)
        if decided is None:
            return None, None
        labels, source, soft, confidence = decided
        decision = Decision(list(labels), "|".join(labels), str(source), soft, float(confidence))
        if not answers:
            return decision, None
        agreeing = sum(1 for answer in answers if set(answer) == set(labels))
        return decision, round(agreeing / len(answers), 6)

    def decide_shared(self, gold_raw: str | None, gold_source: str | None, answer_raw: str | None) -> Judged:
        key = (gold_raw, gold_source, answer_raw)
        known = self.shared.get(key)
        if known is None:
            gold = (list(json.loads(gold_raw)), str(gold_source)) if gold_raw is not None else None
            answers = [self.answer(answer_raw)] if answer_raw is not None else []
            known = self.shared[key] = self.decide(gold, [answer for answer in answers if answer], None)
        return known
