"""Turns raw records into validated import rows, following the user's field mapping."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from json.encoder import encode_basestring
from typing import Any, NoReturn

from imports.parsing.errors import ImportFileError
from projects.services.label_keys import LabelKeys

MAX_EXTERNAL_ID_LENGTH = 255
ERROR_WRONG_TYPE = "the {role} field '{name}' holds {kind} {value}; it must be a string or an integer."
ERROR_NUL = "the {role} holds a NUL byte (\\x00), which no text may contain."
ERROR_SURROGATE = "the {role} is not valid text (a lone UTF-16 surrogate, {char}); fix the file's encoding."
_KIND = {float: "a number", bool: "a boolean", bytes: "bytes", list: "a list", dict: "an object"}
# What a duplicate id in a file does (not in long format, where an id repeats once per annotator): fail the
# import at its line, or skip the row (the first row with the id is kept) and report how many and where.
ON_DUPLICATE_FAIL = "fail"
ON_DUPLICATE_SKIP = "skip"
ON_DUPLICATE_CHOICES = (ON_DUPLICATE_FAIL, ON_DUPLICATE_SKIP)
# The lines of skipped duplicates that a result lists (the count has them all).
DUPLICATE_LINES_KEPT = 1000
# Raw label values remembered with the labels they read as: a file repeats a few values a million times, and
# a hostile one cannot grow the memory without bound.
LABEL_CACHE_SIZE = 4096
METADATA_KEY_CACHE_SIZE = 4096
SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "valid": "valid",
    "validation": "valid",
    "val": "valid",
    "dev": "valid",
    "test": "test",
    "testing": "test",
    "": "",
}


@dataclass
class FieldMapping:
    """Which record fields hold what. `metadata_fields=None` keeps every other field as metadata."""

    text_field: str = "text"
    id_field: str | None = None
    label_field: str | None = None
    split_field: str | None = None
    annotator_field: str | None = None
    votes_field: str | None = None
    metadata_fields: list[str] | None = None
    label_map: dict[str, str] = field(default_factory=dict)
    label_separator: str = ","

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value not in (None, [], {})}


@dataclass(slots=True)
class ImportRow:
    line: int
    external_id: str
    text: str
    metadata_json: str
    content_hash: str
    split: str
    labels: list[str] | None
    annotator: str
    votes: list[str | None] | None


class RowBuilder:
    """Validates records one by one: the text, a unique id, known labels and splits."""

    def __init__(
        self,
        *,
        mapping: FieldMapping,
        label_keys: list[str],
        label_names: dict[str, str],
        multi_label: bool,
        where: str = "Line",
        on_duplicate: str = ON_DUPLICATE_FAIL,
    ) -> None:
        self.on_duplicate = on_duplicate
        self.duplicates_skipped = 0
        self.duplicate_lines: list[int] = []
        self._label_cache: dict[str, list[str] | None] = {}
        self._label_order = {key: index for index, key in enumerate(label_keys)}
        self._metadata_keys: dict[str, str] = {}
        self.mapping = mapping
        self.multi_label = multi_label
        self.where = where
        self._label_keys = label_keys
        # A label is named by its key (read by the rule every door follows: in any case, with spaces or hyphens
        # for underscores) or by its display name in any case.
        self._keys = LabelKeys(label_keys)
        self._names = {name.casefold(): key for key, name in reversed(label_names.items())}
        self._seen_ids: dict[str, int] = {}
        self._seen_pairs: dict[tuple[str, str], int] = {}
        self._texts: dict[str, tuple[int, int]] = {}
        self._excluded = {
            name
            for name in (
                mapping.text_field,
                mapping.id_field,
                mapping.label_field,
                mapping.split_field,
                mapping.annotator_field,
                mapping.votes_field,
            )
            if name
        }
        self.vote_count: int | None = None
        self.checked_fields = False

    def build(self, line: int, record: dict[str, Any], ordinal: int) -> ImportRow | None:
        """The record's row, or None for a duplicate id skipped under `on_duplicate=skip`."""
        if not self.checked_fields:
            self._check_fields(line, record)
        mapping = self.mapping
        text = record.get(mapping.text_field)
        if text is None or (isinstance(text, str) and not text.strip()):
            self._fail(line, f"the text field '{mapping.text_field}' is empty.")
        if type(text) is not str or "\x00" in text:  # the common case costs two checks, no call
            text = self._scalar_text(line, "text", mapping.text_field, text)
        external_id = self._external_id(line, record, ordinal)
        if external_id is None:
            return None
        labels = self._labels(line, record.get(mapping.label_field)) if mapping.label_field else None
        annotator = (
            self._scalar_text(
                line, "annotator", mapping.annotator_field, record.get(mapping.annotator_field) or ""
            )
            if mapping.annotator_field
            else ""
        )
        if mapping.annotator_field:
            self._check_long_format(line, external_id, annotator, text)
        try:
            content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        except UnicodeEncodeError as exc:
            self._fail(line, ERROR_SURROGATE.format(role="text", char=_escaped(text[exc.start])))
        metadata_json = self._metadata(record)
        if "\\u0000" in metadata_json and _JSON_NUL.search(metadata_json):
            self._fail(line, ERROR_NUL.format(role="metadata"))
        if not metadata_json.isascii():
            self._check_encodable(line, "metadata", metadata_json)
        return ImportRow(
            line=line,
            external_id=external_id,
            text=text,
            metadata_json=metadata_json,
            content_hash=content_hash,
            split=self._split(line, record.get(mapping.split_field)) if mapping.split_field else "",
            labels=labels,
            annotator=annotator,
            votes=self._votes(line, record.get(mapping.votes_field)) if mapping.votes_field else None,
        )

    def _fail(self, line: int, message: str) -> NoReturn:
        raise ImportFileError(message, line=line, where=self.where)

    def _scalar_text(self, line: int, role: str, name: str, value: Any) -> str:
        """A text, id or annotator is a string or an integer; any other value is refused, not stringified."""
        if isinstance(value, str):
            if "\x00" in value:
                self._fail(line, ERROR_NUL.format(role=role))
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        kind = _KIND.get(type(value), f"a value of type {type(value).__name__}")
        shown = repr(value)
        self._fail(
            line,
            ERROR_WRONG_TYPE.format(
                role=role, name=name, kind=kind, value=shown if len(shown) <= 40 else shown[:37] + "..."
            ),
        )

    def _check_encodable(self, line: int, role: str, value: str) -> None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            self._fail(line, ERROR_SURROGATE.format(role=role, char=_escaped(value[exc.start])))

    def _check_fields(self, line: int, record: dict[str, Any]) -> None:
        """The first record tells whether the mapped fields exist at all: say so once, clearly."""
        self.checked_fields = True
        for role, name in (
            ("text", self.mapping.text_field),
            ("id", self.mapping.id_field),
            ("label", self.mapping.label_field),
            ("split", self.mapping.split_field),
            ("annotator", self.mapping.annotator_field),
        ):
            if name and name not in record:
                self._fail(
                    line,
                    f"the {role} field '{name}' is not in the data; fields are: {', '.join(map(str, record))}.",
                )

    def _external_id(self, line: int, record: dict[str, Any], ordinal: int) -> str | None:
        if not self.mapping.id_field:
            return str(ordinal)
        raw = record.get(self.mapping.id_field)
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            self._fail(line, f"the id field '{self.mapping.id_field}' is empty.")
        if type(raw) is not str or "\x00" in raw:
            raw = self._scalar_text(line, "id", self.mapping.id_field, raw)
        external_id = raw.strip()
        if not external_id.isascii():
            self._check_encodable(line, "id", external_id)
        if len(external_id) > MAX_EXTERNAL_ID_LENGTH:
            self._fail(line, f"the id is longer than {MAX_EXTERNAL_ID_LENGTH} characters.")
        if self.mapping.annotator_field:  # long format: an item has one row per annotator
            return external_id
        first = self._seen_ids.setdefault(external_id, line)
        if first != line:
            if self.on_duplicate == ON_DUPLICATE_SKIP:
                self.duplicates_skipped += 1
                if len(self.duplicate_lines) < DUPLICATE_LINES_KEPT:
                    self.duplicate_lines.append(line)
                return None
            self._fail(line, f"duplicate id '{external_id}' (first seen at {self.where.lower()} {first}).")
        return external_id

    def _check_long_format(self, line: int, external_id: str, annotator: str, text: str) -> None:
        """With an annotator field, an id may repeat, once per annotator, always with the same text."""
        first = self._seen_pairs.setdefault((external_id, annotator), line)
        if first != line:
            self._fail(
                line,
                f"duplicate id '{external_id}' for annotator '{annotator}' "
                f"(first seen at {self.where.lower()} {first}).",
            )
        first_line, text_hash = self._texts.setdefault(external_id, (line, hash(text)))
        if text_hash != hash(text):
            self._fail(
                line, f"id '{external_id}' has a different text than at {self.where.lower()} {first_line}."
            )

    def _label_key(self, line: int, raw: Any) -> str:
        value = str(raw).strip()
        value = self.mapping.label_map.get(value, value)
        key = self._keys.find(value) or self._names.get(value.casefold())
        if key is None:
            self._fail(
                line, f"unknown label '{value}'; the project's labels are: {', '.join(self._label_keys)}."
            )
        return key

    def _labels(self, line: int, raw: Any) -> list[str] | None:
        if type(raw) is str:
            # Rows share the list of a value already read: nothing downstream changes a row's labels.
            try:
                return self._label_cache[raw]
            except KeyError:
                labels = self._labels_read(line, raw)
                if len(self._label_cache) < LABEL_CACHE_SIZE:
                    self._label_cache[raw] = labels
                return labels
        return self._labels_read(line, raw)

    def _labels_read(self, line: int, raw: Any) -> list[str] | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, list):
            values = raw
        elif isinstance(raw, str) and self.multi_label:
            values = [part for part in raw.split(self.mapping.label_separator) if part.strip()]
        else:
            values = [raw]
        keys = list(dict.fromkeys(self._label_key(line, value) for value in values))
        if len(keys) > 1 and not self.multi_label:
            self._fail(line, f"{len(keys)} labels given, but the project is single-label.")
        return sorted(keys, key=self._label_order.__getitem__) or None

    def _split(self, line: int, raw: Any) -> str:
        value = str(raw or "").strip().lower()
        if value not in SPLIT_ALIASES:
            self._fail(line, f"unknown split '{raw}'; use train, valid or test.")
        return SPLIT_ALIASES[value]

    def _votes(self, line: int, raw: Any) -> list[str | None]:
        if not isinstance(raw, list):
            self._fail(line, "votes must be a list (one entry per labeling function).")
        if self.vote_count is None:
            self.vote_count = len(raw)
        elif len(raw) != self.vote_count:
            self._fail(line, f"{len(raw)} votes, but earlier records have {self.vote_count}.")
        return [None if vote is None else self._label_key(line, vote) for vote in raw]

    def _metadata(self, record: dict[str, Any]) -> str:
        wanted = self.mapping.metadata_fields
        if wanted is None:
            metadata = {key: value for key, value in record.items() if key not in self._excluded}
        else:
            metadata = {key: record.get(key) for key in wanted}
        # Text values (all of a CSV's) are written here, by the encoder json.dumps itself uses for strings: the
        # same text as json.dumps(ensure_ascii=False, separators=(",", ":")) without its per-call set-up.
        keys, parts = self._metadata_keys, []
        for key, value in metadata.items():
            if type(value) is not str or type(key) is not str:
                return json.dumps(metadata, ensure_ascii=False, default=_json_default, separators=(",", ":"))
            encoded = keys.get(key)
            if encoded is None:
                encoded = encode_basestring(key) + ":"
                if len(keys) < METADATA_KEY_CACHE_SIZE:
                    keys[key] = encoded
            parts.append(encoded + encode_basestring(value))
        return "{" + ",".join(parts) + "}"


# A JSON \u0000 escape that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def _escaped(char: str) -> str:
    return f"\\u{ord(char):04x}"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
