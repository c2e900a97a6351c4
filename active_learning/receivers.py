"""What active learning does on the lower apps' events (core.hooks), registered in its AppConfig.ready()."""

from __future__ import annotations

from labeling.hooks import AnswerGiven, answer_given


def on_answer_given(event: AnswerGiven) -> None:
    """A new annotation counts towards the project's retrain (checked on a worker); a changed one does not."""
    # Imported on the first answer, not when Django starts: the training service reaches scikit-learn and
    # pandas, which a process that never sees an answer (an import, a snapshot) need not hold
    # (tests/core/test_startup.py).
    from active_learning.services.training import learner_retrain_signal

    if event.created:
        learner_retrain_signal(project=event.project)


def receivers_register() -> None:
    answer_given.register("active_learning.retrain_if_due", on_answer_given)
