"""The label-error finder's pure parts (oversight.label_errors)."""

from __future__ import annotations

import multiprocessing
from typing import Any

import numpy as np
import pytest

from oversight.label_errors import label_issues_find


def test_label_issues_are_found_in_this_process_without_forking_a_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given confident predictions, ten of whose given labels are wrong, and no process pool to be had (a pool
    # forked from a worker with other threads can hang)
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 300)
    probabilities = np.full((300, 3), 0.05)
    probabilities[np.arange(300), truth] = 0.9
    given = truth.copy()
    given[:10] = (truth[:10] + 1) % 3

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a multiprocessing pool was started")

    monkeypatch.setattr(multiprocessing, "Pool", refuse)

    # when
    found = label_issues_find(given, probabilities)

    # then the ten wrong labels are found, in this process
    assert sorted(found.tolist()) == list(range(10))
