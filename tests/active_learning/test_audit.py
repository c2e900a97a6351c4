from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from active_learning.audit import (
    AUDIT_SHARE,
    AUDIT_STRATUM,
    GUARD_Z,
    MIN_AUDIT,
    Evidence,
    audit_draw,
    audit_stratum,
    batch_compose,
    batch_sizes,
    evidence_compute,
)
from active_learning.choices import Strategy
from active_learning.evaluation import HeldOut, Pool, _adaptive_batch, simulate
from active_learning.strategies import learner_fit


def _blobs(n: int, seed: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """n points of two overlapping Gaussian classes in two dimensions, classes taking turns."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(np.int64)
    x = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)
    return x, y


@pytest.mark.parametrize(
    ("n", "share", "open_audit", "open_chosen", "expected"),
    [
        (50, 1.0 - AUDIT_SHARE, 100, 100, (5, 45)),
        (20, 1.0 - AUDIT_SHARE, 100, 100, (2, 18)),
        (3, 1.0 - AUDIT_SHARE, 100, 100, (1, 2)),  # at least one audit item
        (10, 0.0, 100, 100, (10, 0)),  # the evidence stopped choosing
        (10, 1.0 - AUDIT_SHARE, 0, 100, (0, 10)),  # the stratum is used up
        (10, 1.0 - AUDIT_SHARE, 100, 3, (7, 3)),  # nothing else is open
        (10, 1.0 - AUDIT_SHARE, 1, 2, (1, 2)),
        (0, 1.0 - AUDIT_SHARE, 100, 100, (0, 0)),
    ],
)
def test_batch_sizes(
    n: int, share: float, open_audit: int, open_chosen: int, expected: tuple[int, int]
) -> None:
    assert batch_sizes(n, share, open_audit, open_chosen) == expected


def test_a_batch_spreads_its_audit_items_evenly() -> None:
    chosen = np.arange(10, 18, dtype=np.int64)
    audit = np.asarray([1, 2], dtype=np.int64)

    batch = batch_compose(chosen, audit)

    assert batch.tolist() == [10, 11, 12, 1, 13, 14, 2, 15, 16, 17]


@pytest.mark.parametrize(
    ("chosen", "audit", "expected"),
    [([4, 5], [], [4, 5]), ([], [1, 2], [1, 2]), ([7], [1, 2, 3], [1, 2, 3, 7])],
)
def test_a_batch_of_one_kind_or_mostly_audit_keeps_every_item(
    chosen: list[int], audit: list[int], expected: list[int]
) -> None:
    batch = batch_compose(np.asarray(chosen, dtype=np.int64), np.asarray(audit, dtype=np.int64))

    assert batch.tolist() == expected


def test_the_audit_stratum_is_a_tenth_of_the_pool_drawn_the_same_every_time() -> None:
    ids = np.arange(1, 100_001, dtype=np.int64)

    stratum = audit_stratum(ids, 7)

    assert abs(stratum.mean() - AUDIT_STRATUM) < 0.005
    assert np.array_equal(stratum, audit_stratum(ids, 7))
    assert not np.array_equal(stratum, audit_stratum(ids, 8))
    assert np.array_equal(stratum, audit_draw(ids, 7) < AUDIT_STRATUM)


def test_too_few_audit_items_say_nothing() -> None:
    x, y = _blobs(40, seed=1)
    audit = np.arange(40) < MIN_AUDIT - 1

    evidence = evidence_compute(x, y, audit, seed=0)

    assert evidence == Evidence(exploit_share=1.0 - AUDIT_SHARE, z=None, n_audit=MIN_AUDIT - 1, n_chosen=31)


def test_chosen_items_with_wrong_answers_stop_the_choosing() -> None:
    # given 60 audit items and 60 chosen ones whose answers are all the wrong way round
    x, y = _blobs(120, seed=2)
    audit = np.arange(120) < 60
    answers = np.where(audit, y, 1 - y)

    # when
    evidence = evidence_compute(x, answers, audit, seed=0)

    # then
    assert evidence.z is not None
    assert evidence.z < -GUARD_Z
    assert (evidence.exploit_share, evidence.n_audit, evidence.n_chosen) == (0.0, 60, 60)


def test_chosen_items_as_good_as_random_ones_keep_the_choosing() -> None:
    # given audit and chosen items drawn alike
    x, y = _blobs(120, seed=3)
    audit = np.arange(120) % 3 == 0

    # when
    evidence = evidence_compute(x, y, audit, seed=0)

    # then
    assert evidence.z is not None
    assert evidence.z > -GUARD_Z
    assert (evidence.exploit_share, evidence.n_audit, evidence.n_chosen) == (1.0 - AUDIT_SHARE, 40, 80)


def test_the_evidence_is_the_same_for_the_same_seed() -> None:
    x, y = _blobs(90, seed=4)
    audit = np.arange(90) % 3 == 0

    assert evidence_compute(x, y, audit, seed=5) == evidence_compute(x, y, audit, seed=5)


def _pool(n: int) -> Pool:
    x, y = _blobs(n, seed=6)
    return Pool(x, y, np.arange(1, n + 1, dtype=np.int64))


def test_an_adaptive_cold_start_holds_the_first_audit_draws_and_chosen_items_outside_the_stratum() -> None:
    # given
    pool = _pool(400)
    draw = audit_draw(pool.ids, "sim:0")
    stratum = draw < AUDIT_STRATUM

    # when
    batch = _adaptive_batch(None, pool, np.zeros(0, dtype=np.int64), 20, seed=0)

    # then two audit items, the stratum's first two draws, sit among 18 chosen ones
    first_draws = np.flatnonzero(stratum)[np.argsort(draw[stratum])][:2]
    assert batch[[6, 13]].tolist() == first_draws.tolist()
    assert len(set(batch.tolist())) == 20
    assert not stratum[np.delete(batch, [6, 13])].any()


def test_an_adaptive_batch_after_a_model_leaves_out_what_is_labeled() -> None:
    # given 40 labeled rows, some of them audit draws
    pool = _pool(400)
    labeled = np.arange(40, dtype=np.int64)
    learner = learner_fit(Strategy.ADAPTIVE, pool.x[labeled], pool.y[labeled])

    # when
    batch = _adaptive_batch(learner, pool, labeled, 20, seed=0)

    # then
    assert len(batch) == len(set(batch.tolist())) == 20
    assert not np.isin(batch, labeled).any()
    stratum = audit_stratum(pool.ids, "sim:0")
    assert int(stratum[batch].sum()) == 2


def test_the_simulator_replays_the_adaptive_strategy() -> None:
    pool, (test_x, test_y) = _pool(300), _blobs(100, seed=7)

    result = simulate(pool=pool, test=HeldOut(test_x, test_y), labels=["a", "b"], strategies=["adaptive"],
                      budget=40, step=10, seeds=2, metric="accuracy")  # fmt: skip

    curve = result["strategies"]["adaptive"]["curve"]
    assert [point[0] for point in curve] == [10, 20, 30, 40]
    assert curve[-1][1] > 0.8
