"""How every weak label turns probabilities into an answer: the top class, a tie broken by a fair coin per
item; and how every choice made on held-out evidence breaks a near tie: the simplest candidate within
TIE_ITEMS held-out items' worth of the best. Here, apart from the aggregators (which import Snorkel and
torch), so that pages and active learning read the same rules without loading them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from features.classifiers import hash_uniform

TIE_ITEMS = 1.0
Key = TypeVar("Key")


def predictions(
    probabilities: npt.NDArray[np.floating], keys: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """The top class of each row; a tie between classes goes to one of them by a fair coin seeded by the row's
    key (the item's id), so the same item always gets the same answer and no class is favoured."""
    if not len(probabilities):
        return np.zeros(0, dtype=np.int64)
    rounded = np.round(np.asarray(probabilities, dtype=np.float64), 9)
    k = rounded.shape[1]
    cells = keys.astype(np.int64)[:, None] * k + np.arange(k, dtype=np.int64)[None, :]
    coin = hash_uniform(cells.reshape(-1), "tie").reshape(cells.shape)
    return np.asarray(np.argmax(rounded + 1e-12 * coin, axis=1), dtype=np.int64)


def simplest_within_tie(scores: Mapping[Key, float], order: Iterable[Key], n_heldout: int) -> Key | None:
    """The first of `order` (simplest first) that scores within TIE_ITEMS held-out items' worth of the best
    score (None without scores): the tie rule of every choice made on held-out gold."""
    if not scores:
        return None
    tolerance = TIE_ITEMS / max(n_heldout, 1)
    best = max(scores.values())
    return next((key for key in order if key in scores and scores[key] >= best - tolerance), None)
