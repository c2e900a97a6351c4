"""What active learning does on the lower apps' events (core.hooks), registered in its AppConfig.ready()."""

from __future__ import annotations

from active_learning.services.training import learner_retrain_signal
from labeling.hooks import AnswerGiven, answer_given


def on_answer_given(event: AnswerGiven) -> None:
    """A new annotation counts towards the project's retrain (checked on a worker); a changed one does not."""
    if event.created:
        learner_retrain_signal(project=event.project)


def receivers_register() -> None:
    answer_given.register("active_learning.retrain_if_due", on_answer_given)
