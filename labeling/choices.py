from django.db import models


class AnnotationSource(models.TextChoices):
    HUMAN = "human", "Human"
    IMPORT = "import", "Imported"


class EventType(models.TextChoices):
    VIEW = "view", "View"
    SUBMIT = "submit", "Submit"
    CHANGE = "change", "Change"
    SKIP = "skip", "Skip"
    UNDO = "undo", "Undo"
    FLAG = "flag", "Flag"
    RATIONALE = "rationale", "Rationale"
    SUGGESTION_SHOWN = "suggestion_shown", "Suggestion shown"
    SUGGESTION_ACCEPTED = "suggestion_accepted", "Suggestion accepted"
    SUGGESTION_REJECTED = "suggestion_rejected", "Suggestion rejected"
    REVIEW = "review", "Review decision"


class GoldSource(models.TextChoices):
    ADJUDICATED = "adjudicated", "Adjudicated by a reviewer"
    KNOWN = "known", "Known answer (given by an owner)"
