"""How every weak label turns probabilities into an answer: the top class, a tie broken by a fair coin per
item. Here, apart from the aggregators (which import Snorkel and torch), so that pages read the same rule
without loading them."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from features.classifiers import hash_uniform


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
