"""The token classifier of span projects: BIO tags per token from hashed token features, decoded into spans.

A multinomial logistic regression reads each token's features (features.token_features: the word, its
affixes and shape, its neighbours) and gives each BIO tag ("O", "B-per", "I-per", ...) a probability. A
Viterbi pass over those probabilities then finds each text's most probable tag sequence among the valid ones
(an I- tag only after a B- or I- of its own type), which the tags -> spans conversion of core.spans turns
into spans. A linear model per token with a constrained decoder is most of a CRF's accuracy for a fraction of
its cost, and needs nothing beyond scikit-learn.

How unsure the model is of a text (the queue's order) is 1 - the geometric mean of the decoded tags'
probabilities: Shen et al.'s (2017) maximum normalized log-probability, which does not favour long texts as
the sequence's own probability does. Pure: no Django, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from core.spans import SpanDict, TokenOffsets, bio_label_names, bio_tags, tag_spans, token_spans_to_spans
from features.classifiers import CompactLogisticRegression
from features.token_features import token_matrix

# Regularisation: on wikigold's validation split C = 0.3, 1, 3, 10 gave span F1 0.648, 0.670, 0.674, 0.686,
# but fits of 5, 5, 9 and 8 s on the whole train split; 1 keeps retrains fast (bench/spans_al.py).
TAGGER_C = 1.0
_FLOOR = 1e-9  # a probability's least value before its logarithm


@dataclass
class Tagger:
    """A fitted token classifier: the tags its classes stand for (class i is tags[i], "O" first)."""

    model: LogisticRegression
    tags: list[str]


@dataclass(frozen=True)
class Tagged:
    """One text's decoded spans, and the model's confidence in them (the geometric mean of the decoded
    tags' probabilities; its uncertainty is 1 - this)."""

    spans: list[SpanDict]
    confidence: float

    @property
    def uncertainty(self) -> float:
        return 1.0 - self.confidence


Text = tuple[str, TokenOffsets]


def can_tag(spans: Sequence[Sequence[SpanDict]]) -> bool:
    """A tagger needs at least one span to learn from (else it knows only O)."""
    return any(spans)


def tagger_fit(
    texts: Sequence[Text], spans: Sequence[Sequence[SpanDict]], types: Sequence[str], seed: int = 0,
    c: float = TAGGER_C,
) -> Tagger | None:  # fmt: skip
    """The tagger of these texts' spans (None while no text has a span). Spans of types outside `types`
    are left out; where spans overlap, each token takes the outer one (core.spans.bio_tags)."""
    if not can_tag(spans):
        return None
    tags = bio_label_names(types)
    index = {tag: position for position, tag in enumerate(tags)}
    y: list[int] = []
    for (_, offsets), answer in zip(texts, spans, strict=True):
        known = [span for span in answer if span["label"] in types]
        y.extend(index[tag] for tag in bio_tags(offsets, known))
    model = CompactLogisticRegression(C=c, max_iter=300, random_state=seed)
    with threadpool_limits(limits=1):  # one BLAS thread, as everywhere on the platform
        model.fit(token_matrix(texts), np.asarray(y, dtype=np.int64))
    return Tagger(model=model, tags=tags)


def tag_probabilities(tagger: Tagger, texts: Sequence[Text]) -> npt.NDArray[np.float64]:
    """One row per token of every text (in order), one column per tag (zero for tags never seen)."""
    matrix = token_matrix(texts)
    proba = np.zeros((matrix.shape[0], len(tagger.tags)), dtype=np.float64)
    if matrix.shape[0]:
        with threadpool_limits(limits=1):
            proba[:, np.asarray(tagger.model.classes_, dtype=np.int64)] = tagger.model.predict_proba(matrix)
    return proba


def tag_transitions(tags: Sequence[str]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Log-space masks (0 allowed, -inf forbidden): which tag may start a text, and which may follow which.
    An I- tag may only continue a B- or I- of its own type."""
    size = len(tags)
    start = np.zeros(size)
    transition = np.zeros((size, size))
    for to, tag in enumerate(tags):
        if not tag.startswith("I-"):
            continue
        start[to] = -np.inf
        kind = tag[2:]
        for before, previous in enumerate(tags):
            if previous not in (f"B-{kind}", f"I-{kind}"):
                transition[before, to] = -np.inf
    return start, transition


def viterbi(log_proba: npt.NDArray[np.float64], start: npt.NDArray[np.float64],
            transition: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:  # fmt: skip
    """The most probable tag sequence of one text whose transitions the masks allow."""
    n, size = log_proba.shape
    if not n:
        return np.zeros(0, dtype=np.int64)
    score = start + log_proba[0]
    back = np.zeros((n, size), dtype=np.int64)
    for row in range(1, n):
        candidates = score[:, None] + transition
        back[row] = candidates.argmax(axis=0)
        score = candidates.max(axis=0) + log_proba[row]
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(score.argmax())
    for row in range(n - 1, 0, -1):
        path[row - 1] = back[row, path[row]]
    return path


def tagger_predict(tagger: Tagger, texts: Sequence[Text]) -> list[Tagged]:
    """Each text's decoded spans and the model's confidence in them."""
    proba = tag_probabilities(tagger, texts)
    log_proba = np.log(np.maximum(proba, _FLOOR))
    start, transition = tag_transitions(tagger.tags)
    results: list[Tagged] = []
    row = 0
    for text, offsets in texts:
        rows = slice(row, row + len(offsets))
        row += len(offsets)
        if not offsets:
            results.append(Tagged(spans=[], confidence=1.0))
            continue
        path = viterbi(log_proba[rows], start, transition)
        chosen = log_proba[rows][np.arange(len(path)), path]
        found = tag_spans([tagger.tags[int(tag)] for tag in path])
        confidence = float(np.exp(chosen.mean()))
        results.append(Tagged(spans=token_spans_to_spans(text, offsets, found), confidence=confidence))
    return results
