"""What active learning does on the lower apps' events (core.hooks), registered in its AppConfig.ready()."""

from __future__ import annotations

from active_learning.services.hints import suggestion_show
from active_learning.services.training import learner_retrain_if_due
from labeling.hooks import AnswerGiven, Suggestion, SuggestionWanted, answer_given, suggestion_for


def on_answer_given(event: AnswerGiven) -> None:
    """A new annotation may start the project's retrain (on a worker, after commit); a changed one does not."""
    if event.created:
        learner_retrain_if_due(project=event.project)


def on_suggestion_wanted(event: SuggestionWanted) -> Suggestion | None:
    return suggestion_show(project=event.project, user=event.user, item=event.item)


def receivers_register() -> None:
    answer_given.register("active_learning.retrain_if_due", on_answer_given)
    suggestion_for.register("active_learning.suggestion_show", on_suggestion_wanted)
