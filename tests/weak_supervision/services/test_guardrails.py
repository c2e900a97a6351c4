"""The guardrails: what a run warns about, from its own figures."""

from __future__ import annotations

from typing import Any

from weak_supervision.services.guardrails import run_warnings

SCORES = {"accuracy": 0.9, "macro_f1": 0.9, "f1": {}}


def _split(n_gold: int, delivered: float, vote: float, end: float | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "n_gold": n_gold,
        "weak_label": {**SCORES, "macro_f1": delivered},
        "majority_vote": {**SCORES, "macro_f1": vote},
        "aggregators": {"dawid_skene": {**SCORES, "macro_f1": delivered}},
    }
    if end is not None:
        entry["end_model"] = {**SCORES, "macro_f1": end}
    return entry


def _codes(metrics: dict[str, Any], polarity: list[str] | None = None) -> list[str]:
    lf_analysis = [{"polarity": polarity or ["ham", "spam"]}]
    return [w["code"] for w in run_warnings(metrics=metrics, labels=["ham", "spam"], lf_analysis=lf_analysis)]


def test_a_healthy_run_warns_about_nothing() -> None:
    metrics = {"aggregator": {"name": "dawid_skene"}, "splits": {"valid": _split(50, 0.8, 0.78, 0.8)},
               "gold_distribution": {"ham": 25, "spam": 25}, "label_distribution": {"ham": 48, "spam": 52}}  # fmt: skip
    assert _codes(metrics) == []


def test_each_guardrail_fires_on_its_own_evidence() -> None:
    metrics = {"aggregator": {"name": "dawid_skene"}, "splits": {"test": _split(50, 0.6, 0.7, 0.5)},
               "gold_distribution": {"ham": 25, "spam": 25}, "label_distribution": {"ham": 6, "spam": 94}}  # fmt: skip
    assert _codes(metrics, polarity=["spam"]) == [
        "labels_without_lfs", "below_majority_vote", "end_model_below_aggregator", "distribution_shift",
    ]  # fmt: skip


def test_too_little_gold_warns_about_no_score() -> None:
    metrics = {"aggregator": {"name": "dawid_skene"}, "splits": {"test": _split(19, 0.1, 0.9, 0.0)},
               "gold_distribution": {"ham": 10, "spam": 9}, "label_distribution": {"spam": 100}}  # fmt: skip
    assert _codes(metrics) == []
