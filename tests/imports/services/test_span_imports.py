"""Imports into a span project on SQLite (the ORM writer): a WRENCH sequence-tagging folder and its zip, CoNLL,
and JSONL with character offsets; all or nothing, errors with their line; re-imports."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from imports.parsing.errors import ImportFileError
from imports.services.jobs import import_options_build, items_import
from imports.services.pipeline import ERROR_CONLL_NOT_SPANS, ERROR_CSV_SPANS
from imports.services.span_pipeline import ERROR_CONLL_NO_SPLIT
from labeling.choices import AnnotationSource, GoldSource
from labeling.models import Annotation, EvaluationLabel, GoldLabel
from projects.choices import ImportFormat, OnConflict, ProjectKind
from projects.models import Item, Project
from tests.projects.factories import ProjectFactory
from weak_supervision.models import ExternalSpanVote, LabelingFunction

pytestmark = pytest.mark.django_db

# Per split, (tokens, gold tags, per-token tags of the LFs "gazetteer" and "caps").
TINY_SEQUENCE: dict[str, list[tuple[list[str], list[str], list[list[str]]]]] = {
    "train": [
        (
            ["Ann", "visited", "Oslo"],
            ["B-PER", "O", "B-LOC"],
            [["O", "B-PER"], ["O", "O"], ["B-LOC", "B-PER"]],
        )
    ],
    "valid": [
        (["Bob", "Smith", "left"], ["B-PER", "I-PER", "O"], [["O", "B-PER"], ["O", "I-PER"], ["O", "O"]])
    ],
    "test": [(["It", "rained"], ["O", "O"], [["O", "B-PER"], ["O", "O"]])],
}


@pytest.fixture
def span_project() -> Project:
    return ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"])


@pytest.fixture
def sequence_folder(tmp_path: Path) -> Path:
    root = tmp_path / "tiny_ner"
    root.mkdir()
    (root / "meta.json").write_text(json.dumps({"entity_types": ["PER", "LOC"], "lf": ["gazetteer", "caps"]}))
    for split, rows in TINY_SEQUENCE.items():
        entries = {str(i): {"data": {"text": tokens}, "label": tags, "weak_labels": weak}
                   for i, (tokens, tags, weak) in enumerate(rows)}  # fmt: skip
        (root / f"{split}.json").write_text(json.dumps(entries))
    return root


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    def build(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return build


def _span(text: str, start: int, end: int, label: str) -> dict[str, Any]:
    return {"start": start, "end": end, "label": label, "text": text[start:end]}


def test_a_wrench_sequence_folder_gives_evaluation_spans_known_gold_and_lf_spans(
    span_project: Project, sequence_folder: Path
) -> None:
    # when
    result = items_import(project=span_project, source=sequence_folder,
                          options=import_options_build(format=ImportFormat.WRENCH))  # fmt: skip

    # then
    items = {item.external_id: item for item in Item.objects.filter(project=span_project)}
    assert {key: (item.text, item.split, item.token_offsets) for key, item in items.items()} == {
        "train-0": ("Ann visited Oslo", "train", [[0, 3], [4, 11], [12, 16]]),
        "valid-0": ("Bob Smith left", "valid", [[0, 3], [4, 9], [10, 14]]),
        "test-0": ("It rained", "test", [[0, 2], [3, 9]]),
    }
    train = EvaluationLabel.objects.get(item=items["train-0"])
    assert (train.labels, train.spans) == (
        ["per", "loc"],
        [_span("Ann visited Oslo", 0, 3, "per"), _span("Ann visited Oslo", 12, 16, "loc")],
    )
    assert EvaluationLabel.objects.get(item=items["test-0"]).spans == []
    gold = GoldLabel.objects.get(item=items["valid-0"])
    assert (gold.labels, gold.spans, gold.source, gold.is_check) == (
        ["per"],
        [_span("Bob Smith left", 0, 9, "per")],
        GoldSource.KNOWN,
        False,
    )
    assert Annotation.objects.filter(project=span_project).count() == 0
    names = dict(LabelingFunction.objects.filter(project=span_project).values_list("pk", "name"))
    votes = {(names[lf_id], items_id): spans for lf_id, items_id, spans in
             ExternalSpanVote.objects.values_list("labeling_function_id", "item__external_id", "spans")}  # fmt: skip
    assert votes == {
        ("gazetteer", "train-0"): [_span("Ann visited Oslo", 12, 16, "loc")],
        ("caps", "train-0"): [
            _span("Ann visited Oslo", 0, 3, "per"),
            _span("Ann visited Oslo", 12, 16, "per"),
        ],
        ("caps", "valid-0"): [_span("Bob Smith left", 0, 9, "per")],
        ("caps", "test-0"): [_span("It rained", 0, 2, "per")],
    }
    assert (result.rows, result.evaluation_labels, result.gold_labels, result.votes_imported) == (3, 2, 1, 4)
    assert {item.remaining for item in items.values()} == {span_project.overlap}


def test_a_zipped_wrench_sequence_folder_imports_as_the_folder_does(
    span_project: Project, sequence_folder: Path, tmp_path: Path
) -> None:
    # given
    archive = tmp_path / "tiny_ner.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        for path in sequence_folder.iterdir():
            packed.write(path, f"tiny_ner/{path.name}")

    # when
    result = items_import(project=span_project, source=archive, options=import_options_build(format="wrench"))

    # then
    assert (result.rows, result.labeling_functions, result.votes_imported) == (3, 2, 4)


def test_an_unknown_entity_type_refuses_the_whole_import_naming_the_record(
    span_project: Project, sequence_folder: Path
) -> None:
    # given: valid.json's sentence tags a type the project lacks
    entries = {"0": {"data": {"text": ["Acme", "rose"]}, "label": ["B-ORG", "O"], "weak_labels": []}}
    (sequence_folder / "valid.json").write_text(json.dumps(entries))

    # when
    with pytest.raises(ImportFileError) as caught:
        items_import(
            project=span_project, source=sequence_folder, options=import_options_build(format="wrench")
        )

    # then
    assert caught.value.message == (
        "Record 2: valid.json, record '0': unknown entity type 'ORG' (tag 'B-ORG'); the project's types are: "
        "per, loc."
    )
    assert not Item.objects.filter(project=span_project).exists()


CONLL = "-DOCSTART- O\n\nAnn I-PER\nvisited O\nNew I-LOC\nYork I-LOC\n\nBob I-PER\n"


def test_conll_tags_become_imported_annotations_with_the_detected_scheme(
    span_project: Project, write: Callable[[str, str], Path]
) -> None:
    # given
    path = write("news.conll", CONLL)

    # when
    result = items_import(project=span_project, source=path, options=import_options_build())

    # then
    annotations = {a.item.external_id: a for a in Annotation.objects.select_related("item")}
    assert set(annotations) == {"d1-s1", "d1-s2"}
    first = annotations["d1-s1"]
    assert first.item.text == "Ann visited New York"
    assert first.item.metadata == {"document": 1, "sentence": 1}
    assert (first.labels, first.source, first.external_annotator) == (
        ["per", "loc"],
        AnnotationSource.IMPORT,
        "",
    )
    assert first.spans == [
        _span("Ann visited New York", 0, 3, "per"),
        _span("Ann visited New York", 12, 20, "loc"),
    ]
    assert first.item.remaining == span_project.overlap - 1
    assert (result.annotations_imported, result.tag_scheme) == (2, "iob1")


def test_conll_spans_of_an_evaluation_only_split_named_by_the_file_only_score(
    span_project: Project, write: Callable[[str, str], Path]
) -> None:
    # given
    path = write("test.conll", CONLL)

    # when
    result = items_import(project=span_project, source=path,
                          options=import_options_build(eval_only_splits=["test"], tag_scheme="iob1"))  # fmt: skip

    # then
    assert set(Item.objects.values_list("split", flat=True)) == {"test"}
    assert (result.evaluation_labels, result.annotations_imported, result.tag_scheme) == (2, 0, "iob1")
    assert EvaluationLabel.objects.get(item__external_id="d1-s2").spans == [_span("Bob", 0, 3, "per")]


def test_a_bad_conll_line_fails_the_import_with_its_number_and_imports_nothing(
    span_project: Project, write: Callable[[str, str], Path]
) -> None:
    # given: line 9 tags a type the project lacks
    path = write("news.conll", CONLL + "\nAcme I-ORG\n")

    # when
    with pytest.raises(ImportFileError) as caught:
        items_import(project=span_project, source=path, options=import_options_build())

    # then
    assert caught.value.line == 10
    assert "unknown entity type 'ORG'" in caught.value.message
    assert not Item.objects.exists()


def test_conll_is_refused_for_a_project_that_labels_whole_items(
    project: Project, write: Callable[[str, str], Path]
) -> None:
    with pytest.raises(ImportFileError, match=re.escape(ERROR_CONLL_NOT_SPANS)):
        items_import(project=project, source=write("news.conll", CONLL), options=import_options_build())


def test_a_span_project_refuses_csv(span_project: Project, write: Callable[[str, str], Path]) -> None:
    with pytest.raises(ImportFileError, match=re.escape(ERROR_CSV_SPANS)):
        items_import(
            project=span_project, source=write("a.csv", "text\nhi\n"), options=import_options_build()
        )


EMOJI = "I ❤️ Zoë in 🇳🇴 Oslo"  # code points: the heart is two (U+2764 U+FE0F), the flag two regional letters


def test_jsonl_offsets_are_code_points_with_emoji_and_crlf_lines(
    span_project: Project, write: Callable[[str, bytes], Path]
) -> None:
    # given: CRLF line ends, and a text with a CRLF inside
    zoe, oslo = EMOJI.index("Zoë"), EMOJI.index("Oslo")
    rows = [
        {"id": "e1", "text": EMOJI, "split": "train", "annotator": "ann",
         "spans": [{"start": zoe, "end": zoe + 3, "label": "PER", "text": "Zoë"},
                   {"start": oslo, "end": oslo + 4, "label": "loc"}]},
        {"id": "e2", "text": "Line one\r\nBob", "spans": [{"start": 10, "end": 13, "label": "per"}],
         "annotator": "ann"},
        {"id": "e3", "text": "Nothing here", "spans": [], "annotator": "ann"},
        {"id": "e4", "text": "Not labeled yet", "annotator": "ann", "source": "web"},
    ]  # fmt: skip
    path = write("pre.jsonl", "".join(json.dumps(row, ensure_ascii=False) + "\r\n" for row in rows).encode())

    # when
    result = items_import(project=span_project, source=path, options=import_options_build())

    # then
    answers = {a.item.external_id: a for a in Annotation.objects.select_related("item")}
    assert answers["e1"].spans == [_span(EMOJI, zoe, zoe + 3, "per"), _span(EMOJI, oslo, oslo + 4, "loc")]
    assert answers["e1"].spans[0]["text"] == "Zoë"
    assert (answers["e1"].external_annotator, answers["e1"].labels, answers["e1"].item.split) == (
        "ann",
        ["per", "loc"],
        "train",
    )
    assert answers["e2"].spans == [_span("Line one\r\nBob", 10, 13, "per")]
    assert answers["e2"].spans[0]["text"] == "Bob"
    assert (answers["e3"].spans, answers["e3"].labels) == ([], [])
    assert "e4" not in answers
    assert Item.objects.get(external_id="e4").metadata == {"source": "web"}
    assert Item.objects.get(external_id="e4").token_offsets is None
    assert (result.rows, result.annotations_imported) == (4, 3)


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        ([{"start": 0, "end": 99, "label": "per"}], "Line 2: Span 1: 0-99 is not inside the text (0-9"),
        (
            [{"start": 0, "end": 3, "label": "org"}],
            "Line 2: Span 1: 'org' is not an entity type of this project",
        ),
        ([{"start": 0, "end": 3, "label": "per", "text": "Bo"}], "Line 2: Span 1: the quoted text 'Bo'"),
        (
            [{"start": 0, "end": 3, "label": "per"}, {"start": 0, "end": 7, "label": "loc"}],
            "Line 2: Spans 1 and 2 overlap",
        ),
        ("Bob", "Line 2: the 'spans' field must be a list of spans"),
    ],
)
def test_bad_spans_fail_the_jsonl_import_with_their_line_and_import_nothing(
    span_project: Project, write: Callable[[str, bytes], Path], spans: Any, message: str
) -> None:
    # given
    lines = [{"id": "a", "text": "Fine text", "spans": []}, {"id": "b", "text": "Bob Lee x", "spans": spans}]
    path = write("pre.jsonl", "".join(json.dumps(row) + "\n" for row in lines).encode())

    # when
    with pytest.raises(ImportFileError) as caught:
        items_import(project=span_project, source=path, options=import_options_build())

    # then
    assert caught.value.message.startswith(message)
    assert not Item.objects.exists()


def test_overlapping_spans_import_where_the_project_allows_them(write: Callable[[str, bytes], Path]) -> None:
    # given
    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"], allow_overlapping_spans=True)
    row = {"id": "a", "text": "New York City", "spans": [{"start": 0, "end": 13, "label": "loc"},
                                                          {"start": 0, "end": 8, "label": "loc"}]}  # fmt: skip
    path = write("pre.jsonl", (json.dumps(row) + "\n").encode())

    # when
    items_import(project=project, source=path, options=import_options_build())

    # then
    assert [span["text"] for span in Annotation.objects.get().spans] == ["New York City", "New York"]


def test_reimporting_with_update_replaces_the_spans_and_keeps_one_annotation(
    span_project: Project, write: Callable[[str, bytes], Path]
) -> None:
    # given
    first = write(
        "a.jsonl", b'{"id": "a", "text": "Ann and Bob", "spans": [{"start": 0, "end": 3, "label": "per"}]}\n'
    )
    items_import(project=span_project, source=first, options=import_options_build())
    again = write(
        "b.jsonl", b'{"id": "a", "text": "Ann and Bob", "spans": [{"start": 8, "end": 11, "label": "per"}]}\n'
    )

    # when
    result = items_import(project=span_project, source=again,
                          options=import_options_build(on_conflict=OnConflict.UPDATE))  # fmt: skip

    # then
    annotation = Annotation.objects.get()
    assert annotation.spans == [_span("Ann and Bob", 8, 11, "per")]
    assert annotation.item.remaining == span_project.overlap - 1
    assert (result.items_updated, result.annotations_imported) == (1, 1)


def test_import_items_reports_a_span_import_as_json(span_project: Project, sequence_folder: Path) -> None:
    # given
    out = io.StringIO()

    # when
    call_command(
        "import_items", span_project.slug, str(sequence_folder), "--format", "wrench", "--json", stdout=out
    )

    # then
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {key: summary[key] for key in ("rows", "evaluation_labels_imported", "gold_labels_imported",
                                          "votes_imported", "eval_only_splits")} == {
        "rows": 3, "evaluation_labels_imported": 2, "gold_labels_imported": 1, "votes_imported": 4,
        "eval_only_splits": ["train", "test"],
    }  # fmt: skip


def test_evaluation_only_splits_of_a_conll_file_whose_name_gives_none_are_refused(
    span_project: Project, write: Callable[[str, str], Path]
) -> None:
    # given
    path = write("wikigold.conll.txt", CONLL)

    # when
    with pytest.raises(ImportFileError) as caught:
        items_import(project=span_project, source=path,
                     options=import_options_build(format="conll", eval_only_splits=["test"]))  # fmt: skip

    # then
    assert caught.value.message == ERROR_CONLL_NO_SPLIT.format(name="wikigold.conll.txt")
    assert not Item.objects.exists()


def test_a_sequence_tagging_folder_in_an_item_project_is_pointed_to_a_span_project(
    project: Project, sequence_folder: Path
) -> None:
    with pytest.raises(ImportFileError, match="import it into a span project"):
        items_import(project=project, source=sequence_folder, options=import_options_build(format="wrench"))
