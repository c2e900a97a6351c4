"""The span readers (imports.parsing.span_readers): CoNLL sentences and documents, WRENCH sequence-tagging
records, tag schemes, and errors that name their line or record. No database."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from imports.parsing.errors import ImportFileError
from imports.parsing.readers import Progress
from imports.parsing.span_readers import (
    ERROR_CONLL_COLUMNS,
    SchemeDetector,
    open_wrench_sequence_folder,
    read_conll,
    read_wrench_sequence,
    split_of_name,
    tag_scheme_parse,
)

CONLL = (
    "-DOCSTART- O\n\nJohn I-PER\nlives O\nin O\nNew I-LOC\nYork I-LOC\n\n-DOCSTART- O\n\nParis I-LOC\n! O\n"
)


def _conll(text: str, detector: SchemeDetector | None = None) -> list[tuple[int, dict[str, Any]]]:
    data = text.encode("utf-8")
    return list(read_conll(io.BytesIO(data), size=len(data), progress=Progress(), detector=detector))


def test_conll_gives_one_record_per_sentence_numbered_by_document_and_sentence() -> None:
    # given
    detector = SchemeDetector()

    # when
    records = _conll(CONLL, detector)

    # then
    assert [(line, record["id"], record["tokens"], record["tags"]) for line, record in records] == [
        (3, "d1-s1", ["John", "lives", "in", "New", "York"], ["I-PER", "O", "O", "I-LOC", "I-LOC"]),
        (11, "d2-s1", ["Paris", "!"], ["I-LOC", "O"]),
    ]
    assert records[0][1]["tag_lines"] == [3, 4, 5, 6, 7]
    assert detector.scheme == "iob1"


def test_conll_reads_crlf_lines_tabs_and_extra_columns_taking_the_last_as_the_tag() -> None:
    # given
    text = "EU\tNNP\tB-NP\tB-ORG\r\nrejects VBZ B-VP O\r\n\r\nGerman JJ B-NP B-MISC\r\n"
    detector = SchemeDetector()

    # when
    records = _conll(text, detector)

    # then
    assert [(record["id"], record["tokens"], record["tags"]) for _, record in records] == [
        ("d1-s1", ["EU", "rejects"], ["B-ORG", "O"]),
        ("d1-s2", ["German"], ["B-MISC"]),
    ]
    assert detector.scheme == "bio"


@pytest.mark.parametrize(
    ("tags", "scheme"),
    [
        (["I-PER", "I-PER", "O", "I-LOC"], "iob1"),
        (["I-PER", "B-PER", "O"], "iob1"),  # B- only between two spans of one type
        (["B-PER", "I-PER", "O"], "bio"),
        (["I-PER", "B-LOC"], "bio"),  # a B- after another type opens a span
        (["O", "O"], "iob1"),
    ],
)
def test_the_scheme_is_iob1_unless_some_b_tag_opens_a_span(tags: list[str], scheme: str) -> None:
    # given
    detector = SchemeDetector()

    # when
    detector.see(tags)

    # then
    assert detector.scheme == scheme


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("John I-PER\nlives\n", 2, ERROR_CONLL_COLUMNS),
        ("John I-PER\n\nParis LOC\n", 3, "'LOC' is not a tag"),
        ("John I-PER\nParis X-LOC\n", 2, "'X-LOC' is not a tag"),
        ("John I-PER\n\xff\n", 2, "not valid UTF-8"),  # written as Latin-1
    ],
)
def test_a_bad_conll_line_is_refused_with_its_number(text: str, line: int, message: str) -> None:
    # given
    data = text.encode("latin-1") if "\xff" in text else text.encode()

    # when
    with pytest.raises(ImportFileError) as caught:
        list(read_conll(io.BytesIO(data), size=len(data), progress=Progress()))

    # then
    assert caught.value.line == line
    assert message in caught.value.message
    assert caught.value.message.startswith(f"Line {line}: ")


def test_a_conll_file_without_sentences_is_refused() -> None:
    with pytest.raises(ImportFileError, match="holds no sentence"):
        _conll("-DOCSTART- O\n\n")


@pytest.mark.parametrize(
    ("name", "split"),
    [("train.conll", "train"), ("dev.txt", "valid"), ("test.conll", "test"), ("wikigold.conll.txt", "")],
)
def test_a_conll_files_split_comes_from_its_name(name: str, split: str) -> None:
    assert split_of_name(Path(name)) == split


def test_the_tag_scheme_is_bio_iob1_or_detected() -> None:
    assert (tag_scheme_parse("BIO"), tag_scheme_parse("iob1"), tag_scheme_parse("")) == ("bio", "iob1", "")
    with pytest.raises(ImportFileError, match="Unknown tag scheme 'bilou'"):
        tag_scheme_parse("bilou")


def _wrench(tmp_path: Path, records: dict[str, Any], meta: dict[str, Any] | None = None) -> Path:
    root = tmp_path / "seq"
    root.mkdir()
    (root / "meta.json").write_text(json.dumps(meta or {"entity_types": ["PER", "LOC"], "lf": ["a", "b"]}))
    (root / "train.json").write_text(json.dumps(records))
    return root


def test_wrench_records_carry_tokens_gold_tags_and_per_lf_tags_from_strings_or_ids(tmp_path: Path) -> None:
    # given: tag ids number O, B-PER, I-PER, B-LOC, I-LOC (WRENCH's own order); -1 abstains
    records = {
        "0": {"data": {"text": ["Ann", "met", "Bob"]}, "label": ["B-PER", "O", "B-PER"],
              "weak_labels": [["B-PER", 1], ["O", -1], ["O", 3]]},
    }  # fmt: skip
    folder = open_wrench_sequence_folder(_wrench(tmp_path, records))

    # when
    read = list(read_wrench_sequence(folder, progress=Progress()))

    # then
    assert folder.lf_names == ["a", "b"]
    assert read == [
        (1, {"id": "train-0", "split": "train", "tokens": ["Ann", "met", "Bob"], "tags": ["B-PER", "O", "B-PER"],
             "weak_tags": [["B-PER", "O", "O"], ["B-PER", "O", "B-LOC"]], "where": "train.json, record '0'"}),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"data": {"text": "Ann met Bob"}, "label": 0}, "'data.text' must be the sentence's tokens"),
        ({"data": {"text": ["Ann", "met"]}, "label": ["B-PER"]}, "'label' must hold one tag per token (2)"),
        ({"data": {"text": ["Ann"]}, "label": ["PER"]}, "'PER' is not a tag"),
        ({"data": {"text": ["Ann"]}, "label": [7]}, "tag id 7 names no tag"),
        ({"data": {"text": ["Ann", "x"]}, "weak_labels": [["O"], ["O", "O"]]}, "one tag per LF (1)"),
    ],
)
def test_a_bad_wrench_record_is_refused_naming_its_file_and_key(
    tmp_path: Path, entry: dict[str, Any], message: str
) -> None:
    # given
    folder = open_wrench_sequence_folder(_wrench(tmp_path, {"s7": entry}))

    # when
    with pytest.raises(ImportFileError) as caught:
        list(read_wrench_sequence(folder, progress=Progress()))

    # then
    assert caught.value.message.startswith("train.json, record 's7': ")
    assert message in caught.value.message


def test_a_folder_without_split_files_is_not_a_wrench_dataset(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="sequence-tagging dataset is a folder"):
        open_wrench_sequence_folder(tmp_path)
