"""What an import is asked to do and what it did (ImportOptions, ImportResult), the evaluation-only splits, and
a WRENCH folder's root (unpacked from its zip): shared by the item import (imports.services.pipeline) and the
span import (imports.services.span_pipeline), and imported from the pipeline as before."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from imports.parsing import archives, readers
from imports.parsing.errors import ImportFileError
from imports.parsing.rows import ON_DUPLICATE_FAIL, SPLIT_ALIASES, FieldMapping
from projects.choices import ImportFormat, OnConflict, Split

ProgressCallback = Callable[[int, float], None]
ERROR_EMPTY = "The file holds no rows to import."

# An import of at least this many rows refreshes the planner's statistics of the tables it wrote.
STATISTICS_ROWS = 5000
# Evaluation-only splits: their labels only score (EvaluationLabel), never train or choose anything. A WRENCH
# folder is a benchmark: its train and test labels are truth to score against, its valid labels the usable
# gold (WRENCH's own protocol). `none` keeps every split's labels as imported annotations.
WRENCH_EVAL_ONLY_SPLITS = (Split.TRAIN.value, Split.TEST.value)
EVAL_ONLY_NONE = "none"
SPLIT_ORDER = (Split.TRAIN.value, Split.VALID.value, Split.TEST.value)
ERROR_EVAL_ONLY_SPLIT = (
    "Unknown split '{split}' in the evaluation-only splits; give train, valid, test, or none."
)

# The only members of a WRENCH .zip that are extracted; everything else in it stays packed.
WRENCH_MEMBERS = frozenset(
    {"label.json", "meta.json", "readme.txt", *(f"{split}.json" for split in readers.WRENCH_SPLITS)}
)


@dataclass
class ImportOptions:
    """How to read a source: its format, CSV dialect, field mapping, what to do with known ids, and which
    splits' labels only score (`eval_only_splits`: None is the format's default, see `eval_only_splits_of`)."""

    format: str = ""
    mapping: FieldMapping = field(default_factory=FieldMapping)
    on_conflict: str = OnConflict.SKIP
    delimiter: str | None = None
    has_header: bool = True
    columns: list[str] = field(default_factory=list)
    eval_only_splits: list[str] | None = None
    on_duplicate: str = ON_DUPLICATE_FAIL
    # CoNLL: the tag scheme, bio or iob1; empty to detect it (imports.parsing.span_readers).
    tag_scheme: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format, "mapping": self.mapping.to_json(), "on_conflict": self.on_conflict,
            "delimiter": self.delimiter, "has_header": self.has_header, "columns": self.columns,
            "eval_only_splits": self.eval_only_splits, "on_duplicate": self.on_duplicate,
            "tag_scheme": self.tag_scheme,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportOptions:
        return cls(
            format=data.get("format", ""),
            mapping=FieldMapping(**data.get("mapping", {})),
            on_conflict=data.get("on_conflict", OnConflict.SKIP),
            delimiter=data.get("delimiter"),
            has_header=data.get("has_header", True),
            columns=list(data.get("columns", [])),
            eval_only_splits=data.get("eval_only_splits"),
            on_duplicate=data.get("on_duplicate", ON_DUPLICATE_FAIL),
            tag_scheme=data.get("tag_scheme", ""),
        )


@dataclass
class ImportResult:
    project_id: int
    project_slug: str
    rows: int
    items_created: int
    items_updated: int
    items_skipped: int
    annotations_imported: int
    votes_imported: int
    labeling_functions: int
    evaluation_labels: int = 0
    # Rows skipped for repeating an earlier row's id (on_duplicate=skip): how many, and the first lines.
    duplicates_skipped: int = 0
    duplicate_lines: list[int] = field(default_factory=list)
    # Span projects: known answers stored as gold labels (a WRENCH benchmark's usable split), and the tag
    # scheme a CoNLL file was read with (given, or detected).
    gold_labels: int = 0
    tag_scheme: str = ""
    # The import's own wall-clock time: read, check, write and commit.
    seconds: float = 0.0


def eval_only_splits_parse(value: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    """The evaluation-only splits as a door gives them: None when left out or empty (the format's default),
    [] for `none`, else split names (comma-separated in a string; `dev` or `validation` read as valid),
    deduplicated in train, valid, test order. An unknown name is a ValidationError naming it."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    names = [str(part).strip().lower() for part in parts if str(part).strip()]
    if isinstance(value, str) and not names:
        return None
    if names == [EVAL_ONLY_NONE]:
        return []
    splits: set[str] = set()
    for name in names:
        split = SPLIT_ALIASES.get(name)
        if not split:
            raise ValidationError(ERROR_EVAL_ONLY_SPLIT.format(split=name), code="eval_only_splits")
        splits.add(split)
    return [split for split in SPLIT_ORDER if split in splits]


def eval_only_splits_of(options: ImportOptions, fmt: str) -> list[str]:
    """The splits whose labels only score: those the options name, else the format's default (a WRENCH
    folder's train and test, no split of any other format)."""
    named = eval_only_splits_parse(options.eval_only_splits)
    if named is not None:
        return named
    return list(WRENCH_EVAL_ONLY_SPLITS) if fmt == ImportFormat.WRENCH else []


@contextlib.contextmanager
def wrench_root(source: Path) -> Iterator[Path]:
    """A WRENCH dataset is a folder; an upload brings it as a zip, unpacked here for the import's lifetime."""
    if source.is_dir():
        yield source
        return
    if not zipfile.is_zipfile(source):
        raise ImportFileError(archives.ERROR_NOT_ZIP)
    scratch = Path(tempfile.mkdtemp(prefix="oversight-wrench-"))
    limits = archives.ZipLimits(
        max_entries=settings.IMPORT_ZIP_MAX_ENTRIES, max_bytes=settings.IMPORT_ZIP_MAX_BYTES,
        max_ratio=settings.IMPORT_ZIP_MAX_RATIO,
    )  # fmt: skip
    try:
        archives.zip_extract_checked(source, scratch, limits=limits, wanted=WRENCH_MEMBERS)
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
