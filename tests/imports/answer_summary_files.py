"""The import files the answer-summary tests import on SQLite (tests/imports) and with the COPY writer on
PostgreSQL (tests/integration), and the summaries each import must leave, by item id."""

from __future__ import annotations

import json
from pathlib import Path

from imports.services.jobs import ImportOptions, import_options_build, items_import
from projects.choices import OnConflict, ProjectKind
from projects.models import Project
from tests.labeling.answer_summaries import Summary, summaries_of
from tests.projects.factories import ProjectFactory

# Several people's labels per item, in batches of two rows: item 1's answers span the first two batches and
# item 2's the next two (an item's first batch writes its summary from the rows, a later one recomputes it
# from all its answers); item 4's are all in the last batch.
FIRST_CSV = (
    "id,text,label,who\n"
    "1,one,ham,ann\n1,one,spam,bob\n"
    "1,one,spam,cy\n2,two,ham,ann\n"
    "2,two,ham,bob\n3,three,,ann\n"
    "4,four,spam,ann\n4,four,ham,bob\n"
)
FIRST_SUMMARIES: dict[str, Summary] = {
    "1": (3, 2, ["ham", "spam"]), "2": (2, 1, ["ham"]), "4": (2, 2, ["ham", "spam"]),
}  # fmt: skip
# Updating: bob and cy change their minds on 1, cy answers 2, and 3 gets its first answer.
SECOND_CSV = "id,text,label,who\n1,one,ham,bob\n1,one,ham,cy\n2,two,spam,cy\n3,three,ham,ann\n"
SECOND_SUMMARIES: dict[str, Summary] = {
    "1": (3, 1, ["ham"]), "2": (3, 2, ["ham", "spam"]), "3": (1, 1, ["ham"]), "4": (2, 2, ["ham", "spam"]),
}  # fmt: skip
# One label per item; then item 2 moves to an evaluation-only split: its imported answer is taken back.
SPLIT_CSV = "id,text,label,split\n1,one,spam,train\n2,two,ham,train\n"
SPLIT_SUMMARIES: dict[str, Summary] = {"1": (1, 1, ["spam"]), "2": (1, 1, ["ham"])}
MOVED_CSV = "id,text,label,split\n2,two,ham,test\n"
MOVED_SUMMARIES: dict[str, Summary] = {"1": (1, 1, ["spam"])}
BATCH_SIZE = 2

# Span answers: ann and bob mark the same type at other places; then bob's answer is re-imported as ann's.
SPAN_TEXT = "Ada Lovelace met Babbage"
SPAN_FIRST = [
    {"id": "a", "text": SPAN_TEXT, "annotator": "ann", "spans": [{"start": 0, "end": 3, "label": "per"}]},
    {"id": "a", "text": SPAN_TEXT, "annotator": "bob", "spans": [{"start": 0, "end": 12, "label": "per"}]},
    {"id": "b", "text": SPAN_TEXT, "annotator": "ann", "spans": []},
]
SPAN_FIRST_SUMMARIES: dict[str, Summary] = {"a": (2, 2, ["per"]), "b": (1, 1, [])}
SPAN_SECOND = [
    {"id": "a", "text": SPAN_TEXT, "annotator": "bob", "spans": [{"start": 0, "end": 3, "label": "per"}]},
]
SPAN_SECOND_SUMMARIES: dict[str, Summary] = {"a": (2, 1, ["per"]), "b": (1, 1, [])}


def items_imported_twice(folder: Path) -> tuple[Project, dict[str, Summary]]:
    """The two long-format imports into a new project (ham, spam), the second updating; the summaries between."""
    project = ProjectFactory(overlap=3)
    first, second = folder / "first.csv", folder / "second.csv"
    first.write_text(FIRST_CSV)
    second.write_text(SECOND_CSV)
    options = import_options_build(id_field="id", label_field="label", annotator_field="who")
    items_import(project=project, source=first, options=options, batch_size=BATCH_SIZE)
    between = summaries_of(project)
    options = import_options_build(
        on_conflict=OnConflict.UPDATE, id_field="id", label_field="label", annotator_field="who"
    )
    items_import(project=project, source=second, options=options, batch_size=BATCH_SIZE)
    return project, between


def answers_taken_back(folder: Path) -> tuple[Project, dict[str, Summary]]:
    """An import with splits, then an update moving an item to an evaluation-only split; the summaries
    between them."""
    project = ProjectFactory(overlap=3)
    first, moved = folder / "split.csv", folder / "moved.csv"
    first.write_text(SPLIT_CSV)
    moved.write_text(MOVED_CSV)
    items_import(project=project, source=first, options=_split_options(OnConflict.SKIP))
    between = summaries_of(project)
    items_import(project=project, source=moved, options=_split_options(OnConflict.UPDATE))
    return project, between


def _split_options(on_conflict: str) -> ImportOptions:
    return import_options_build(
        on_conflict=on_conflict,
        id_field="id",
        label_field="label",
        split_field="split",
        eval_only_splits=["test"],
    )


def spans_imported_twice(folder: Path) -> tuple[Project, dict[str, Summary]]:
    """The two span imports into a new span project, the second updating; the summaries between them."""
    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"], overlap=3)
    first, second = folder / "first.jsonl", folder / "second.jsonl"
    first.write_text("".join(json.dumps(row) + "\n" for row in SPAN_FIRST))
    second.write_text("".join(json.dumps(row) + "\n" for row in SPAN_SECOND))
    items_import(project=project, source=first, options=import_options_build())
    between = summaries_of(project)
    items_import(project=project, source=second, options=import_options_build(on_conflict=OnConflict.UPDATE))
    return project, between
