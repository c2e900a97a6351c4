"""What truth inference (oversight.services.truth) gives a snapshot under the `inferred` label policy: the
project's latest succeeded inference run, and its answer for each item of a chunk (ItemInferredLabel rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from oversight.models import ItemInferredLabel
from oversight.selectors.truth import inference_run_latest
from projects.models import Project


@dataclass(frozen=True)
class InferenceSource:
    """The inference run whose posteriors a snapshot holds, as its manifest records it."""

    run_id: int
    number: int
    engine: str
    engine_version: str
    variant: str
    labels: list[str]  # the run's classes: the order of each item's probabilities
    finished_at: str | None  # ISO 8601

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.number,
            "engine": self.engine,
            "engine_version": self.engine_version,
            "variant": self.variant,
            "finished_at": self.finished_at,
        }


def inference_source_get(*, project: Project) -> InferenceSource | None:
    """The project's latest succeeded inference run (the one its items' inferred labels come from), if any."""
    run = inference_run_latest(project=project)
    if run is None:
        return None
    return InferenceSource(
        run_id=run.pk, number=run.number, engine=run.engine, engine_version=run.engine_version,
        variant=run.variant, labels=list(run.labels),
        finished_at=run.finished_at.isoformat() if run.finished_at else None,
    )  # fmt: skip


# An item's inferred answer: its labels (in schema order), the posterior of them (the confidence; multi-label:
# the least sure label's) and the posterior per label in the schema's order (the soft label).
Inferred = tuple[list[str], float, list[float]]


def inferred_rows(
    source: InferenceSource | None, label_keys: Sequence[str], project_id: int, ids: list[int]
) -> dict[int, Inferred]:
    """Item id to its inferred answer, for a chunk's items (`ids`, ascending: a run of the project's item ids,
    so one range read finds them). Only the run's own rows: another run's would not be the manifest's."""
    if source is None or not ids:
        return {}
    order = [source.labels.index(key) if key in source.labels else -1 for key in label_keys]
    position = {key: index for index, key in enumerate(label_keys)}
    found = ItemInferredLabel.objects.filter(
        project_id=project_id, run_id=source.run_id, item_id__gte=ids[0], item_id__lte=ids[-1]
    ).values_list("item_id", "label", "confidence", "probabilities")
    result: dict[int, Inferred] = {}
    for item_id, label, confidence, probabilities in found:
        keys = sorted(
            (key for key in label.split(",") if key), key=lambda key: position.get(key, len(position))
        )
        width = len(probabilities)
        soft = [round(float(probabilities[j]), 6) if 0 <= j < width else 0.0 for j in order]
        result[item_id] = (keys, round(float(confidence), 6), soft)
    return result
