"""Keyword LFs proposed from what analysts did: the spans they marked as evidence, and the words and word
pairs that are frequent in items of one label (gold labels). Each proposal comes with its coverage and
accuracy on gold items, estimated on the preview sample, so a data scientist can accept it with one click."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from labeling.models import Rationale
from labeling.selectors.gold import gold_labels_usable
from projects.models import Project
from weak_supervision.choices import LabelingFunctionKind
from weak_supervision.declarative import ABSTAIN, rule_compile
from weak_supervision.models import LabelingFunction
from weak_supervision.selectors import SampleItem, preview_sample

WORD = re.compile(r"\w+", re.UNICODE)
MAX_PHRASE_WORDS = 4
MIN_SUPPORT = 3  # a word or pair must occur in at least this many gold items of the label
MIN_PRECISION = 0.7
CANDIDATES = 60  # scored on the sample; the best `limit` are returned
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "this",
        "to",
        "was",
        "we",
        "were",
        "will",
        "with",
        "you",
        "your",
        "not",
        "no",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "just",
    ]
)


@dataclass(frozen=True)
class Suggestion:
    phrase: str
    label: str
    source: str  # "rationale" or "n-gram"
    support: int  # rationales marking it, or gold items of the label containing it
    coverage: float
    accuracy: float | None
    gold_judged: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _normalise(phrase: str) -> str:
    return " ".join(WORD.findall(phrase.lower()))


def _from_rationales(project: Project) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for quote, label in (
        Rationale.objects.filter(project=project).exclude(label="").values_list("quote", "label")
    ):
        phrase = _normalise(quote)
        if phrase and len(phrase.split()) <= MAX_PHRASE_WORDS:
            found[(phrase, label)] += 1
    return found


def _grams(text: str) -> set[str]:
    words = [w for w in WORD.findall(text.lower()) if len(w) > 2 or w.isdigit()]
    singles = {w for w in words if w not in STOPWORDS and not w.isdigit()}
    pairs = {f"{a} {b}" for a, b in itertools.pairwise(words) if not {a, b} <= STOPWORDS}
    return singles | pairs


def _from_ngrams(project: Project, sample: list[SampleItem]) -> Counter[tuple[str, str]]:
    gold = gold_labels_usable(project=project, item_ids=[row.item_id for row in sample])
    per_label: dict[str, Counter[str]] = defaultdict(Counter)
    overall: Counter[str] = Counter()
    for row in sample:
        if row.item_id in gold:
            grams = _grams(row.text)
            per_label[gold[row.item_id]].update(grams)
            overall.update(grams)
    found: Counter[tuple[str, str]] = Counter()
    for label, counts in per_label.items():
        for gram, count in counts.items():
            if count >= MIN_SUPPORT and (count + 1) / (overall[gram] + 2) >= MIN_PRECISION:
                found[(gram, label)] = count
    return found


def labeling_function_suggestions(*, project: Project, limit: int = 15) -> list[Suggestion]:
    """Proposed keyword LFs, best first: evidence spans before n-grams, then by estimated accuracy x coverage."""
    labels = list(project.labels.values_list("key", flat=True))
    existing = {
        (keyword.lower(), lf.current_version.label)
        for lf in LabelingFunction.objects.filter(
            project=project, kind=LabelingFunctionKind.KEYWORD
        ).select_related("current_version")
        if lf.current_version
        for keyword in lf.current_version.spec.get("keywords", [])
    }
    sample = preview_sample(project)
    texts, metadata = [row.text for row in sample], [row.metadata or {} for row in sample]
    gold = gold_labels_usable(project=project, item_ids=[row.item_id for row in sample])
    gold_index = np.array(
        [labels.index(gold[row.item_id]) if row.item_id in gold else ABSTAIN for row in sample], dtype=np.int8
    )
    candidates = [(key, count, "rationale") for key, count in _from_rationales(project).most_common()]
    candidates += [
        (key, count, "n-gram") for key, count in _from_ngrams(project, sample).most_common(CANDIDATES)
    ]
    seen: set[tuple[str, str]] = set()
    suggestions = []
    for (phrase, label), support, source in candidates:
        if (phrase, label) in seen or (phrase, label) in existing or label not in labels:
            continue
        seen.add((phrase, label))
        votes = rule_compile(LabelingFunctionKind.KEYWORD, {"keywords": [phrase]}, labels.index(label)).votes(
            texts, metadata
        )
        judged = (votes != ABSTAIN) & (gold_index != ABSTAIN)
        correct = int((votes[judged] == gold_index[judged]).sum())
        accuracy = round(correct / int(judged.sum()), 4) if judged.any() else None
        coverage = round(float((votes != ABSTAIN).mean()), 4) if len(votes) else 0.0
        suggestions.append(Suggestion(phrase, label, source, support, coverage, accuracy, int(judged.sum())))
    suggestions.sort(key=lambda s: (s.source != "rationale", -((s.accuracy or 0.5) * math.sqrt(s.coverage))))
    return suggestions[:limit]
