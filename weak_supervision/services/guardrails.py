"""Guardrails: what a run and a snapshot warn about, from the run's own figures.

Each warning is `{"code", "message"}`; the codes are stable (scripts read them), the messages say what to do.
They are recomputed whenever the delivered labels change (a run's finish, its end model's fill). A warning
only informs: nothing is chosen or stopped by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LABELS_WITHOUT_LFS = "labels_without_lfs"
BELOW_MAJORITY_VOTE = "below_majority_vote"
END_MODEL_BELOW_AGGREGATOR = "end_model_below_aggregator"
DISTRIBUTION_SHIFT = "distribution_shift"
MIN_SCORED = 20  # gold items a comparison needs before it may warn
MARGIN = 0.01  # a score this much lower is "below"
MAX_SHIFT = 0.2  # total variation distance between the delivered and the gold label distributions

Warning = dict[str, str]


def _share(counts: dict[str, int], labels: Sequence[str]) -> dict[str, float]:
    total = sum(counts.get(label, 0) for label in labels)
    return {label: counts.get(label, 0) / total for label in labels} if total else {}


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def run_warnings(
    *, metrics: dict[str, Any], labels: Sequence[str], lf_analysis: Sequence[dict[str, Any]]
) -> list[Warning]:
    found: list[Warning] = []
    voted = {label for row in lf_analysis if not row.get("failed") for label in row.get("polarity", [])}
    silent = [label for label in labels if label not in voted]
    if silent and lf_analysis:
        found.append({"code": LABELS_WITHOUT_LFS, "message": (
            f"No labeling function votes for {', '.join(silent)}: the weak labels give "
            f"{'it' if len(silent) == 1 else 'them'} only through the prior or the end model. "
            "Write a labeling function for each, or label such items by hand."
        )})  # fmt: skip
    chosen = (metrics.get("aggregator") or {}).get("name")
    for split, entry in sorted((metrics.get("splits") or {}).items()):
        if entry.get("n_gold", 0) < MIN_SCORED or "weak_label" not in entry:
            continue
        delivered, vote = entry["weak_label"], entry.get("majority_vote")
        if vote and delivered["macro_f1"] < vote["macro_f1"] - MARGIN:
            found.append({"code": BELOW_MAJORITY_VOTE, "message": (
                f"On the {split} split's {entry['n_gold']} gold items the delivered weak labels score "
                f"{delivered['macro_f1']:.3f} macro F1, below majority vote's {vote['macro_f1']:.3f}."
            )})  # fmt: skip
        end, aggregator = entry.get("end_model"), (entry.get("aggregators") or {}).get(chosen or "")
        if end and aggregator and end["macro_f1"] < aggregator["macro_f1"] - MARGIN:
            found.append({"code": END_MODEL_BELOW_AGGREGATOR, "message": (
                f"On the {split} split's {entry['n_gold']} gold items the end model scores {end['macro_f1']:.3f} "
                f"macro F1, below the {chosen} aggregator's {aggregator['macro_f1']:.3f}."
            )})  # fmt: skip
    gold = metrics.get("gold_distribution") or {}
    if sum(gold.values()) >= MIN_SCORED:
        delivered_share = _share(metrics.get("label_distribution") or {}, labels)
        gold_share = _share(gold, labels)
        if delivered_share:
            distance = 0.5 * sum(abs(delivered_share[label] - gold_share[label]) for label in labels)
            if distance > MAX_SHIFT:
                worst = max(labels, key=lambda label: abs(delivered_share[label] - gold_share[label]))
                found.append({"code": DISTRIBUTION_SHIFT, "message": (
                    f"The weak labels give {worst} to {_percent(delivered_share[worst])} of the items, where "
                    f"the gold labels have {_percent(gold_share[worst])} (total variation distance "
                    f"{distance:.2f}). Check the labeling functions that vote for {worst}."
                )})  # fmt: skip
    return found
