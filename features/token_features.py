"""Token features for span (named-entity) tagging: what a token and its neighbours look like, hashed.

Each token of a text gets a bag of string features in the manner of the classic CRF taggers (Lample et al.'s
and sklearn-crfsuite's tutorial features): the lower-cased word, its prefixes and suffixes, its shape (case,
digits, punctuation), and the words and shapes of its neighbours. The strings are hashed into
TOKEN_N_FEATURES columns (scikit-learn's FeatureHasher), so there is no vocabulary to fit, store or grow:
any worker turns any text into the same matrix. Pure: no Django, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher

from core.spans import TokenOffsets

# 2**20 columns: a tagger's few hundred thousand distinct features (words, affixes, neighbour words) rarely
# collide; the columns only exist where a token uses them (sparse rows, about 20 values each).
TOKEN_N_FEATURES = 2**20
_WINDOW = 2  # neighbours read on each side


def word_shape(word: str) -> str:
    """The word's shape with runs collapsed: "Paris" -> "Xx", "U.S." -> "X.X.", "1990s" -> "dx"."""
    shape: list[str] = []
    for char in word:
        kind = "X" if char.isupper() else "x" if char.islower() else "d" if char.isdigit() else char
        if not shape or shape[-1] != kind:
            shape.append(kind)
    return "".join(shape)


def _own(word: str) -> list[str]:
    lower = word.lower()
    features = [
        "bias", f"w={lower}", f"p2={lower[:2]}", f"p3={lower[:3]}", f"s2={lower[-2:]}", f"s3={lower[-3:]}",
        f"sh={word_shape(word)}",
    ]  # fmt: skip
    if word[:1].isupper():
        features.append("title" if word[1:].islower() or len(word) == 1 else "upper-first")
    if word.isupper() and len(word) > 1:
        features.append("upper")
    if any(char.isdigit() for char in word):
        features.append("digit")
    if len(word) == 1 and not word.isalnum():
        features.append("punct")
    return features


def token_features(words: Sequence[str]) -> list[list[str]]:
    """Each token's feature strings: its own (word, affixes, shape, case) and its neighbours' words and
    shapes up to _WINDOW away, with markers at the text's start and end."""
    lowers = [word.lower() for word in words]
    shapes = [word_shape(word) for word in words]
    rows: list[list[str]] = []
    last = len(words) - 1
    for index, word in enumerate(words):
        features = _own(word)
        for step in range(1, _WINDOW + 1):
            if index - step >= 0:
                features += [f"w-{step}={lowers[index - step]}", f"sh-{step}={shapes[index - step]}"]
            elif step == 1:
                features.append("bos")
            if index + step <= last:
                features += [f"w+{step}={lowers[index + step]}", f"sh+{step}={shapes[index + step]}"]
            elif step == 1:
                features.append("eos")
        if index:
            features.append(f"w-1|w={lowers[index - 1]}|{lowers[index]}")
        rows.append(features)
    return rows


def token_words(text: str, offsets: TokenOffsets) -> list[str]:
    return [text[start:end] for start, end in offsets]


def token_matrix(texts: Iterable[tuple[str, TokenOffsets]]) -> sparse.csr_matrix:
    """One row per token of every (text, token offsets) pair, in order: hashed binary features."""
    rows: list[list[str]] = []
    for text, offsets in texts:
        rows.extend(token_features(token_words(text, offsets)))
    if not rows:  # the hasher cannot read an empty batch
        return sparse.csr_matrix((0, TOKEN_N_FEATURES), dtype=np.float32)
    hasher = FeatureHasher(n_features=TOKEN_N_FEATURES, input_type="string", alternate_sign=False,
                           dtype=np.float32)  # fmt: skip
    matrix: sparse.csr_matrix = hasher.transform(rows).tocsr()
    matrix.data[:] = 1.0  # a feature repeated in one token's bag (a hash collision) still counts once
    return matrix
