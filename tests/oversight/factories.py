"""Factories of the oversight tests: truth-inference runs as the service stores them (sources JSON included)."""

from __future__ import annotations

from typing import Any

import factory
import numpy as np

from core.spans import SpanDict, span_make, spans_sorted
from labeling.models import Annotation
from oversight.choices import JobStatus, JobTrigger, SourceKind
from oversight.models import InferenceRun
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory


def source_entry(
    kind: str, name: str, accuracy: float | None, *, user_id: int | None = None, lf_id: int | None = None,
    interval: list[float] | None = None, answered: int = 10, classes: tuple[str, ...] = ("ham", "spam"),
) -> dict[str, Any]:  # fmt: skip
    """One source's entry in InferenceRun.sources, single-label: the same accuracy for every class."""
    key = f"annotator:{user_id}" if kind == SourceKind.ANNOTATOR else f"lf:{lf_id}" if lf_id else kind
    wrong = None if accuracy is None else round((1 - accuracy) / max(len(classes) - 1, 1), 4)
    rows = [[accuracy if i == j else wrong for j in range(len(classes))] for i in range(len(classes))]
    return {
        "key": key, "kind": str(kind), "name": name, "user_id": user_id, "lf_id": lf_id, "answered": answered,
        "accuracy": accuracy, "interval": interval,
        "per_class": [
            {"label": label, "accuracy": accuracy, "interval": interval, "items": answered / len(classes)}
            for label in classes
        ],
        "confusions": [{"label": None, "classes": list(classes), "rows": rows}],
        "one_coin": False,
    }  # fmt: skip


METRICS = {
    "n_items": 40, "n_answers": {"annotator": 80, "lf": 30}, "n_sources": {"annotator": 2, "lf": 1},
    "n_fixed": 3, "iterations": 12, "converged": True, "log_likelihood": -50.5, "disagreements": 4,
    "low_posterior": 6, "low_posterior_below": 0.7, "review_added": 7,
    "seconds": {"read": 0.1, "fit": 0.2, "write": 0.3, "total": 0.6},
}  # fmt: skip


class InferenceRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InferenceRun

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = JobStatus.SUCCEEDED
    trigger = JobTrigger.CLI
    engine = "dawid_skene"
    engine_version = "1"
    variant = "dawid_skene"
    labels = factory.LazyFunction(lambda: ["ham", "spam"])
    selection = factory.LazyFunction(
        lambda: {
            "variant": "dawid_skene",
            "method": "held_out_gold",
            "scores": {"dawid_skene": 0.9},
            "n_heldout": 3,
        }
    )
    sources = factory.LazyFunction(list)
    metrics = factory.LazyFunction(lambda: dict(METRICS))


WORDS = {
    "spam": ["cheap", "pills", "winner", "prize", "click", "free", "offer", "casino"],
    "ham": ["meeting", "lunch", "tomorrow", "report", "family", "dinner", "garden", "weekend"],
}


def _text(label: str, rng: np.random.Generator) -> str:
    return " ".join(rng.choice(WORDS[label], 5))


def separable_project(
    n: int = 120, flipped: int = 8, seed: int = 0, **fields: Any
) -> tuple[Project, set[int]]:
    """A project for label-error scans: n items whose words give their class away, with known (gold)
    labels, the first `flipped` of them given the wrong one. Returns the project and the flipped items."""
    rng = np.random.default_rng(seed)
    project = ProjectFactory(**fields)
    wrong: set[int] = set()
    for i in range(n):
        label = "spam" if i % 2 else "ham"
        item = ItemFactory(project=project, text=_text(label, rng), external_id=f"item-{i}")
        given = label
        if i < flipped:
            given = "ham" if label == "spam" else "spam"
            wrong.add(item.pk)
        GoldLabelFactory(item=item, labels=[given])
    return project, wrong


SPAN_TYPES = ["per", "loc", "org"]


def span_project(**fields: Any) -> Project:
    """A span project with the entity types per, loc and org (in that schema order), no random audit."""
    fields.setdefault("review_audit_rate", 0.0)
    return ProjectFactory(kind="spans", labels=SPAN_TYPES, **fields)


def spans_in(text: str, *marks: tuple[str, str]) -> list[SpanDict]:
    """Spans by quote: spans_in("Ada met Bob", ("Ada", "per")); each quote's first occurrence in the text."""
    found = []
    for quote, label in marks:
        start = text.index(quote)
        found.append(span_make(text, start, start + len(quote), label))
    return spans_sorted(found)


def span_answer(item: Item, user: Any, *marks: tuple[str, str], **fields: Any) -> Annotation:
    """A stored answer of a span project: its spans, and the types present (schema order) as its labels."""
    spans = spans_in(item.text, *marks)
    types = [key for key in SPAN_TYPES if any(span["label"] == key for span in spans)]
    return AnnotationFactory(item=item, annotator=user, labels=types, spans=spans, **fields)
