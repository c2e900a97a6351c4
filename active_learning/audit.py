"""The adaptive strategy's evidence: a random audit draw labeled along the way, and what it says about the
items the strategy chose.

Every batch of the adaptive strategy holds an audit share (AUDIT_SHARE, at least one item) drawn at random
from the pool; the rest is chosen (margin in diverse batches, or cluster centres before there is a model).
Each item gets a uniform draw from a hash of its id and a key (the project; the seed in the simulator), the
same on every worker and at every retrain. Items whose draw is under AUDIT_STRATUM form the audit stratum:
audit picks are the stratum's open items in the order of their draw, and nothing chosen comes from the
stratum. So the labeled items of the stratum are a uniform random sample of the pool, found again at every
retrain from the labels alone, with no state kept between retrains.

At each retrain the audit items answer one question: is a chosen item worth more to the model than a random
one? Cross-validated on the audit items (EVIDENCE_FOLDS folds): for each fold, one model is fitted on the
other audit items, and one on the same number of items of which half are audit items and half chosen ones;
both score the fold. The paired differences over every audit item give a z statistic. When z is under
-GUARD_Z (a one-sided test at 5%), chosen items were worth significantly less than random ones, and the
next batch is drawn at random; otherwise it is chosen but for its audit share. The comparison is at equal
size, so it needs no learning curve, and it swaps half the training items, which gives it more power than
leaving a few out (on youtube, a strategy rigged to choose the items its model was surest of was caught at
about twice as many retrains as by a leave-out test). Its power is still modest while the audit draw is
small (a few dozen items): it is a backstop against a strategy that goes wrong for good, and the audit share
itself keeps every region of the pool reachable whatever the model believes. The test errs towards choosing
because choosing usually wins (it did on every shared data set).

Only usable gold labels (never the test split nor evaluation-only labels) train, and so judge, anything here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from features.classifiers import Scores, can_train, classifier_fit, hash_uniform, probabilities_full
from features.vectors import Matrix

# Of each batch, drawn at random: the price of the evidence (MIN_AUDIT audit items by the hundredth label)
# and a hedge against a model's blind spots. Every audit label is one the strategy did not choose.
AUDIT_SHARE = 0.1
AUDIT_STRATUM = 0.1  # of the pool, set aside for audit draws (a million items: 100,000, never exhausted)
MIN_AUDIT = 10  # labeled audit items before the evidence is weighed: fewer say nothing
EVIDENCE_FOLDS = 3
# One-sided 5%: the chosen items must be significantly worse before the strategy stops choosing.
GUARD_Z = 1.645
# Audit items the evidence reads at most (a seeded draw of them): its six fits are of two thirds as many
# items, seconds at this size, and more change the comparison little.
EVIDENCE_MAX_ROWS = 6000


@dataclass(frozen=True)
class Evidence:
    """What the audit draw says: the share of the next batch to choose (the rest is drawn at random), the
    z statistic of "a chosen item is worth more than a random one" (None until MIN_AUDIT audit items), and
    how many audit and chosen items it weighed."""

    exploit_share: float = 1.0 - AUDIT_SHARE
    z: float | None = None
    n_audit: int = 0
    n_chosen: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def audit_draw(ids: npt.NDArray[np.int64], key: int | str) -> Scores:
    """Each item's uniform audit draw: audit picks go in increasing order of it."""
    return hash_uniform(ids, f"audit:{key}")


def audit_stratum(ids: npt.NDArray[np.int64], key: int | str) -> npt.NDArray[np.bool_]:
    return audit_draw(ids, key) < AUDIT_STRATUM


def evidence_compute(
    x: Matrix, y: npt.NDArray[np.int64], audit: npt.NDArray[np.bool_], seed: int = 0
) -> Evidence:
    """The evidence of the labeled items `x`, `y`, of which `audit` marks the audit draw's."""
    audit_rows, chosen_rows = np.flatnonzero(audit), np.flatnonzero(~audit)
    if len(audit_rows) < MIN_AUDIT or not len(chosen_rows) or not can_train(y[audit_rows]):
        return Evidence(n_audit=len(audit_rows), n_chosen=len(chosen_rows))
    rng = np.random.default_rng(seed)
    if len(audit_rows) > EVIDENCE_MAX_ROWS:
        audit_rows = np.sort(rng.choice(audit_rows, size=EVIDENCE_MAX_ROWS, replace=False))
    differences = []
    for fold in np.array_split(rng.permutation(audit_rows), EVIDENCE_FOLDS):
        others = np.setdiff1d(audit_rows, fold)
        swapped = min(len(others) // 2, len(chosen_rows))
        kept = rng.choice(others, len(others) - swapped, replace=False)
        mixed = np.concatenate([kept, rng.choice(chosen_rows, swapped, replace=False)])
        right_random, right_mixed = _right(x, y, others, fold, seed), _right(x, y, mixed, fold, seed)
        if right_random is None or right_mixed is None:
            return Evidence(n_audit=len(audit_rows), n_chosen=len(chosen_rows))
        differences.append(right_mixed - right_random)
    z = _z(np.concatenate(differences))
    share = 0.0 if z < -GUARD_Z else 1.0 - AUDIT_SHARE
    return Evidence(exploit_share=share, z=round(z, 3), n_audit=len(audit_rows), n_chosen=len(chosen_rows))


def _right(
    x: Matrix, y: npt.NDArray[np.int64], train: npt.NDArray[np.int64], test: npt.NDArray[np.int64], seed: int
) -> npt.NDArray[np.float64] | None:
    """1.0 where a model fitted on `train` gets a `test` item right, else 0.0 (None: one class only)."""
    if not can_train(y[train]):
        return None
    model = classifier_fit(x[train], y[train], seed=seed)
    proba = probabilities_full(model, x[test], int(y.max()) + 1)
    right: npt.NDArray[np.float64] = (proba.argmax(axis=1) == y[test]).astype(np.float64)
    return right


def _z(differences: npt.NDArray[np.float64]) -> float:
    """The mean difference over its standard error (0 where every difference is the same)."""
    spread = float(np.std(differences, ddof=1)) if len(differences) > 1 else 0.0
    if spread == 0.0:
        return 0.0
    return float(np.mean(differences) / (spread / np.sqrt(len(differences))))


def batch_sizes(n: int, exploit_share: float, open_audit: int, open_chosen: int) -> tuple[int, int]:
    """(audit items, chosen items) of a batch of n: the audit share (at least one), each side filled up by
    the other where it runs out of open items."""
    audit = n - round(n * exploit_share)
    audit = max(audit, 1) if n else 0
    audit = min(audit, open_audit)
    chosen = min(n - audit, open_chosen)
    audit = min(n - chosen, open_audit)
    return audit, chosen


def batch_compose(chosen: npt.NDArray[np.int64], audit: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """One batch of both, the audit items spread evenly through it: analysts who label only its head still
    label their share of the audit draw."""
    total = len(chosen) + len(audit)
    if not len(audit) or not len(chosen):
        return np.concatenate([chosen, audit]).astype(np.int64)
    slots = np.round(np.linspace(0, total - 1, num=len(audit) + 2)[1:-1]).astype(np.int64)
    slots = np.unique(np.clip(slots, 0, total - 1))
    while len(slots) < len(audit):  # rounding merged two slots: take the first free ones
        slots = np.union1d(slots, np.setdiff1d(np.arange(total), slots)[: len(audit) - len(slots)])
    batch = np.empty(total, dtype=np.int64)
    is_audit = np.zeros(total, dtype=bool)
    is_audit[slots] = True
    batch[is_audit] = audit
    batch[~is_audit] = chosen
    return batch
