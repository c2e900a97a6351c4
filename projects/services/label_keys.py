"""Label keys: the one rule that turns a given key into a label's key, and answers checked against the schema.

A key is stored as `label_key_normalise` makes it when the project is created ("Not Spam" becomes
`not_spam`), and every door that takes a key (an answer, a review decision, known answers, an import's
labels and label map, a labeling function's label, a snapshot's label filter, a metric's label) reads it
through `LabelKeys.find`, with the same rule: a key given in another case, or with spaces or hyphens for
underscores, finds its label; one that names no label is refused with the project's labels listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from projects.models import Project
from projects.selectors import project_label_aliases, project_labels

ERROR_NO_LABEL = "Choose at least one label."
ERROR_ONE_LABEL = "This project takes exactly one label per item."
ERROR_UNKNOWN_LABELS = "Unknown label(s): {labels}. The project's labels are: {keys}."
# A door reads few distinct spellings of its keys; past this many, new ones are resolved without being kept.
MAX_REMEMBERED_SPELLINGS = 1000


def label_key_normalise(raw: str) -> str:
    """A label key as creation stores it: lower case ASCII letters, digits and underscores ("Not Spam" and
    "not-spam" give `not_spam`); empty when nothing usable is left."""
    return slugify(raw).replace("-", "_")


class LabelKeys:
    """A project's label keys in schema order, and how a given key finds one of them (`find`)."""

    def __init__(self, keys: Iterable[str], aliases: Mapping[str, str] | None = None) -> None:
        """`aliases`: keys merged away and the key each now names (a later file may still say them)."""
        self.keys = tuple(keys)
        spellings = ((label_key_normalise(key), key) for key in reversed(self.keys))
        self._by_spelling = {spelling: key for spelling, key in spellings if spelling}
        self._by_spelling.update((key, key) for key in self.keys)  # a key as stored always finds itself
        for old, new in (aliases or {}).items():
            if new in self.keys:
                self._by_spelling.setdefault(old, new)
        self._remembered = 0

    def find(self, raw: str) -> str | None:
        """The key `raw` names (as stored, or in any spelling that creation turns into it), or None."""
        found = self._by_spelling.get(raw)
        if found is None:
            found = self._by_spelling.get(label_key_normalise(raw) or raw)
            # An import reads the same few spellings a million times: each is normalised once.
            if found is not None and self._remembered < MAX_REMEMBERED_SPELLINGS:
                self._by_spelling[raw] = found
                self._remembered += 1
        return found

    def unknown_error(self, unknown: Iterable[str]) -> ValidationError:
        """The refusal of keys that name no label, listing the project's labels."""
        message = ERROR_UNKNOWN_LABELS.format(labels=", ".join(unknown), keys=", ".join(self.keys))
        return ValidationError(message, code="unknown_label")

    def resolve(self, raw: Iterable[str]) -> list[str]:
        """The keys the given ones name, deduplicated, in schema order; ValidationError for any unknown."""
        found: set[str] = set()
        unknown: list[str] = []
        for value in dict.fromkeys(raw):
            key = self.find(value)
            if key is None:
                unknown.append(value)
            else:
                found.add(key)
        if unknown:
            raise self.unknown_error(unknown)
        return [key for key in self.keys if key in found]


def label_keys_of(*, project: Project) -> LabelKeys:
    """The project's keys, and the keys merged into them."""
    return LabelKeys(
        (label.key for label in project_labels(project=project)), project_label_aliases(project=project)
    )


ERROR_RETIRED = "Label(s) {labels} are retired and take no new answers."


def annotation_labels_validate(*, project: Project, labels: list[str]) -> list[str]:
    """Known label keys, deduplicated, in schema order; one of them unless the project is multi-label; none
    retired."""
    keys = label_keys_of(project=project).resolve(labels)
    retired = {label.key for label in project_labels(project=project) if label.retired_at is not None}
    if retired.intersection(keys):
        names = ", ".join(key for key in keys if key in retired)
        raise ValidationError(ERROR_RETIRED.format(labels=names), code="retired_label")
    if not keys:
        raise ValidationError(ERROR_NO_LABEL, code="no_label")
    if len(keys) > 1 and not project.multi_label:
        raise ValidationError(ERROR_ONE_LABEL, code="single_label")
    return keys
