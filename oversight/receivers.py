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
from oversight.selectors.truth import lf_estimates_get
from oversight.services.review import (
    review_on_submit,
    review_on_take_back,
    review_requests_add,
    review_uncertain_add,
)
from oversight.services.truth import inference_signal
from weak_supervision.hooks import RunDoubts, lf_estimates, run_doubts


def on_answer_given(event: AnswerGiven) -> None:
    """A new or changed answer: disagreement, audit, review-all analysts and gold-check accuracy; a new one
    counts towards the next truth-inference run (checked on a worker)."""
    review_on_submit(
        project=event.project, annotation=event.annotation, membership=event.membership, created=event.created,
        other_labels=event.other_labels, is_check=event.is_gold_check, has_gold=event.has_gold,
    )  # fmt: skip
    if event.created:
        inference_signal(project=event.project)


def on_answer_taken_back(event: AnswerTakenBack) -> None:
    """An undo: a disagreement the answer made may be over."""
    review_on_take_back(project=event.project, item_id=event.item_id)


def on_item_flagged(event: ItemFlagged) -> None:
    flag = event.flag
    review_requests_add(
        project=event.project,
        item_ids=[flag.item_id],
        reason=ReviewReason.FLAG,
        detail={flag.item_id: {"comment": flag.comment}},
    )


def on_run_doubts(event: RunDoubts) -> None:
    review_uncertain_add(project=event.project, confidences=event.confidences)


def receivers_register() -> None:
    answer_given.register("oversight.review_on_submit", on_answer_given)
    answer_taken_back.register("oversight.review_on_take_back", on_answer_taken_back)
    item_flagged.register("oversight.flag_to_review", on_item_flagged)
    run_doubts.register("oversight.review_uncertain_add", on_run_doubts)
    lf_estimates.register("oversight.lf_estimates", lf_estimates_get)
