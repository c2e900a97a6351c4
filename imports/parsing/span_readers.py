"""Readers of token-tagged data for span projects: WRENCH sequence-tagging folders and CoNLL files.

Each yields (line or record number, record) where a record holds the sentence's tokens and tags as the file
gives them (`tokens`, `tags`: one tag string per token, None where the file gives no gold; `weak_tags`: per
LF, one tag per token), with an `id`, a `split` and where it came from (`where`). Turning tags into spans
against the project's entity types is the import's job (imports.services.span_rows); nothing here touches the
database.

Tag schemes. BIO (B- opens a span, I- continues it) and IOB1 (I- marks every token of a span; B- only starts a
span right after another of the same type) read the same way here: core.spans.tag_spans reads an I- after O
or after another type as opening a span, as seqeval's lenient reading does, so a well-formed file of either
scheme gives the same spans. A CoNLL import still says which scheme it read (`tag_scheme_detected`): a file in
which no B- tag opens a span (each B- follows a span of its own type, or there is none) is IOB1, any other BIO.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson
from django.conf import settings

from core.spans import OUTSIDE, bio_label_names
from imports.parsing.errors import ImportFileError
from imports.parsing.json_stream import json_document
from imports.parsing.readers import (
    WRENCH_SMALL_FILE_BYTES,
    WRENCH_SPLITS,
    Progress,
    _decoded_lines,
    _ijson_reason,
    _wrench_lf_names,
    wrench_entries,
)
from imports.parsing.rows import SPLIT_ALIASES

TAG_SCHEME_AUTO = ""
TAG_SCHEME_BIO = "bio"
TAG_SCHEME_IOB1 = "iob1"
TAG_SCHEMES = (TAG_SCHEME_BIO, TAG_SCHEME_IOB1)
DOCSTART = "-DOCSTART-"
KNOWN_TAGS_KEPT = 1024
_TAG = re.compile(r"[BI]-\S+")
ERROR_TAG = "'{tag}' is not a tag (O, B-TYPE or I-TYPE)."
ERROR_CONLL_COLUMNS = "expected a token and its tag separated by white space, found one column."
ERROR_CONLL_EMPTY = "the file holds no sentence (token and tag lines, a blank line between sentences)."
ERROR_TAG_SCHEME = "Unknown tag scheme '{scheme}'; give bio or iob1 (or leave it out to detect it)."
ERROR_WRENCH_SEQUENCE = (
    "a WRENCH sequence-tagging dataset is a folder holding train.json, valid.json and/or test.json, with a "
    "meta.json naming its entity types and LFs."
)


def tag_scheme_parse(value: str | None) -> str:
    """A door's tag scheme: bio, iob1 (any case), or empty for "detect it"; anything else is refused."""
    scheme = (value or "").strip().lower()
    if scheme and scheme not in TAG_SCHEMES:
        raise ImportFileError(ERROR_TAG_SCHEME.format(scheme=value))
    return scheme


@dataclass
class SchemeDetector:
    """Watches the tags as they stream by: did any B- tag open a span (BIO), or none (IOB1)?"""

    opening_b: bool = False
    any_tag: bool = False

    def see(self, tags: list[str]) -> None:
        if self.opening_b:
            return
        previous = OUTSIDE
        for tag in tags:
            if tag.startswith("B-"):
                self.any_tag = True
                if previous[2:] != tag[2:] or previous == OUTSIDE:
                    self.opening_b = True
                    return
            elif tag != OUTSIDE:
                self.any_tag = True
            previous = tag

    @property
    def scheme(self) -> str:
        return TAG_SCHEME_BIO if self.opening_b else TAG_SCHEME_IOB1


def split_of_name(path: Path) -> str:
    """A CoNLL file's split, from its name: train.conll, dev.txt, test.conll, eng.testa... give train, valid,
    test where the first part of the name (before any dot) is a split's name; any other name gives none."""
    first = path.name.split(".")[0].strip().lower()
    return SPLIT_ALIASES.get(first, "")


# --- CoNLL -----------------------------------------------------------------------------------------------


