"""Records of a span project's import turned into checked rows: the item (through the item import's own
RowBuilder: text, id, split, annotator, metadata, duplicates), its tokens, its gold or pre-annotated spans and
each external LF's spans.

Two kinds of record come in. Token-tagged ones (WRENCH sequence tagging, CoNLL) carry `tokens` and `tags`: the
text is the tokens joined by one space (core.spans.tokens_join), the item keeps their offsets, and the tags'
entity types are read as the project's label keys ("PER" is `per`). Records with character offsets (JSONL, a
JSON array, Parquet) carry `text` and `spans`, checked as every door checks spans
(labeling.services.spans.spans_validate: offsets inside the text, known types, the quote if given, overlaps
only where the project allows them). Offsets are code points of the text as stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.core.exceptions import ValidationError

from core.spans import OUTSIDE, SpanDict, TokenOffsets, tag_spans, token_spans_to_spans, tokens_join
from imports.parsing.errors import ImportFileError
from imports.parsing.rows import FieldMapping, ImportRow, RowBuilder
from labeling.services.spans import span_types_present, spans_validate
from projects.models import Project
from projects.services.label_keys import label_keys_of

SPANS_FIELD = "spans"
ERROR_UNKNOWN_TYPE = "unknown entity type '{kind}' (tag '{tag}'); the project's types are: {keys}."
ERROR_SPANS_NOT_LIST = 'the \'{field}\' field must be a list of spans ({{"start", "end", "label"}}).'


@dataclass(slots=True)
class SpanRow:
    """One checked record: its item row, tokens, answer (None: it gives none; []: "no entities"), the types
    its answer holds (schema order), and each LF's spans (None: the record brings no LF output)."""

    row: ImportRow
    token_offsets: TokenOffsets | None
    spans: list[SpanDict] | None
    labels: list[str]
    lf_spans: list[list[SpanDict]] | None = None


@dataclass
class SpanRowBuilder:
    """Checks records one by one. `tagged`: records carry tokens and tags (WRENCH, CoNLL); otherwise text and
    character-offset spans in the field `spans_field`."""

    project: Project
    mapping: FieldMapping
    tagged: bool
    where: str = "Line"
    on_duplicate: str = "fail"
    spans_field: str = SPANS_FIELD
    scheme: str = "BIO"
    lf_count: int | None = None
    _items: RowBuilder = field(init=False)

    def __post_init__(self) -> None:
        self._keys = label_keys_of(project=self.project)
        self._order = {key: index for index, key in enumerate(self._keys.keys)}
        self._items = RowBuilder(
            mapping=self.mapping, label_keys=list(self._keys.keys), label_names={},
            multi_label=True, where=self.where, on_duplicate=self.on_duplicate,
        )  # fmt: skip

    @property
    def duplicates_skipped(self) -> int:
        return self._items.duplicates_skipped

    @property
    def duplicate_lines(self) -> list[int]:
        return self._items.duplicate_lines

    def build(self, line: int, record: dict[str, Any], ordinal: int) -> SpanRow | None:
        """The record's row, or None for a duplicate id skipped under `on_duplicate=skip`."""
        if self.tagged:
            return self._tagged(line, record, ordinal)
        raw = record.pop(self.spans_field, None)
        row = self._items.build(line, record, ordinal)
        if row is None:
            return None
        spans = None
        if raw is not None:
            if not isinstance(raw, list):
                self._fail(line, ERROR_SPANS_NOT_LIST.format(field=self.spans_field))
            try:
                spans = spans_validate(project=self.project, text=row.text, spans=raw)
            except ValidationError as exc:
                self._fail(line, exc.messages[0])
        return self._row(row, None, spans)

    def _tagged(self, line: int, record: dict[str, Any], ordinal: int) -> SpanRow | None:
        text, offsets = tokens_join(record["tokens"])
        metadata = {key: value for key, value in record.items()
                    if key in ("document", "sentence")}  # fmt: skip
        row = self._items.build(line, {"id": record["id"], "text": text, "split": record["split"], **metadata},
                                ordinal)  # fmt: skip
        if row is None:
            return None
        where = f"{record['where']}: " if record.get("where") else ""
        lines = record.get("tag_lines")
        tags = record.get("tags")
        spans = self._spans(line, where, text, offsets, tags, lines) if tags is not None else None
        weak = record.get("weak_tags")
        lf_spans = None
        if weak is not None:
            if self.lf_count is None:
                self.lf_count = len(weak)
            elif weak and len(weak) != self.lf_count:
                self._fail(
                    line, f"{where}{len(weak)} LFs tag the tokens, but earlier records have {self.lf_count}."
                )
            lf_spans = [self._spans(line, where, text, offsets, lf_tags, None) for lf_tags in weak]
        return self._row(row, offsets, spans, lf_spans)

    def _spans(
        self,
        line: int,
        where: str,
        text: str,
        offsets: TokenOffsets,
        tags: list[str],
        lines: list[int] | None,
    ) -> list[SpanDict]:
        token_spans = []
        if tags.count(OUTSIDE) == len(tags):  # most LFs tag nothing in most sentences
            return []
        for first, last, kind in tag_spans(tags, scheme=self.scheme):
            key = self._keys.find(kind)
            if key is None:
                at = lines[first] if lines else line
                self._fail(at, where + ERROR_UNKNOWN_TYPE.format(kind=kind, tag=tags[first],
                                                                 keys=", ".join(self._keys.keys)))  # fmt: skip
            token_spans.append((first, last, key))
        return token_spans_to_spans(text, offsets, token_spans)

    def _row(
        self, row: ImportRow, offsets: TokenOffsets | None, spans: list[SpanDict] | None,
        lf_spans: list[list[SpanDict]] | None = None,
    ) -> SpanRow:  # fmt: skip
        labels = span_types_present(project=self.project, spans=spans) if spans else []
        return SpanRow(row=row, token_offsets=offsets, spans=spans, labels=labels, lf_spans=lf_spans)

    def _fail(self, line: int, message: str) -> NoReturn:
        raise ImportFileError(message, line=line, where=self.where)
