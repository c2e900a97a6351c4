"""What oversight does on the lower apps' events and answers to their questions (core.hooks), registered in
OversightConfig.ready()."""

from __future__ import annotations

from labeling.hooks import (
    AnswerGiven,
    AnswerTakenBack,
    ItemFlagged,
    answer_given,
    answer_taken_back,
    item_flagged,
)
from oversight.choices import ReviewReason
from projects.models import Project
from weak_supervision.hooks import LfEstimates, RunDoubts, lf_estimates, run_doubts

# The services are imported inside each receiver, on its first event, not when Django starts: they reach
# scikit-learn, pandas and pyarrow (about 180 MB), which a process that never sees these events (an import,
# a snapshot) need not hold (tests/core/test_startup.py). Python caches a module after its first import.


def on_answer_given(event: AnswerGiven) -> None:
    """A new or changed answer: disagreement, audit, review-all analysts and gold-check accuracy; a new one
    counts towards the next truth-inference run (checked on a worker)."""
    from oversight.services.review import review_on_submit
    from oversight.services.truth import inference_signal

    review_on_submit(
        project=event.project, annotation=event.annotation, membership=event.membership, created=event.created,
        other_labels=event.other_labels, is_check=event.is_gold_check, has_gold=event.has_gold,
    )  # fmt: skip
    if event.created:
        inference_signal(project=event.project)


def on_answer_taken_back(event: AnswerTakenBack) -> None:
    """An undo: a disagreement the answer made may be over."""
    from oversight.services.review import review_on_take_back

    review_on_take_back(project=event.project, item_id=event.item_id)


def on_item_flagged(event: ItemFlagged) -> None:
    from oversight.services.review import review_requests_add

    flag = event.flag
    review_requests_add(
        project=event.project,
        item_ids=[flag.item_id],
        reason=ReviewReason.FLAG,
        detail={flag.item_id: {"comment": flag.comment}},
    )


def on_run_doubts(event: RunDoubts) -> None:
    from oversight.services.review import review_uncertain_add

    review_uncertain_add(project=event.project, confidences=event.confidences)


def on_lf_estimates(project: Project) -> LfEstimates | None:
    from oversight.selectors.truth import lf_estimates_get

    return lf_estimates_get(project)


def receivers_register() -> None:
    answer_given.register("oversight.review_on_submit", on_answer_given)
    answer_taken_back.register("oversight.review_on_take_back", on_answer_taken_back)
    item_flagged.register("oversight.flag_to_review", on_item_flagged)
    run_doubts.register("oversight.review_uncertain_add", on_run_doubts)
    lf_estimates.register("oversight.lf_estimates", on_lf_estimates)