@dataclass
class _Sentence:
    first_line: int = 0
    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def read_conll(
    stream: IO[bytes],
    *,
    size: int,
    progress: Progress,
    split: str = "",
    detector: SchemeDetector | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """One record per sentence: `token ... TAG` lines (white-space separated; the first column is the token, the
    last its tag), a blank line between sentences, `-DOCSTART-` lines between documents (skipped). The id is
    `d{document}-s{sentence}`, both counted from 1 (sentences within their document)."""
    document, number, sentence = 1, 0, _Sentence()
    for line_number, line in _decoded_lines(stream, size, progress):
        columns = line.split()
        if columns and columns[0] == DOCSTART:
            if sentence.tokens:
                number += 1
                yield sentence.first_line, _conll_record(sentence, document, number, split, detector)
                sentence = _Sentence()
            if number:
                document, number = document + 1, 0
            continue
        if not columns:
            if sentence.tokens:
                number += 1
                yield sentence.first_line, _conll_record(sentence, document, number, split, detector)
                sentence = _Sentence()
            continue
        if len(columns) < 2:
            raise ImportFileError(ERROR_CONLL_COLUMNS, line=line_number)
        tag = columns[-1]
        if tag != OUTSIDE and not _TAG.fullmatch(tag):
            raise ImportFileError(ERROR_TAG.format(tag=tag[:40]), line=line_number)
        sentence.first_line = sentence.first_line or line_number
        sentence.tokens.append(columns[0])
        sentence.tags.append(tag)
        sentence.lines.append(line_number)
    if sentence.tokens:
        number += 1
        yield sentence.first_line, _conll_record(sentence, document, number, split, detector)
    elif document == 1 and number == 0:
        raise ImportFileError(ERROR_CONLL_EMPTY)


def _conll_record(
    sentence: _Sentence, document: int, number: int, split: str, detector: SchemeDetector | None
) -> dict[str, Any]:
    if detector is not None:
        detector.see(sentence.tags)
    return {
        "id": f"d{document}-s{number}",
        "document": document,
        "sentence": number,
        "split": split,
        "tokens": sentence.tokens,
        "tags": sentence.tags,
        "tag_lines": sentence.lines,
        "where": "",
    }


# --- WRENCH sequence tagging -----------------------------------------------------------------------------


@dataclass
class WrenchSequenceFolder:
    """A WRENCH sequence-tagging folder: the LF names (meta.json's `lf`, else the readme's list) and the tag
    names that integer tags stand for (label.json where there is one, else O, B-/I- per meta.json's
    `entity_types`, as WRENCH's own loader numbers them)."""

    root: Path
    lf_names: list[str]
    tag_names: list[str]
    # Tag strings already checked (a dataset repeats a few of them a million times; a hostile one cannot
    # grow this past KNOWN_TAGS_KEPT).
    known_tags: set[str] = field(default_factory=set)


def open_wrench_sequence_folder(path: Path) -> WrenchSequenceFolder:
    root = path
    if not _is_wrench_root(root):
        candidates = [child for child in root.iterdir() if _is_wrench_root(child)] if root.is_dir() else []
        if len(candidates) != 1:
            raise ImportFileError(ERROR_WRENCH_SEQUENCE)
        root = candidates[0]
    meta = _small_json(root / "meta.json")
    if meta is not None and not isinstance(meta, dict):
        raise ImportFileError("meta.json must hold a JSON object.")
    meta = meta or {}
    lf_names = [str(name) for name in meta.get("lf") or []] or _wrench_lf_names(root)
    labels = _small_json(root / "label.json")
    if isinstance(labels, dict):
        try:
            numbered = {int(key): str(value) for key, value in labels.items()}
        except ValueError as exc:
            raise ImportFileError("label.json must map tag ids to tag names.") from exc
        tag_names = [numbered.get(index, "") for index in range(max(numbered, default=-1) + 1)]
    else:
        tag_names = bio_label_names([str(kind) for kind in meta.get("entity_types") or []])
    return WrenchSequenceFolder(root=root, lf_names=lf_names, tag_names=tag_names)


def _is_wrench_root(root: Path) -> bool:
    return root.is_dir() and any((root / f"{split}.json").is_file() for split in WRENCH_SPLITS)


def _small_json(path: Path) -> Any:
    if not path.is_file():
        return None
    if path.stat().st_size > WRENCH_SMALL_FILE_BYTES:
        raise ImportFileError(f"{path.name} is larger than {WRENCH_SMALL_FILE_BYTES:,} bytes.")
    try:
        with path.open("rb") as stream:
            return json_document(stream, limit=settings.IMPORT_JSON_MAX_DEPTH)
    except (ValueError, ijson.JSONError) as exc:
        raise ImportFileError(f"{path.name} is malformed JSON ({_ijson_reason(exc)}).") from exc


def read_wrench_sequence(
    folder: WrenchSequenceFolder, *, progress: Progress
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Records of train.json, valid.json and test.json in that order, numbered from 1 across the files."""
    for number, split, name, key, entry in wrench_entries(folder.root, progress=progress):
        yield number, _wrench_sequence_record(folder, split, f"{name}, record '{key}'", key, entry)


def _wrench_sequence_record(
    folder: WrenchSequenceFolder, split: str, where: str, key: str, entry: Any
) -> dict[str, Any]:
    data = entry.get("data") if isinstance(entry, dict) else None
    tokens = data.get("text") if isinstance(data, dict) else None
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) and t for t in tokens):
        raise ImportFileError(
            f"{where}: 'data.text' must be the sentence's tokens, a list of non-empty strings (a record whose "
            "'label' is one class is a classification dataset, for a project that labels whole items)."
        )
    count = len(tokens)
    label = entry.get("label")
    tags = None
    if label is not None:
        if not isinstance(label, list) or len(label) != count:
            raise ImportFileError(f"{where}: 'label' must hold one tag per token ({count}).")
        tags = [tag if tag in folder.known_tags else _wrench_tag(folder, tag, where) for tag in label]
    weak = entry.get("weak_labels")
    weak_tags: list[list[str]] = []
    if weak not in (None, []):
        if not isinstance(weak, list) or len(weak) != count or not all(isinstance(row, list) for row in weak):
            raise ImportFileError(
                f"{where}: 'weak_labels' must hold, per token, one tag per LF ({count} tokens)."
            )
        width = len(weak[0])
        if any(len(row) != width for row in weak):
            raise ImportFileError(
                f"{where}: every token of 'weak_labels' must hold one tag per LF ({width})."
            )
        # Per token, per LF in the file; per LF, per token here. Tags seen before need no second look.
        known = folder.known_tags
        weak_tags = [
            [tag if tag in known else _wrench_tag(folder, tag, where) for tag in column]
            for column in zip(*weak, strict=True)
        ]
    return {"id": f"{split}-{key}", "split": split, "tokens": tokens, "tags": tags, "weak_tags": weak_tags,
            "where": where}  # fmt: skip


def _wrench_tag(folder: WrenchSequenceFolder, tag: Any, where: str) -> str:
    if isinstance(tag, str):
        if tag != OUTSIDE and not _TAG.fullmatch(tag):
            raise ImportFileError(f"{where}: {ERROR_TAG.format(tag=tag[:40])}")
        if len(folder.known_tags) < KNOWN_TAGS_KEPT:
            folder.known_tags.add(tag)
        return tag
    if isinstance(tag, int) and not isinstance(tag, bool):
        if tag == -1:  # WRENCH's abstain
            return OUTSIDE
        if 0 <= tag < len(folder.tag_names) and folder.tag_names[tag]:
            return _wrench_tag(folder, folder.tag_names[tag], where)
        raise ImportFileError(
            f"{where}: tag id {tag} names no tag ({len(folder.tag_names)} tags from meta.json's entity types "
            "or label.json)."
        )
    raise ImportFileError(f"{where}: a tag must be a string such as B-PER or a tag id, not {tag!r:.40}.")
